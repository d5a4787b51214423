"""The administrative and eligibility check, and the one clarification round (DESIGN §4, issue 5).

The portal pre-fills what it can decide from the submitted data; the coordinator or the committee's
secretary confirms each criterion (yes, or no with a reason), then admits the application to scoring,
rejects it (the reasons reach the applicant by e-mail), or sends a fixable defect back once with a
deadline in working days. Callers commit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.applications import rules as application_rules
from portal.applications.models import Application
from portal.applications.services import freeze_version, notify_organisation
from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.core import audit
from portal.core.enums import LegalForm
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.core.workdays import working_day_deadline
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.evaluation import permissions, queries
from portal.evaluation.models import Clarification, EligibilityAnswer
from portal.extensions import db
from portal.organisations.services import public_url

CHECK_KINDS = ("administrative", "eligibility")
CLARIFICATION_DAYS = (1, 30)  # the working days an applicant may be given to answer
DEFAULT_CLARIFICATION_DAYS = 5


def check_criteria(call) -> list:
    """Return the call's administrative and eligibility criteria, in order."""
    return [c for c in call.criteria if c.kind in CHECK_KINDS]


def _scope(application: Application) -> dict:
    return {
        "municipality_id": application.call.municipality_id,
        "organisation_id": application.organisation_id,
    }


# --- what the portal decides by itself --------------------------------------------------------------


def _on_time(application) -> bool:
    return application.submitted_at is not None and application.submitted_at <= application.call.closes_at


def _amount(application) -> bool:
    programme = application.call.programme
    total = application.budget_total
    return total == programme.amount if programme.funding_mode == "fixed" else 0 < total <= programme.amount


def _applicant_type(application) -> bool:
    org = application.organisation
    if org.legal_form.value not in (application.call.programme.eligible_legal_forms or []):
        return False
    return org.legal_form != LegalForm.INITIATIVE_GROUP or org.representative_organisation_id is not None


def _duration(application) -> bool | None:
    start, end = application.start_date, application.end_date
    if start is None or end is None or end < start:
        return False
    programme = application.call.programme
    long_enough, short_enough = application_rules.duration_ok(
        start, end, programme.min_months, programme.max_months
    )
    return long_enough and short_enough and programme.period_start <= start and end <= programme.period_end


def _risk_share(application) -> bool:
    total, risk = application.participants_total, application.participants_risk
    if not total or risk is None or risk > total:
        return False
    return application_rules.risk_share_ok(risk, total, application.call.programme.min_risk_share)


def _grades(application) -> bool:
    bands = (
        application.participants_grades_5_9,
        application.participants_grades_10_12,
        application.participants_vocational,
    )
    return (
        bool(application.participants_total) and sum(b or 0 for b in bands) == application.participants_total
    )


AUTO_CHECKS = {
    "on_time": _on_time,
    "amount": _amount,
    "applicant_type": _applicant_type,
    "duration": _duration,
    "risk_share": _risk_share,
    "grades": _grades,
}


def suggestions(application: Application) -> dict[int, bool | None]:
    """Return, per check criterion id, what the portal decides from the data (None: a person decides)."""
    result = {}
    for criterion in check_criteria(application.call):
        check = AUTO_CHECKS.get(criterion.auto_check or "")
        result[criterion.id] = bool(check(application)) if check else None
    return result


# --- the check ------------------------------------------------------------------------------------


def _require_checker(application, actor) -> None:
    if not permissions.can_check(actor, application):
        raise TransitionDenied("only the coordinators and the secretary check applications")


def record_check(
    application: Application, answers: dict[int, tuple[bool | None, str | None]], *, actor
) -> list[EligibilityAnswer]:
    """Record the checker's answer for each criterion: `{criterion_id: (passed, reason)}`.

    Unanswered criteria (passed None) stay open; a "no" needs a reason (the applicant will read it)."""
    _require_checker(application, actor)
    if application.status != ApplicationStatus.SUBMITTED:
        raise WorkflowError(str(_l("This application's check is finished.")))
    criteria = {c.id: c for c in check_criteria(application.call)}
    suggested = suggestions(application)
    existing = queries.eligibility_answers(application.id)
    now = utcnow()
    saved = []
    for criterion_id, (passed, reason) in answers.items():
        if criterion_id not in criteria or passed is None:
            continue
        reason = (reason or "").strip() or None
        if not passed and not reason:
            raise WorkflowError(str(_l("Say why the criterion is not met.")), field=f"reason_{criterion_id}")
        answer = existing.get(criterion_id) or EligibilityAnswer(
            application_id=application.id, criterion_id=criterion_id
        )
        answer.passed, answer.reason, answer.suggested = passed, reason, suggested.get(criterion_id)
        answer.checked_by_id, answer.checked_at = actor.id, now
        db.session.add(answer)
        saved.append(answer)
    db.session.flush()
    audit.record(
        "application.checked",
        actor=actor,
        obj=application,
        after={str(a.criterion_id): a.passed for a in saved},
        **_scope(application),
    )
    return saved


