"""`flask accounts create-admin` and `flask mail send-queued` through the real CLI runner."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import User
from portal.accounts.passwords import verify_password
from portal.accounts.permissions import must_enrol_totp
from portal.core.audit import AuditEvent
from portal.core.enums import Role
from portal.core.mail import SENT, OutboxMessage, queue_email
from tests.factories import UserFactory

GOOD_PASSWORD = "zaļš ābols uz galda 42"


def _create_admin(app, *args, password_input):
    return app.test_cli_runner().invoke(args=["accounts", "create-admin", *args], input=password_input)


def test_create_admin_makes_a_confirmed_national_admin_without_totp(app, db):
    result = _create_admin(
        app,
        "--email",
        " Admin@Example.LV ",
        "--name",
        "Anna Bērziņa",
        password_input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "admin@example.lv" in result.output
    assert GOOD_PASSWORD not in result.output  # the prompt hides the input
    user = db.session.scalars(sa.select(User).where(User.email == "admin@example.lv")).one()
    assert user.full_name == "Anna Bērziņa"
    assert user.is_confirmed
    assert user.roles() == {Role.NATIONAL_ADMIN}
    assert not user.has_totp
    assert must_enrol_totp(user)  # TOTP is enrolled at the first login
    assert verify_password(user.password_hash, GOOD_PASSWORD)
    assert user.password_hash.startswith("$argon2id$")
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "admin_created")).one()
    assert (event.object_id, event.actor_id) == (user.id, None)


def test_create_admin_asks_again_when_the_confirmation_differs(app, db):
    result = _create_admin(
        app,
        "--email",
        "second@example.lv",
        "--name",
        "B",
        password_input=f"{GOOD_PASSWORD}\nsomething else\n{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


def test_create_admin_refuses_an_existing_email_with_status_2(app, db):
    existing = UserFactory(email="taken@example.lv")
    db.session.commit()  # the CLI shares the test's session (one app context) and rolls back on error
    result = _create_admin(
        app,
        "--email",
        "TAKEN@example.lv",
        "--name",
        "X",
        password_input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 2
    assert "Error (email)" in result.stderr
    assert existing.roles() == set()
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(sa.func.lower(User.email) == "taken@example.lv"))
        == 1
    )


def test_create_admin_applies_the_password_policy(app, db):
    result = _create_admin(
        app, "--email", "new@example.lv", "--name", "X", password_input="password1\npassword1\n"
    )
    assert result.exit_code == 2
    assert "Error (password)" in result.stderr
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.lv")) is None


def test_create_admin_requires_email_and_name(app, db):
    result = app.test_cli_runner().invoke(args=["accounts", "create-admin", "--name", "X"])
    assert result.exit_code == 2
    assert "--email" in result.output


def test_mail_send_queued_sends_due_messages(app, db, outbox):
    user = UserFactory()
    queue_email(user.email, "admin_workflow_example", title="CLI", status="x", amount=Decimal("1"))
    db.session.commit()
    db.session.info.clear()  # not sent by an after-request hook: this is the cron job's work
    result = app.test_cli_runner().invoke(args=["mail", "send-queued", "--limit", "10"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 1"
    assert [m.recipients for m in outbox] == [[user.email]]
    assert db.session.scalars(sa.select(OutboxMessage.status)).all() == [SENT]

    again = app.test_cli_runner().invoke(args=["mail", "send-queued"])
    assert again.output.strip() == "sent 0"
    assert len(outbox) == 1
