"""Re-authentication for sensitive changes (QUALITY B6): e-mail, TOTP and bank accounts need the password
(and code) from the last 5 minutes; failed confirmations count toward the login throttle (QUALITY A3);
an e-mail change takes effect only through a single-use link to the new address."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import sqlalchemy as sa
import time_machine

from portal.accounts import reauth, services
from portal.accounts.models import AccountToken, LoginAttempt, User
from portal.extensions import db
from portal.payments import accounts
from tests import factories
from tests.accounts.util import T0, attempts, audit_actions, code_at, link_in, outbox_for, post
from tests.factories import PASSWORD, UserFactory
from tests.helpers import Page, csrf_token, log_in

LATER = T0 + timedelta(minutes=6)
IBAN = "LV62HABA0551234567890"


def _location(response) -> str:
    return response.headers["Location"]


def _confirm_next(response) -> str:
    """The `next` of a redirect to the confirmation page."""
    location = urlsplit(_location(response))
    assert location.path == "/account/reauth"
    return parse_qs(location.query)["next"][0]


def _confirm(client, next_path: str, *, password=PASSWORD, code=None):
    path = f"/account/reauth?next={quote(next_path, safe='')}"
    data = {"password": password}
    if code is not None:
        data["code"] = code
    return post(client, path, data, token_from=path)


# --- the service, without HTTP -----------------------------------------------------------------------


def test_confirm_identity_counts_failures_toward_the_login_throttle(app, db):
    user = UserFactory(with_totp=True)
    with app.test_request_context("/account/reauth"):
        assert (
            reauth.confirm_identity(user, password="wrong", code=None, ip="10.0.0.9") == reauth.BAD_PASSWORD
        )
        assert reauth.confirm_identity(user, password=PASSWORD, code="000000", ip="10.0.0.9") in (
            reauth.BAD_CODE,
            reauth.OK,  # one code in a million is the right one
        )
        failed = [a for a in attempts(user.email) if not a.success]
        assert [a.stage for a in failed][:1] == [services.STAGE_PASSWORD]
        # Fill the window up to the limit: from now on nothing is checked, not even the right password.
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            db.session.add(LoginAttempt(email=user.email, ip="10.0.0.9", success=False, stage="password"))
        db.session.flush()
        assert reauth.confirm_identity(user, password=PASSWORD, code=code_at(0), ip="10.0.0.9") == (
            reauth.THROTTLED
        )
        assert "reauthenticated" not in audit_actions()


def test_email_change_link_is_single_use_expires_and_tells_the_old_address(app, db):
    user = UserFactory(email="vecais@example.lv")
    other = UserFactory(email="aiznemts@example.lv")
    with app.test_request_context("/"), time_machine.travel(T0, tick=False) as traveller:
        assert services.request_email_change(user, "Jaunais@Example.lv", actor=user)
        [message] = outbox_for("jaunais@example.lv", "accounts_email_change")
        token = link_in(message).rsplit("/", 1)[1]
        assert user.email == "vecais@example.lv"  # nothing changes before the link is opened
        # Someone else's address: nothing is sent, and the answer is the same (no account discovery).
        assert not services.request_email_change(user, other.email, actor=user)
        assert not outbox_for(other.email)
        # The second request retired the first link.
        assert services.confirm_email_change(token) is None
        assert services.request_email_change(user, "jaunais@example.lv", actor=user)
        token = link_in(outbox_for("jaunais@example.lv", "accounts_email_change")[-1]).rsplit("/", 1)[1]
        traveller.shift(timedelta(minutes=59))
        assert services.confirm_email_change(token).email == "jaunais@example.lv"
        assert services.confirm_email_change(token) is None  # single use
        [notice] = outbox_for("vecais@example.lv", "accounts_email_changed")
        assert "jaunais@example.lv" in notice.body_text
        assert "email_changed" in audit_actions(user)
        # A link older than 60 minutes does not work.
        assert services.request_email_change(user, "tresais@example.lv", actor=user)
        late = link_in(outbox_for("tresais@example.lv")[-1]).rsplit("/", 1)[1]
        traveller.shift(timedelta(minutes=61))
        assert services.confirm_email_change(late) is None
        assert db.session.get(User, user.id).email == "jaunais@example.lv"
        row = db.session.scalar(
            sa.select(AccountToken)
            .where(AccountToken.purpose == "email_change")
            .order_by(AccountToken.id.desc())
        )
        assert row.expires_at - row.created_at <= timedelta(minutes=60)


# --- over HTTP ---------------------------------------------------------------------------------------


def test_stale_paying_account_change_is_refused_kept_and_saved_after_confirming(client):
    muni = factories.municipality()
    coordinator = factories.coordinator(muni)
    path = f"/payments/account?municipality={muni.id}"
    typed = {"name": "Ūdens pašvaldība", "iban": IBAN, "bic": "", "reg_number": "90000059438"}
    with time_machine.travel(T0, tick=False) as traveller:
        log_in(client, coordinator)
        traveller.shift(timedelta(minutes=6))
        token = csrf_token(client, path)  # the page itself still shows
        refused = client.post(path, data={**typed, "csrf_token": token})
        assert refused.status_code == 302
        assert _confirm_next(refused) == path
        assert accounts.paying_account(muni.id) is None
        # A wrong code is refused and counted as a failed login.
        wrong = _confirm(client, path, code="000000" if code_at(0) != "000000" else "111111")
        assert wrong.status_code == 200 and 'id="code-error"' in wrong.get_data(as_text=True)
        assert [a.stage for a in attempts(coordinator.email) if not a.success] == ["totp"]
        ok = _confirm(client, path, code=code_at(0))
        assert ok.status_code == 302 and _location(ok) == path
        page = Page(client.get(path).get_data(as_text=True))
        assert page.by_id("iban").get("value") == IBAN  # what was typed before confirming is back
        assert page.by_id("name").get("value") == typed["name"]
        saved = client.post(path, data={**typed, "csrf_token": csrf_token(client, path)})
        assert saved.status_code == 302 and "/payments/orders" in _location(saved)
        assert accounts.paying_account(muni.id).iban == IBAN
        # Five minutes after the confirmation, saving is refused again.
        traveller.shift(timedelta(minutes=5, seconds=1))
        again = client.post(path, data={**typed, "csrf_token": csrf_token(client, path)})
        assert again.status_code == 302 and _confirm_next(again) == path


def test_email_change_needs_a_recent_confirmation_then_a_link(client):
    user = UserFactory(email="ilze@example.lv")
    with time_machine.travel(T0, tick=False) as traveller:
        log_in(client, user)
        fresh = client.get("/account/settings/email")
        assert fresh.status_code == 200  # the login itself is a confirmation
        traveller.shift(timedelta(minutes=6))
        stale = client.get("/account/settings/email")
        assert stale.status_code == 302 and _confirm_next(stale) == "/account/settings/email"
        assert _confirm(client, "/account/settings/email", password="nav pareiza").status_code == 200
        assert _confirm(client, "/account/settings/email").status_code == 302
        response = post(
            client,
            "/account/settings/email",
            {"new_email": "ilze.jauna@example.lv"},
            token_from="/account/settings/email",
        )
        assert response.status_code == 302
        assert db.session.get(User, user.id).email == "ilze@example.lv"
        link = link_in(outbox_for("ilze.jauna@example.lv", "accounts_email_change")[0])
        assert client.get(link).status_code == 302
        db.session.expire_all()
        assert db.session.get(User, user.id).email == "ilze.jauna@example.lv"
        assert outbox_for("ilze@example.lv", "accounts_email_changed")
        assert client.get(link).status_code == 404


def test_totp_pages_need_a_recent_confirmation_and_next_stays_on_the_site(client):
    user = UserFactory(with_totp=True)
    with time_machine.travel(T0, tick=False) as traveller:
        log_in(client, user)
        traveller.shift(timedelta(minutes=6))
        token = csrf_token(client, "/account/settings")
        disable = client.post(
            "/account/settings/totp/disable",
            data={"disable_password": PASSWORD, "disable_code": code_at(0), "csrf_token": token},
        )
        assert disable.status_code == 302
        assert _confirm_next(disable) == "/account/settings"
        db.session.expire_all()
        assert db.session.get(User, user.id).has_totp
        # An off-site `next` is never followed.
        response = _confirm(client, "https://evil.example/", code=code_at(0))
        assert response.status_code == 302 and _location(response) == "/account/settings"
        assert "reauthenticated" in [a for a in audit_actions() if a == "reauthenticated"]


def test_iban_change_with_a_wrong_password_counts_as_a_failed_login(client):
    from tests.organisations.conftest import add_member, new_org

    org = new_org()
    rep = add_member(org, representative=True)
    log_in(client, rep)
    path = f"/organisations/{org.id}/edit"
    from tests.organisations.test_views import edit_form

    data = edit_form(client, org, iban=IBAN, current_password="nav pareiza")
    response = client.post(path, data=data)
    assert response.status_code == 200 and 'id="current_password-error"' in response.get_data(as_text=True)
    assert Page(response.get_data(as_text=True)).by_id("iban").get("value") == IBAN  # nothing typed is lost
    assert [a.stage for a in attempts(rep.email) if not a.success] == ["password"]
