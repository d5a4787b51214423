"""Account settings (profile, password, TOTP on/off) and the "My work" dashboard."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from portal.accounts import passwords
from portal.extensions import db
from tests.accounts.util import T0, audit_actions, code_at, outbox_for, password_step, post, totp_step
from tests.factories import PASSWORD, UserFactory, applicant, coordinator, national_admin


def test_settings_needs_login(client):
    response = client.get("/account/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=/account/settings"


def test_settings_page_structure(client):
    password_step(client, applicant())
    html = client.get("/account/settings").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert 'autocomplete="current-password"' in html and 'autocomplete="new-password"' in html
    assert html.count('id="current_password"') == 1  # no duplicate ids between the forms


def test_update_profile(client):
    user = applicant()
    password_step(client, user)
    response = post(
        client,
        "/account/settings",
        {"full_name": "Jānis Ozoliņš", "phone": "+371 20000000", "language": "en"},
        token_from="/account/settings",
    )
    assert response.status_code == 302
    assert (user.full_name, user.phone, user.locale) == ("Jānis Ozoliņš", "+371 20000000", "en")
    assert "profile_updated" in audit_actions(user)


def test_profile_errors_keep_input(client):
    user = applicant()
    password_step(client, user)
    response = post(
        client,
        "/account/settings",
        {"full_name": "", "phone": "zvani man", "language": "lv"},
        token_from="/account/settings",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="full_name-error"' in html and 'id="phone-error"' in html
    assert 'value="zvani man"' in html


def test_change_password_requires_current_password(client):
    user = applicant()
    password_step(client, user)
    data = {
        "current_password": "nav pareiza",
        "new_password": "jauna laba parole",
        "new_password_repeat": "jauna laba parole",
    }
    response = post(client, "/account/settings/password", data, token_from="/account/settings")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="current_password-error"' in html
    assert "jauna laba parole" not in html
    assert passwords.verify_password(user.password_hash, PASSWORD)

    data["current_password"] = PASSWORD
    assert post(client, "/account/settings/password", data, token_from="/account/settings").status_code == 302
    assert passwords.verify_password(user.password_hash, "jauna laba parole")
    assert "password_changed" in audit_actions(user)
    assert outbox_for(user.email, "account_password_changed")


def test_applicant_enables_and_disables_totp(client):
    user = applicant()
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, user)
        page = client.get("/account/settings/totp").get_data(as_text=True)
        assert '<img src="data:image/svg+xml;base64,' in page
        assert 'inputmode="numeric"' in page
        secret = user.totp_secret
        assert secret and not user.has_totp

        wrong = post(
            client,
            "/account/settings/totp",
            {"code": code_at(0, secret=secret), "current_password": "nav pareiza"},
            token_from="/account/settings/totp",
        )
        assert wrong.status_code == 200 and not user.has_totp
        ok = post(
            client,
            "/account/settings/totp",
            {"code": code_at(0, secret=secret), "current_password": PASSWORD},
            token_from="/account/settings/totp",
        )
        assert ok.status_code == 302 and user.has_totp
        assert "totp_enabled" in audit_actions(user)

        # Turning it off needs the password and a fresh code (the one just used is spent).
        traveller.shift(timedelta(seconds=30))
        response = post(
            client,
            "/account/settings/totp/disable",
            {"disable_password": PASSWORD, "disable_code": code_at(0, secret=secret)},
            token_from="/account/settings",
        )
        assert response.status_code == 302
        assert not user.has_totp and user.totp_secret is None
        assert "totp_disabled" in audit_actions(user)


def test_staff_cannot_disable_totp(client):
    user = coordinator()
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, user)
        totp_step(client, code_at(0))
        page = client.get("/account/settings").get_data(as_text=True)
        assert "cannot be turned off" in page and "disable_code" not in page
        traveller.shift(timedelta(seconds=30))
        post(
            client,
            "/account/settings/totp/disable",
            {"disable_password": PASSWORD, "disable_code": code_at(0)},
            token_from="/account/settings",
        )
    db.session.refresh(user)
    assert user.has_totp


def test_dashboard_lists_roles_with_links(client):
    user = applicant()
    org = user.memberships[0].organisation
    password_step(client, user)
    html = client.get("/account/").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert org.name in html
    assert "You have 1 role in the portal." in html


def test_dashboard_for_user_without_roles(client):
    password_step(client, UserFactory())
    html = client.get("/account/").get_data(as_text=True)
    assert "You do not have a role yet" in html


def test_dashboard_for_admin_links_audit_trail(client):
    user = national_admin()
    with time_machine.travel(T0, tick=False):
        password_step(client, user)
        totp_step(client, code_at(0))
        html = client.get("/account/").get_data(as_text=True)
    assert "Whole country" in html
    assert "/admin/audit" in html
