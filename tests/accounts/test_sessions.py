"""Sessions and cookies: attributes (B1), logout replay (B2), rotation (B3), timeouts (B4),
kill switches (B5) and the keepalive used by the timeout warning."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from portal.accounts import services
from portal.accounts.models import UserSession
from portal.extensions import db
from tests.accounts.util import (
    COOKIE,
    T0,
    audit_actions,
    code_at,
    is_logged_in,
    password_step,
    post,
    session_cookie,
    totp_step,
)
from tests.factories import PASSWORD, applicant, coordinator, national_admin
from tests.helpers import browser_client, csrf_token

PROTECTED = ["/account/", "/account/settings", "/account/settings/totp"]


def _parse_set_cookie(header: str) -> tuple[str, dict[str, str | bool]]:
    first, *params = [part.strip() for part in header.split(";")]
    name = first.split("=", 1)[0]
    attrs: dict[str, str | bool] = {}
    for param in params:
        key, sep, value = param.partition("=")
        attrs[key.lower()] = value if sep else True
    return name, attrs


def _logout(client):
    return client.post("/account/logout", data={"csrf_token": csrf_token(client, "/account/")})


def _login_staff(client, user):
    password_step(client, user)
    return totp_step(client, code_at(0))


# --- B1 -----------------------------------------------------------------------------------------


def test_every_set_cookie_header_complies(client):
    user = coordinator()
    headers: list[str] = []

    def keep(response):
        headers.extend(response.headers.getlist("Set-Cookie"))
        return response

    with time_machine.travel(T0, tick=False):
        keep(client.get("/account/login"))
        keep(password_step(client, user))
        keep(client.get("/account/login/totp"))
        keep(totp_step(client, code_at(0)))
        keep(client.get("/account/"))
        keep(post(client, "/language", {"lang": "en", "next": "/account/"}, token_from="/account/"))
        keep(client.post("/account/keepalive", headers={"X-CSRFToken": csrf_token(client, "/account/")}))
        keep(_logout(client))
        keep(client.get("/account/login"))

    names = set()
    assert headers
    for header in headers:
        name, attrs = _parse_set_cookie(header)
        names.add(name)
        assert name.startswith("__Host-"), header
        assert attrs.get("secure") is True, header
        assert attrs.get("httponly") is True, header
        assert str(attrs.get("samesite", "")).lower() in ("lax", "strict"), header
        assert attrs.get("path") == "/", header
        assert "domain" not in attrs, header
    assert COOKIE in names and "__Host-lang" in names
    assert not any("remember" in name for name in names)


# --- B2 -----------------------------------------------------------------------------------------


def test_cookie_replayed_after_logout_gets_login_redirect(client, app):
    user = applicant()
    password_step(client, user)
    assert is_logged_in(client)
    captured = session_cookie(client)
    _logout(client)
    assert not is_logged_in(client)

    replay = browser_client(app)
    replay.set_cookie(COOKIE, captured, domain="localhost", secure=True, httponly=True)
    for path in PROTECTED:
        response = replay.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/account/login"), path
    response = replay.post("/account/keepalive", headers={"Accept": "application/json"})
    assert response.status_code in (400, 401)  # no valid CSRF token or no session: never a success
    assert db.session.query(UserSession).filter_by(user_id=user.id).count() == 0
    assert "logout" in audit_actions(user)


# --- B3 -----------------------------------------------------------------------------------------


def test_cookie_value_changes_at_each_login_step(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        client.get("/account/login")
        before = session_cookie(client)
        password_step(client, user)
        after_password = session_cookie(client)
        totp_step(client, code_at(0))
        after_totp = session_cookie(client)
    assert before and after_password and after_totp
    assert before != after_password != after_totp != before


def test_new_server_session_for_each_login(client, app):
    user = applicant()
    password_step(client, user)
    first = db.session.query(UserSession).filter_by(user_id=user.id).one()
    other = browser_client(app)
    password_step(other, user)
    assert db.session.query(UserSession).filter_by(user_id=user.id).count() == 2
    assert first.token_hash not in session_cookie(client)


# --- B4 -----------------------------------------------------------------------------------------


def test_idle_applicant_session_ends_after_30_minutes(client):
    user = applicant()
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, user)
        traveller.shift(timedelta(minutes=29))
        assert is_logged_in(client)
        traveller.shift(timedelta(minutes=29))  # active 29 minutes ago: still fine
        assert is_logged_in(client)
        traveller.shift(timedelta(minutes=31))
        response = client.get("/account/settings")
        assert response.status_code == 302 and response.headers["Location"].startswith("/account/login")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Your session has ended" in page


def test_idle_staff_session_ends_after_15_minutes(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False) as traveller:
        _login_staff(client, user)
        traveller.shift(timedelta(minutes=14))
        assert is_logged_in(client)
        traveller.shift(timedelta(minutes=16))
        assert not is_logged_in(client)


def test_activity_never_extends_a_session_past_8_hours(client):
    user = applicant()
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, user)
        for _ in range(19):  # 19 × 25 min = 7 h 55 min, always active
            traveller.shift(timedelta(minutes=25))
            assert is_logged_in(client)
        traveller.shift(timedelta(minutes=6))
        assert not is_logged_in(client)


def test_pages_carry_the_expiry_for_the_warning_script(client):
    user = applicant()
    with time_machine.travel(T0, tick=False):
        password_step(client, user)
        html = client.get("/account/").get_data(as_text=True)
    assert 'data-session-expires="2026-05-04T09:30:15' in html


def test_keepalive_touches_the_session_and_returns_expiry(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False) as traveller:
        _login_staff(client, user)
        token = csrf_token(client, "/account/")
        traveller.shift(timedelta(minutes=10))
        response = client.post(
            "/account/keepalive", headers={"X-CSRFToken": token, "Accept": "application/json"}
        )
        assert response.status_code == 200
        assert response.json["expires_at"].startswith("2026-05-04T09:25:15")
        traveller.shift(timedelta(minutes=14))
        assert is_logged_in(client)  # 24 minutes after login, 14 after the keepalive
    assert client.post("/account/keepalive").status_code == 400  # CSRF-protected


def test_keepalive_without_javascript_goes_back(client):
    password_step(client, applicant())
    token = csrf_token(client, "/account/settings")
    response = client.post(
        "/account/keepalive",
        data={"csrf_token": token},
        headers={"Referer": "https://localhost/account/settings"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/account/settings"


def test_keepalive_when_logged_out_is_401(client):
    token = csrf_token(client, "/account/login")
    response = client.post("/account/keepalive", headers={"X-CSRFToken": token})
    assert response.status_code == 401


# --- B5 -----------------------------------------------------------------------------------------


def test_disabling_a_user_ends_their_sessions(client, app):
    user = applicant()
    admin = national_admin()
    password_step(client, user)
    assert is_logged_in(client)
    ended = services.disable_user(user, admin, reason="test")
    db.session.commit()
    assert ended == 1
    for path in PROTECTED:
        assert client.get(path).status_code == 302
    assert password_step(browser_client(app), user).status_code == 200  # cannot log in again
    services.enable_user(user, admin)
    assert password_step(browser_client(app), user).status_code == 302
    assert {"user_disabled", "user_enabled"} <= set(audit_actions(user))


def test_admin_terminate_sessions(client, app):
    user = applicant()
    password_step(client, user)
    second = browser_client(app)
    password_step(second, user)
    assert services.terminate_sessions(user, national_admin()) == 2
    assert not is_logged_in(client) and not is_logged_in(second)
    assert "sessions_terminated" in audit_actions(user)


@pytest.mark.parametrize("log_out_others", [True, False])
def test_password_change_can_log_out_other_sessions(client, app, log_out_others):
    user = applicant()
    password_step(client, user)
    other = browser_client(app)
    password_step(other, user)
    data = {
        "current_password": PASSWORD,
        "new_password": "jauna parole ar atstarpēm",
        "new_password_repeat": "jauna parole ar atstarpēm",
    }
    if log_out_others:
        data["logout_others"] = "y"
    response = post(client, "/account/settings/password", data, token_from="/account/settings")
    assert response.status_code == 302
    assert is_logged_in(client)
    assert is_logged_in(other) is not log_out_others


def test_log_out_everywhere_else(client, app):
    user = applicant()
    password_step(client, user)
    other = browser_client(app)
    password_step(other, user)
    page = client.get("/account/settings").get_data(as_text=True)
    assert "This device" in page and "Log out everywhere else" in page
    response = post(client, "/account/settings/sessions/end-others", token_from="/account/settings")
    assert response.status_code == 302
    assert is_logged_in(client) and not is_logged_in(other)


def test_logout_needs_csrf_and_post(client):
    password_step(client, applicant())
    assert client.get("/account/logout").status_code == 405
    assert client.post("/account/logout").status_code == 400
    assert is_logged_in(client)
