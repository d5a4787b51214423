"""The outbox against a real SMTP server on loopback (QUALITY H5)."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import Membership, User
from portal.admin.services import grant_role
from portal.core.enums import Role
from portal.core.mail import DEAD, QUEUED, SENT, OutboxMessage, queue_email, send_committed, send_queued
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.factories import UserFactory, municipality, national_admin
from tests.smtp import smtp_server

pytestmark = pytest.mark.smtp


def _messages(**where) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return list(db.session.scalars(query))


def _only_active_users(*users) -> None:
    """Disable every other account inside this test's transaction (rows other tests left behind)."""
    db.session.execute(sa.update(User).where(User.id.not_in([u.id for u in users])).values(is_disabled=True))


def _retry_time(message: OutboxMessage):
    """Return an instant just past the message's back-off."""
    return message.next_attempt_at + timedelta(seconds=1)


def test_flask_mail_settings_are_read_at_send_time(app, db):
    """Flask-Mail copies MAIL_* at init_app; the outbox must follow the config as it is when sending."""
    user = UserFactory()
    with smtp_server(app) as server:
        queue_email(user.email, "admin_workflow_example", title="A", status="x", amount=Decimal("1.00"))
        db.session.commit()
        assert send_committed() == 1
    assert len(server.messages) == 1
    assert server.envelopes[0].rcpt_tos == [user.email]
    assert server.envelopes[0].mail_from == app.config["MAIL_DEFAULT_SENDER"]


def test_refused_three_times_then_delivered_exactly_once(app, db):
    admin = national_admin()
    user = UserFactory(locale="lv")
    with smtp_server(app, refuse_first=3) as server:
        grant_role(user, Role.EVALUATOR, actor=admin, municipality=municipality())
        db.session.commit()  # the business transaction

        assert send_committed() == 0  # first attempt, right after the commit: 451
        [message] = _messages(recipient=user.email)
        assert (message.status, message.attempts) == (QUEUED, 1)
        assert "451" in message.last_error
        # The refusal did not undo the change the message is about.
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Membership).where(Membership.user_id == user.id)
            )
            == 1
        )

        # Not due yet: the back-off holds it back.
        assert send_queued(now=utcnow()) == 0
        assert message.attempts == 1

        for attempt in (2, 3):
            assert send_queued(now=_retry_time(message)) == 0
            assert (message.status, message.attempts) == (QUEUED, attempt)
        # Back-off grows: the next attempt is further away each time.
        assert message.next_attempt_at - utcnow() > timedelta(
            seconds=2 * app.config["MAIL_RETRY_BASE_SECONDS"]
        )

        assert send_queued(now=_retry_time(message)) == 1
        assert (message.status, message.attempts, message.last_error) == (SENT, 4, None)
        assert message.sent_at is not None

        # Later runs never send it again.
        assert send_queued(now=utcnow() + timedelta(days=30)) == 0

    assert server.attempts == 4
    assert len(server.messages) == 1
    assert server.envelopes[0].rcpt_tos == [user.email]


