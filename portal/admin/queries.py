"""Read-side queries of the administration pages, shared by the HTML pages and the CSV export.

Every list loads its related rows in the same statement (or one extra per relationship), so the
number of SQL statements does not grow with the number of rows shown.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from portal.accounts.models import Membership, User
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.timeutil import riga_instant
from portal.extensions import db

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters; dates are Riga calendar days, both ends included."""

    date_from: date | None = None
    date_to: date | None = None
    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the filters that are set, for the export's own audit event."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}


def _scoped(query: sa.Select, scope: set[int] | None) -> sa.Select:
    if scope is None:
        return query
    return query.where(AuditEvent.municipality_id.in_(sorted(scope)))


_Actor = aliased(User, name="actor")


def _filtered(query: sa.Select, scope: set[int] | None, filters: AuditFilters) -> sa.Select:
    query = _scoped(query, scope)
    if filters.date_from:
        query = query.where(AuditEvent.at >= riga_instant(filters.date_from, time(0, 0)))
    if filters.date_to:
        query = query.where(AuditEvent.at < riga_instant(filters.date_to + timedelta(days=1), time(0, 0)))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(
            sa.func.lower(_Actor.email).contains(filters.actor.strip().lower(), autoescape=True)
        )
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditEvent.object_id == filters.object_id)
    return query


def events_query(scope: set[int] | None, filters: AuditFilters) -> sa.Select:
    """Return the filtered events, newest first, with actor and municipality loaded in the same query."""
    query = (
        sa.select(AuditEvent)
        .outerjoin(_Actor, AuditEvent.actor_id == _Actor.id)
        .options(contains_eager(AuditEvent.actor.of_type(_Actor)), joinedload(AuditEvent.municipality))
    )
    return _filtered(query, scope, filters).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def count_events(scope: set[int] | None, filters: AuditFilters) -> int:
    query = sa.select(sa.func.count(AuditEvent.id)).select_from(AuditEvent)
    query = query.outerjoin(_Actor, AuditEvent.actor_id == _Actor.id)
    return db.session.scalar(_filtered(query, scope, filters)) or 0


def event_page(scope: set[int] | None, filters: AuditFilters, page: int) -> list[AuditEvent]:
    query = events_query(scope, filters).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    return list(db.session.scalars(query))


def distinct_values(column, scope: set[int] | None) -> list[str]:
    """Return the distinct non-empty values of an audit column within the scope (for the filter selects)."""
    query = _scoped(sa.select(column).where(column.is_not(None)).distinct().order_by(column), scope)
    return list(db.session.scalars(query))


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """Return (key, before, after) rows for the event's small before/after table."""
    before, after = event.before_data(), event.after_data()
    keys = list(before) + [k for k in after if k not in before]
    return [(key, _display(before.get(key)), _display(after.get(key))) for key in keys]


def pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


# --- outbox ---------------------------------------------------------------------------------------


def outbox_counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    return {status: count for status, count in rows}


def outbox_list(status: str, *, limit: int = 100) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.status == status)
    if status == "queued":
        query = query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    else:
        query = query.order_by(OutboxMessage.id.desc())
    return list(db.session.scalars(query.limit(limit)))


# --- users ----------------------------------------------------------------------------------------


def _user_search(q: str | None) -> sa.Select:
    query = sa.select(User)
    q = (q or "").strip().lower()
    if q:
        query = query.where(
            sa.or_(
                sa.func.lower(User.email).contains(q, autoescape=True),
                sa.func.lower(User.full_name).contains(q, autoescape=True),
            )
        )
    return query


def count_users(q: str | None) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(_user_search(q).subquery())) or 0


def memberships_with_scopes():
    """Load option: a user's memberships with their municipality and organisation, in one statement."""
    return selectinload(User.memberships).options(
        joinedload(Membership.municipality), joinedload(Membership.organisation)
    )


def user_page(q: str | None, page: int) -> list[User]:
    """Return one page of users with their memberships and scopes (one extra statement in all)."""
    query = (
        _user_search(q)
        .options(memberships_with_scopes())
        .order_by(User.email)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return list(db.session.scalars(query))


def user_events(user: User, *, limit: int = 20) -> list[AuditEvent]:
    """Return the latest audit events about the user, with their actors."""
    query = events_query(None, AuditFilters(object_type=User.__tablename__, object_id=user.id)).limit(limit)
    return list(db.session.scalars(query))
