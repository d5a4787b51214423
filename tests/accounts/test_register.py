"""Registration, e-mail confirmation and the `next` link kept through them."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import AccountToken, User
from portal.extensions import db
from tests.accounts.util import audit_actions, link_in, outbox_for, password_step, post
from tests.factories import PASSWORD, UserFactory


def register(client, email="jauns@example.lv", password=PASSWORD, repeat=None, **extra):
    data = {
        "full_name": "Anna Bērziņa",
        "email": email,
        "password": password,
        "password_repeat": password if repeat is None else repeat,
        "language": "lv",
        "consent": "y",
    }
    data.update(extra)
    return post(client, "/account/register", data, token_from="/account/register")


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_register_page_has_labelled_fields_and_privacy_link(client):
    html = client.get("/account/register").get_data(as_text=True)
    assert html.count("<h1") == 1
    for name in ("full_name", "email", "password", "password_repeat", "language", "consent"):
        assert f'<label for="{name}"' in html
    assert 'autocomplete="new-password"' in html
    assert 'autocomplete="email"' in html
    assert 'href="/privacy"' in html


def test_register_creates_unconfirmed_user_and_sends_confirmation(client, outbox):
    response = register(client, email="Anna@Example.lv")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/register/done")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check your e-mail" in page

    user = user_by_email("anna@example.lv")
    assert user is not None and not user.is_confirmed
    assert user.password_hash.startswith("$argon2id$")
    assert "user_registered" in audit_actions(user)
    [message] = outbox_for("anna@example.lv", "account_confirm")
    assert [m.recipients for m in outbox] == [["anna@example.lv"]]  # sent after commit

    token = db.session.scalar(sa.select(AccountToken).where(AccountToken.user_id == user.id))
    assert token.purpose == "confirm"
    path = link_in(message)
    raw = path.rsplit("/", 1)[1].split("?")[0]
    assert raw not in token.token_hash and len(token.token_hash) == 64  # only the SHA-256 is stored


def test_unconfirmed_user_cannot_log_in_and_is_offered_a_new_link(client):
    register(client)
    response = password_step(client, "jauns@example.lv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Confirm your e-mail address first" in html
    assert "/account/confirm/resend" in html
    assert client.get("/account/").status_code == 302


def test_confirm_link_confirms_once_then_login_works(client):
    register(client)
    user = user_by_email("jauns@example.lv")
    path = link_in(outbox_for(user.email, "account_confirm")[0])
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/login")
    assert user.is_confirmed
    assert "email_confirmed" in audit_actions(user)
    # A second click says it is already confirmed; a made-up token is refused.
    again = client.get(path, follow_redirects=True)
    assert "already confirmed" in again.get_data(as_text=True)
    assert client.get("/account/confirm/not-a-real-token").status_code == 404

    response = password_step(client, user)
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200


def test_existing_email_gets_same_page_and_owner_gets_notice(client):
    owner = UserFactory(email="esosais@example.lv")
    new = register(client, email="nav@example.lv")
    taken = register(client, email="ESOSAIS@example.lv")
    assert new.status_code == taken.status_code == 302
    assert new.headers["Location"] == taken.headers["Location"]
    assert outbox_for(owner.email, "account_exists")
    assert not outbox_for(owner.email, "account_confirm")
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == "esosais@example.lv")) == 1


def test_next_is_kept_through_registration_confirmation_and_login(client):
    target = "/organisations/invitations/abc"
    page = client.get(f"/account/register?next={target}").get_data(as_text=True)
    assert f'value="{target}"' in page
    response = register(client, next=target)
    assert "next=" in response.headers["Location"]
    user = user_by_email("jauns@example.lv")
    path = link_in(outbox_for(user.email, "account_confirm")[0])
    assert "next=" in path
    to_login = client.get(path).headers["Location"]
    login_page = client.get(to_login).get_data(as_text=True)
    assert f'value="{target}"' in login_page
    response = post(client, "/account/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == target


def test_next_rejects_other_sites(client):
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        page = client.get("/account/register", query_string={"next": bad}).get_data(as_text=True)
        assert '<input name="next" type="hidden" value="">' in page
        assert "/account/login?next" not in page


def test_resend_confirmation_same_answer_for_any_address(client):
    register(client)
    user = user_by_email("jauns@example.lv")
    first = post(client, "/account/confirm/resend", {"email": "nobody@example.lv"})
    second = post(client, "/account/confirm/resend", {"email": user.email})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    # Only one link per five minutes, so the form cannot flood a mailbox.
    assert len(outbox_for(user.email, "account_confirm")) == 1


def test_register_errors_sit_by_the_fields_and_keep_input(client):
    response = register(client, email="not-an-address", password="short", repeat="other", consent="")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html
    assert 'id="email-error"' in html and 'id="password-error"' in html and 'id="consent-error"' in html
    assert 'value="not-an-address"' in html and 'value="Anna Bērziņa"' in html
    assert 'value="short"' not in html  # passwords are never sent back
    assert user_by_email("not-an-address") is None
