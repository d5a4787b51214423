"""The audit trail: one helper every service calls (actor, time, object, action, before/after, IP)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db

security_log = logging.getLogger("portal.security")


class AuditEvent(db.Model):
    """One recorded action. Rows are only ever inserted (DESIGN §4, QUALITY F5)."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[int | None] = mapped_column(sa.Integer)
    # Scope, so a coordinator sees only their municipality's events and an organisation its own.
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    before: Mapped[str | None] = mapped_column(sa.Text)
    after: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)

    actor = relationship("User")
    municipality = relationship("Municipality")

    def before_data(self) -> dict:
        return json.loads(self.before) if self.before else {}

    def after_data(self) -> dict:
        return json.loads(self.after) if self.after else {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def _dump(data: dict | None) -> str | None:
    if data is None:
        return None
    return json.dumps(data, default=_jsonable, ensure_ascii=False, sort_keys=True)


def client_ip() -> str | None:
    """Return the client's address for the request being served, if any."""
    if not has_request_context():
        return None
    return request.remote_addr


def record(
    action: str,
    *,
    actor=None,
    obj=None,
    object_type: str | None = None,
    object_id: int | None = None,
    municipality_id: int | None = None,
    organisation_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Write one audit event in the current transaction.

    The event commits or rolls back with the change it describes, so the trail never claims a change
    that did not happen.
    """
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    actor_id = (
        getattr(actor, "id", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    )
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        ip=client_ip(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        municipality_id=municipality_id,
        organisation_id=organisation_id,
        before=_dump(before),
        after=_dump(after),
        reason=reason,
    )
    db.session.add(event)
    return event


def security_event(message: str, **fields: Any) -> None:
    """Log a security-relevant event (denied access, throttled login) without secrets or CR/LF."""
    safe = {k: str(v).replace("\r", "\\r").replace("\n", "\\n") for k, v in fields.items()}
    security_log.warning("%s %s", message, " ".join(f"{k}={v}" for k, v in sorted(safe.items())))
