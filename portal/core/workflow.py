"""The one path for state (DESIGN §4, STYLE "Workflow").

A stateful domain declares a `Workflow`: its status enum and a plain table
`TRANSITIONS[status][action] = Transition(target, roles, label)`. `transition()` is the single entry
point that changes a status: it checks the table, the actor's role on *this* object, the domain's
rule checks, then sets the status, writes a `StatusChange` row and an audit event, and queues the
e-mails the domain's notifier asks for. `available_actions()` tells views which buttons to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import audit
from portal.core.db import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db


class WorkflowError(Exception):
    """The action is not possible from the object's current status, or a rule forbids it (HTTP 409)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class TransitionDenied(Exception):
    """The actor may not perform this action on this object (HTTP 403 or 404)."""


@dataclass(frozen=True)
class Transition:
    target: StrEnum
    roles: frozenset[str]
    label: Any  # a lazy translated string
    requires_reason: bool = False


# (obj, actor) -> set of role names the actor holds *on this object*
RolesFor = Callable[[Any, Any], set[str]]
# (obj, action, actor) -> None or raise WorkflowError
Guard = Callable[[Any, str, Any], None]
# (obj, action, from_status, actor, reason) -> None (queues e-mails)
Notifier = Callable[[Any, str, StrEnum, Any, str | None], None]


@dataclass
class Workflow:
    name: str
    status_enum: type[StrEnum]
    transitions: dict[StrEnum, dict[str, Transition]]
    roles_for: RolesFor
    guards: dict[str, list[Guard]] = field(default_factory=dict)
    notify: Notifier | None = None
    # obj -> {"municipality_id": ..., "organisation_id": ...}: the audit event's scope
    scope_for: Callable[[Any], dict[str, int | None]] | None = None
    status_attr: str = "status"

    def allowed(self, obj: Any, action: str, actor: Any) -> Transition | None:
        """Return the transition if the table allows the actor to perform the action now."""
        current = self.status_enum(getattr(obj, self.status_attr))
        step = self.transitions.get(current, {}).get(action)
        if step is None:
            return None
        if not (self.roles_for(obj, actor) & step.roles):
            return None
        return step


class StatusChange(db.Model):
    """The history of every status change of every stateful object."""

    __tablename__ = "status_changes"
    __table_args__ = (sa.Index("ix_status_changes_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str] = mapped_column(sa.String(40))
    to_status: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str | None] = mapped_column(sa.Text)


def transition(
    workflow: Workflow,
    obj: Any,
    action: str,
    actor: Any,
    reason: str | None = None,
    *,
    scope: dict[str, int | None] | None = None,
) -> StatusChange:
    """Perform `action` on `obj` as `actor`: check, change, record, notify.

    Raises TransitionDenied when the actor holds no role on the object that the table names, and
    WorkflowError when the action is not possible from the current status or a rule forbids it.
    """
    current = workflow.status_enum(getattr(obj, workflow.status_attr))
    step = workflow.transitions.get(current, {}).get(action)
    if step is None:
        # Shown to the user on the 409 page, so translated; the log line keeps the technical detail.
        raise WorkflowError(_("This action is not possible in the current status."))
    if not (workflow.roles_for(obj, actor) & step.roles):
        raise TransitionDenied(f"{workflow.name}: '{action}' from '{current.value}' denied")
    reason = reason.strip() if reason else None
    if step.requires_reason and not reason:
        raise WorkflowError(_("Give a reason."), field="reason")
    for guard in workflow.guards.get(action, []):
        guard(obj, action, actor)

    setattr(obj, workflow.status_attr, step.target)
    change = StatusChange(
        object_type=workflow.name,
        object_id=obj.id,
        action=action,
        from_status=current.value,
        to_status=step.target.value,
        actor_id=getattr(actor, "id", None),
        reason=reason,
    )
    db.session.add(change)
    audit.record(
        f"{workflow.name}.{action}",
        actor=actor,
        object_type=workflow.name,
        object_id=obj.id,
        before={"status": current.value},
        after={"status": step.target.value},
        reason=reason,
        **(scope or (workflow.scope_for(obj) if workflow.scope_for else {})),
    )
    if workflow.notify is not None:
        workflow.notify(obj, action, current, actor, reason)
    db.session.flush()
    return change


def available_actions(workflow: Workflow, obj: Any, actor: Any) -> list[tuple[str, Transition]]:
    """Return the actions the actor may take on the object now, in table order (for buttons)."""
    current = workflow.status_enum(getattr(obj, workflow.status_attr))
    roles = workflow.roles_for(obj, actor)
    return [(a, t) for a, t in workflow.transitions.get(current, {}).items() if roles & t.roles]


def history(workflow: Workflow, obj: Any) -> Iterable[StatusChange]:
    """Return the object's status changes, oldest first."""
    return db.session.scalars(
        sa.select(StatusChange)
        .where(StatusChange.object_type == workflow.name, StatusChange.object_id == obj.id)
        .order_by(StatusChange.at, StatusChange.id)
    )
