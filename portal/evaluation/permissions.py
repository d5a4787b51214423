"""Who may do what in a call's evaluation (per object; views turn every "no" into 404).

The coordinators of the call's municipality run the evaluation; the committee's secretary helps with
the administrative check; voting members score. A member who recused from an application never opens
it (QUALITY C4), and nobody sees another member's scores before submitting their own.
"""

from __future__ import annotations

from portal.calls.permissions import can_manage_call
from portal.calls.workflow import CallStatus
from portal.evaluation import queries
from portal.evaluation.models import CommitteeMember

# Calls whose committee may still change: until the scores are consolidated and decided.
COMMITTEE_EDITABLE = (CallStatus.DRAFT, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.EVALUATION)
# Calls whose applicants are known to the committee (the applications are unsealed).
UNSEALED = (
    CallStatus.CLOSED,
    CallStatus.EVALUATION,
    CallStatus.DECIDED,
    CallStatus.RESULTS_PUBLISHED,
    CallStatus.ARCHIVED,
)


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can_manage_committee(user, call) -> bool:
    """The municipality's coordinators appoint and remove members until the decision."""
    return can_manage_call(user, call) and call.status in COMMITTEE_EDITABLE


def can_follow_evaluation(user, call) -> bool:
    """The coordinators see the evaluation overview; committee members see their own part of it."""
    return can_manage_call(user, call) or queries.member_for(user, call.id) is not None


def can_check(user, application) -> bool:
    """The coordinators and the committee's secretary check a received application once the call closed."""
    call = application.call
    if call.status not in (CallStatus.CLOSED, CallStatus.EVALUATION) or application.submitted_at is None:
        return False
    return can_manage_call(user, call) or queries.is_secretary(user, call.id)


def can_sign_declaration(member: CommitteeMember | None, call) -> bool:
    """A member signs the call's impartiality declaration once the applicants are known."""
    return member is not None and call.status in UNSEALED and member.declared_at is None


def can_declare_conflict(member: CommitteeMember | None, application) -> bool:
    """A voting member who signed the call's declaration states, per application, conflict or none."""
    return (
        member is not None
        and member.votes
        and member.declared_at is not None
        and application.call_id == member.call_id
        and application.call.status == CallStatus.EVALUATION
        and application.status in queries.SCORABLE
    )


def is_recused(member: CommitteeMember | None, application) -> bool:
    declaration = queries.conflict(member.id, application.id) if member is not None else None
    return declaration is not None and declaration.recused


def can_open_for_scoring(user, application) -> bool:
    """A voting member opens an application only after declaring no conflict on it (recused: never)."""
    member = queries.member_for(user, application.call_id)
    if member is None or not member.votes or member.declared_at is None:
        return False
    if application.status not in queries.SCORABLE and application.call.status == CallStatus.EVALUATION:
        return False
    declaration = queries.conflict(member.id, application.id)
    return declaration is not None and not declaration.recused


def can_score(user, application) -> bool:
    """Scores are given while the call is in evaluation and the application is admissible."""
    from portal.applications.workflow import ApplicationStatus

    return (
        application.call.status == CallStatus.EVALUATION
        and application.status == ApplicationStatus.ADMISSIBLE
        and can_open_for_scoring(user, application)
    )


def can_see_others_scores(user, application) -> bool:
    """A member sees the others' scores only after submitting their own (never when recused); the
    coordinators see them once the scores have been consolidated."""
    call = application.call
    if can_manage_call(user, call):
        return queries.result_for(application.id) is not None
    member = queries.member_for(user, call.id)
    if member is None or not can_open_for_scoring(user, application):
        return False
    sheet = queries.sheet(member.id, application.id)
    return sheet is not None and sheet.is_submitted


def can_consolidate(user, call) -> bool:
    return can_manage_call(user, call) and call.status == CallStatus.EVALUATION


def can_record_decision(user, call) -> bool:
    return can_manage_call(user, call) and call.status == CallStatus.EVALUATION


def can_see_results(user, call) -> bool:
    """The coordinators (and national administrators) see the ranking and the proposal once consolidated."""
    if not _authenticated(user):
        return False
    return can_manage_call(user, call) or user.is_national_admin


def can_offer_reserve(user, call) -> bool:
    return can_manage_call(user, call) and call.status in (
        CallStatus.DECIDED,
        CallStatus.RESULTS_PUBLISHED,
        CallStatus.ARCHIVED,
    )
