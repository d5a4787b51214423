"""Small helpers for the account tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import sqlalchemy as sa

from portal.accounts.models import LoginAttempt, User
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.extensions import db
from tests.factories import PASSWORD, TOTP_SECRET
from tests.helpers import csrf_token

# A fixed instant in the middle of a 30-second TOTP step, so codes are predictable.
T0 = datetime(2026, 5, 4, 9, 0, 15, tzinfo=UTC)
COOKIE = "__Host-session"


def post(client, path, data=None, *, token_from=None, **kwargs):
    """POST a form with a valid CSRF token taken from `token_from` (default: the login page)."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_from or "/account/login"))
    return client.post(path, data=data, **kwargs)


def password_step(client, user_or_email, password=PASSWORD, **kwargs):
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return post(client, "/account/login", {"email": email, "password": password}, **kwargs)


def code_at(step_offset: int = 0, *, when: datetime | None = None, secret: str = TOTP_SECRET) -> str:
    """The TOTP code for the step `step_offset` steps away from `when` (default: now)."""
    moment = (when or datetime.now(UTC)).timestamp()
    return pyotp.TOTP(secret).at(int(moment // 30 + step_offset) * 30)


def totp_step(client, code, *, token_from="/account/login/totp", **kwargs):  # noqa: S107
    return post(client, "/account/login/totp", {"code": code}, token_from=token_from, **kwargs)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def is_logged_in(client) -> bool:
    response = client.get("/account/")
    return response.status_code == 200


def attempts(email: str | None = None) -> list[LoginAttempt]:
    query = sa.select(LoginAttempt).order_by(LoginAttempt.id)
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    return list(db.session.scalars(query))


def audit_actions(user: User | None = None) -> list[str]:
    query = sa.select(AuditEvent.action).order_by(AuditEvent.id)
    if user is not None:
        query = query.where(AuditEvent.object_type == "users", AuditEvent.object_id == user.id)
    return list(db.session.scalars(query))


def outbox_for(recipient: str, template: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


_LINK = re.compile(r"https://localhost(/account/[^\s\"<]+)")


def link_in(message: OutboxMessage) -> str:
    """The path of the first portal link in an e-mail."""
    match = _LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1)
