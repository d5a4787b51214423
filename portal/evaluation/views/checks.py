"""Evaluation pages: the administrative and eligibility check and the one clarification round.

The coordinators of the call's municipality and the committee's secretary check each received
application: the portal pre-fills what it decides itself, the checker confirms (yes, or no with a
reason), then admits it to scoring, rejects it (the reasons reach the applicant), or sends a fixable
defect back once. Every "no" is a 404 (never 403). View pipeline: load or 404 → permission →
validate → one service call → commit → flash and redirect.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.applications.models import Application
from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.calls.models import Call
from portal.calls.permissions import can_manage_call
from portal.calls.workflow import CallStatus
from portal.core.access import get_or_404, require
from portal.core.forms import committed
from portal.core.i18n import current_language, riga_datetime
from portal.core.workflow import history
from portal.evaluation import permissions, queries
from portal.evaluation.forms.checks import (
    NO,
    YES,
    ActionForm,
    ClarificationForm,
    RejectForm,
    check_form,
)
from portal.evaluation.models import Clarification, EligibilityAnswer
from portal.evaluation.services import checks as services
from portal.evaluation.views import bp
from portal.extensions import db

# The check state of an application, as the list shows it.
NOT_STARTED, PARTLY, ALL_MET, FAILED = "not_started", "partly", "all_met", "failed"


def can_list_checks(user, call) -> bool:
    """The coordinators and the committee's secretary follow the checks once the applications are
    unsealed (while the call is open they stay sealed: 404)."""
    if call.status not in permissions.UNSEALED:
        return False
    return can_manage_call(user, call) or queries.is_secretary(user, call.id)


def _application(application_id: int, allowed=permissions.can_check) -> Application:
    return get_or_404(Application, application_id, allowed, area="evaluation")


def _title(criterion) -> str:
    return criterion.title(current_language())


def check_state(criteria_count: int, answers: list[EligibilityAnswer]) -> str:
    """Say how far the check of one application is: not started, partly, all met, or failed."""
    if any(not a.passed for a in answers):
        return FAILED
    if not answers:
        return NOT_STARTED
    return ALL_MET if len(answers) >= criteria_count else PARTLY


def _answers_by_application(application_ids: list[int]) -> dict[int, list[EligibilityAnswer]]:
    found: dict[int, list[EligibilityAnswer]] = {i: [] for i in application_ids}
    if application_ids:
        rows = db.session.scalars(
            sa.select(EligibilityAnswer).where(EligibilityAnswer.application_id.in_(application_ids))
        )
        for answer in rows:
            found[answer.application_id].append(answer)
    return found


def _clarifications(application_ids: list[int]) -> dict[int, Clarification]:
    if not application_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Clarification).where(Clarification.application_id.in_(application_ids))
    )
    return {c.application_id: c for c in rows}


def _back(application: Application):
    return redirect(url_for("evaluation.check_application", application_id=application.id))


def _rejection_reason(application: Application) -> str | None:
    """The reason given when the application was rejected (the latest rejection in its history)."""
    reason = None
    for change in history(WORKFLOW, application):
        if change.to_status == ApplicationStatus.REJECTED:
            reason = change.reason
    return reason


def _failed_reasons(application: Application) -> str:
    """The failed criteria with their reasons, one a line (pre-fills the rejection and the request)."""
    criteria = {c.id: c for c in services.check_criteria(application.call)}
    _unanswered, failed = services.check_problems(application)
    lines = []
    position = {cid: c.position for cid, c in criteria.items()}
    for answer in sorted(failed, key=lambda a: position.get(a.criterion_id, 0)):
        criterion = criteria.get(answer.criterion_id)
        lines.append(f"{_title(criterion)}: {answer.reason}" if criterion is not None else answer.reason)
    return "\n".join(lines)


# --- the list ------------------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/checks", methods=["GET"])
@login_required
def checks(call_id: int):
    call = get_or_404(Call, call_id, can_list_checks, area="evaluation")
    applications = queries.received_applications(call.id)
    ids = [a.id for a in applications]
    answers = _answers_by_application(ids)
    clarifications = _clarifications(ids)
    count = len(services.check_criteria(call))
    rows = [
        {
            "application": a,
            "status": ApplicationStatus(a.status),
            "state": check_state(count, answers[a.id]),
            "clarification": clarifications.get(a.id),
        }
        for a in applications
    ]
    return render_template(
        "evaluation/checks.html",
        call=call,
        rows=rows,
        can_check=call.status in (CallStatus.CLOSED, CallStatus.EVALUATION),
    )


# --- one application -----------------------------------------------------------------------------


def _initial(criteria, saved: dict, suggested: dict) -> dict:
    """The form's starting values: the saved answer, else what the portal suggests."""
    data = {}
    for criterion in criteria:
        answer = saved.get(criterion.id)
        value = answer.passed if answer is not None else suggested.get(criterion.id)
        data[f"passed_{criterion.id}"] = {True: YES, False: NO}.get(value)
        data[f"reason_{criterion.id}"] = answer.reason if answer is not None else None
    return data


