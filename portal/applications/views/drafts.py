"""Application pages: the step-by-step form, autosave, submit and the confirmation."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import (
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from portal.accounts.models import Membership
from portal.applications import permissions
from portal.applications.forms import (
    MAX_ACTIVITIES,
    STEP_BY_SLUG,
    STEPS,
    form_for,
    step_index,
)
from portal.applications.models import Application
from portal.applications.rules import submission_problems
from portal.applications.services import (
    SubmissionRefused,
    form_values,
    submit_application,
)
from portal.applications.views import (
    _application,
    _conflict_items,
    _merge,
    _not_editable,
    _problem_items,
    _row_number,
    _save,
    _step,
    bp,
    clarification_of,
)
from portal.applications.workflow import ApplicationStatus
from portal.core.db import keeping_loaded
from portal.core.enums import Role
from portal.core.i18n import current_language
from portal.core.pdf import PdfError
from portal.core.timeutil import to_riga
from portal.extensions import db
from portal.organisations.models import Organisation

# --- the step form --------------------------------------------------------------------------------


def _representatives(organisation: Organisation) -> list[Membership]:
    """The memberships of the people who represent the organisation (its legal representatives)."""
    return list(
        db.session.scalars(
            sa.select(Membership)
            .options(joinedload(Membership.user))
            .where(
                Membership.organisation_id == organisation.id,
                Membership.role == Role.APPLICANT,
                Membership.is_representative.is_(True),
            )
            .order_by(Membership.id)
        ).unique()
    )


def _risk_share(total, risk) -> Decimal | None:
    """The PMP-risk share in percent, two decimals, never rounded up (as Application.risk_share)."""
    if not isinstance(total, int) or not isinstance(risk, int) or total <= 0:
        return None
    return (Decimal(risk) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def _step_context(application: Application, step, form) -> dict:
    """What the step's template shows besides the form."""
    programme = application.call.programme
    context: dict = {}
    if step.slug == "applicant":
        organisation = application.organisation
        context["representatives"] = _representatives(organisation)
        if organisation.is_initiative_group and organisation.representative_organisation:
            context["entity_representatives"] = _representatives(organisation.representative_organisation)
    elif step.slug == "target-group":
        share = _risk_share(form.participants_total.data, form.participants_risk.data)
        context["risk_share"] = share
        context["risk_share_text"] = (
            format_decimal(share, format="#,##0.00", locale=current_language()) + " %"
            if share is not None
            else "–"
        )
    elif step.slug == "budget":
        context["budget_total"] = sum(
            (f.data for f in form.amount_fields() if f.data is not None), Decimal("0.00")
        )
    elif step.slug == "review":
        context["summary"] = form_values(application)
    context["min_risk_share"] = programme.min_risk_share
    return context


def _render_step(
    application,
    step,
    form,
    *,
    status=200,
    conflict=None,
    problems=None,
    refused=False,
    saved_with_errors=False,
):
    clarification = (
        clarification_of(application)
        if application.status == ApplicationStatus.CLARIFICATION_REQUESTED
        else None
    )
    if problems is None and step.slug == "review":
        # An answer to a clarification comes after the call's deadline: that one does not count.
        problems = submission_problems(application, window=clarification is None)
    context = _step_context(application, step, form)
    return (
        render_template(
            "applications/edit.html",
            application=application,
            call=application.call,
            programme=application.call.programme,
            steps=STEPS,
            step=step,
            step_number=step_index(step.slug) + 1,
            form=form,
            conflict=_conflict_items(conflict, application.call.programme) if conflict is not None else None,
            problems=_problem_items(application, problems or []),
            refused=refused,
            saved_with_errors=saved_with_errors,
            max_activities=MAX_ACTIVITIES,
            clarification=clarification,
            **context,
        ),
        status,
    )


@bp.route("/<int:application_id>/edit/<step>", methods=["GET", "POST"])
@login_required
def edit(application_id: int, step: str):
    application = _application(application_id)
    current_step = _step(step)
    # A draft, or an application sent back for a clarification until its deadline (DESIGN §4).
    if not permissions.can_edit_application(current_user, application):
        refusal = _not_editable(application)
        if request.method == "POST":
            raise refusal
        flash(refusal.message, "info")
        return redirect(url_for(".show", application_id=application.id))
    programme = application.call.programme

    if request.method == "GET":
        form = form_for(current_step, programme, values=form_values(application), application=application)
        form.lock_version.data = application.lock_version
        if (
            current_step.slug == "activities"
            and request.args.get("add_row")
            and form.row_count() < MAX_ACTIVITIES
        ):
            form.activities.append_entry()
        return _render_step(application, current_step, form)

    form = form_for(current_step, programme, values={}, formdata=request.form, application=application)
    current = form_values(application)
    values, errors = form.draft_values(current)
    _merge(values, current)
    action = request.form.get("action", "save")
    removed = _row_number(request.form.get("remove_row")) if current_step.slug == "activities" else None
    if removed is not None and removed < form.row_count():
        action = "remove_row"
        if removed < len(values.get("activities", [])):
            del values["activities"][removed]
        del form.activities.entries[removed]

    conflict = _save(application, values, form.expected_version())
    if conflict is not None:
        form.lock_version.data = application.lock_version  # saving again keeps what is in the form
        return _render_step(application, current_step, form, status=409, conflict=conflict)

    form.lock_version.data = application.lock_version
    if action == "add_row" and current_step.slug == "activities":
        if errors:
            if form.row_count() < MAX_ACTIVITIES:
                form.activities.append_entry()
            return _render_step(application, current_step, form, saved_with_errors=True)
        rows = len(application.activities)
        return redirect(
            url_for(
                ".edit",
                application_id=application.id,
                step=step,
                add_row=1,
                _anchor=f"activities-{rows}-activity",
            )
        )
    if errors:
        return _render_step(application, current_step, form, saved_with_errors=True)
    flash(_("Your draft is saved."), "success")
    index = step_index(current_step.slug)
    if action == "next" and index + 1 < len(STEPS):
        target = STEPS[index + 1].slug
    elif action == "back" and index > 0:
        target = STEPS[index - 1].slug
    else:
        target = current_step.slug
    anchor = "activities" if action == "remove_row" else None
    return redirect(url_for(".edit", application_id=application.id, step=target, _anchor=anchor))


