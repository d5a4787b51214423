"""Account use cases: registration, confirmation, login checks, TOTP, passwords, kill switches.

Every function flushes, writes the audit trail and queues e-mail; none commits. Functions that take a
client IP get it from the view, so they run the same from the CLI and from tests.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from portal.accounts import passwords, sessions, totp
from portal.accounts.models import AccountToken, LoginAttempt, User, UserSession
from portal.core import audit
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.extensions import db

CONFIRM, RESET, EMAIL_CHANGE = "confirm", "reset", "email_change"
# A link that moves an account to a new e-mail address works once, for at most an hour (QUALITY B6).
EMAIL_CHANGE_LIFETIME = timedelta(minutes=60)
# A new confirmation link is sent at most this often for one account (no mail-bombing by resend).
RESEND_INTERVAL = timedelta(minutes=5)
STAGE_PASSWORD, STAGE_TOTP, STAGE_THROTTLED = "password", "totp", "throttled"


# --- tokens and links -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(user: User, purpose: str, lifetime: timedelta, token: str | None = None) -> str:
    """Store a single-use token (a random one unless given); only its SHA-256 is stored."""
    token = token or secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            token_hash=_token_hash(token),
            purpose=purpose,
            user_id=user.id,
            created_at=utcnow(),
            expires_at=utcnow() + lifetime,
        )
    )
    db.session.flush()
    return token


def find_token(token: str, purpose: str, *, usable_only: bool = True) -> AccountToken | None:
    """Return the token row for a link, or None if it is unknown (or used or expired when usable_only)."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == _token_hash(token), AccountToken.purpose == purpose
        )
    )
    if row is None:
        return None
    if usable_only and (row.used_at is not None or row.expires_at <= utcnow()):
        return None
    return row


def external_url(endpoint: str, **values) -> str:
    """Build an absolute link for an e-mail from PUBLIC_BASE_URL, never from the request's Host header."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def find_user_by_email(email: str) -> User | None:
    email = (email or "").strip().lower()
    if not email:
        return None
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))


# --- registration and confirmation -------------------------------------------------------------


def _queue_confirmation(user: User, next_url: str | None) -> None:
    token = _new_token(user, CONFIRM, current_app.config["TOKEN_LIFETIME_CONFIRM"])
    values = {"token": token}
    if next_url:
        values["next"] = next_url
    queue_email(
        user.email,
        "account_confirm",
        locale=user.locale,
        user=user,
        link=external_url("accounts.confirm_email", **values),
        lifetime_hours=int(current_app.config["TOKEN_LIFETIME_CONFIRM"].total_seconds() // 3600),
    )


def register_user(
    *, full_name: str, email: str, password: str, locale: str, next_url: str | None = None
) -> User | None:
    """Create an unconfirmed account and e-mail a confirmation link; return None if the e-mail is taken.

    When the address is taken its owner gets a notice instead, and the password is still hashed, so
    neither the page nor its timing tells a stranger whether an account exists.
    """
    email = email.strip().lower()
    password_hash = passwords.hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        queue_email(
            existing.email,
            "account_exists",
            locale=existing.locale,
            user=existing,
            login_link=external_url("accounts.login"),
            reset_link=external_url("accounts.request_reset"),
        )
        audit.security_event("register_existing_email", user_id=existing.id)
        return None
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=password_hash,
        locale=locale,
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_registered", actor=user, obj=user, after={"locale": locale, "privacy_consent": True})
    _queue_confirmation(user, next_url)
    return user


def confirm_email(token: str) -> User | None:
    """Confirm the address the token was sent to; return the user, or None for a bad or used link."""
    row = find_token(token, CONFIRM)
    if row is None:
        return None
    row.used_at = utcnow()
    user = row.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record("email_confirmed", actor=user, obj=user)
    db.session.flush()
    return user


def confirmed_by_used_token(token: str) -> bool:
    """Say whether a confirmation link was already used and its account is confirmed (a second click)."""
    row = find_token(token, CONFIRM, usable_only=False)
    return row is not None and row.used_at is not None and row.user.is_confirmed


def resend_confirmation(email: str, *, next_url: str | None = None) -> None:
    """E-mail a new confirmation link if the address belongs to an unconfirmed account.

    Nothing is said about other addresses, and one account gets at most one link per RESEND_INTERVAL.
    """
    user = find_user_by_email(email)
    if user is None or user.is_confirmed or user.is_disabled:
        return
    recent = db.session.scalar(
        sa.select(sa.func.count(AccountToken.id)).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == CONFIRM,
            AccountToken.created_at > utcnow() - RESEND_INTERVAL,
        )
    )
    if recent:
        return
    _queue_confirmation(user, next_url)


# --- login --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against for unknown e-mails, so they take as long as known ones."""
    return passwords.hash_password(secrets.token_urlsafe(16))


