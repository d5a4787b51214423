"""Account services without HTTP: the kill switches the admin pages call, tokens and audit rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts import services
from portal.accounts.models import AccountToken, UserSession
from portal.core.audit import AuditEvent
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.factories import UserFactory, national_admin

pytestmark = pytest.mark.usefixtures("db")


def _session_for(user):
    db.session.add(UserSession(token_hash=f"{user.id:064d}", user_id=user.id))
    db.session.flush()


def _event(action, user):
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == user.id)
    ).one()


def test_disable_and_enable_user_record_actor_and_reason():
    admin, user = national_admin(), UserFactory()
    _session_for(user)
    assert services.disable_user(user, admin, reason="left the organisation") == 1
    assert user.is_disabled
    event = _event("user_disabled", user)
    assert event.actor_id == admin.id and event.reason == "left the organisation"
    assert (
        db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)) == 0
    )
    services.enable_user(user, admin, reason="back")
    assert not user.is_disabled and _event("user_enabled", user).actor_id == admin.id


def test_terminate_sessions_counts_and_audits():
    admin, user = national_admin(), UserFactory()
    assert services.terminate_sessions(user, admin) == 0
    other = UserFactory()
    _session_for(other)
    assert services.terminate_sessions(other, admin, reason="lost laptop") == 1
    assert _event("sessions_terminated", other).reason == "lost laptop"


def test_register_user_stores_only_token_hash():
    user = services.register_user(
        full_name="Līga", email="Liga@Example.lv", password="gara un laba parole", locale="en"
    )
    assert user.email == "liga@example.lv" and user.locale == "en" and not user.is_confirmed
    token = db.session.scalars(sa.select(AccountToken).where(AccountToken.user_id == user.id)).one()
    assert token.purpose == "confirm" and token.expires_at > utcnow()


def test_register_existing_returns_none_and_creates_nothing():
    existing = UserFactory()
    before = db.session.scalar(sa.select(sa.func.count(AccountToken.id)))
    assert (
        services.register_user(
            full_name="X", email=existing.email.upper(), password="gara un laba parole", locale="lv"
        )
        is None
    )
    assert db.session.scalar(sa.select(sa.func.count(AccountToken.id))) == before


def test_external_links_use_the_public_base_url(app):
    assert services.external_url("accounts.login").startswith(
        app.config["PUBLIC_BASE_URL"] + "/account/login"
    )
