"""Application use cases (issue 4): start a draft, save it (optimistic locking), submit it frozen
with a PDF, withdraw it. Callers commit."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.applications import rules
from portal.applications.models import (
    BUDGET_CATEGORIES,
    Application,
    ApplicationActivity,
    ApplicationVersion,
    BudgetLine,
)
from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.core import audit, pdf, storage
from portal.core.enums import Role
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db

SCALAR_FIELDS = (
    "title",
    "start_date",
    "end_date",
    "places",
    "partners",
    "group_members",
    "problem",
    "plan_link",
    "plan_activity_id",
    "goal",
    "objectives",
    "participants_total",
    "participants_risk",
    "participants_grades_5_9",
    "participants_grades_10_12",
    "participants_vocational",
    "schools",
    "youth_involvement",
    "results",
    "indicators",
    "publicity",
    "risks",
    "declaration_truth",
    "declaration_no_double_funding",
    "declaration_participant_lists",
)
ACTIVITY_FIELDS = ("activity", "method", "months", "participants", "responsible")
MAX_ACTIVITIES = 30
# A draft, and an application sent back for a clarification (until the answer is sent), can be edited.
EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.CLARIFICATION_REQUESTED)


def clarification_open(application: Application, now: datetime | None = None) -> bool:
    """Say whether the application's clarification request can still be answered (by the server's clock)."""
    from portal.evaluation.models import Clarification  # evaluation builds on applications

    request = db.session.scalar(
        sa.select(Clarification).where(Clarification.application_id == application.id)
    )
    return (
        application.status == ApplicationStatus.CLARIFICATION_REQUESTED
        and request is not None
        and request.answered_at is None
        and (now or utcnow()) <= request.due_at
    )


class DraftConflict(WorkflowError):
    """Someone saved the draft since this copy was loaded (QUALITY H2): show them what changed."""

    def __init__(self, application: Application, changed: dict):
        super().__init__(str(_l("This draft was changed in another window or by another member.")))
        self.application = application
        self.changed = changed


class SubmissionRefused(WorkflowError):
    """The application breaks rules; `problems` lists every one with its field."""

    def __init__(self, problems: list[rules.Problem]):
        super().__init__(str(_l("The application cannot be submitted yet.")))
        self.problems = problems


def _is_member(actor, organisation_id: int) -> bool:
    return bool(actor and actor.has_role(Role.APPLICANT, organisation_id=organisation_id))


def start_application(call: Call, organisation, *, actor) -> Application:
    """Open a draft for the organisation in the call (one per organisation unless the programme says more)."""
    if not _is_member(actor, organisation.id):
        raise TransitionDenied("only members of the organisation can apply for it")
    if call.status != CallStatus.OPEN or not call.is_accepting():
        raise WorkflowError(str(_l("This call is not accepting applications.")))
    existing = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .where(
            Application.call_id == call.id,
            Application.organisation_id == organisation.id,
            Application.status != ApplicationStatus.WITHDRAWN,
        )
    )
    if existing >= call.programme.applications_per_organisation:
        raise WorkflowError(str(_l("Your organisation already has an application in this call.")))
    application = Application(
        call=call,
        organisation=organisation,
        created_by_id=actor.id,
        status=ApplicationStatus.DRAFT,
        risk_by_category={},
    )
    application.budget_lines = [BudgetLine(category=c, amount=Decimal("0.00")) for c in BUDGET_CATEGORIES]
    db.session.add(application)
    db.session.flush()
    audit.record(
        "application.started",
        actor=actor,
        obj=application,
        municipality_id=call.municipality_id,
        organisation_id=organisation.id,
    )
    return application


def plan_activities(application: Application) -> list:
    """Return the activities of the active prevention plan of the call's municipality (DESIGN §5), by
    level and place; empty when the municipality has no plan in force."""
    from portal.plans.models import PlanActivity, PreventionPlan  # plans build on municipalities

    return list(
        db.session.scalars(
            sa.select(PlanActivity)
            .join(PreventionPlan, PreventionPlan.id == PlanActivity.plan_id)
            .where(
                PreventionPlan.municipality_id == application.call.municipality_id,
                PreventionPlan.is_active.is_(True),
            )
            .options(sa.orm.contains_eager(PlanActivity.plan))
            .order_by(PlanActivity.level, PlanActivity.position, PlanActivity.id)
        )
    )


def plan_activity_summary(application: Application) -> dict | None:
    """The chosen plan activity as a version freezes it (its number and title as they were)."""
    activity = application.plan_activity_id and _plan_activity(application.plan_activity_id)
    if not activity:
        return None
    return {"id": activity.id, "number": activity.number, "title": activity.title, "level": activity.level}


def _plan_activity(activity_id: int):
    from portal.plans.models import PlanActivity

    return db.session.get(PlanActivity, activity_id)


def plan_activity_allowed(application: Application, activity_id) -> bool:
    """Say whether the id is an activity of the active plan of the call's municipality."""
    from portal.plans.models import PlanActivity, PreventionPlan

    if not isinstance(activity_id, int) or isinstance(activity_id, bool):
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PlanActivity)
            .join(PreventionPlan, PreventionPlan.id == PlanActivity.plan_id)
            .where(
                PlanActivity.id == activity_id,
                PreventionPlan.municipality_id == application.call.municipality_id,
                PreventionPlan.is_active.is_(True),
            )
        )
    )