# --- autosave (JSON) ------------------------------------------------------------------------------


def _formdata_from_json(values: dict) -> MultiDict:
    """Turn the script's {name: value} into form data, as if the browser had posted the form."""
    formdata = MultiDict()
    for key, value in list(values.items())[:1000]:
        if not isinstance(key, str):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                formdata.add(key, "y" if item else "")
            elif item is None:
                formdata.add(key, "")
            elif isinstance(item, str | int | float):
                formdata.add(key, str(item))
    return formdata


def _saved_body(application: Application) -> dict:
    saved_at = application.updated_at
    body = {
        "lock_version": application.lock_version,
        "saved_at": saved_at.isoformat(),
        "message": _("Saved at %(time)s", time=to_riga(saved_at).strftime("%H:%M")),
    }
    if g.get("session_expires_at"):
        body["session_expires_at"] = g.session_expires_at.isoformat()
    return body


@bp.post("/<int:application_id>/autosave")
@login_required
def autosave(application_id: int):
    """Save what the script sends: {lock_version, step, values} → {ok, lock_version, saved_at}."""
    application = _application(application_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("values"), dict):
        return jsonify(errors={"_": _("The request could not be read.")}), 422
    step = STEP_BY_SLUG.get(payload.get("step") if isinstance(payload.get("step"), str) else "")
    version = payload.get("lock_version")
    if step is None or not isinstance(version, int) or isinstance(version, bool):
        return jsonify(errors={"_": _("The request could not be read.")}), 422
    if not permissions.can_edit_application(current_user, application):
        return jsonify(
            error={"code": 409, "message": _not_editable(application).message},
            submitted=True,
        ), 409
    formdata = _formdata_from_json(payload["values"])
    form = form_for(
        step,
        application.call.programme,
        values={},
        formdata=formdata,
        application=application,
        meta={"csrf": False},
    )
    current = form_values(application)
    values, errors = form.draft_values(current, present=set(formdata.keys()))
    _merge(values, current)
    # The answer needs only what save_draft has just set (lock version, updated_at: no database
    # defaults) and the user checked at the start of the request: no reload after the commit.
    with keeping_loaded():
        conflict = _save(application, values, version)
    if conflict is not None:
        return (
            jsonify(
                conflict=conflict,
                fields=[
                    {"label": label, "value": value}
                    for label, value in _conflict_items(conflict, application.call.programme)
                ],
                lock_version=application.lock_version,
                message=_("This draft was changed in another window or by another member."),
            ),
            409,
        )
    body = _saved_body(application)
    if errors:
        body.update(ok=False, errors=errors)
        return jsonify(body), 422
    body["ok"] = True
    return jsonify(body)


@bp.get("/<int:application_id>/autosave")
@login_required
def autosave_status(application_id: int):
    """Tell the script the draft's version and a fresh CSRF token (after logging in again elsewhere)."""
    application = _application(application_id)
    return jsonify(
        csrf_token=generate_csrf(),
        lock_version=application.lock_version,
        status=application.status,
        saved_at=application.updated_at.isoformat(),
    )


# --- submit ---------------------------------------------------------------------------------------


@bp.post("/<int:application_id>/submit")
@login_required
def submit(application_id: int):
    """Save the declarations, then submit: every rule and the deadline are checked by the server."""
    application = _application(application_id)
    if application.status != ApplicationStatus.DRAFT:
        raise _not_editable()
    step = STEP_BY_SLUG["review"]
    form = form_for(step, application.call.programme, values={}, formdata=request.form)
    current = form_values(application)
    values, _errors = form.draft_values(current)
    conflict = _save(application, values, form.expected_version())
    if conflict is not None:
        form.lock_version.data = application.lock_version
        return _render_step(application, step, form, status=409, conflict=conflict)
    form.lock_version.data = application.lock_version
    try:
        submit_application(application, actor=current_user)  # the server's clock, never the client's
    except SubmissionRefused as exc:
        db.session.rollback()
        form.lock_version.data = application.lock_version
        # 200 like every form with errors here (the summary says what to fix); nothing was submitted.
        return _render_step(application, step, form, problems=exc.problems, refused=True)
    except PdfError:
        db.session.rollback()
        form.lock_version.data = application.lock_version
        form.form_errors.append(
            _(
                "The PDF of the application could not be made just now, so nothing was submitted. "
                "Try again in a minute."
            )
        )
        return _render_step(application, step, form, status=503)
    db.session.commit()
    flash(_("The application is submitted."), "success")
    return redirect(url_for(".confirmation", application_id=application.id))


@bp.get("/<int:application_id>/submitted")
@login_required
def confirmation(application_id: int):
    application = _application(application_id)
    version = application.latest_version
    if version is None:
        return redirect(url_for(".show", application_id=application.id))
    return render_template("applications/confirmation.html", application=application, version=version)
