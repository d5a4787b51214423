"""Organisation pages over HTTP: register, groups, details, IBAN, edit, members, invitations."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
import time_machine

from portal.accounts.models import Membership
from portal.core.audit import AuditEvent
from portal.core.enums import LegalForm, Role
from portal.core.mail import OutboxMessage
from portal.extensions import db as _db
from portal.organisations import services
from portal.organisations.models import Invitation, Organisation
from tests.factories import UserFactory, municipality, valid_reg_number
from tests.helpers import csrf_token
from tests.organisations.conftest import add_member, new_org

NEW_IBAN = "LV87HABA0551012345678"


def audit(action: str) -> list[AuditEvent]:
    return list(_db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def queued(template: str) -> list[OutboxMessage]:
    return list(_db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def field_error(html: str, field: str) -> str:
    """Return the text of the error shown next to a field ('' if none)."""
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)) if match else ""


def org_form(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "legal_form": "youth_organisation",
        "name": "Jauniešu organizācija Zvaigzne",
        "reg_number": "  " + valid_reg_number(7000)[:4] + " " + valid_reg_number(7000)[4:],
        "municipality": "0044000",
        "address": "Rīgas iela 5, Ropaži",
        "email": "zvaigzne@example.lv",
        "phone": "+371 20000000",
        "website": "zvaigzne.example.lv",
        "bank_name": "Swedbank",
        "iban": "lv80 bank 0000 4351 9500 1",
    }
    data.update(overrides)
    return data


# --- register ---------------------------------------------------------------------------------------------


def test_register_an_organisation(client, login_as):
    user = UserFactory()
    login_as(user)
    page = client.get("/organisations/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="youth_organisation"' in html and 'value="initiative_group"' not in html
    token = csrf_token(client, "/organisations/new")
    response = client.post(
        "/organisations/new",
        data=org_form(token, municipality_id="1", is_representative="n", created_by_id="999"),
    )
    assert response.status_code == 302
    org = _db.session.scalars(sa.select(Organisation).where(Organisation.name.like("%Zvaigzne"))).one()
    assert response.headers["Location"].endswith(f"/organisations/{org.id}")
    assert org.reg_number == valid_reg_number(7000)
    assert org.iban == "LV80BANK0000435195001"
    assert org.website == "https://zvaigzne.example.lv"
    assert org.municipality.code == "0044000"  # the select, not the posted municipality_id
    assert org.legal_form == LegalForm.YOUTH_ORGANISATION and org.created_by_id == user.id
    [m] = services.members_of(org)
    assert m.user_id == user.id and m.is_representative
    assert len(audit("organisation.registered")) == 1
    listing = client.get("/organisations/").get_data(as_text=True)
    assert "Zvaigzne" in listing


def test_register_errors_sit_by_their_fields_and_keep_values(client, login_as):
    login_as(UserFactory())
    token = csrf_token(client, "/organisations/new")
    response = client.post(
        "/organisations/new",
        data=org_form(token, reg_number="161175-19997", iban="DE89370400440532013000", email="nav-epasts"),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert "personal code" in field_error(html, "reg_number")
    assert "not a Latvian bank account" in field_error(html, "iban")
    assert 'id="email-error"' in html
    assert 'value="Jauniešu organizācija Zvaigzne"' in html  # kept
    assert 'value="DE89370400440532013000"' in html
    assert (
        _db.session.scalar(
            sa.select(sa.func.count()).select_from(Organisation).where(Organisation.name.like("%Zvaigzne"))
        )
        == 0
    )


def test_duplicate_registration_number_message_by_the_field(client, login_as):
    existing = new_org()
    login_as(UserFactory())
    token = csrf_token(client, "/organisations/new")
    response = client.post("/organisations/new", data=org_form(token, reg_number=existing.reg_number))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "already registered" in field_error(html, "reg_number")


def test_initiative_group_cannot_be_posted_as_legal_form(client, login_as):
    login_as(UserFactory())
    token = csrf_token(client, "/organisations/new")
    response = client.post("/organisations/new", data=org_form(token, legal_form="initiative_group"))
    assert response.status_code == 200
    assert 'id="legal_form-error"' in response.get_data(as_text=True)


def test_unconfirmed_user_is_told_to_confirm(client, login_as):
    user = UserFactory()
    login_as(user)
    user.email_confirmed_at = None
    _db.session.flush()
    response = client.get("/organisations/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/organisations/")


def test_anonymous_is_sent_to_log_in(client, org):
    for path in (
        "/organisations/",
        "/organisations/new",
        f"/organisations/{org.id}",
        f"/organisations/{org.id}/edit",
    ):
        response = client.get(path)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


# --- groups -----------------------------------------------------------------------------------------------


def test_member_starts_a_group(client, login_as, org, member):
    login_as(member)
    token = csrf_token(client, f"/organisations/{org.id}/groups/new")
    response = client.post(
        f"/organisations/{org.id}/groups/new",
        data={
            "csrf_token": token,
            "name": "Skolas jaunieši",
            "municipality": "0020000",
            "members_count": "7",
            "email": "grupa@example.lv",
            "reg_number": "40003521600",
            "iban": "LV80BANK0000435195001",
            "member_names": "Jānis, Anna",
        },
    )
    assert response.status_code == 302
    group = _db.session.scalars(sa.select(Organisation).where(Organisation.name == "Skolas jaunieši")).one()
    assert group.legal_form == LegalForm.INITIATIVE_GROUP and group.representative_organisation_id == org.id
    assert group.reg_number is None and group.iban is None and group.group_members_count == 7
    page = client.get(f"/organisations/{group.id}").get_data(as_text=True)
    assert org.name in page and org.masked_iban in page
    assert "Skolas jaunieši" in client.get(f"/organisations/{org.id}").get_data(as_text=True)


@pytest.mark.parametrize("count", ["2", "0", "-5", "trīs", "", "1e3", "99999999999999999999"])
def test_group_count_must_be_a_whole_number_of_at_least_three(client, login_as, org, member, count):
    login_as(member)
    token = csrf_token(client, f"/organisations/{org.id}/groups/new")
    response = client.post(
        f"/organisations/{org.id}/groups/new",
        data={
            "csrf_token": token,
            "name": "G",
            "municipality": "0020000",
            "members_count": count,
            "email": "g@x.lv",
        },
    )
    assert response.status_code == 200
    assert 'id="members_count-error"' in response.get_data(as_text=True)


def test_outsider_cannot_start_a_group_for_an_organisation(client, login_as, org):
    login_as(UserFactory())
    assert client.get(f"/organisations/{org.id}/groups/new").status_code == 404


# --- show, full IBAN --------------------------------------------------------------------------------------


def test_page_masks_iban_and_lists_members(client, login_as, org, rep, member):
    login_as(member)
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert org.masked_iban in html and org.iban not in html
    assert member.email in html and rep.email in html
    assert "Show the full account number" in html
    assert f"/organisations/{org.id}/edit" not in html  # not a representative


def test_full_iban_is_shown_once_and_audited(client, login_as, org, member):
    login_as(member)
    token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(f"/organisations/{org.id}/iban", data={"csrf_token": token})
    assert response.status_code == 200
    assert org.iban in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    [event] = audit("organisation.iban_viewed")
    assert event.actor_id == member.id and event.object_id == org.id
    assert org.iban not in client.get(f"/organisations/{org.id}").get_data(as_text=True)


def test_full_iban_needs_csrf(client, login_as, org, member):
    login_as(member)
    response = client.post(f"/organisations/{org.id}/iban", data={})
    assert response.status_code == 400
    assert not audit("organisation.iban_viewed")


def test_coordinator_sees_only_the_masked_iban(client, login_as, org):
    from tests.factories import coordinator

    login_as(coordinator(org.municipality))
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert org.masked_iban in html and "Show the full account number" not in html
    token = csrf_token(client, f"/organisations/{org.id}")
    assert client.post(f"/organisations/{org.id}/iban", data={"csrf_token": token}).status_code == 404


# --- edit -------------------------------------------------------------------------------------------------


def edit_form(client, org, **overrides) -> dict:
    token = csrf_token(client, f"/organisations/{org.id}/edit")
    data = {
        "csrf_token": token,
        "name": org.name,
        "municipality": org.municipality.code,
        "address": org.address,
        "email": org.email,
        "phone": org.phone or "",
        "website": org.website or "",
        "bank_name": org.bank_name or "Banka",
        "iban": org.iban,
    }
    data.update(overrides)
    return data


def test_representative_edits_and_extra_fields_are_ignored(client, login_as, org, rep):
    org.bank_name = "Banka"
    login_as(rep)
    old_reg = org.reg_number
    data = edit_form(
        client,
        org,
        name="Jaunais vārds",
        legal_form="foundation",
        reg_number="40003521600",
        municipality_id=str(municipality("0044000").id),
        is_representative="y",
        created_by_id="1",
    )
    response = client.post(f"/organisations/{org.id}/edit", data=data)
    assert response.status_code == 302
    _db.session.refresh(org)
    assert org.name == "Jaunais vārds"
    assert org.legal_form == LegalForm.ASSOCIATION and org.reg_number == old_reg
    assert org.municipality.code == "0020000"
    assert audit("organisation.updated")[0].after_data() == {"name": "Jaunais vārds"}


def test_member_cannot_edit(client, login_as, org, member):
    login_as(member)
    assert client.get(f"/organisations/{org.id}/edit").status_code == 404
    token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(f"/organisations/{org.id}/edit", data={"csrf_token": token, "name": "X"})
    assert response.status_code == 404
    _db.session.refresh(org)
    assert org.name != "X"


def test_iban_change_needs_the_password(client, login_as, org, rep):
    login_as(rep)
    old = org.iban
    response = client.post(f"/organisations/{org.id}/edit", data=edit_form(client, org, iban=NEW_IBAN))
    assert response.status_code == 200
    assert 'id="current_password-error"' in response.get_data(as_text=True)
    _db.session.refresh(org)
    assert org.iban == old


def test_iban_change_is_audited_masked_and_mailed_to_every_member(client, login_as, org, rep, member, outbox):
    from tests.factories import PASSWORD

    login_as(rep)
    old = org.iban
    data = edit_form(client, org, iban=NEW_IBAN.lower(), current_password=PASSWORD)
    response = client.post(f"/organisations/{org.id}/edit", data=data)
    assert response.status_code == 302
    _db.session.refresh(org)
    assert org.iban == NEW_IBAN
    [event] = audit("organisation.iban_changed")
    assert event.before_data() == {"iban": "…" + old[-4:]} and event.after_data() == {
        "iban": "…" + NEW_IBAN[-4:]
    }
    assert {m.recipient for m in queued("org_iban_changed")} >= {rep.email, member.email}
    assert {r for message in outbox for r in message.recipients} >= {rep.email, member.email}


def test_group_edit_form_has_no_bank_fields(client, login_as, org, member, app):
    with app.test_request_context():
        group = services.create_group(
            member, org, name="G", municipality=org.municipality, members_count=3, email="g@x.lv"
        )
    _db.session.flush()
    login_as(member)
    html = client.get(f"/organisations/{group.id}/edit").get_data(as_text=True)
    assert 'name="iban"' not in html and 'name="members_count"' in html
    token = csrf_token(client, f"/organisations/{group.id}/edit")
    response = client.post(
        f"/organisations/{group.id}/edit",
        data={
            "csrf_token": token,
            "name": "G2",
            "municipality": org.municipality.code,
            "members_count": "12",
            "email": "g@x.lv",
            "iban": NEW_IBAN,
            "legal_form": "association",
        },
    )
    assert response.status_code == 302
    _db.session.refresh(group)
    assert (group.name, group.group_members_count, group.iban) == ("G2", 12, None)
    assert group.legal_form == LegalForm.INITIATIVE_GROUP


# --- members ----------------------------------------------------------------------------------------------


def _mid(user, org) -> int:
    return next(m.id for m in services.members_of(org) if m.user_id == user.id)


def test_representative_manages_members(client, login_as, org, rep, member):
    login_as(rep)
    token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(
        f"/organisations/{org.id}/members/{_mid(member, org)}/representative", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert all(m.is_representative for m in services.members_of(org))
    response = client.post(
        f"/organisations/{org.id}/members/{_mid(member, org)}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert [m.user_id for m in services.members_of(org)] == [rep.id]
    # The last representative stays.
    response = client.post(
        f"/organisations/{org.id}/members/{_mid(rep, org)}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert [m.user_id for m in services.members_of(org)] == [rep.id]
    assert "last representative" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_membership_of_another_organisation_is_404(client, login_as, org, rep):
    other = new_org()
    stranger = add_member(other)
    login_as(rep)
    token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(
        f"/organisations/{org.id}/members/{_mid(stranger, other)}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert stranger.id in {m.user_id for m in services.members_of(other)}


def test_member_cannot_remove_others(client, login_as, org, rep, member):
    login_as(member)
    token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(
        f"/organisations/{org.id}/members/{_mid(rep, org)}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert len(services.members_of(org)) == 2


# --- invitations ------------------------------------------------------------------------------------------


def invite(client, org, email: str):
    token = csrf_token(client, f"/organisations/{org.id}/invite")
    return client.post(f"/organisations/{org.id}/invite", data={"csrf_token": token, "email": email})


def link_of(message: OutboxMessage) -> str:
    return re.search(r"https://localhost(/organisations/invitations/\S+)", message.body_text).group(1)


def test_invite_and_accept(client, login_as, org, rep, outbox):
    login_as(rep)
    response = invite(client, org, "anna@example.lv")
    assert response.status_code == 302
    [message] = queued("org_invitation")
    path = link_of(message)
    assert "anna@example.lv" in client.get(f"/organisations/{org.id}").get_data(as_text=True)  # pending

    client.post("/account/logout", data={"csrf_token": csrf_token(client, f"/organisations/{org.id}")})
    anonymous = client.get(path)
    assert anonymous.status_code == 200
    html = anonymous.get_data(as_text=True)
    hrefs = {unquote(h.replace("&amp;", "&")) for h in re.findall(r'href="([^"]+)"', html)}
    assert f"/account/login?next={path}" in hrefs
    assert f"/account/register?next={path}" in hrefs

    anna = UserFactory(email="Anna@Example.lv")
    login_as(anna)
    page = client.get(path)
    assert "Accept the invitation" in page.get_data(as_text=True)
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organisations/{org.id}")
    m = _db.session.scalars(sa.select(Membership).where(Membership.user_id == anna.id)).one()
    assert (m.role, m.organisation_id, m.is_representative) == (Role.APPLICANT, org.id, False)
    assert [q.recipient for q in queued("org_member_added")] == [rep.email]
    assert "already been used" in client.get(path).get_data(as_text=True)


def test_invitation_opened_with_another_account(client, login_as, org, rep):
    with client.application.test_request_context():
        _invitation, token = services.invite_member(rep, org, "anna@example.lv")
    login_as(UserFactory(email="peteris@example.lv"))
    path = f"/organisations/invitations/{token}"
    assert "different e-mail address" in client.get(path).get_data(as_text=True)
    form_token = csrf_token(client, "/organisations/")
    client.post(path, data={"csrf_token": form_token})
    assert _db.session.scalar(sa.select(Invitation.accepted_at)) is None


def test_expired_and_revoked_invitations_explain(client, login_as, org, rep):
    with client.application.test_request_context():
        invitation, token = services.invite_member(rep, org, "anna@example.lv")
    path = f"/organisations/invitations/{token}"
    with time_machine.travel(invitation.expires_at + timedelta(minutes=1), tick=False):
        assert "expired" in client.get(path).get_data(as_text=True)
    login_as(rep)
    form_token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(
        f"/organisations/{org.id}/invitations/{invitation.id}/revoke", data={"csrf_token": form_token}
    )
    assert response.status_code == 302
    assert "withdrawn" in client.get(path).get_data(as_text=True)
    assert len(audit("invitation.revoked")) == 1


def test_unknown_invitation_is_404(client):
    assert client.get("/organisations/invitations/not-a-token").status_code == 404


def test_only_representatives_invite(client, login_as, org, member):
    login_as(member)
    assert client.get(f"/organisations/{org.id}/invite").status_code == 404
    token = csrf_token(client, f"/organisations/{org.id}")
    response = client.post(
        f"/organisations/{org.id}/invite", data={"csrf_token": token, "email": "x@example.lv"}
    )
    assert response.status_code == 404
    assert not queued("org_invitation")


def test_inviting_a_member_again_is_an_error_by_the_field(client, login_as, org, rep, member):
    login_as(rep)
    response = invite(client, org, member.email)
    assert response.status_code == 200
    assert "already a member" in field_error(response.get_data(as_text=True), "email")


def test_last_representative_has_no_remove_button(client, login_as, org, rep, member):
    login_as(rep)
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert f"/members/{_mid(rep, org)}/remove" not in html
    assert f"/members/{_mid(member, org)}/remove" in html


def test_user_text_is_escaped_and_only_web_links_are_links(client, login_as, org, member):
    org.name = '<script>alert(1)</script>"><img src=x onerror=alert(1)>{{7*7}}'
    org.website = "javascript:alert(1)"
    _db.session.flush()
    login_as(member)
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "{{7*7}}" in html  # shown literally, never evaluated
    assert 'href="javascript:' not in html