def form_values(application: Application) -> dict:
    """Return the draft as plain values (what the form shows and what a version freezes)."""
    values = {name: getattr(application, name) for name in SCALAR_FIELDS}
    values["plan_activity"] = plan_activity_summary(application)
    values["risk_by_category"] = dict(application.risk_by_category or {})
    values["activities"] = [{f: getattr(a, f) for f in ACTIVITY_FIELDS} for a in application.activities]
    values["budget"] = {line.category: line.amount for line in application.budget_lines}
    return values


def _jsonable(values: dict) -> dict:
    def convert(v):
        if isinstance(v, date | datetime):
            return v.isoformat()
        if isinstance(v, Decimal):
            return f"{v:.2f}"
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, list):
            return [convert(x) for x in v]
        return v

    return convert(values)


def changed_values(application: Application, values: dict) -> dict:
    """Return the stored values (as JSON) of the fields in `values` that differ from them: what another
    window or member saved that this editor has not seen (QUALITY H2)."""
    current = form_values(application)
    return _jsonable({k: current[k] for k, v in values.items() if k in current and current[k] != v})


def save_draft(application: Application, values: dict, *, actor, expected_version: int) -> Application:
    """Store the typed values of a draft; any field may be empty.

    `expected_version` is the lock version the editor loaded: if the draft has been saved since,
    nothing is stored and DraftConflict says which fields differ (QUALITY H2).
    """
    if not _is_member(actor, application.organisation_id):
        raise TransitionDenied("only members of the organisation can edit its application")
    if application.status not in EDITABLE:
        raise WorkflowError(str(_l("The application has been submitted; it can no longer be edited.")))
    if application.status == ApplicationStatus.CLARIFICATION_REQUESTED and not clarification_open(
        application
    ):
        raise WorkflowError(str(_l("The deadline for the clarification has passed.")))
    if expected_version != application.lock_version:
        raise DraftConflict(application, changed_values(application, values))
    chosen = values.get("plan_activity_id")
    if chosen is not None and not plan_activity_allowed(application, chosen):
        raise WorkflowError(
            str(_l("Choose an activity of your municipality's prevention plan from the list.")),
            field="plan_activity_id",
        )
    for name in SCALAR_FIELDS:
        if name in values:
            setattr(application, name, values[name])
    if "risk_by_category" in values:
        codes = {c["code"] for c in application.call.programme.risk_categories or []}
        application.risk_by_category = {k: v for k, v in values["risk_by_category"].items() if k in codes}
    if "activities" in values:
        rows = [r for r in values["activities"] if any(r.get(f) not in (None, "") for f in ACTIVITY_FIELDS)]
        application.activities = [
            ApplicationActivity(position=i, **{f: r.get(f) for f in ACTIVITY_FIELDS})
            for i, r in enumerate(rows[:MAX_ACTIVITIES])
        ]
    if "budget" in values:
        lines = {line.category: line for line in application.budget_lines}
        for category, amount in values["budget"].items():
            if category in BUDGET_CATEGORIES and category in lines:
                lines[category].amount = amount if amount is not None else Decimal("0.00")
    application.updated_at = utcnow()  # a save always bumps the lock version, even with no change
    db.session.flush()
    return application


def submit_application(application: Application, *, actor, now: datetime | None = None) -> ApplicationVersion:
    """Submit: every rule is checked on the server (the deadline by the server's clock), then the
    application is frozen as a version with a PDF of exactly what was submitted, e-mailed to the
    organisation's members in their language."""
    now = now or utcnow()
    if not _is_member(actor, application.organisation_id):
        raise TransitionDenied("only members of the organisation can submit its application")
    if application.status != ApplicationStatus.DRAFT:
        raise WorkflowError(str(_l("The application has already been submitted.")))
    problems = rules.submission_problems(application, now=now)
    if problems:
        raise SubmissionRefused(problems)
    application.submitted_at = now
    transition(WORKFLOW, application, "submit", actor)
    version, stored = freeze_version(application, kind="submission", actor=actor, now=now)
    _confirm(application, version, stored)
    return version


