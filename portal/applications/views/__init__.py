"""Application pages: start a draft, the step-by-step form with autosave, submit, view, withdraw, and
the lists for applicants and for the municipality.

Every view: load or 404 (what is not the user's is "not found", never "forbidden") → permission
check → validate → service call → commit → flash and redirect (STYLE "Service layer"). Draft saves
store what parses and report the rest, so nothing typed is ever thrown away (QUALITY H1, H2).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from portal.applications import permissions
from portal.applications.forms import (
    ACTIVITY_LABELS,
    BUDGET_LABELS,
    FIELD_ANCHOR,
    FIELD_STEP,
    LABELS,
    STEP_BY_SLUG,
    STEPS,
)
from portal.applications.models import BUDGET_CATEGORIES, Application
from portal.applications.services import DraftConflict, changed_values, save_draft
from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call
from portal.core.audit import security_event
from portal.core.i18n import current_language, local_date, money, riga_datetime
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db

bp = Blueprint("applications", __name__)


@bp.context_processor
def _labels():
    """Labels the application templates share with the forms (one place for each wording)."""
    return {
        "labels": LABELS,
        "budget_labels": BUDGET_LABELS,
        "activity_labels": ACTIVITY_LABELS,
        "step_titles": {s.slug: s.title for s in STEPS},
    }


@bp.app_template_filter("application_status")
def _application_status(value) -> ApplicationStatus:
    return ApplicationStatus(value)


# --- loading and permissions ----------------------------------------------------------------------


def _application(application_id: int, allowed=permissions.is_member) -> Application:
    """Return the application if the current user passes `allowed`, else 404 (never 403)."""
    application = db.session.get(
        Application,
        application_id,
        options=[
            joinedload(Application.call).joinedload(Call.programme),
            joinedload(Application.organisation),
        ],
    )
    if application is None or not allowed(current_user, application):
        if application is not None:
            security_event("application_denied", application_id=application_id, user_id=current_user.get_id())
        abort(404)
    return application


def can_read_application(user, application) -> bool:
    """Members and the staff who may read the application, and the committee's secretary while the
    application is being checked (the checker reads what was submitted)."""
    if permissions.can_view_application(user, application):
        return True
    from portal.evaluation.permissions import can_check  # evaluation builds on applications

    return can_check(user, application)


def _step(slug: str):
    step = STEP_BY_SLUG.get(slug)
    if step is None:
        abort(404)
    return step


def _not_editable(application: Application | None = None) -> WorkflowError:
    """The refusal to change an application that is not (or no longer) editable."""
    if application is not None and application.status == ApplicationStatus.CLARIFICATION_REQUESTED:
        return WorkflowError(
            _("The deadline for the clarification has passed; the application can no longer be edited.")
        )
    return WorkflowError(_("The application has been submitted; it can no longer be edited."))


def clarification_of(application: Application):
    """The application's clarification request (None when none was made)."""
    from portal.evaluation.services.checks import clarification_of as find  # evaluation builds on us

    return find(application)


# --- presenting values ----------------------------------------------------------------------------


def _category_label(programme, code: str) -> str:
    for category in programme.risk_categories or []:
        if category.get("code") == code:
            return category.get(current_language()) or category.get("lv") or code
    return code


def display_value(name: str, value, programme) -> str:
    """Say a stored value in words, for the conflict list and the summaries."""
    if value is None or value == "" or value == {} or value == []:
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name in ("start_date", "end_date"):
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return value
        return local_date(value)
    if name == "budget" and isinstance(value, dict):
        return "; ".join(
            f"{BUDGET_LABELS.get(c, c)}: {money(value[c]) if value.get(c) is not None else '—'}"
            for c in BUDGET_CATEGORIES
            if c in value
        )
    if name == "risk_by_category" and isinstance(value, dict):
        return "; ".join(f"{_category_label(programme, code)}: {count}" for code, count in value.items())
    if name == "activities" and isinstance(value, list):
        return ngettext("%(num)d activity", "%(num)d activities", len(value))
    return str(value)


def _conflict_items(changed: dict, programme) -> list[tuple[str, str]]:
    return [
        (str(LABELS.get(name, name)), display_value(name, value, programme))
        for name, value in changed.items()
    ]


def _problem_items(application: Application, problems) -> list[dict]:
    """Each problem with the step and field that fix it (the submission summary links there)."""
    items = []
    for problem in problems:
        slug = FIELD_STEP.get(problem.field, "review")
        anchor = FIELD_ANCHOR.get(problem.field, problem.field)
        items.append(
            {
                "field": problem.field,
                "label": str(LABELS.get(problem.field, "")),
                "message": str(problem.message),
                "step": STEP_BY_SLUG[slug],
                "url": url_for(".edit", application_id=application.id, step=slug, _anchor=anchor),
            }
        )
    return items


