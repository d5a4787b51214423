"""The e-mail outbox page: counts, queued and dead messages, retry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEvent
from portal.core.mail import DEAD, QUEUED, SENT, OutboxMessage, queue_email
from portal.core.timeutil import utcnow
from tests.factories import coordinator, national_admin
from tests.helpers import csrf_token


def _message(db, status=QUEUED, *, recipient="saņēmējs@example.lv", attempts=0, error=None) -> OutboxMessage:
    message = queue_email(
        recipient, "admin_workflow_example", title="Līgums", status="x", amount=Decimal("1")
    )
    message.status = status
    message.attempts = attempts
    message.last_error = error
    message.next_attempt_at = utcnow() + timedelta(hours=1)
    if status == SENT:
        message.sent_at = utcnow()
    db.session.flush()
    db.session.info.clear()  # nothing is sent by the after-request hook unless the test says so
    return message


@pytest.fixture()
def admin(db):
    return national_admin(locale="en")  # the assertions read English text


def test_only_national_admins_see_the_outbox(client, login_as, db):
    message = _message(db, DEAD, attempts=6)
    login_as(coordinator())
    assert client.get("/admin/outbox").status_code == 404
    token = csrf_token(client, "/admin/audit")
    response = client.post(f"/admin/outbox/{message.id}/retry", data={"csrf_token": token})
    assert response.status_code == 404
    assert message.status == DEAD


def test_counts_lists_and_banner(client, login_as, admin, db):
    queued = _message(db, QUEUED, recipient="gaida@example.lv", attempts=2, error="SMTPDataError: 451")
    dead = _message(db, DEAD, recipient="miris@example.lv", attempts=6, error="SMTPRecipientsRefused: 550")
    _message(db, SENT)
    login_as(admin)
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "1 message could not be delivered" in html
    assert 'role="alert"' in html
    assert "gaida@example.lv" in html and "SMTPDataError: 451" in html
    assert "miris@example.lv" in html and "SMTPRecipientsRefused: 550" in html
    assert f'action="/admin/outbox/{dead.id}/retry"' in html
    assert f'action="/admin/outbox/{queued.id}/retry"' not in html


def test_no_banner_without_dead_messages(client, login_as, admin, db):
    _message(db, QUEUED)
    login_as(admin)
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "could not be delivered" not in html
    assert '/retry"' not in html


def test_retry_requeues_audits_and_sends(client, login_as, admin, db, outbox):
    dead = _message(db, DEAD, recipient="miris@example.lv", attempts=6, error="boom")
    login_as(admin)
    token = csrf_token(client, "/admin/outbox")
    response = client.post(f"/admin/outbox/{dead.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(dead)
    # Queued again and, after the commit, sent by the after-request hook.
    assert dead.status == SENT
    assert dead.attempts == 1
    assert [m.recipients for m in outbox] == [["miris@example.lv"]]
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "mail_retried")).one()
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "outbox_messages", dead.id)
    assert event.before_data()["status"] == DEAD
    assert event.after_data() == {"status": QUEUED, "attempts": 0}


def test_retry_needs_csrf(client, login_as, admin, db):
    dead = _message(db, DEAD, attempts=6)
    login_as(admin)
    assert client.post(f"/admin/outbox/{dead.id}/retry").status_code == 400
    db.session.refresh(dead)
    assert dead.status == DEAD


def test_retry_of_a_message_that_is_not_dead_changes_nothing(client, login_as, admin, db):
    queued = _message(db, QUEUED, attempts=2)
    login_as(admin)
    token = csrf_token(client, "/admin/outbox")
    response = client.post(
        f"/admin/outbox/{queued.id}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "not waiting for a retry" in response.get_data(as_text=True)
    db.session.refresh(queued)
    assert (queued.status, queued.attempts) == (QUEUED, 2)
    assert client.post("/admin/outbox/999999/retry", data={"csrf_token": token}).status_code == 404
