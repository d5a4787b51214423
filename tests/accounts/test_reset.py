"""Password reset (QUALITY A7): same answer for any address, single use, ≤ 60 minutes, never skips TOTP."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from portal.accounts import passwords
from portal.extensions import db
from tests.accounts.util import (
    T0,
    audit_actions,
    code_at,
    is_logged_in,
    link_in,
    outbox_for,
    password_step,
    post,
    totp_step,
)
from tests.factories import UserFactory, applicant, coordinator
from tests.helpers import browser_client

NEW = "pilnīgi jauna parole"


def _request(client, email):
    return post(client, "/account/reset", {"email": email}, token_from="/account/reset")


def _set(client, path, password=NEW, repeat=None):
    return post(client, path, {"password": password, "password_repeat": repeat or password}, token_from=path)


def test_same_response_for_known_and_unknown_addresses(client):
    user = UserFactory()
    known = _request(client, user.email)
    unknown = _request(client, "nav-tada@example.lv")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/account/reset/sent"
    assert known.get_data() == unknown.get_data()
    page = client.get("/account/reset/sent").get_data(as_text=True)
    assert "60 minutes" in page
    assert len(outbox_for(user.email, "account_reset")) == 1
    assert not outbox_for("nav-tada@example.lv")


def test_reset_sets_password_ends_sessions_and_does_not_log_in(client, app):
    user = applicant()
    logged_in = browser_client(app)
    password_step(logged_in, user)
    assert is_logged_in(logged_in)

    _request(client, user.email)
    path = link_in(outbox_for(user.email, "account_reset")[0])
    assert 'autocomplete="new-password"' in client.get(path).get_data(as_text=True)
    response = _set(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    assert not is_logged_in(client)
    assert not is_logged_in(logged_in)  # every session ended
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, NEW)
    assert outbox_for(user.email, "account_password_changed")
    assert "password_reset" in audit_actions(user)

    # Single use.
    assert client.get(path).status_code == 404
    assert _set_after_use(client, path).status_code == 404
    assert password_step(client, user, NEW).status_code == 302


def _set_after_use(client, path):
    return post(client, path, {"password": "cita parole ko neņem", "password_repeat": "cita parole ko neņem"})


def test_reset_link_expires_within_60_minutes(client, app):
    user = UserFactory()
    assert app.config["TOKEN_LIFETIME_RESET"] <= timedelta(minutes=60)
    with time_machine.travel(T0, tick=False) as traveller:
        _request(client, user.email)
        path = link_in(outbox_for(user.email, "account_reset")[0])
        traveller.shift(app.config["TOKEN_LIFETIME_RESET"] + timedelta(seconds=1))
        response = client.get(path)
        assert response.status_code == 404
        assert "This link does not work" in response.get_data(as_text=True)


def test_reset_does_not_skip_totp(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        _request(client, user.email)
        path = link_in(outbox_for(user.email, "account_reset")[0])
        _set(client, path)
        assert not is_logged_in(client)
        response = password_step(client, user, NEW)
        assert response.headers["Location"] == "/account/login/totp"
        assert not is_logged_in(client)
        totp_step(client, code_at(0))
        assert is_logged_in(client)


def test_reset_applies_password_policy_and_keeps_token(client):
    user = UserFactory()
    _request(client, user.email)
    path = link_in(outbox_for(user.email, "account_reset")[0])
    response = _set(client, path, "short")
    assert response.status_code == 200
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the link still works after a refused password


def test_newer_password_change_voids_old_reset_links(client):
    user = applicant()
    _request(client, user.email)
    path = link_in(outbox_for(user.email, "account_reset")[0])
    _set(client, path)
    # The first reset used the token; a second link requested before the change is void as well.
    _request(client, user.email)
    second = link_in(outbox_for(user.email, "account_reset")[-1])
    from portal.accounts import services

    services.change_password(user, "vēl viena jauna parole", actor=user, end_other_sessions=False)
    assert client.get(second).status_code == 404


def test_disabled_user_gets_no_reset_mail(client):
    user = UserFactory(disabled=True)
    assert _request(client, user.email).headers["Location"] == "/account/reset/sent"
    assert not outbox_for(user.email, "account_reset")
