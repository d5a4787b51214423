"""Application pages: view, download a version, withdraw, start, and the lists."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.applications import permissions
from portal.applications.forms import (
    STEPS,
    StartForm,
    WithdrawForm,
)
from portal.applications.models import Application
from portal.applications.services import (
    applications_of,
    clarification_open,
    form_values,
    frozen_values,
    read_version_pdf,
    record_staff_read,
    start_application,
    withdraw_application,
)
from portal.applications.views import (
    _application,
    bp,
    can_read_application,
    clarification_of,
    next_step,
)
from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.calls import permissions as call_permissions
from portal.calls.models import Call
from portal.core import audit, uploads
from portal.core.access import get_or_404
from portal.core.db import keeping_loaded
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError, history
from portal.evaluation.services.decisions import max_score
from portal.extensions import db
from portal.organisations.models import Organisation

# --- view, download, withdraw ---------------------------------------------------------------------


@bp.get("/<int:application_id>")
@login_required
def show(application_id: int):
    application = _application(application_id, can_read_application)
    member = permissions.is_member(current_user, application)
    version = application.latest_version
    if not member:
        record_staff_read(application, actor=current_user)
        with keeping_loaded():  # the read's audit row changes nothing the page shows: no reloads
            db.session.commit()
    values = (
        frozen_values(version.data) if version is not None else (form_values(application) if member else None)
    )
    sentence, link, link_text = next_step(application) if member else (None, None, None)
    status = ApplicationStatus(application.status)
    result = _decided_result(application) if member else None
    return render_template(
        "applications/show.html",
        application=application,
        member=member,
        values=values,
        version=version,
        status=status,
        clarification=clarification_of(application),
        clarification_open=clarification_open(application),
        rejection_reason=_rejection_reason(application) if status == ApplicationStatus.REJECTED else None,
        result=result,
        member_scores=_applicant_scores(application) if result is not None else None,
        max_score=max_score(application.call) if result is not None else None,
        next_sentence=sentence,
        next_link=link,
        next_link_text=link_text,
        can_edit=permissions.can_edit_application(current_user, application),
        can_withdraw=permissions.can_withdraw_application(current_user, application),
        withdraw_form=WithdrawForm(formdata=None),
        programme=application.call.programme,
        contract=_visible_contract(application, member),
        report=_visible_report(application),
    )


def _visible_report(application: Application):
    """The application's final report when the user may read it (once submitted for staff)."""
    from portal.reports.services.form import can_view_report, report_for  # reports build on applications

    report = report_for(application)
    if report is None or not can_view_report(current_user, application):
        return None
    if report.submitted_at is None and not permissions.is_member(current_user, application):
        return None
    return report


def _visible_contract(application: Application, member: bool):
    """The application's contract when the user may open it: the municipality's coordinators always,
    the organisation once the contract was sent (a draft is the municipality's work in progress)."""
    from portal.contracts.models import ContractStatus
    from portal.contracts.services import contract_of  # contracts build on applications

    contract = contract_of(application)
    if contract is None or (member and contract.status == ContractStatus.DRAFT):
        return None
    if member or call_permissions.can_manage_call(current_user, application.call):
        return contract
    return None


def _rejection_reason(application: Application) -> str | None:
    """The reason recorded with the latest rejection (the status history keeps it)."""
    reason = None
    for change in history(WORKFLOW, application):
        if change.to_status == ApplicationStatus.REJECTED:
            reason = change.reason
    return reason


def _decided_result(application: Application):
    """The evaluation result, once the municipality has decided (never the proposal before that)."""
    from portal.evaluation.queries import result_for  # evaluation builds on applications

    result = result_for(application.id)
    return result if result is not None and result.decision else None


def _applicant_scores(application: Application) -> list[dict]:
    from portal.evaluation.services.decisions import applicant_scores

    return applicant_scores(application)


@bp.get("/<int:application_id>/versions/<int:number>.pdf")
@login_required
def download_version(application_id: int, number: int):
    application = _application(application_id, can_read_application)
    version = next((v for v in application.versions if v.number == number), None)
    if version is None or version.pdf_file is None:
        abort(404)
    data, filename = read_version_pdf(application, version, actor=current_user)
    db.session.commit()
    return uploads.download_response(data, filename)


@bp.post("/<int:application_id>/withdraw")
@login_required
def withdraw(application_id: int):
    application = _application(application_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(error, "danger")
        return redirect(url_for(".show", application_id=application.id))
    withdraw_application(application, actor=current_user, reason=form.reason.data)
    db.session.commit()
    flash(_("The application is withdrawn."), "success")
    return redirect(url_for(".show", application_id=application.id))


# --- start ----------------------------------------------------------------------------------------


@bp.route("/start/<int:call_id>", methods=["GET", "POST"])
@login_required
def start(call_id: int):
    call = db.session.get(Call, call_id)
    if call is None or not call_permissions.is_public(call):
        abort(404)
    org_ids = current_user.organisation_ids()
    organisations = (
        list(
            db.session.scalars(
                sa.select(Organisation).where(Organisation.id.in_(org_ids)).order_by(Organisation.name)
            )
        )
        if org_ids
        else []
    )
    existing = {}
    if organisations:
        for application in db.session.scalars(
            sa.select(Application).where(
                Application.call_id == call.id,
                Application.organisation_id.in_(org_ids),
                Application.status != ApplicationStatus.WITHDRAWN,
            )
        ):
            existing.setdefault(application.organisation_id, []).append(application)
    form = StartForm()
    form.organisation.choices = [(str(o.id), o.name) for o in organisations]
    if len(organisations) == 1:
        form.organisation.data = str(organisations[0].id)
    if organisations and form.validate_on_submit():
        organisation = next(o for o in organisations if str(o.id) == form.organisation.data)
        try:
            application = start_application(call, organisation, actor=current_user)
        except WorkflowError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your draft is started. You can save it at any moment and come back later."), "success")
            return redirect(url_for(".edit", application_id=application.id, step=STEPS[0].slug))
    return render_template(
        "applications/start.html",
        call=call,
        form=form,
        organisations=organisations,
        existing=existing,
        accepting=call.is_accepting(),
    )


# --- lists ----------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    """Every application of the user's organisations, with its status and the next thing to do."""
    now = utcnow()
    rows = [(a, *next_step(a, now)) for a in applications_of(current_user)]
    return render_template("applications/mine.html", rows=rows)


@bp.get("/call/<int:call_id>")
@login_required
def list_for_call(call_id: int):
    """The submitted applications of a call, for its municipality's coordinators and national admins."""
    call = get_or_404(Call, call_id, permissions.can_list_applications, area="applications")
    submitted = sa.and_(Application.call_id == call.id, Application.submitted_at.is_not(None))
    if not call_permissions.can_see_applications(current_user, call):
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(submitted))
        return render_template(
            "applications/list_for_call.html", call=call, sealed=True, count=count, applications=[]
        )
    # Recorded (and committed) first: a commit expires what was loaded, and the list is one query.
    audit.record(
        "application.list_viewed", actor=current_user, obj=call, municipality_id=call.municipality_id
    )
    db.session.commit()
    applications = list(
        db.session.scalars(
            sa.select(Application)
            .where(submitted)
            .options(joinedload(Application.organisation))
            .order_by(Application.submitted_at, Application.id)
        )
    )
    return render_template(
        "applications/list_for_call.html",
        call=call,
        sealed=False,
        count=len(applications),
        applications=applications,
    )
