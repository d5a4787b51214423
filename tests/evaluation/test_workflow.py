"""Every (status, action, role) of the evaluation's workflows, through portal.core.workflow.transition():
the applications' evaluation steps, the score sheet (submit, reopen) and the call (start_evaluation,
record_decision). Allowed roles change the status and leave a StatusChange and an AuditEvent; every other
role gets TransitionDenied and nothing changes; an action the status does not have is a WorkflowError.

The expected tables below are written from the issue and DESIGN §4, not copied from the code, so a role
added to or dropped from a transition by mistake fails here.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.applications.workflow import TRANSITIONS as APPLICATION_TRANSITIONS
from portal.applications.workflow import WORKFLOW as APPLICATION_WORKFLOW
from portal.applications.workflow import ApplicationStatus as A
from portal.calls.workflow import TRANSITIONS as CALL_TRANSITIONS
from portal.calls.workflow import WORKFLOW as CALL_WORKFLOW
from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.core.timeutil import utcnow
from portal.core.workflow import StatusChange, TransitionDenied, WorkflowError, available_actions, transition
from portal.evaluation.models import CommitteeRole, ScoreSheet
from portal.evaluation.workflow import TRANSITIONS as SHEET_TRANSITIONS
from portal.evaluation.workflow import WORKFLOW as SHEET_WORKFLOW
from portal.evaluation.workflow import SheetStatus
from portal.extensions import db as _db
from tests.factories import (
    OrganisationFactory,
    applicant,
    close_call,
    committee,
    coordinator,
    municipality,
    national_admin,
    open_call,
    submitted_application,
)

REASON = "Pamatojums: budžets jāprecizē"

APPLICANT = "applicant"
COORDINATOR = "coordinator"
SECRETARY = "secretary"
SYSTEM = "system"
EVALUATOR = "evaluator (voting member, not secretary)"
OTHER_COORDINATOR = "coordinator of another municipality"
NATIONAL_ADMIN = "national admin"
ROLES = (APPLICANT, COORDINATOR, SECRETARY, SYSTEM, EVALUATOR, OTHER_COORDINATOR, NATIONAL_ADMIN)

CHECKERS = {COORDINATOR, SECRETARY}

# (status, action) → (target, roles allowed): the evaluation part of the application's lifecycle.
APPLICATION_EXPECTED = {
    (A.SUBMITTED, "admit"): (A.ADMISSIBLE, CHECKERS),
    (A.SUBMITTED, "request_clarification"): (A.CLARIFICATION_REQUESTED, CHECKERS),
    (A.SUBMITTED, "reject"): (A.REJECTED, CHECKERS),
    (A.SUBMITTED, "withdraw"): (A.WITHDRAWN, {APPLICANT}),
    (A.CLARIFICATION_REQUESTED, "answer_clarification"): (A.SUBMITTED, {APPLICANT}),
    (A.CLARIFICATION_REQUESTED, "reject"): (A.REJECTED, CHECKERS | {SYSTEM}),  # no answer in time
    (A.CLARIFICATION_REQUESTED, "withdraw"): (A.WITHDRAWN, {APPLICANT}),
    (A.ADMISSIBLE, "consolidate"): (A.SCORED, {COORDINATOR}),
    (A.ADMISSIBLE, "reject"): (A.REJECTED, CHECKERS),
    (A.ADMISSIBLE, "withdraw"): (A.WITHDRAWN, {APPLICANT}),
    (A.SCORED, "fund"): (A.FUNDED, {COORDINATOR}),
    (A.SCORED, "reserve"): (A.RESERVE, {COORDINATOR}),
    (A.SCORED, "not_fund"): (A.NOT_FUNDED, {COORDINATOR}),
    (A.SCORED, "withdraw"): (A.WITHDRAWN, {APPLICANT}),
    (A.RESERVE, "offer_funding"): (A.FUNDED, {COORDINATOR, SYSTEM}),
    (A.RESERVE, "withdraw"): (A.WITHDRAWN, {APPLICANT}),
    (A.FUNDED, "cancel_funding"): (A.NOT_FUNDED, {COORDINATOR, SYSTEM}),
    (A.FUNDED, "withdraw"): (A.WITHDRAWN, {APPLICANT}),
    (A.FUNDED, "send_contract"): (A.CONTRACT_SENT, {COORDINATOR}),  # issue 7 starts here
}
EVALUATION_STATUSES = (A.SUBMITTED, A.CLARIFICATION_REQUESTED, A.ADMISSIBLE, A.SCORED, A.RESERVE, A.FUNDED)
APPLICATION_ACTIONS = sorted({action for steps in APPLICATION_TRANSITIONS.values() for action in steps})
APPLICATION_MISSING = [
    (status, action)
    for status in EVALUATION_STATUSES
    for action in APPLICATION_ACTIONS
    if (status, action) not in APPLICATION_EXPECTED
]


def _ids(value):
    return value.value if hasattr(value, "value") else str(value)


# --- the people and the objects ---------------------------------------------------------------------


@pytest.fixture()
def world(db):
    """A call in evaluation, one submitted application, and one person for every role."""
    call = open_call()
    application, member_of_organisation = submitted_application(call)
    close_call(call, status=CallStatus.EVALUATION)
    board = committee(call, voting=2)
    plain_member = board["members"][-1]
    assert plain_member.role == CommitteeRole.MEMBER and plain_member.votes
    people = {
        APPLICANT: member_of_organisation,
        COORDINATOR: coordinator(municipality()),
        SECRETARY: board["secretary"].user,
        SYSTEM: None,
        EVALUATOR: plain_member.user,
        OTHER_COORDINATOR: coordinator(municipality("0044000")),
        NATIONAL_ADMIN: national_admin(),
    }
    return {"call": call, "application": application, "committee": board, "people": people}


def _changes(workflow_name: str, object_id: int) -> list[StatusChange]:
    return list(
        _db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.object_type == workflow_name, StatusChange.object_id == object_id)
            .order_by(StatusChange.id)
        )
    )


def _events(workflow_name: str, object_id: int) -> list[AuditEvent]:
    return list(
        _db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.object_type == workflow_name, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        )
    )


def _assert_recorded(workflow_name, obj, action, from_status, target, actor, scope, events_before):
    (change,) = _changes(workflow_name, obj.id)
    assert (change.action, change.from_status, change.to_status) == (action, from_status.value, target.value)
    assert change.actor_id == (actor.id if actor is not None else None)
    assert change.reason == REASON
    events = _events(workflow_name, obj.id)
    assert len(events) == events_before + 1
    event = events[-1]
    assert event.action == f"{workflow_name}.{action}"
    assert event.actor_id == (actor.id if actor is not None else None)
    assert event.before_data() == {"status": from_status.value}
    assert event.after_data() == {"status": target.value}
    assert event.reason == REASON
    for key, value in scope.items():
        assert getattr(event, key) == value


def _assert_nothing_recorded(workflow_name, obj, events_before):
    assert _changes(workflow_name, obj.id) == []
    assert len(_events(workflow_name, obj.id)) == events_before


# --- the tables themselves ----------------------------------------------------------------------------


def test_application_table_for_the_evaluation_is_as_specified():
    actual = {
        (status, action): (step.target, set(step.roles))
        for status in EVALUATION_STATUSES
        for action, step in APPLICATION_TRANSITIONS.get(status, {}).items()
    }
    assert actual == APPLICATION_EXPECTED


def test_reasons_are_required_where_a_person_must_explain():
    needs_reason = {
        (status, action)
        for status in EVALUATION_STATUSES
        for action, step in APPLICATION_TRANSITIONS[status].items()
        if step.requires_reason
    }
    assert needs_reason == {
        (A.SUBMITTED, "request_clarification"),
        (A.SUBMITTED, "reject"),
        (A.CLARIFICATION_REQUESTED, "reject"),
        (A.ADMISSIBLE, "reject"),
        (A.FUNDED, "cancel_funding"),
    }


# --- applications: every (status, action) × every role ----------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "role"),
    [(s, a, r) for (s, a) in APPLICATION_EXPECTED for r in ROLES],
    ids=lambda v: _ids(v),
)
def test_application_transition(world, status, action, role):
    application = world["application"]
    actor = world["people"][role]
    application.status = status
    _db.session.flush()
    events_before = len(_events("application", application.id))
    target, allowed = APPLICATION_EXPECTED[(status, action)]

    assert (APPLICATION_WORKFLOW.allowed(application, action, actor) is not None) == (role in allowed)
    if role not in allowed:
        with pytest.raises(TransitionDenied):
            transition(APPLICATION_WORKFLOW, application, action, actor, reason=REASON)
        assert application.status == status
        _assert_nothing_recorded("application", application, events_before)
        return

    transition(APPLICATION_WORKFLOW, application, action, actor, reason=REASON)
    assert application.status == target
    _db.session.expire(application)
    assert application.status == target  # it reached the database
    scope = {"municipality_id": world["call"].municipality_id, "organisation_id": application.organisation_id}
    _assert_recorded("application", application, action, status, target, actor, scope, events_before)


@pytest.mark.parametrize(("status", "action"), APPLICATION_MISSING, ids=lambda v: _ids(v))
def test_application_action_not_in_the_table_is_a_workflow_error_for_everyone(world, status, action):
    application = world["application"]
    application.status = status
    _db.session.flush()
    events_before = len(_events("application", application.id))
    for role in ROLES:
        with pytest.raises(WorkflowError):
            transition(APPLICATION_WORKFLOW, application, action, world["people"][role], reason=REASON)
        assert application.status == status, role
    _assert_nothing_recorded("application", application, events_before)


@pytest.mark.parametrize("status", EVALUATION_STATUSES, ids=lambda v: _ids(v))
def test_application_buttons_match_the_table_for_every_role(world, status):
    application = world["application"]
    application.status = status
    for role in ROLES:
        offered = {
            action
            for action, _step in available_actions(APPLICATION_WORKFLOW, application, world["people"][role])
        }
        expected = {
            a for (s, a), (_t, roles) in APPLICATION_EXPECTED.items() if s == status and role in roles
        }
        assert offered == expected, role


def test_a_secretary_of_another_calls_committee_is_no_secretary_here(world):
    other_call = open_call(projects=1, title="Cits konkurss")
    close_call(other_call, status=CallStatus.EVALUATION)
    stranger = committee(other_call, voting=1)["secretary"].user
    application = world["application"]
    with pytest.raises(TransitionDenied):
        transition(APPLICATION_WORKFLOW, application, "admit", stranger, reason=REASON)
    assert application.status == A.SUBMITTED


def test_a_member_of_another_organisation_is_no_applicant_here(world):
    other_user = applicant(OrganisationFactory())
    application = world["application"]
    with pytest.raises(TransitionDenied):
        transition(APPLICATION_WORKFLOW, application, "withdraw", other_user, reason=REASON)
    assert application.status == A.SUBMITTED


@pytest.mark.parametrize("reason", [None, "", "  \n "])
@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for (s, a) in APPLICATION_EXPECTED if APPLICATION_TRANSITIONS[s][a].requires_reason],
    ids=lambda v: _ids(v),
)
def test_application_transition_without_a_reason_is_refused(world, status, action, reason):
    application = world["application"]
    application.status = status
    _db.session.flush()
    events_before = len(_events("application", application.id))
    with pytest.raises(WorkflowError) as excinfo:
        transition(APPLICATION_WORKFLOW, application, action, world["people"][COORDINATOR], reason=reason)
    assert excinfo.value.field == "reason"
    assert application.status == status
    _assert_nothing_recorded("application", application, events_before)


# --- the score sheet: submit (its member), reopen (a coordinator, with a reason) -----------------------

SHEET_MEMBER = "the sheet's member"
OTHER_MEMBER = "another voting member"
# The plain voting member of the application tests is the sheet's member here.
SHEET_ROLES = (
    SHEET_MEMBER,
    OTHER_MEMBER,
    APPLICANT,
    COORDINATOR,
    SECRETARY,
    SYSTEM,
    OTHER_COORDINATOR,
    NATIONAL_ADMIN,
)
SHEET_EXPECTED = {
    (SheetStatus.DRAFT, "submit"): (SheetStatus.SUBMITTED, {SHEET_MEMBER}),
    (SheetStatus.SUBMITTED, "reopen"): (SheetStatus.DRAFT, {COORDINATOR}),
}
SHEET_MISSING = [
    (status, action)
    for status in SheetStatus
    for action in ("submit", "reopen")
    if (status, action) not in SHEET_EXPECTED
]


def _sheet_people(world):
    board = world["committee"]
    people = dict(world["people"])
    del people[EVALUATOR]
    people[SHEET_MEMBER] = board["members"][-1].user
    people[OTHER_MEMBER] = board["chair"].user
    return people


def _sheet(world, status):
    application = world["application"]
    application.status = A.ADMISSIBLE
    sheet = ScoreSheet(
        member_id=world["committee"]["members"][-1].id,
        application_id=application.id,
        status=status,
        submitted_at=utcnow() if status == SheetStatus.SUBMITTED else None,
    )
    _db.session.add(sheet)
    _db.session.flush()
    return sheet


def _sheet_transition(sheet, action, actor):
    """As the scoring service does it: the submission time and the status reach the database together."""
    before = sheet.submitted_at
    with _db.session.no_autoflush:
        sheet.submitted_at = utcnow() if action == "submit" else None
        try:
            return transition(SHEET_WORKFLOW, sheet, action, actor, reason=REASON)
        except Exception:
            sheet.submitted_at = before
            raise


def test_sheet_table_is_as_specified():
    actual = {
        (status, action): (step.target, set(step.roles))
        for status, steps in SHEET_TRANSITIONS.items()
        for action, step in steps.items()
    }
    assert actual == {
        key: (target, {"member"} if roles == {SHEET_MEMBER} else roles)
        for key, (target, roles) in SHEET_EXPECTED.items()
    }
    assert SHEET_TRANSITIONS[SheetStatus.SUBMITTED]["reopen"].requires_reason


@pytest.mark.parametrize(
    ("status", "action", "role"),
    [(s, a, r) for (s, a) in SHEET_EXPECTED for r in SHEET_ROLES],
    ids=lambda v: _ids(v),
)
def test_sheet_transition(world, status, action, role):
    sheet = _sheet(world, status)
    actor = _sheet_people(world)[role]
    target, allowed = SHEET_EXPECTED[(status, action)]

    assert (SHEET_WORKFLOW.allowed(sheet, action, actor) is not None) == (role in allowed)
    if role not in allowed:
        with pytest.raises(TransitionDenied):
            _sheet_transition(sheet, action, actor)
        assert sheet.status == status
        _assert_nothing_recorded("score_sheet", sheet, 0)
        return

    _sheet_transition(sheet, action, actor)
    assert sheet.status == target
    assert (sheet.submitted_at is not None) == (target == SheetStatus.SUBMITTED)
    scope = {"municipality_id": world["call"].municipality_id}
    _assert_recorded("score_sheet", sheet, action, status, target, actor, scope, 0)


@pytest.mark.parametrize(("status", "action"), SHEET_MISSING, ids=lambda v: _ids(v))
def test_sheet_action_not_in_the_table_is_a_workflow_error_for_everyone(world, status, action):
    sheet = _sheet(world, status)
    for role, actor in _sheet_people(world).items():
        with pytest.raises(WorkflowError):
            _sheet_transition(sheet, action, actor)
        assert sheet.status == status, role
    _assert_nothing_recorded("score_sheet", sheet, 0)


@pytest.mark.parametrize("reason", [None, "   "])
def test_reopening_a_sheet_needs_a_reason(world, reason):
    sheet = _sheet(world, SheetStatus.SUBMITTED)
    with pytest.raises(WorkflowError) as excinfo:
        transition(SHEET_WORKFLOW, sheet, "reopen", world["people"][COORDINATOR], reason=reason)
    assert excinfo.value.field == "reason"
    assert sheet.status == SheetStatus.SUBMITTED


# --- the call: start_evaluation and record_decision ----------------------------------------------------

CALL_EXPECTED = {
    (CallStatus.CLOSED, "start_evaluation"): (CallStatus.EVALUATION, {COORDINATOR}),
    (CallStatus.EVALUATION, "record_decision"): (CallStatus.DECIDED, {COORDINATOR}),
}
CALL_MISSING = [
    (status, action)
    for status in CallStatus
    for action in ("start_evaluation", "record_decision")
    if (status, action) not in CALL_EXPECTED
]


def _set_call_status(call, status):
    call.status = status
    if status == CallStatus.DRAFT:  # a CHECK ties the publication time to the status
        call.published_at = None
    _db.session.flush()


def test_call_table_for_the_evaluation_is_as_specified():
    actual = {
        (status, action): (
            CALL_TRANSITIONS[status][action].target,
            set(CALL_TRANSITIONS[status][action].roles),
        )
        for status, action in CALL_EXPECTED
    }
    assert actual == CALL_EXPECTED
    owners = {
        (s, a)
        for s, steps in CALL_TRANSITIONS.items()
        for a in steps
        if a in ("start_evaluation", "record_decision")
    }
    assert owners == set(CALL_EXPECTED)


@pytest.mark.parametrize(
    ("status", "action", "role"),
    [(s, a, r) for (s, a) in CALL_EXPECTED for r in ROLES],
    ids=lambda v: _ids(v),
)
def test_call_transition(world, status, action, role):
    call = world["call"]
    actor = world["people"][role]
    _set_call_status(call, status)
    events_before = len(_events("call", call.id))
    target, allowed = CALL_EXPECTED[(status, action)]

    assert (CALL_WORKFLOW.allowed(call, action, actor) is not None) == (role in allowed)
    if role not in allowed:
        with pytest.raises(TransitionDenied):
            transition(CALL_WORKFLOW, call, action, actor, reason=REASON)
        assert call.status == status
        _assert_nothing_recorded("call", call, events_before)
        return

    transition(CALL_WORKFLOW, call, action, actor, reason=REASON)
    assert call.status == target
    _assert_recorded(
        "call", call, action, status, target, actor, {"municipality_id": call.municipality_id}, events_before
    )


@pytest.mark.parametrize(("status", "action"), CALL_MISSING, ids=lambda v: _ids(v))
def test_call_action_not_in_the_table_is_a_workflow_error_for_everyone(world, status, action):
    call = world["call"]
    _set_call_status(call, status)
    events_before = len(_events("call", call.id))
    for role in ROLES:
        with pytest.raises(WorkflowError):
            transition(CALL_WORKFLOW, call, action, world["people"][role], reason=REASON)
        assert call.status == status, role
    _assert_nothing_recorded("call", call, events_before)


def test_the_evaluation_path_end_to_end_leaves_a_history(world):
    """One application through check, scoring and decision: each step is one row in its history."""
    people = world["people"]
    application, call = world["application"], world["call"]
    steps = [
        ("request_clarification", people[SECRETARY]),
        ("answer_clarification", people[APPLICANT]),
        ("admit", people[COORDINATOR]),
        ("consolidate", people[COORDINATOR]),
        ("reserve", people[COORDINATOR]),
        ("offer_funding", None),
        ("cancel_funding", people[COORDINATOR]),
    ]
    for action, actor in steps:
        transition(APPLICATION_WORKFLOW, application, action, actor, reason=REASON)
    transition(CALL_WORKFLOW, call, "record_decision", people[COORDINATOR], reason=REASON)
    path = [(c.action, c.to_status) for c in _changes("application", application.id)]
    assert path == [
        ("request_clarification", "clarification_requested"),
        ("answer_clarification", "submitted"),
        ("admit", "admissible"),
        ("consolidate", "scored"),
        ("reserve", "reserve"),
        ("offer_funding", "funded"),
        ("cancel_funding", "not_funded"),
    ]
    assert [c.action for c in _changes("call", call.id)] == ["record_decision"]


@pytest.mark.parametrize(
    "which",
    [
        "application",
        "score_sheet",
        "call",
    ],
)
def test_an_anonymous_visitor_is_denied(world, which):
    """Views call the workflow with current_user; an anonymous one must be a plain "no" (404), not a 500."""
    from flask_login import AnonymousUserMixin

    anonymous = AnonymousUserMixin()
    if which == "application":
        workflow, obj, action = APPLICATION_WORKFLOW, world["application"], "withdraw"
    elif which == "score_sheet":
        workflow, obj, action = SHEET_WORKFLOW, _sheet(world, SheetStatus.SUBMITTED), "reopen"
    else:
        workflow, obj, action = CALL_WORKFLOW, world["call"], "record_decision"
    status = obj.status
    assert available_actions(workflow, obj, anonymous) == []
    with pytest.raises(TransitionDenied):
        transition(workflow, obj, action, anonymous, reason=REASON)
    assert obj.status == status