def _failures_since(since: datetime, *, email: str | None = None, ip: str | None = None) -> int:
    query = sa.select(sa.func.count(LoginAttempt.id)).where(
        LoginAttempt.success.is_(False),
        LoginAttempt.stage.in_((STAGE_PASSWORD, STAGE_TOTP)),
        LoginAttempt.at > since,
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    return db.session.scalar(query) or 0


def is_throttled(email: str, ip: str) -> bool:
    """Say whether logins for this e-mail from this IP (or from this IP at all) must wait (QUALITY A3).

    Only failures inside the sliding window count, so a block ends by itself and never locks the
    account for its owner elsewhere; refused (throttled) tries do not extend it.
    """
    config = current_app.config
    since = utcnow() - config["LOGIN_FAILURE_WINDOW"]
    email = (email or "").strip().lower()[:254]
    if _failures_since(since, email=email, ip=ip) >= config["LOGIN_MAX_FAILURES"]:
        return True
    return _failures_since(since, ip=ip) >= config["LOGIN_MAX_FAILURES_PER_IP"]


def record_login_attempt(email: str, ip: str, *, success: bool, stage: str, reason: str = "") -> LoginAttempt:
    """Store one login attempt and log it (never the password or code)."""
    email = (email or "").strip().lower()[:254]
    ip = (ip or "unknown")[:45]
    attempt = LoginAttempt(email=email, ip=ip, at=utcnow(), success=success, stage=stage)
    db.session.add(attempt)
    db.session.flush()
    audit.security_event(
        "login_success" if success else "login_failed", email=email, ip=ip, stage=stage, reason=reason or "-"
    )
    return attempt


@dataclass(frozen=True)
class LoginCheck:
    """The outcome of the password step: the user when the password is right, and what stops them."""

    user: User | None
    problem: str | None = None  # "invalid", "unconfirmed", "disabled"


def check_password_login(email: str, password: str, ip: str) -> LoginCheck:
    """Check the e-mail and password, record the attempt, and upgrade an old hash on success.

    Unknown e-mails cost one hash verification too, and give the same answer as a wrong password.
    """
    user = find_user_by_email(email)
    valid = passwords.verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not valid:
        record_login_attempt(email, ip, success=False, stage=STAGE_PASSWORD, reason="invalid")
        return LoginCheck(None, "invalid")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        audit.record("password_rehashed", actor=user, obj=user)
    if user.is_disabled:
        record_login_attempt(email, ip, success=False, stage=STAGE_PASSWORD, reason="disabled")
        return LoginCheck(user, "disabled")
    if not user.is_confirmed:
        record_login_attempt(email, ip, success=False, stage=STAGE_PASSWORD, reason="unconfirmed")
        return LoginCheck(user, "unconfirmed")
    record_login_attempt(email, ip, success=True, stage=STAGE_PASSWORD)
    return LoginCheck(user)


def check_totp_login(user: User, code: str, ip: str) -> bool:
    """Check the second factor, refusing replays (QUALITY A6); record the attempt."""
    step = (
        totp.matching_step(user.totp_secret or "", code, last_step=user.totp_last_step)
        if user.has_totp
        else None
    )
    if step is None:
        record_login_attempt(user.email, ip, success=False, stage=STAGE_TOTP, reason="invalid_code")
        return False
    user.totp_last_step = step
    record_login_attempt(user.email, ip, success=True, stage=STAGE_TOTP)
    return True


def record_login(user: User) -> None:
    """Write the audit event for a completed login (the session itself is started by the view)."""
    audit.record("login", actor=user, obj=user)


def record_logout(user: User) -> None:
    audit.record("logout", actor=user, obj=user)


# --- TOTP enrolment -----------------------------------------------------------------------------


def pending_totp_secret(user: User) -> str:
    """Return the secret being enrolled, creating one if needed.

    It is kept on the user but inactive until a code confirms it (`User.has_totp` needs both), so a
    reload of the enrolment page shows the same QR code.
    """
    if user.has_totp:
        raise ValueError("TOTP is already active for this user")
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        user.totp_last_step = None
        db.session.flush()
    return user.totp_secret


def enable_totp(user: User, code: str, *, actor: User) -> bool:
    """Activate the pending secret if the code matches it; return whether it did."""
    if user.has_totp or not user.totp_secret:
        return False
    step = totp.matching_step(user.totp_secret, code, last_step=None)
    if step is None:
        return False
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    db.session.flush()
    audit.record("totp_enabled", actor=actor, obj=user)
    return True


def enrol_totp_at_login(user: User, code: str, ip: str) -> bool:
    """Activate a staff member's new TOTP during login; the code is the login's second factor."""
    if enable_totp(user, code, actor=user):
        record_login_attempt(user.email, ip, success=True, stage=STAGE_TOTP)
        return True
    record_login_attempt(user.email, ip, success=False, stage=STAGE_TOTP, reason="invalid_enrolment_code")
    return False


def disable_totp(user: User, code: str, *, actor: User) -> bool:
    """Turn TOTP off after checking a current code (applicants only; see permissions)."""
    if not user.has_totp:
        return False
    step = totp.matching_step(user.totp_secret, code, last_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.flush()
    audit.record("totp_disabled", actor=actor, obj=user)
    return True


# --- profile and passwords ----------------------------------------------------------------------


def update_profile(user: User, *, full_name: str, phone: str | None, locale: str, actor: User) -> None:
    """Change the name, phone and language, recording what changed."""
    before = {"full_name": user.full_name, "phone": user.phone, "locale": user.locale}
    user.full_name = full_name.strip()
    user.phone = (phone or "").strip() or None
    user.locale = locale
    after = {"full_name": user.full_name, "phone": user.phone, "locale": user.locale}
    if before != after:
        changed = [key for key in before if before[key] != after[key]]
        audit.record(
            "profile_updated",
            actor=actor,
            obj=user,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    db.session.flush()


def _set_password(user: User, password: str) -> None:
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    # Outstanding reset links must not work after the password has changed.
    db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == RESET, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def change_password(user: User, new_password: str, *, actor: User, end_other_sessions: bool) -> int:
    """Set a new password (the view has checked the current one); return how many sessions ended."""
    _set_password(user, new_password)
    ended = sessions.end_all_sessions(user, keep_current=True) if end_other_sessions else 0
    db.session.flush()
    audit.record("password_changed", actor=actor, obj=user, after={"other_sessions_ended": ended})
    queue_email(user.email, "account_password_changed", locale=user.locale, user=user, via_reset=False)
    return ended


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the address belongs to an active account; say nothing otherwise."""
    user = find_user_by_email(email)
    if user is None or user.is_disabled:
        audit.security_event("password_reset_unknown", known=False)
        return
    token = _new_token(user, RESET, current_app.config["TOKEN_LIFETIME_RESET"])
    audit.record("password_reset_requested", actor=None, obj=user)
    queue_email(
        user.email,
        "account_reset",
        locale=user.locale,
        user=user,
        link=external_url("accounts.reset_password", token=token),
        lifetime_minutes=int(current_app.config["TOKEN_LIFETIME_RESET"].total_seconds() // 60),
    )


def reset_password(token: str, new_password: str) -> User | None:
    """Set the password from a reset link and end every session of the user; None if the link is bad.

    The user is not logged in: they log in again with the new password and their second factor.
    The link went to the account's address, so an unconfirmed address counts as confirmed now.
    """
    row = find_token(token, RESET)
    if row is None:
        return None
    user = row.user
    if user.is_disabled:
        return None
    row.used_at = utcnow()
    _set_password(user, new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    ended = sessions.end_all_sessions(user)
    db.session.flush()
    audit.record("password_reset", actor=user, obj=user, after={"sessions_ended": ended})
    queue_email(user.email, "account_password_changed", locale=user.locale, user=user, via_reset=True)
    return user


# --- e-mail change (QUALITY B6) ---------------------------------------------------------------------


def _email_change_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="accounts.email_change")


def _email_change_lifetime() -> timedelta:
    return min(
        current_app.config.get("TOKEN_LIFETIME_EMAIL_CHANGE", EMAIL_CHANGE_LIFETIME), EMAIL_CHANGE_LIFETIME
    )


def request_email_change(user: User, new_email: str, *, actor: User) -> bool:
    """E-mail a single-use link to the new address; the address changes only when it is opened.

    The link carries the new address, signed; the server keeps only the SHA-256 of the link's token
    (an AccountToken row), so it works once and for at most EMAIL_CHANGE_LIFETIME. An earlier link
    stops working. When the address belongs to another account nothing is sent (and the page says
    the same), so the form cannot be used to find out who has an account. Returns whether a link
    was sent.
    """
    new_email = (new_email or "").strip().lower()
    if not new_email or new_email == user.email.lower():
        return False
    _retire_tokens(user, EMAIL_CHANGE)
    if find_user_by_email(new_email) is not None:
        audit.security_event("email_change_to_existing_account", user_id=user.id)
        audit.record("email_change_requested", actor=actor, obj=user, after={"sent": False})
        return False
    nonce = secrets.token_urlsafe(16)
    token = _email_change_serializer().dumps({"u": user.id, "e": new_email, "n": nonce})
    lifetime = _email_change_lifetime()
    _new_token(user, EMAIL_CHANGE, lifetime, token)
    audit.record("email_change_requested", actor=actor, obj=user, after={"sent": True})
    queue_email(
        new_email,
        "accounts_email_change",
        locale=user.locale,
        user=user,
        new_email=new_email,
        link=external_url("accounts.confirm_email_change", token=token),
        lifetime_minutes=int(lifetime.total_seconds() // 60),
    )
    return True


def _retire_tokens(user: User, purpose: str) -> None:
    db.session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
        .values(used_at=utcnow())
    )


def confirm_email_change(token: str) -> User | None:
    """Move the account to the address the link was sent to; None for a bad, used or expired link.

    The old address is told, reset links sent to it stop working, and the change is audited.
    """
    if not token or len(token) > 1000:
        return None
    row = find_token(token, EMAIL_CHANGE)
    if row is None:
        return None
    try:
        data = _email_change_serializer().loads(token)
        user_id, new_email = int(data["u"]), str(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    user = row.user
    row.used_at = utcnow()
    if user.id != user_id or user.is_disabled:
        db.session.flush()
        return None
    taken = find_user_by_email(new_email)
    if taken is not None and taken.id != user.id:
        audit.security_event("email_change_to_existing_account", user_id=user.id)
        db.session.flush()
        return None
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = utcnow()
    _retire_tokens(user, RESET)
    _retire_tokens(user, EMAIL_CHANGE)
    db.session.flush()
    audit.record(
        "email_changed", actor=user, obj=user, before={"email": old_email}, after={"email": new_email}
    )
    queue_email(
        old_email,
        "accounts_email_changed",
        locale=user.locale,
        user=user,
        new_email=new_email,
        changed_at=utcnow(),
    )
    return user


# --- sessions and kill switches (QUALITY B5) -----------------------------------------------------


def active_sessions(user: User) -> list[UserSession]:
    """Return the user's sessions that have not timed out, most recently used first."""
    rows = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.last_seen_at.desc())
    ).all()
    now = utcnow()
    return [row for row in rows if sessions.expires_at(row, user) > now]


def end_other_sessions(user: User, *, actor: User) -> int:
    """Log the user out everywhere except this browser."""
    ended = sessions.end_all_sessions(user, keep_current=True)
    audit.record("sessions_terminated", actor=actor, obj=user, after={"count": ended, "kept_current": True})
    return ended


def terminate_sessions(user: User, actor: User, reason: str | None = None) -> int:
    """End every session of the user (an administrator's kill switch); return how many ended."""
    ended = sessions.end_all_sessions(user)
    audit.record("sessions_terminated", actor=actor, obj=user, after={"count": ended}, reason=reason)
    return ended


def disable_user(user: User, actor: User, reason: str | None = None) -> int:
    """Disable the account and end all its sessions at once; return how many sessions ended."""
    user.is_disabled = True
    ended = sessions.end_all_sessions(user)
    db.session.flush()
    audit.record(
        "user_disabled",
        actor=actor,
        obj=user,
        before={"is_disabled": False},
        after={"is_disabled": True, "sessions_ended": ended},
        reason=reason,
    )
    return ended


def enable_user(user: User, actor: User, reason: str | None = None) -> None:
    """Let a disabled account log in again."""
    user.is_disabled = False
    db.session.flush()
    audit.record(
        "user_enabled",
        actor=actor,
        obj=user,
        before={"is_disabled": True},
        after={"is_disabled": False},
        reason=reason,
    )
