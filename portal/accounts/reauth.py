"""Re-authentication for sensitive changes (QUALITY B6).

Changing the e-mail address, two-step login or a bank account (an organisation's, a municipality's
paying account) needs the password, and the TOTP code when the user has one, confirmed within the
last REAUTH_WINDOW. The moment is kept on the server, tied to the server-side session row
(`user_sessions`): the login itself (the row's `created_at`) and every later confirmation (an audit
event "reauthenticated" naming the row) count. Nothing in the cookie can extend it, and a confirmation
ends with the session it was made in.

A change refused for a stale confirmation does not lose what the user typed: the form's fields, minus
the CSRF token, passwords and codes, are kept in the session for STASH_LIFETIME and put back into the
form when the user returns from the confirmation page (`restore_form`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

import sqlalchemy as sa
from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import passwords, services, sessions, totp
from portal.accounts.models import User, UserSession
from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.timeutil import utcnow
from portal.extensions import db

REAUTH_WINDOW = timedelta(minutes=5)
ACTION = "reauthenticated"
STASH_KEY = "reauth_stash"
STASH_LIFETIME = timedelta(minutes=15)
STASH_MAX_CHARS = 3000
# Never kept across the confirmation step: secrets, and the token that belongs to the old form.
_SECRET_MARKERS = ("password", "code", "csrf", "token")

OK, THROTTLED, BAD_PASSWORD, BAD_CODE = "ok", "throttled", "password", "code"


def _session_row(user: User) -> UserSession | None:
    row = g.get("session_row") or sessions.current_session_row()
    if row is None or row.user_id != user.id:
        return None
    return row


def confirmed_at(user: User) -> datetime | None:
    """Return when the user last proved who they are in this session (login or confirmation)."""
    row = _session_row(user)
    if row is None:
        return None
    last = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.at)).where(
            AuditEvent.action == ACTION,
            AuditEvent.object_type == UserSession.__tablename__,
            AuditEvent.object_id == row.id,
            AuditEvent.actor_id == user.id,
            AuditEvent.at >= row.created_at,  # SQLite may reuse the id of a deleted session row
        )
    )
    return max(row.created_at, last) if last is not None else row.created_at


def is_recent(user: User) -> bool:
    """Say whether the user confirmed their password (and code) in this session within REAUTH_WINDOW."""
    moment = confirmed_at(user)
    return moment is not None and utcnow() - moment <= REAUTH_WINDOW


def mark_recent(user: User) -> None:
    """Record a successful confirmation for this session (an audit event, so it is also logged)."""
    row = _session_row(user)
    audit.record(
        ACTION,
        actor=user,
        object_type=UserSession.__tablename__,
        object_id=row.id if row is not None else None,
    )
    db.session.flush()


def confirm_identity(user: User, *, password: str, code: str | None, ip: str) -> str:
    """Check the password (and the TOTP code, if the user has TOTP) to confirm a sensitive change.

    Failures are stored as failed login attempts, so they count toward the login throttle (QUALITY
    A3) and appear in the security log; while throttled nothing is checked. A TOTP code is spent like
    at login (no replay). Returns OK, THROTTLED, BAD_PASSWORD or BAD_CODE; flushes, never commits.
    """
    if services.is_throttled(user.email, ip):
        services.record_login_attempt(
            user.email, ip, success=False, stage=services.STAGE_THROTTLED, reason="reauth"
        )
        return THROTTLED
    if not passwords.verify_password(user.password_hash, password or ""):
        services.record_login_attempt(
            user.email, ip, success=False, stage=services.STAGE_PASSWORD, reason="reauth_invalid_password"
        )
        return BAD_PASSWORD
    if user.has_totp:
        step = totp.matching_step(user.totp_secret, code or "", last_step=user.totp_last_step)
        if step is None:
            services.record_login_attempt(
                user.email, ip, success=False, stage=services.STAGE_TOTP, reason="reauth_invalid_code"
            )
            return BAD_CODE
        user.totp_last_step = step
    services.record_login_attempt(
        user.email, ip, success=True, stage=services.STAGE_PASSWORD, reason="reauth"
    )
    mark_recent(user)
    return OK


def record_failed_password(user: User, ip: str) -> None:
    """Count a wrong current password typed into a form (change password, TOTP) like a failed login."""
    services.record_login_attempt(
        user.email, ip, success=False, stage=services.STAGE_PASSWORD, reason="reauth_invalid_password"
    )


def record_failed_code(user: User, ip: str) -> None:
    services.record_login_attempt(
        user.email, ip, success=False, stage=services.STAGE_TOTP, reason="reauth_invalid_code"
    )


# --- keeping what the user typed across the confirmation -------------------------------------------


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def stash_form() -> None:
    """Keep the posted form's ordinary fields for the page the user will return to."""
    values = {k: v for k, v in request.form.items() if not _is_secret(k)}
    if not values or sum(len(k) + len(v) for k, v in values.items()) > STASH_MAX_CHARS:
        session.pop(STASH_KEY, None)
        return
    session[STASH_KEY] = {"path": request.path, "at": utcnow().timestamp(), "form": values}


def restore_form(form) -> bool:
    """Put the kept values back into `form` on the page they were typed on; return whether it did."""
    data = session.get(STASH_KEY)
    if not isinstance(data, dict) or data.get("path") != request.path:
        return False
    session.pop(STASH_KEY, None)
    try:
        fresh = utcnow().timestamp() - float(data["at"]) <= STASH_LIFETIME.total_seconds()
        values = dict(data["form"])
    except (KeyError, TypeError, ValueError):
        return False
    if not fresh:
        return False
    for name, value in values.items():
        field = form._fields.get(name)
        if field is not None and not _is_secret(name) and isinstance(value, str):
            field.data = value
    return True


# --- the guard ---------------------------------------------------------------------------------------


def confirm_url(next_url: str) -> str:
    return url_for("accounts.reauth_confirm", next=next_url)


def refuse(back: str | None = None):
    """Send the user to the confirmation page, keeping what they typed; they return to `back`."""
    if request.method not in ("GET", "HEAD"):
        stash_form()
        flash(
            _(
                "For your security, confirm your password first. What you typed is kept: "
                "check it and save again."
            ),
            "info",
        )
        target = back or (request.full_path if request.query_string else request.path)
    else:
        flash(_("For your security, confirm your password before you continue."), "info")
        target = request.full_path if request.query_string else request.path
    return redirect(confirm_url(target))


def require_recent_auth(view=None, *, get: bool = False, back: str | None = None):
    """Refuse a changing request (and, with get=True, also showing the page) without a recent
    confirmation (QUALITY B6). Put it under @login_required. `back` is the endpoint to return to
    after confirming when the refused request was a POST to an endpoint without a page of its own."""

    def decorate(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            user = current_user
            checked = user.is_authenticated and (request.method not in ("GET", "HEAD") or get)
            if checked and not is_recent(user._get_current_object()):
                audit.security_event(
                    "reauth_required", user_id=user.id, endpoint=request.endpoint, method=request.method
                )
                return refuse(url_for(back) if back and request.method not in ("GET", "HEAD") else None)
            return func(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