def freeze_version(
    application: Application, *, kind: str, actor, now: datetime
) -> tuple[ApplicationVersion, object]:
    """Freeze the application's current values as the next numbered version with its PDF (SHA-256 kept)."""
    version = ApplicationVersion(
        application=application,
        number=len(application.versions) + 1,
        kind=kind,
        created_by_id=actor.id,
        data=_jsonable(form_values(application)),
        created_at=now,
    )
    db.session.add(version)
    db.session.flush()
    stored = render_version_pdf(version, actor=actor)
    version.pdf_file_id, version.pdf_sha256 = stored.id, stored.sha256
    db.session.flush()
    return version, stored


def render_version_pdf(version: ApplicationVersion, *, actor, locale: str = "lv") -> storage.StoredFile:
    """Render the frozen version as a PDF and store it (SHA-256 kept with it)."""
    application = version.application
    with force_locale(locale):
        data = pdf.render_pdf(
            "applications/pdf/application.html",
            application=application,
            version=version,
            values=version.data,
            locale=locale,
        )
    return storage.save_file(
        data,
        filename=f"pieteikums-{application.id}-v{version.number}.pdf",
        content_type="application/pdf",
        actor=actor,
    )


def frozen_values(data: dict) -> dict:
    """Turn a frozen version's JSON back into dates and amounts for display."""
    values = dict(data or {})
    for name in ("start_date", "end_date"):
        if isinstance(values.get(name), str):
            with contextlib.suppress(ValueError):
                values[name] = date.fromisoformat(values[name])
    budget = {}
    for category, amount in (values.get("budget") or {}).items():
        try:
            budget[category] = Decimal(str(amount)) if amount is not None else None
        except (InvalidOperation, ValueError):
            budget[category] = None
    values["budget"] = budget
    return values


def record_staff_read(
    application: Application, *, actor, action: str = "application.viewed", **after
) -> None:
    """Write a read of the application by anyone but its applicant to the audit trail (DESIGN §6, F5)."""
    if _is_member(actor, application.organisation_id):
        return
    audit.record(
        action,
        actor=actor,
        obj=application,
        municipality_id=application.call.municipality_id,
        organisation_id=application.organisation_id,
        after=after or None,
    )


def read_version_pdf(application: Application, version: ApplicationVersion, *, actor) -> tuple[bytes, str]:
    """Return a frozen version's PDF and its file name; a read by anyone but the applicant's members is
    written to the audit trail (QUALITY F5)."""
    data = storage.read_file(version.pdf_file)
    record_staff_read(application, actor=actor, action="application.pdf_downloaded", version=version.number)
    return data, version.pdf_file.filename or f"application-{application.id}-v{version.number}.pdf"


def _members(organisation_id: int):
    from portal.accounts.models import Membership, User

    return db.session.execute(
        sa.select(User.email, User.locale)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.role == Role.APPLICANT,
            User.is_disabled.is_(False),
        )
    ).all()


def notify_organisation(organisation_id: int, template: str, **context) -> None:
    """Queue the e-mail `template` to every active member of the organisation, each in their language
    (also given to the template as `lang`)."""
    for email, locale in _members(organisation_id):
        queue_email(email, template, locale=locale, lang=locale, **context)


def _confirm(application: Application, version: ApplicationVersion, stored) -> None:
    notify_organisation(
        application.organisation_id,
        "application_submitted",
        application=application,
        version=version,
        attachments=[stored],
    )


def withdraw_application(application: Application, *, actor, reason: str | None = None) -> Application:
    """Withdraw the application (until the contract; a funded one hands its place to the reserve list)."""
    before = application.status
    transition(WORKFLOW, application, "withdraw", actor, reason)
    application.withdrawn_at = utcnow()
    db.session.flush()
    if before in (ApplicationStatus.FUNDED, ApplicationStatus.CONTRACT_SENT):
        from portal.evaluation.services.decisions import after_withdrawal  # evaluation builds on applications

        after_withdrawal(application, before)
    return application


def applications_of(user) -> list[Application]:
    """Return the applications of every organisation the user belongs to, newest first."""
    org_ids = user.organisation_ids()
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.organisation_id.in_(org_ids))
            .options(
                sa.orm.joinedload(Application.call).joinedload(Call.municipality),
                sa.orm.joinedload(Application.organisation),
            )
            .order_by(Application.created_at.desc())
        )
    )