def test_dead_letter_after_max_attempts_alerts_every_administrator(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    admin_lv = national_admin(locale="lv")
    admin_en = national_admin(locale="en")
    user = UserFactory()
    _only_active_users(admin_lv, admin_en, user)
    national_admin(disabled=True)  # a disabled administrator is not alerted
    with smtp_server(app, refuse_first=3) as server:
        queue_email(user.email, "admin_workflow_example", title="Pieteikums", status="x", amount=Decimal("1"))
        db.session.commit()
        send_committed()
        [message] = _messages(recipient=user.email)
        send_queued(now=_retry_time(message))
        assert message.status == QUEUED
        # The third failure dead-letters it; the alerts go out in the same run (the server accepts them).
        sent = send_queued(now=_retry_time(message))
        assert message.status == DEAD
        assert message.attempts == 3

        alerts = _messages(template="admin_mail_dead")
        assert sorted((a.recipient, a.locale) for a in alerts) == sorted(
            [(admin_lv.email, "lv"), (admin_en.email, "en")]
        )
        assert sent == 2
        assert all(a.status == SENT for a in alerts)
        assert all(str(message.id) in a.subject for a in alerts)
        assert all(user.email in a.body_text for a in alerts)
        # The original message was never delivered.
        assert [m["To"] for m in server.messages] == [a.recipient for a in alerts]


def test_an_alert_about_an_alert_is_never_queued(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    admin = national_admin()
    user = UserFactory()
    _only_active_users(admin, user)
    with smtp_server(app) as server:
        server.refuse_always()
        queue_email(user.email, "admin_workflow_example", title="X", status="x", amount=Decimal("1"))
        db.session.commit()
        now = utcnow()
        for _ in range(10):  # far more runs than attempts: the alerts themselves die, and nothing follows
            now += timedelta(days=1)
            send_queued(now=now)
    alerts = _messages(template="admin_mail_dead")
    assert [a.recipient for a in alerts] == [admin.email]
    assert alerts[0].status == DEAD
    assert [m.status for m in _messages()] == [DEAD, DEAD]
    assert server.messages == []


def test_rolled_back_business_transaction_leaves_no_outbox_rows_and_sends_nothing(app, db):
    admin = national_admin()
    user = UserFactory()
    db.session.commit()
    with smtp_server(app) as server:
        grant_role(user, Role.COORDINATOR, actor=admin, municipality=municipality())
        assert len(_messages()) == 1  # written in the transaction...
        db.session.rollback()  # ...which fails
        assert _messages() == []
        assert not user.has_role(Role.COORDINATOR)
        assert send_committed() == 0
        assert send_queued(now=utcnow() + timedelta(days=1)) == 0
    assert server.attempts == 0


def test_rolled_back_savepoint_does_not_lose_the_outer_transactions_mail(app, db):
    user = UserFactory()
    with smtp_server(app) as server:
        queue_email(user.email, "admin_workflow_example", title="kept", status="x", amount=Decimal("1"))
        nested = db.session.begin_nested()
        queue_email(user.email, "admin_workflow_example", title="dropped", status="x", amount=Decimal("1"))
        nested.rollback()
        db.session.commit()
        assert send_committed() == 1
    assert len(server.messages) == 1
    assert "kept" in server.messages[0]["Subject"]


def test_two_senders_send_each_due_message_once(app, db):
    users = UserFactory.create_batch(3)
    with smtp_server(app) as server:
        for user in users:
            queue_email(user.email, "admin_workflow_example", title="T", status="x", amount=Decimal("1"))
        db.session.commit()
        db.session.info.clear()  # leave them to the cron senders, not to the after-request hook
        # Two runs over the same due messages (on SQLite they run one after the other; on PostgreSQL
        # the second would skip the rows the first holds with FOR UPDATE SKIP LOCKED).
        first = send_queued()
        second = send_queued()
    assert (first, second) == (3, 0)
    assert sorted(m["To"] for m in server.messages) == sorted(u.email for u in users)


def test_message_is_rendered_in_the_recipients_language_and_utf8_survives(app, db):
    lv = UserFactory(locale="lv")
    en = UserFactory(locale="en")
    title = "Līgums ģķļņšžčūāēī"
    with smtp_server(app) as server:
        for user in (lv, en):
            queue_email(
                user.email,
                "admin_workflow_example",
                locale=user.locale,
                title=title,
                status="ā ē ū",
                amount=Decimal("4600.00"),
            )
        db.session.commit()
        assert send_committed() == 2
    by_recipient = {m["To"]: m for m in server.messages}
    lv_mail, en_mail = by_recipient[lv.email], by_recipient[en.email]
    for received in (lv_mail, en_mail):
        assert title in received["Subject"]  # RFC 2047-encoded on the wire, decoded intact
        assert "ā ē ū" in received.get_body(("plain",)).get_content()
    assert "4\xa0600,00\xa0€" in lv_mail.get_body(("plain",)).get_content()
    assert "€4,600.00" in en_mail.get_body(("plain",)).get_content()
    stored = {m.recipient: m.locale for m in _messages()}
    assert stored == {lv.email: "lv", en.email: "en"}


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="SKIP LOCKED row locks need PostgreSQL (scripts/with-postgres); SQLite senders are sequential",
)
def test_concurrent_senders_on_postgresql_never_send_a_message_twice(app):
    """Two senders in two threads, each with its own connection, over the same committed messages."""
    with app.app_context():  # a fresh session outside the test's rolled-back transaction
        messages = [
            OutboxMessage(
                recipient=f"vienlaicigi{i}@example.lv", subject="s", body_text="b", locale="lv", template="t"
            )
            for i in range(6)
        ]
        db.session.add_all(messages)
        db.session.commit()
        ids = [m.id for m in messages]
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sender():
        try:
            with app.app_context():
                barrier.wait()
                results.append(send_queued(ids=ids))
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    try:
        with smtp_server(app, delay=0.2) as server:
            threads = [threading.Thread(target=sender) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert not errors, errors
        assert sum(results) == 6
        assert all(r > 0 for r in results), results  # both worked, side by side
        assert sorted(m["To"] for m in server.messages) == sorted(
            f"vienlaicigi{i}@example.lv" for i in range(6)
        )
    finally:
        with app.app_context():
            db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            db.session.commit()


def test_a_subject_quoting_a_long_title_is_shortened_not_refused(app, db):
    """A 300-character title quoted in a subject must still fit the subject column (found by the E3
    probe on PostgreSQL, which enforces VARCHAR lengths)."""
    message = queue_email(
        "gars@example.lv", "admin_workflow_example", locale="en", title="Ā" * 300, status="x", amount=1
    )
    db.session.flush()
    assert len(message.subject) == 300 and message.subject.endswith("…")
    assert message.subject.startswith("Status changed: ĀĀĀ")
