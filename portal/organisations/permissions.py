"""Who may do what with an organisation (STYLE "Permissions").

Every predicate answers for one user and one organisation. Views turn a "no" into 404, so nobody
learns that someone else's organisation exists.
"""

from __future__ import annotations

from portal.accounts.models import Membership
from portal.core.enums import Role
from portal.organisations.models import Organisation


def _membership(user, org: Organisation | None) -> Membership | None:
    if org is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    for m in user.memberships:
        if m.role == Role.APPLICANT and m.organisation_id == org.id:
            return m
    return None


def is_member(user, org: Organisation | None) -> bool:
    """Say whether the user is a member of the organisation (any member, representative or not)."""
    return _membership(user, org) is not None


def is_representative(user, org: Organisation | None) -> bool:
    """Say whether the user is one of the organisation's representatives."""
    m = _membership(user, org)
    return m is not None and m.is_representative


def can_view_organisation(user, org: Organisation) -> bool:
    """Allow members, the members of a group's representative organisation, national administrators
    and coordinators of the organisation's municipality to see it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_member(user, org):
        return True
    if org.is_initiative_group and is_member(user, org.representative_organisation):
        return True
    if user.is_national_admin:
        return True
    return org.municipality_id in user.coordinated_municipality_ids()


def can_edit_organisation(user, org: Organisation) -> bool:
    """Allow representatives to change the details; a group's representative organisation's
    representatives too, because that organisation signs for the group."""
    if is_representative(user, org):
        return True
    return org.is_initiative_group and is_representative(user, org.representative_organisation)


def can_invite(user, org: Organisation) -> bool:
    """Allow those who may edit the organisation to invite members to it."""
    return can_edit_organisation(user, org)


def can_manage_members(user, org: Organisation) -> bool:
    """Allow those who may edit the organisation to remove members, revoke invitations and name
    representatives."""
    return can_edit_organisation(user, org)


def can_view_full_iban(user, org: Organisation) -> bool:
    """Allow the members (representatives included) of the organisation that owns the account.

    A group has no account of its own: its representative organisation's account is shown masked.
    """
    return not org.is_initiative_group and is_member(user, org)


def can_create_group(user, org: Organisation) -> bool:
    """Allow any member of a registered organisation to start a youth initiative group it represents."""
    return not org.is_initiative_group and is_member(user, org)