def check_problems(application: Application) -> tuple[list, list]:
    """Return (unanswered criteria, failed answers) of the application's check."""
    answers = queries.eligibility_answers(application.id)
    unanswered = [c for c in check_criteria(application.call) if c.id not in answers]
    failed = [a for a in answers.values() if not a.passed]
    return unanswered, failed


def admit(application: Application, *, actor) -> Application:
    """Admit the application to scoring: every criterion must have been checked and met."""
    _require_checker(application, actor)
    unanswered, failed = check_problems(application)
    if unanswered:
        raise WorkflowError(str(_l("Answer every criterion of the check first.")))
    if failed:
        raise WorkflowError(
            str(_l("A criterion is not met: reject the application or ask for a clarification."))
        )
    transition(WORKFLOW, application, "admit", actor)
    return application


def _notify_rejection(application: Application, reason: str) -> None:
    failed = [a for a in queries.eligibility_answers(application.id).values() if not a.passed]
    notify_organisation(
        application.organisation_id,
        "application_rejected",
        application=application,
        reason=reason,
        failed=failed,
        link=public_url("applications.show", application_id=application.id),
    )


def reject(application: Application, reason: str, *, actor) -> Application:
    """Reject the application (administrative or eligibility grounds) with reasons the applicant reads."""
    if actor is not None:
        _require_checker(application, actor)
    transition(WORKFLOW, application, "reject", actor, reason)
    _notify_rejection(application, reason.strip())
    return application


def request_clarification(
    application: Application, message: str, working_days: int, *, actor, now: datetime | None = None
) -> Clarification:
    """Send a fixable defect back to the applicant, once, with a deadline in working days."""
    _require_checker(application, actor)
    now = now or utcnow()
    if db.session.scalar(sa.select(Clarification.id).where(Clarification.application_id == application.id)):
        raise WorkflowError(str(_l("A clarification can be requested only once.")))
    low, high = CLARIFICATION_DAYS
    if working_days is None or not low <= working_days <= high:
        raise WorkflowError(
            str(_l("Give between %(low)d and %(high)d working days.", low=low, high=high)),
            field="working_days",
        )
    transition(WORKFLOW, application, "request_clarification", actor, message)
    request = Clarification(
        application_id=application.id,
        message=message.strip(),
        working_days=working_days,
        requested_by_id=actor.id,
        requested_at=now,
        due_at=working_day_deadline(now, working_days),
    )
    db.session.add(request)
    db.session.flush()
    notify_organisation(
        application.organisation_id,
        "clarification_requested",
        application=application,
        clarification=request,
        link=public_url("applications.show", application_id=application.id),
    )
    return request


def clarification_of(application: Application) -> Clarification | None:
    return db.session.scalar(sa.select(Clarification).where(Clarification.application_id == application.id))


def answer_clarification(application: Application, answer: str, *, actor, now: datetime | None = None):
    """Send the answer: the corrected application becomes a new frozen version (both stay readable)."""
    now = now or utcnow()
    request = clarification_of(application)
    if request is None or application.status != ApplicationStatus.CLARIFICATION_REQUESTED:
        raise WorkflowError(str(_l("No clarification is requested for this application.")))
    if now > request.due_at:
        raise WorkflowError(str(_l("The deadline for the clarification has passed.")))
    answer = (answer or "").strip()
    if not answer:
        raise WorkflowError(str(_l("Write your answer to the clarification request.")), field="answer")
    problems = application_rules.submission_problems(application, now=now, window=False)
    if problems:
        from portal.applications.services import SubmissionRefused

        raise SubmissionRefused(problems)
    transition(WORKFLOW, application, "answer_clarification", actor)
    version, stored = freeze_version(application, kind="clarification", actor=actor, now=now)
    request.answer, request.answered_at, request.version_id = answer, now, version.id
    # The check starts again on the corrected version.
    db.session.execute(sa.delete(EligibilityAnswer).where(EligibilityAnswer.application_id == application.id))
    db.session.flush()
    notify_organisation(
        application.organisation_id,
        "clarification_answered",
        application=application,
        version=version,
        attachments=[stored],
    )
    queue_email(
        application.call.contact_email, "clarification_answered_staff", locale="lv", application=application
    )
    return version


def expire_clarifications(now: datetime | None = None) -> int:
    """Reject every application whose clarification deadline passed without an answer (cron-friendly:
    running it twice changes nothing the second time). Returns how many were rejected."""
    now = now or utcnow()
    overdue = db.session.scalars(
        sa.select(Clarification)
        .join(Application, Clarification.application_id == Application.id)
        .where(
            Clarification.answered_at.is_(None),
            Clarification.expired_at.is_(None),
            Clarification.due_at < now,
            Application.status == ApplicationStatus.CLARIFICATION_REQUESTED,
        )
    ).all()
    for request in overdue:
        with force_locale("lv"):
            reason = _("No answer to the clarification request arrived by the deadline.")
        reject(request.application, reason, actor=None)
        request.expired_at = now
    db.session.flush()
    return len(overdue)
