"""UTCDateTime stores aware UTC instants only; the audit helper records IP and JSON before/after."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.enums import Role
from portal.core.timeutil import RIGA, riga_instant
from tests.factories import UserFactory


def test_naive_datetime_is_refused(db):
    db.session.add(AuditEvent(action="test.naive", at=datetime(2026, 3, 31, 12, 0)))  # noqa: DTZ001
    with pytest.raises(sa.exc.StatementError) as excinfo:
        db.session.flush()
    assert isinstance(excinfo.value.orig, ValueError)
    db.session.rollback()


def test_aware_datetime_round_trips_as_utc(db):
    riga_deadline = datetime(2026, 3, 31, 23, 59, 59, tzinfo=RIGA)  # summer time: UTC+3
    event = AuditEvent(action="test.aware", at=riga_deadline)
    db.session.add(event)
    db.session.flush()
    event_id = event.id
    db.session.expire_all()

    loaded = db.session.get(AuditEvent, event_id)
    assert loaded.at == riga_deadline
    assert loaded.at.tzinfo is UTC
    assert loaded.at == datetime(2026, 3, 31, 20, 59, 59, tzinfo=UTC)
    assert riga_instant(date(2026, 3, 31)) == loaded.at

    raw = db.session.execute(sa.text("SELECT at FROM audit_events WHERE id = :id"), {"id": event_id}).scalar()
    if db.engine.dialect.name == "sqlite":  # stored as naive UTC text
        assert str(raw).startswith("2026-03-31 20:59:59")
    else:
        assert raw.astimezone(UTC) == loaded.at


def test_record_inside_a_request_keeps_the_client_ip(app, db):
    actor = UserFactory()
    with app.test_request_context("/x", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        event = audit.record("test.ip", actor=actor, obj=actor)
    db.session.flush()
    assert event.ip == "203.0.113.9"
    assert (event.actor_id, event.object_type, event.object_id) == (actor.id, "users", actor.id)


def test_record_outside_a_request_has_no_ip_and_anonymous_actor_is_none(db):
    event = audit.record("test.cli", actor=AnonymousUserMixin(), object_type="x", object_id=1)
    db.session.flush()
    assert event.ip is None
    assert event.actor_id is None


def test_before_and_after_are_json_with_exact_values(db):
    before = {
        "amount": Decimal("4600.00"),
        "day": date(2026, 3, 31),
        "at": datetime(2026, 3, 31, 21, 0, tzinfo=UTC),
        "role": Role.COORDINATOR,
        "title": "Līgums ģķļņšžčūāēī",
        "nested": {"b": 1, "a": [1, 2]},
    }
    event = audit.record("test.json", before=before, after={"status": "signed"}, reason="Lēmums Nr. 5")
    db.session.flush()
    assert json.loads(event.before) == event.before_data()
    assert event.before_data() == {
        "amount": "4600.00",
        "day": "2026-03-31",
        "at": "2026-03-31T21:00:00+00:00",
        "role": "coordinator",
        "title": "Līgums ģķļņšžčūāēī",
        "nested": {"a": [1, 2], "b": 1},
    }
    assert "Līgums" in event.before  # stored readable, not \u-escaped
    assert event.after_data() == {"status": "signed"}
    assert AuditEvent(action="x").before_data() == {}