def _render_check(application, form, *, status=200):
    criteria = services.check_criteria(application.call)
    saved = queries.eligibility_answers(application.id)
    unanswered, failed = services.check_problems(application)
    clarification = services.clarification_of(application)
    return (
        render_template(
            "evaluation/check_application.html",
            application=application,
            call=application.call,
            programme=application.call.programme,
            form=form,
            rows=form.criteria_fields(criteria),
            saved=saved,
            suggested=services.suggestions(application),
            unanswered=unanswered,
            failed=failed,
            clarification=clarification,
            version=application.versions[-1] if application.versions else None,
            status=ApplicationStatus(application.status),
            editable=application.status == ApplicationStatus.SUBMITTED,
            can_admit=WORKFLOW.allowed(application, "admit", current_user) is not None,
            can_reject=WORKFLOW.allowed(application, "reject", current_user) is not None,
            can_clarify=(
                clarification is None
                and WORKFLOW.allowed(application, "request_clarification", current_user) is not None
            ),
            rejection_reason=_rejection_reason(application)
            if application.status == ApplicationStatus.REJECTED
            else None,
            action_form=ActionForm(formdata=None),
        ),
        status,
    )


@bp.route("/applications/<int:application_id>/check", methods=["GET", "POST"])
@login_required
def check_application(application_id: int):
    application = _application(application_id)
    criteria = services.check_criteria(application.call)
    if request.method == "GET":
        saved = queries.eligibility_answers(application.id)
        data = _initial(criteria, saved, services.suggestions(application))
        form = check_form(criteria, title=_title, formdata=None, data=data)
        return _render_check(application, form)
    form = check_form(criteria, title=_title)
    valid = form.validate_on_submit()
    if form.validate_reasons(criteria) and valid:
        with committed(form) as saved:
            services.record_check(application, form.answers(criteria), actor=current_user)
        if saved:
            flash(_("The check is saved."), "success")
            return _back(application)
    return _render_check(application, form)


@bp.route("/applications/<int:application_id>/admit", methods=["POST"])
@login_required
def admit_application(application_id: int):
    application = _application(application_id)
    form = ActionForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            services.admit(application, actor=current_user)
        if saved:
            flash(_("The application is admitted to scoring."), "success")
            return redirect(url_for("evaluation.checks", call_id=application.call_id))
    for error in form.form_errors or [_("The form has expired: try again.")]:
        flash(error, "danger")
    return _back(application)


@bp.route("/applications/<int:application_id>/reject", methods=["GET", "POST"])
@login_required
def reject_application(application_id: int):
    application = _application(application_id)
    require(WORKFLOW.allowed(application, "reject", current_user) is not None, area="evaluation")
    if request.method == "GET":
        form = RejectForm(formdata=None, data={"reason": _failed_reasons(application) or None})
    else:
        form = RejectForm()
        if form.validate_on_submit():
            with committed(form) as saved:
                services.reject(application, form.reason.data, actor=current_user)
            if saved:
                flash(
                    _("The application is rejected. The applicant is told the reasons by e-mail."), "success"
                )
                return redirect(url_for("evaluation.checks", call_id=application.call_id))
    return render_template(
        "evaluation/reject_application.html",
        application=application,
        call=application.call,
        form=form,
        failed=services.check_problems(application)[1],
    )


@bp.route("/applications/<int:application_id>/clarification", methods=["GET", "POST"])
@login_required
def request_clarification(application_id: int):
    application = _application(application_id)
    clarification = services.clarification_of(application)
    allowed = clarification is not None or (
        WORKFLOW.allowed(application, "request_clarification", current_user) is not None
    )
    require(allowed, area="evaluation")
    form = None
    if clarification is None:
        if request.method == "GET":
            form = ClarificationForm(formdata=None, data={"message": _failed_reasons(application) or None})
        else:
            form = ClarificationForm()
            if form.validate_on_submit():
                with committed(form) as saved:
                    request_ = services.request_clarification(
                        application, form.message.data, form.working_days.data, actor=current_user
                    )
                    due = riga_datetime(request_.due_at, "long")
                if saved:
                    flash(
                        _(
                            "The clarification is requested. "
                            "The applicant must answer by %(due)s (Riga time).",
                            due=due,
                        ),
                        "success",
                    )
                    return redirect(
                        url_for("evaluation.request_clarification", application_id=application.id)
                    )
    elif request.method == "POST":
        # Once only: the page shows the request already sent.
        flash(_("A clarification can be requested only once."), "danger")
        return redirect(url_for("evaluation.request_clarification", application_id=application.id))
    return render_template(
        "evaluation/request_clarification.html",
        application=application,
        call=application.call,
        form=form,
        clarification=clarification,
        status=ApplicationStatus(application.status),
    )