def next_step(application: Application, now: datetime | None = None) -> tuple[str, str | None, str | None]:
    """Return what the applicant must do next: (sentence, link or None, link text or None)."""
    now = now or utcnow()
    status = ApplicationStatus(application.status)
    call = application.call
    page = url_for(".show", application_id=application.id)
    if status == ApplicationStatus.DRAFT:
        if call.is_accepting(now):
            return (
                _(
                    "Finish and submit it before %(deadline)s (Riga time).",
                    deadline=riga_datetime(call.closes_at),
                ),
                url_for(".edit", application_id=application.id, step=STEPS[0].slug),
                _("Continue the application"),
            )
        if now < call.opens_at:
            return _("The call opens on %(day)s.", day=riga_datetime(call.opens_at)), None, None
        return _("The deadline has passed: this draft can no longer be submitted."), None, None
    if status == ApplicationStatus.CLARIFICATION_REQUESTED:
        request = clarification_of(application)
        if request is not None and request.answered_at is None and now <= request.due_at:
            return (
                _(
                    "Correct the application and answer the municipality's request for clarification "
                    "by %(due)s (Riga time).",
                    due=riga_datetime(request.due_at),
                ),
                url_for(".answer_clarification", application_id=application.id),
                _("Answer the clarification request"),
            )
        return _("The deadline for the clarification has passed."), page, _("Open")
    messages = {
        ApplicationStatus.SUBMITTED: _(
            "Wait for the evaluation. The municipality tells you the result by e-mail."
        ),
        ApplicationStatus.CLARIFICATION_REQUESTED: _("Answer the municipality's request for clarification."),
        ApplicationStatus.ADMISSIBLE: _(
            "Wait for the evaluation. The municipality tells you the result by e-mail."
        ),
        ApplicationStatus.SCORED: _("Wait for the municipality's decision."),
        ApplicationStatus.REJECTED: _(
            "Nothing more: the application was rejected. The decision gives the reasons."
        ),
        ApplicationStatus.FUNDED: _("Wait for the contract from the municipality."),
        ApplicationStatus.RESERVE: _("Wait: the application is on the reserve list and may still be funded."),
        ApplicationStatus.NOT_FUNDED: _("Nothing more: the application was not funded this time."),
        ApplicationStatus.CONTRACT_SENT: _("Sign the contract."),
        ApplicationStatus.CONTRACT_SIGNED: _("Carry out the project, then submit the final report."),
        ApplicationStatus.IN_PROGRESS: _("Carry out the project, then submit the final report."),
        ApplicationStatus.REPORT_SUBMITTED: _("Wait while the municipality reviews the final report."),
        ApplicationStatus.REPORT_RETURNED: _("Correct the final report and submit it again."),
        ApplicationStatus.REPORT_APPROVED: _("Nothing more: the final report is approved."),
        ApplicationStatus.FORWARDED: _("Nothing more: the final report is approved."),
        ApplicationStatus.CLOSED: _("Nothing more: the project is closed."),
        ApplicationStatus.WITHDRAWN: _("Nothing: the application was withdrawn."),
        ApplicationStatus.TERMINATED: _("Nothing: the project was terminated."),
    }
    if status == ApplicationStatus.IN_PROGRESS:
        return (
            messages[status],
            url_for("reports.edit", application_id=application.id),
            _("Write the final report"),
        )
    if status == ApplicationStatus.REPORT_RETURNED:
        return (
            messages[status],
            url_for("reports.edit", application_id=application.id),
            _("Correct the final report"),
        )
    if status == ApplicationStatus.CONTRACT_SENT:
        contract_page = url_for("contracts.for_application", application_id=application.id)
        return messages[status], contract_page, _("Open the contract")
    return messages[status], page, _("Open")


def _merge(values: dict, current: dict) -> dict:
    """Complete a partial set of risk-category counts with the stored ones (autosave sends what it has)."""
    if "risk_by_category" in values:
        values["risk_by_category"] = {**(current.get("risk_by_category") or {}), **values["risk_by_category"]}
    return values


def _changed_since(application: Application, values: dict) -> dict:
    """After a lost race (StaleDataError) say what differs from the stored draft, as DraftConflict does."""
    db.session.refresh(application)
    return changed_values(application, values)


def _save(application, values, expected_version):
    """Store the values; return the conflict (what changed) instead when the draft moved on."""
    try:
        save_draft(application, values, actor=current_user, expected_version=expected_version)
        db.session.commit()
    except DraftConflict as exc:
        db.session.rollback()
        return exc.changed
    except StaleDataError:  # another save won the race between our check and our UPDATE
        db.session.rollback()
        return _changed_since(application, values)
    return None


def _row_number(raw: str | None) -> int | None:
    """The row a "Remove" button names (its value is the row's place in the form)."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 4 else None


# The route modules register themselves on `bp` when imported.
from portal.applications.views import clarification, drafts, pages  # noqa: E402, F401
