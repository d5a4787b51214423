"""The workflow scaffold (STYLE "Workflow"): a toy workflow, every (status, action, role) combination."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage, queue_email
from portal.core.workflow import (
    StatusChange,
    Transition,
    TransitionDenied,
    Workflow,
    WorkflowError,
    available_actions,
    history,
    transition,
)
from tests.factories import UserFactory


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"


AUTHOR, REVIEWER, STRANGER = "author", "reviewer", "stranger"
ROLES = (AUTHOR, REVIEWER, STRANGER)
ACTIONS = ("submit", "approve", "return")

TRANSITIONS = {
    Status.DRAFT: {"submit": Transition(Status.SUBMITTED, frozenset({AUTHOR}), "Submit")},
    Status.SUBMITTED: {
        "approve": Transition(Status.APPROVED, frozenset({REVIEWER}), "Approve"),
        "return": Transition(Status.DRAFT, frozenset({REVIEWER}), "Return", requires_reason=True),
    },
    Status.APPROVED: {},
}

OBJECT_ID = 4242


@dataclass
class Thing:
    """Any object with an id and a status will do."""

    id: int
    status: Status
    title: str
    people: dict  # role -> user


def _title_needed(obj, action, actor):
    if not obj.title.strip():
        raise WorkflowError("A title is needed.", field="title")


def _notify(obj, action, from_status, actor, reason):
    author = obj.people[AUTHOR]
    queue_email(
        author.email,
        "admin_workflow_example",
        locale=author.locale,
        title=obj.title,
        status=obj.status.value,
        amount=Decimal("4600.00"),
        reason=reason,
    )


TOY = Workflow(
    name="toy",
    status_enum=Status,
    transitions=TRANSITIONS,
    roles_for=lambda obj, actor: {role for role, user in obj.people.items() if user.id == actor.id},
    guards={"submit": [_title_needed]},
    notify=_notify,
)


@pytest.fixture()
def people(db):
    return {role: UserFactory() for role in ROLES}


def _thing(people, status=Status.DRAFT, title="Jauniešu nometne") -> Thing:
    return Thing(id=OBJECT_ID, status=status, title=title, people=people)


def _counts(db) -> tuple[int, int, int]:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(StatusChange).where(StatusChange.object_id == OBJECT_ID)
        ),
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "toy")
        ),
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "admin_workflow_example")
        ),
    )


def _expected(status: Status, action: str, role: str) -> Transition | None:
    step = TRANSITIONS[status].get(action)
    return step if step is not None and role in step.roles else None


@pytest.mark.parametrize(("status", "action", "role"), list(itertools.product(Status, ACTIONS, ROLES)))
def test_every_status_action_role_combination(db, people, status, action, role):
    thing = _thing(people, status)
    actor = people[role]
    step = _expected(status, action, role)
    assert (TOY.allowed(thing, action, actor) is not None) == (step is not None)

    if step is None:
        expected_error = WorkflowError if action not in TRANSITIONS[status] else TransitionDenied
        with pytest.raises(expected_error):
            transition(TOY, thing, action, actor, reason="Jo tā")
        assert thing.status == status
        assert _counts(db) == (0, 0, 0)
        return

    change = transition(TOY, thing, action, actor, reason="  Jo tā  ", scope={"municipality_id": None})
    assert thing.status == step.target
    assert _counts(db) == (1, 1, 1)
    assert (change.object_type, change.object_id, change.action) == ("toy", OBJECT_ID, action)
    assert (change.from_status, change.to_status) == (status.value, step.target.value)
    assert change.actor_id == actor.id
    assert change.reason == "Jo tā"  # stripped
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "toy")).one()
    assert event.action == f"toy.{action}"
    assert event.actor_id == actor.id
    assert event.object_id == OBJECT_ID
    assert event.before_data() == {"status": status.value}
    assert event.after_data() == {"status": step.target.value}
    notice = db.session.scalars(sa.select(OutboxMessage)).one()
    assert notice.recipient == people[AUTHOR].email
    assert "Jauniešu nometne" in notice.subject


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_requires_reason(db, people, reason):
    thing = _thing(people, Status.SUBMITTED)
    with pytest.raises(WorkflowError) as excinfo:
        transition(TOY, thing, "return", people[REVIEWER], reason=reason)
    assert excinfo.value.field == "reason"
    assert thing.status == Status.SUBMITTED
    assert _counts(db) == (0, 0, 0)


def test_guard_refusal_changes_nothing(db, people):
    thing = _thing(people, title="  ")
    with pytest.raises(WorkflowError) as excinfo:
        transition(TOY, thing, "submit", people[AUTHOR])
    assert excinfo.value.field == "title"
    assert thing.status == Status.DRAFT
    assert _counts(db) == (0, 0, 0)


@pytest.mark.parametrize(("status", "role"), list(itertools.product(Status, ROLES)))
def test_available_actions_match_the_table(db, people, status, role):
    thing = _thing(people, status)
    offered = [action for action, _step in available_actions(TOY, thing, people[role])]
    assert offered == [a for a, t in TRANSITIONS[status].items() if role in t.roles]


def test_status_given_as_plain_string_is_understood(db, people):
    thing = _thing(people)
    thing.status = "draft"
    transition(TOY, thing, "submit", people[AUTHOR])
    assert thing.status == Status.SUBMITTED


def test_history_lists_changes_oldest_first(db, people):
    thing = _thing(people)
    transition(TOY, thing, "submit", people[AUTHOR])
    transition(TOY, thing, "return", people[REVIEWER], reason="Jāprecizē budžets")
    transition(TOY, thing, "submit", people[AUTHOR])
    steps = [(c.action, c.from_status, c.to_status) for c in history(TOY, thing)]
    assert steps == [
        ("submit", "draft", "submitted"),
        ("return", "submitted", "draft"),
        ("submit", "draft", "submitted"),
    ]
