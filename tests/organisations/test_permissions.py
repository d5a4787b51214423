"""Who sees and changes an organisation: the predicates, then the same matrix over HTTP."""

from __future__ import annotations

import pytest

from portal.organisations import permissions, services
from tests.factories import (
    UserFactory,
    applicant,
    coordinator,
    evaluator,
    municipality,
    national_admin,
)
from tests.organisations.conftest import add_member, new_org

# persona → (view, edit/invite, full IBAN)
MATRIX = {
    "representative": (True, True, True),
    "member": (True, False, True),
    "other_org_member": (False, False, False),
    "coordinator_same": (True, False, False),
    "coordinator_other": (False, False, False),
    "evaluator_same": (False, False, False),
    "national_admin": (True, False, False),
    "no_role": (False, False, False),
}


def persona(name: str, org):
    if name == "representative":
        return add_member(org, representative=True)
    if name == "member":
        return add_member(org)
    if name == "other_org_member":
        return applicant(new_org())
    if name == "coordinator_same":
        return coordinator(org.municipality)
    if name == "coordinator_other":
        return coordinator(municipality("0044000"))
    if name == "evaluator_same":
        return evaluator(org.municipality)
    if name == "national_admin":
        return national_admin()
    return UserFactory()


@pytest.mark.parametrize("name", MATRIX)
def test_predicates(name, org):
    user = persona(name, org)
    view, edit, iban = MATRIX[name]
    assert permissions.can_view_organisation(user, org) is view
    assert permissions.can_edit_organisation(user, org) is edit
    assert permissions.can_invite(user, org) is edit
    assert permissions.can_manage_members(user, org) is edit
    assert permissions.can_view_full_iban(user, org) is iban


def test_anonymous_has_no_rights(org):
    from flask_login import AnonymousUserMixin

    anonymous = AnonymousUserMixin()
    assert not permissions.can_view_organisation(anonymous, org)
    assert not permissions.can_edit_organisation(anonymous, org)
    assert not permissions.can_view_full_iban(anonymous, org)
    assert not permissions.can_create_group(anonymous, org)


def test_group_rights(app, org):
    creator = add_member(org)
    with app.test_request_context():
        group = services.create_group(
            creator, org, name="G", municipality=org.municipality, members_count=3, email="g@x.lv"
        )
    org_rep = add_member(org, representative=True)
    org_member = add_member(org)
    # The creator runs the group; the representative organisation's representatives may too.
    assert permissions.can_edit_organisation(creator, group)
    assert permissions.can_edit_organisation(org_rep, group)
    assert not permissions.can_edit_organisation(org_member, group)
    # The representative organisation's members see the group; outsiders do not.
    assert permissions.can_view_organisation(org_member, group)
    assert not permissions.can_view_organisation(applicant(new_org()), group)
    # A group has no account of its own and cannot represent another group.
    assert not permissions.can_view_full_iban(creator, group)
    assert not permissions.can_create_group(creator, group)
    assert permissions.can_create_group(org_member, org)


# --- the same matrix over HTTP: what is not yours is a 404 ---------------------------------------------

HTTP_PERSONAS = [
    "representative",
    "member",
    "other_org_member",
    "coordinator_same",
    "coordinator_other",
    "national_admin",
    "no_role",
]


@pytest.mark.parametrize("name", HTTP_PERSONAS)
def test_http_matrix(name, client, login_as, org):
    from tests.helpers import csrf_token

    keeper = add_member(org, representative=True)  # so "remove" never meets the last-representative rule
    target = add_member(org)
    target_membership = next(m for m in services.members_of(org) if m.user_id == target.id)
    user = persona(name, org)
    login_as(user)
    view, edit, iban = MATRIX[name]
    token = csrf_token(client, "/organisations/")

    def expect(allowed: bool, response, ok=(200, 302)):
        assert (response.status_code in ok) if allowed else response.status_code == 404, response.status_code

    page = client.get(f"/organisations/{org.id}")
    expect(view, page)
    if not view:
        assert org.name not in page.get_data(as_text=True)
        assert org.reg_number not in page.get_data(as_text=True)
    expect(edit, client.get(f"/organisations/{org.id}/edit"))
    expect(edit, client.get(f"/organisations/{org.id}/invite"))
    expect(iban, client.post(f"/organisations/{org.id}/iban", data={"csrf_token": token}))
    expect(name in ("representative", "member"), client.get(f"/organisations/{org.id}/groups/new"))
    expect(
        edit,
        client.post(
            f"/organisations/{org.id}/members/{target_membership.id}/representative",
            data={"csrf_token": token},
        ),
    )
    expect(
        edit,
        client.post(
            f"/organisations/{org.id}/members/{target_membership.id}/remove", data={"csrf_token": token}
        ),
    )
    remaining = {m.user_id for m in services.members_of(org)}
    assert (target.id in remaining) is not edit
    assert keeper.id in remaining


def test_http_anonymous_goes_to_login(client, org):
    for path in (
        f"/organisations/{org.id}",
        f"/organisations/{org.id}/edit",
        f"/organisations/{org.id}/invite",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    response = client.post(f"/organisations/{org.id}/iban")
    assert response.status_code in (302, 400)
