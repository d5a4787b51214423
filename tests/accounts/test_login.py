"""Login: generic errors, throttling (A3), TOTP for staff (A5), TOTP codes (A6), audit and logging."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.accounts import totp
from portal.accounts.models import LoginAttempt, User
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.accounts.util import (
    T0,
    attempts,
    audit_actions,
    code_at,
    is_logged_in,
    password_step,
    post,
    totp_step,
)
from tests.factories import PASSWORD, UserFactory, applicant, coordinator, evaluator, national_admin

OTHER_IP = {"REMOTE_ADDR": "192.0.2.77"}


def test_login_page_fields(client):
    html = client.get("/account/login").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert 'name="email"' in html and 'name="password"' in html
    assert 'autocomplete="current-password"' in html
    assert 'autocomplete="email"' in html


def test_successful_login_audited_and_redirects_to_dashboard(client):
    user = applicant()
    response = password_step(client, user)
    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    assert is_logged_in(client)
    assert "login" in audit_actions(user)
    [attempt] = attempts(user.email)
    assert attempt.success and attempt.stage == "password"


def test_unknown_email_and_wrong_password_look_the_same(client):
    user = UserFactory()
    wrong = password_step(client, user, "nepareiza parole 123")
    unknown = password_step(client, "neviens@example.lv", "nepareiza parole 123")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert "E-mail or password is incorrect." in html
        assert 'value="nepareiza parole 123"' not in html
    assert 'value="neviens@example.lv"' in unknown.get_data(as_text=True)  # e-mail kept
    assert [a.success for a in attempts()] == [False, False]


def test_disabled_user_cannot_log_in(client):
    user = UserFactory(disabled=True)
    response = password_step(client, user)
    assert response.status_code == 200
    assert "This account has been disabled" in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_every_attempt_is_logged_without_secrets(client, caplog):
    user = coordinator()
    caplog.set_level(logging.INFO, logger="portal.security")
    with time_machine.travel(T0, tick=False):
        password_step(client, user, "nepareiza parole 123")
        password_step(client, user)
        totp_step(client, "000000")
        code = code_at(0)
        totp_step(client, code)
    rows = attempts(user.email)
    assert [(a.stage, a.success) for a in rows] == [
        ("password", False),
        ("password", True),
        ("totp", False),
        ("totp", True),
    ]
    log = caplog.text
    assert log.count("login_failed") == 2 and log.count("login_success") == 2
    for secret in ("nepareiza parole 123", PASSWORD, code, user.totp_secret):
        assert secret not in log


# --- A3: throttling -----------------------------------------------------------------------------


def _failures(email, n, ip="127.0.0.1", when=None):
    for _ in range(n):
        db.session.add(LoginAttempt(email=email, ip=ip, at=when or utcnow(), success=False, stage="password"))
    db.session.flush()


def test_ten_failures_block_that_account_from_that_ip_only(client, app):
    user = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, user, "nepareiza parole 1")  # one real failure, the rest inserted
        _failures(user.email, app.config["LOGIN_MAX_FAILURES"] - 1)
        blocked = password_step(client, user)  # even the right password waits
        assert blocked.status_code == 429
        html = blocked.get_data(as_text=True)
        assert "Too many attempts" in html and "Retry-After" in blocked.headers
        assert attempts(user.email)[-1].stage == "throttled"
        assert not is_logged_in(client)

        # Another address from the same IP, and the same account from another IP, still work.
        other = UserFactory()
        assert password_step(client, other).status_code == 302
        client.post("/account/logout", data={"csrf_token": _token(client)})
        assert password_step(client, user, environ_overrides=OTHER_IP).status_code == 302
        client.post("/account/logout", data={"csrf_token": _token(client)})

        # The block ends by itself once the window has passed (no permanent lockout).
        traveller.shift(app.config["LOGIN_FAILURE_WINDOW"] + timedelta(seconds=1))
        assert password_step(client, user).status_code == 302


def test_throttled_tries_do_not_extend_the_block(client, app):
    user = UserFactory()
    with time_machine.travel(T0, tick=False) as traveller:
        _failures(user.email, app.config["LOGIN_MAX_FAILURES"])
        traveller.shift(timedelta(minutes=10))
        assert password_step(client, user).status_code == 429
        traveller.shift(timedelta(minutes=5, seconds=1))
        assert password_step(client, user).status_code == 302


def test_many_failures_from_one_ip_block_that_ip(client, app):
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_IP"]):
        _failures(f"guess{n}@example.lv", 1)
    user = UserFactory()
    assert password_step(client, user).status_code == 429
    assert password_step(client, user, environ_overrides=OTHER_IP).status_code == 302


def test_totp_guesses_are_throttled_too(client, app):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        assert password_step(client, user).status_code == 302
        _failures(user.email, app.config["LOGIN_MAX_FAILURES"] - 1)
        assert totp_step(client, "000000").status_code == 200
        assert totp_step(client, code_at(0)).status_code == 429
        assert not is_logged_in(client)


def _token(client):
    from tests.helpers import csrf_token

    return csrf_token(client, "/")


# --- A5: second factor for staff ------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [coordinator, evaluator, national_admin], ids=["coordinator", "evaluator", "admin"]
)
def test_staff_password_alone_gives_no_session(client, make):
    user = make()
    with time_machine.travel(T0, tick=False):
        response = password_step(client, user)
        assert response.headers["Location"] == "/account/login/totp"
        for path in ("/account/", "/account/settings"):
            assert client.get(path).status_code == 302
        assert totp_step(client, "123456").status_code == 200
        assert client.get("/account/").status_code == 302
        assert totp_step(client, code_at(0)).status_code == 302
        assert is_logged_in(client)


@pytest.mark.parametrize(
    "make", [coordinator, evaluator, national_admin], ids=["coordinator", "evaluator", "admin"]
)
def test_staff_without_totp_must_enrol_before_any_session(client, make):
    user = make(with_totp=False)
    with time_machine.travel(T0, tick=False):
        response = password_step(client, user)
        assert response.headers["Location"] == "/account/login/totp/setup"
        assert client.get("/account/").status_code == 302
        page = client.get("/account/login/totp/setup").get_data(as_text=True)
        assert '<img src="data:image/svg+xml;base64,' in page
        db.session.refresh(user)
        secret = user.totp_secret
        assert len(secret) == 32 and " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in page
        assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
        # The same secret is shown again on reload (the QR code already scanned stays valid).
        client.get("/account/login/totp/setup")
        db.session.refresh(user)
        assert user.totp_secret == secret and not user.has_totp

        bad = post(
            client, "/account/login/totp/setup", {"code": "000000"}, token_from="/account/login/totp/setup"
        )
        assert bad.status_code == 200 and not is_logged_in(client)
        good = post(
            client,
            "/account/login/totp/setup",
            {"code": code_at(0, secret=secret)},
            token_from="/account/login/totp/setup",
        )
        assert good.status_code == 302
        assert is_logged_in(client)
        db.session.refresh(user)
        assert user.has_totp
        assert "totp_enabled" in audit_actions(user)


def test_demo_accounts_skip_totp_only_in_demo_mode(client, app, monkeypatch):
    demo = coordinator(with_totp=False, is_demo=True)
    plain = coordinator(with_totp=False)
    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    assert password_step(client, demo).headers["Location"] == "/account/login/totp/setup"
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    assert password_step(client, plain).headers["Location"] == "/account/login/totp/setup"
    assert password_step(client, demo).headers["Location"] == "/account/"
    assert is_logged_in(client)


def test_applicant_without_totp_needs_no_second_factor(client):
    assert password_step(client, applicant()).headers["Location"] == "/account/"


def test_pending_second_factor_expires_after_five_minutes(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, user)
        traveller.shift(timedelta(minutes=5, seconds=30))
        response = totp_step(client, code_at(0), token_from="/")
        assert response.status_code == 302 and response.headers["Location"] == "/account/login"
        assert not is_logged_in(client)


def test_totp_page_without_password_step_goes_to_login(client):
    assert client.get("/account/login/totp").headers["Location"] == "/account/login"
    assert client.get("/account/login/totp/setup").headers["Location"] == "/account/login"


def test_user_disabled_between_steps_is_stopped(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        password_step(client, user)
        user.is_disabled = True
        db.session.flush()
        assert totp_step(client, code_at(0), token_from="/").headers["Location"] == "/account/login"
        assert not is_logged_in(client)


# --- A6: TOTP codes -----------------------------------------------------------------------------


def test_secret_is_32_base32_characters():
    secret = totp.new_secret()
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_code_from_previous_step_is_accepted(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        password_step(client, user)
        assert totp_step(client, code_at(-1)).status_code == 302


def test_code_from_two_steps_ago_is_rejected(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        password_step(client, user)
        response = totp_step(client, code_at(-2))
        assert response.status_code == 200
        assert "The code is not valid" in response.get_data(as_text=True)
        assert not is_logged_in(client)


def test_same_code_cannot_be_used_twice(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False):
        code = code_at(0)
        password_step(client, user)
        assert totp_step(client, code).status_code == 302
        client.post("/account/logout", data={"csrf_token": _token(client)})
        password_step(client, user)
        assert totp_step(client, code).status_code == 200
        # The previous step's code is older than the one used, so it is refused as well.
        assert totp_step(client, code_at(-1)).status_code == 200
        assert not is_logged_in(client)
    step = db.session.scalar(sa.select(User.totp_last_step).where(User.id == user.id))
    assert step == int(T0.timestamp() // 30)


def test_already_logged_in_user_is_sent_on(client):
    user = applicant()
    password_step(client, user)
    assert client.get("/account/login").headers["Location"] == "/account/"
    assert client.get("/account/login?next=/privacy").headers["Location"] == "/privacy"
