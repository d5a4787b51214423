"""Server-side login sessions (QUALITY B2–B5).

The signed Flask cookie carries a random token; the server keeps its hash in `user_sessions`. A
request is authenticated only while that row exists and is within the idle and absolute timeouts,
so logout, disabling a user and "log out other sessions" take effect on the server at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy.orm import joinedload

from portal.accounts.models import User, UserSession
from portal.core.timeutil import utcnow
from portal.extensions import db, login_manager

SESSION_KEY = "sid"
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_timeout(user: User) -> timedelta:
    """Staff sessions expire sooner than applicants' (proposed in QUALITY B4)."""
    config = current_app.config
    return config["SESSION_IDLE_TIMEOUT_STAFF"] if user.is_staff else config["SESSION_IDLE_TIMEOUT"]


def start_session(user: User) -> UserSession:
    """Log the user in with a fresh server-side session (a new cookie value: QUALITY B3)."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        ip=request.remote_addr if request else None,
        user_agent=(request.user_agent.string or "")[:300] if request else None,
    )
    db.session.add(row)
    db.session.flush()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[SESSION_KEY] = token
    session.permanent = True
    login_user(user, remember=False, fresh=True)
    return row


def _browser_token_hash() -> str | None:
    """The hash of this browser's session token (the key of its UserSession row), if it has one."""
    token = session.get(SESSION_KEY)
    return _hash(token) if token else None


def current_session_row() -> UserSession | None:
    token_hash = _browser_token_hash()
    if token_hash is None:
        return None
    return db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == token_hash))


def end_session() -> None:
    """Delete this browser's server-side session and clear the cookie."""
    row = current_session_row()
    if row is not None:
        db.session.delete(row)
    logout_user()
    session.clear()


def end_all_sessions(user: User, *, keep_current: bool = False) -> int:
    """Delete the user's sessions (all, or all but this browser's); return how many ended."""
    query = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep_current and (token := session.get(SESSION_KEY)):
        query = query.where(UserSession.token_hash != _hash(token))
    return db.session.execute(query).rowcount or 0


def expires_at(row: UserSession, user: User):
    """Return the instant the session ends if the user does nothing more."""
    absolute = row.created_at + current_app.config["SESSION_ABSOLUTE_TIMEOUT"]
    return min(row.last_seen_at + idle_timeout(user), absolute)


def _session_and_user() -> tuple[UserSession | None, User | None]:
    """This browser's session row and its user with the user's roles, in one statement (every request
    needs all three: the idle timeout depends on the roles)."""
    token_hash = _browser_token_hash()
    if token_hash is None:
        return None, None
    found = (
        db.session.execute(
            sa.select(UserSession, User)
            .outerjoin(User, User.id == UserSession.user_id)
            .options(joinedload(User.memberships))
            .where(UserSession.token_hash == token_hash)
        )
        .unique()
        .first()
    )
    return (found[0], found[1]) if found is not None else (None, None)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    row, user = _session_and_user()
    if row is None or str(row.user_id) != str(user_id):
        return None
    if user is None or user.is_disabled:
        db.session.delete(row)
        db.session.commit()
        return None
    now = utcnow()
    if now >= expires_at(row, user):
        db.session.delete(row)
        db.session.commit()
        g.session_expired = True
        return None
    if now - row.last_seen_at >= TOUCH_EVERY and not request.path.startswith("/static/"):
        row.last_seen_at = now
        db.session.commit()
    g.session_row = row
    g.session_expires_at = expires_at(row, user)
    return user


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session is the protection

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")

    @login_manager.unauthorized_handler
    def _unauthorized():
        """Send the browser to the login page with a same-site `next`; scripts get a 401 in JSON."""
        if request.endpoint == "accounts.keepalive" or request.accept_mimetypes.best == "application/json":
            return jsonify(error="unauthenticated"), 401
        if g.get("session_expired"):
            flash(_l("Your session has ended. Please log in again."), "info")
        else:
            flash(login_manager.login_message, "info")
        session.pop(SESSION_KEY, None)
        target = request.full_path if request.query_string else request.path
        next_url = target if request.method == "GET" else None
        return redirect(url_for("accounts.login", next=next_url))
