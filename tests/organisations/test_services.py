"""Organisation services without HTTP: registering, groups, editing, members, invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.accounts.models import Membership
from portal.core.audit import AuditEvent
from portal.core.enums import LegalForm, Role
from portal.core.mail import OutboxMessage
from portal.organisations import services
from portal.organisations.models import Invitation, Organisation
from portal.organisations.services import InvitationState, OrganisationError
from tests.factories import UserFactory, municipality, valid_reg_number
from tests.organisations.conftest import add_member, new_org

IBAN = "LV80BANK0000435195001"
OTHER_IBAN = "LV87HABA0551012345678"


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():
        yield


def events(action: str) -> list[AuditEvent]:
    from portal.extensions import db

    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def outbox(template: str) -> list[OutboxMessage]:
    from portal.extensions import db

    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def register(actor, **overrides):
    values = {
        "legal_form": LegalForm.ASSOCIATION,
        "name": "Biedrība Jaunie spārni",
        "reg_number": valid_reg_number(5000),
        "municipality": municipality(),
        "address": "Skolas iela 1, Aizkraukle",
        "email": "info@spārni.example.lv",
        "iban": IBAN,
        "bank_name": "Banka",
    }
    values.update(overrides)
    return services.register_organisation(actor, **values)


# --- registering ------------------------------------------------------------------------------------------


def test_register_makes_the_actor_its_representative(db):
    user = UserFactory()
    org = register(user)
    assert org.id and org.legal_form == LegalForm.ASSOCIATION and org.created_by_id == user.id
    [m] = services.members_of(org)
    assert (m.user_id, m.role, m.is_representative) == (user.id, Role.APPLICANT, True)
    [event] = events("organisation.registered")
    assert event.actor_id == user.id and event.organisation_id == org.id
    assert event.municipality_id == org.municipality_id
    assert IBAN not in (event.after or "") and "5001" in event.after


def test_duplicate_registration_number_is_refused_by_the_field(db):
    existing = new_org()
    with pytest.raises(OrganisationError) as exc:
        register(UserFactory(), reg_number=existing.reg_number)
    assert exc.value.field == "reg_number"
    assert "invite" in exc.value.message


def test_initiative_group_cannot_be_registered_as_an_organisation(db):
    with pytest.raises(OrganisationError):
        register(UserFactory(), legal_form=LegalForm.INITIATIVE_GROUP)


# --- groups -----------------------------------------------------------------------------------------------


def test_member_creates_a_group_represented_by_the_organisation(org, member):
    group = services.create_group(
        member,
        org,
        name="Jaunieši pret PMP",
        municipality=municipality("0044000"),
        members_count=5,
        email="g@x.lv",
    )
    assert group.legal_form == LegalForm.INITIATIVE_GROUP
    assert group.representative_organisation_id == org.id and group.legal_entity is org
    assert group.reg_number is None and group.iban is None and group.group_members_count == 5
    assert services.members_of(group)[0].user_id == member.id
    assert services.groups_of(org) == [group]
    assert events("organisation.group_created")[0].after_data()["group_members_count"] == 5


def test_group_needs_three_young_people(org, member):
    with pytest.raises(OrganisationError) as exc:
        services.create_group(
            member, org, name="G", municipality=municipality(), members_count=2, email="g@x.lv"
        )
    assert exc.value.field == "members_count"


def test_outsider_or_group_cannot_represent_a_group(org, member):
    with pytest.raises(OrganisationError):
        services.create_group(
            UserFactory(), org, name="G", municipality=municipality(), members_count=3, email="g@x.lv"
        )
    group = services.create_group(
        member, org, name="G", municipality=municipality(), members_count=3, email="g@x.lv"
    )
    with pytest.raises(OrganisationError):
        services.create_group(
            member, group, name="G2", municipality=municipality(), members_count=3, email="g@x.lv"
        )


def test_no_column_of_organisations_holds_names_of_young_people(db):
    columns = {c.name for c in Organisation.__table__.columns}
    assert "group_members_count" in columns
    assert not {c for c in columns if "member_name" in c or "participant" in c or "birth" in c}


# --- editing ----------------------------------------------------------------------------------------------


def test_update_changes_only_what_differs_and_audits_it(org, rep):
    changes = services.update_organisation(rep, org, name="Jauns nosaukums", phone="", iban=org.iban)
    assert set(changes) == {"name"}
    [event] = events("organisation.updated")
    assert event.after_data() == {"name": "Jauns nosaukums"}
    assert not events("organisation.iban_changed")


def test_update_refuses_fields_that_are_not_editable(org, rep):
    for field in ("legal_form", "reg_number", "representative_organisation_id"):
        with pytest.raises(TypeError):
            services.update_organisation(rep, org, **{field: "x"})


def test_iban_change_is_masked_in_audit_and_told_to_every_member(org, rep, member):
    old = org.iban
    services.update_organisation(rep, org, iban=OTHER_IBAN)
    [event] = events("organisation.iban_changed")
    assert event.before_data() == {"iban": "…" + old[-4:]}
    assert event.after_data() == {"iban": "…" + OTHER_IBAN[-4:]}
    assert old not in (event.before or "") and OTHER_IBAN not in (event.after or "")
    recipients = {m.recipient for m in outbox("org_iban_changed")}
    assert recipients == {rep.email, member.email, org.email}
    body = outbox("org_iban_changed")[0].body_text
    assert OTHER_IBAN not in body and OTHER_IBAN[-4:] in body


def test_iban_view_is_audited(org, member):
    assert services.record_iban_view(member, org) == org.iban
    [event] = events("organisation.iban_viewed")
    assert (event.actor_id, event.object_id, event.organisation_id) == (member.id, org.id, org.id)


# --- members ----------------------------------------------------------------------------------------------


def _membership(user, org) -> Membership:
    return next(m for m in services.members_of(org) if m.user_id == user.id)


def test_last_representative_cannot_be_removed(org, rep):
    with pytest.raises(OrganisationError):
        services.remove_member(rep, _membership(rep, org))


def test_representative_removes_a_member(org, rep, member):
    services.remove_member(rep, _membership(member, org))
    assert [m.user_id for m in services.members_of(org)] == [rep.id]
    assert events("membership.removed")[0].before_data()["user_id"] == member.id


def test_make_representative_then_the_first_may_leave(org, rep, member):
    services.make_representative(rep, _membership(member, org))
    assert _membership(member, org).is_representative
    services.remove_member(rep, _membership(rep, org))
    assert [m.user_id for m in services.representatives_of(org)] == [member.id]
    assert len(events("membership.representative_granted")) == 1


# --- invitations ------------------------------------------------------------------------------------------


def test_invitation_stores_only_the_token_hash_and_mails_the_link(org, rep, app):
    invitation, token = services.invite_member(rep, org, "Jauns@Example.lv")
    assert invitation.token_hash == services.hash_token(token) and token not in invitation.token_hash
    assert invitation.expires_at - invitation.created_at == app.config["TOKEN_LIFETIME_INVITE"]
    [message] = outbox("org_invitation")
    assert message.recipient == "Jauns@Example.lv"
    assert f"https://localhost/organisations/invitations/{token}" in message.body_text
    assert message.locale == rep.locale
    assert services.find_invitation(token) is invitation
    assert events("invitation.created")[0].organisation_id == org.id


def test_invitation_is_in_the_invitees_language_if_they_have_an_account(org, rep):
    UserFactory(email="anna@example.lv", locale="en")
    services.invite_member(rep, org, "ANNA@example.lv")
    [message] = outbox("org_invitation")
    assert message.locale == "en"
    assert message.subject.startswith("Invitation to join")


def test_existing_member_cannot_be_invited(org, rep, member):
    with pytest.raises(OrganisationError) as exc:
        services.invite_member(rep, org, member.email.upper())
    assert exc.value.field == "email"


def test_reinviting_revokes_the_earlier_link(org, rep):
    first, _ = services.invite_member(rep, org, "a@example.lv")
    second, _ = services.invite_member(rep, org, "A@example.lv")
    assert services.invitation_state(first) == InvitationState.REVOKED
    assert services.pending_invitations(org) == [second]


def test_accepting_makes_an_applicant_member_and_tells_the_representatives(org, rep):
    invitation, _ = services.invite_member(rep, org, "Anna@Example.lv")
    anna = UserFactory(email="anna@example.lv")
    membership = services.accept_invitation(anna, invitation)
    assert (membership.role, membership.is_representative, membership.organisation_id) == (
        Role.APPLICANT,
        False,
        org.id,
    )
    assert services.invitation_state(invitation) == InvitationState.ACCEPTED
    assert invitation.accepted_by_id == anna.id
    assert [m.recipient for m in outbox("org_member_added")] == [rep.email]
    assert events("invitation.accepted")[0].actor_id == anna.id
    with pytest.raises(OrganisationError):
        services.accept_invitation(anna, invitation)  # used


def test_accepting_with_another_account_is_refused(org, rep):
    invitation, _ = services.invite_member(rep, org, "anna@example.lv")
    with pytest.raises(OrganisationError):
        services.accept_invitation(UserFactory(email="peteris@example.lv"), invitation)
    assert services.invitation_state(invitation) == InvitationState.PENDING


def test_expired_and_revoked_invitations_cannot_be_accepted(org, rep, app):
    invitation, _ = services.invite_member(rep, org, "anna@example.lv")
    anna = UserFactory(email="anna@example.lv")
    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        assert services.invitation_state(invitation) == InvitationState.EXPIRED
        with pytest.raises(OrganisationError):
            services.accept_invitation(anna, invitation)
    services.revoke_invitation(rep, invitation)
    assert services.invitation_state(invitation) == InvitationState.REVOKED
    with pytest.raises(OrganisationError):
        services.accept_invitation(anna, invitation)
    with pytest.raises(OrganisationError):
        services.revoke_invitation(rep, invitation)
    assert len(events("invitation.revoked")) == 1


def test_unknown_token_finds_nothing(db):
    assert services.find_invitation("nope") is None
    assert services.find_invitation("") is None
    assert services.find_invitation("x" * 500) is None


def test_invitations_table_keeps_no_token(db):
    assert "token" not in {c.name for c in Invitation.__table__.columns}


def test_members_of_group_and_organisation_are_separate(org, member):
    group = services.create_group(
        member, org, name="G", municipality=municipality(), members_count=4, email="g@x.lv"
    )
    other = add_member(org)
    assert other.id not in {m.user_id for m in services.members_of(group)}
