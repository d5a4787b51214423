"""Use cases of organisations: registering, youth initiative groups, editing, members and invitations.

Every function takes the acting user, changes data, flushes, writes the audit trail and queues the
e-mails; none commits or reads the request (STYLE "Service layer").
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Membership, User
from portal.core import audit
from portal.core.enums import REGISTERED_LEGAL_FORMS, LegalForm, Role
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.organisations.models import Invitation, Organisation
from portal.organisations.validators import mask_iban_for_audit

MIN_GROUP_MEMBERS = 3
EDITABLE_FIELDS = ("name", "municipality_id", "address", "email", "phone", "website", "bank_name", "iban")
GROUP_EDITABLE_FIELDS = ("name", "municipality_id", "email", "group_members_count")


class OrganisationError(WorkflowError):
    """A rule forbids the change; `field` names the form field the message belongs to, if any."""


# --- queries -----------------------------------------------------------------------------------------


def members_of(org: Organisation) -> list[Membership]:
    """Return the organisation's memberships, representatives first, then by name."""
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(User, Membership.user_id == User.id)
            .where(Membership.organisation_id == org.id, Membership.role == Role.APPLICANT)
            .order_by(Membership.is_representative.desc(), User.full_name, User.id)
        )
    )


def representatives_of(org: Organisation) -> list[Membership]:
    return [m for m in members_of(org) if m.is_representative]


def organisations_of(user: User) -> list[Membership]:
    """Return the user's organisation memberships, by organisation name."""
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(Organisation, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id, Membership.role == Role.APPLICANT)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def find_by_reg_number(reg_number: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.reg_number == reg_number))


def groups_of(org: Organisation) -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.representative_organisation_id == org.id)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def pending_invitations(org: Organisation) -> list[Invitation]:
    """Return invitations not yet accepted, revoked or expired, newest first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def _scope(org: Organisation) -> dict:
    return {"organisation_id": org.id, "municipality_id": org.municipality_id}


def _membership_of(user: User, org: Organisation) -> Membership | None:
    return db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == org.id,
            Membership.role == Role.APPLICANT,
        )
    )


def _add_member(
    user: User, org: Organisation, *, representative: bool, granted_by: User | None
) -> Membership:
    membership = Membership(
        user=user,
        role=Role.APPLICANT,
        organisation=org,
        is_representative=representative,
        granted_by_id=granted_by.id if granted_by is not None else None,
    )
    db.session.add(membership)
    return membership


# --- registering ---------------------------------------------------------------------------------------


def register_organisation(
    actor: User,
    *,
    legal_form: LegalForm,
    name: str,
    reg_number: str,
    municipality: Municipality,
    email: str,
    address: str = "",
    phone: str | None = None,
    website: str | None = None,
    bank_name: str | None = None,
    iban: str | None = None,
) -> Organisation:
    """Register a youth organisation, association or foundation; the actor becomes its representative.

    The registration number is unique: a second registration is refused with a pointer to the
    existing representatives, because the way in is an invitation, not a duplicate organisation.
    """
    legal_form = LegalForm(legal_form)
    if legal_form not in REGISTERED_LEGAL_FORMS:
        raise OrganisationError(str(_l("Choose the organisation's legal form.")), field="legal_form")
    if find_by_reg_number(reg_number) is not None:
        raise OrganisationError(_duplicate_message(), field="reg_number")
    org = Organisation(
        legal_form=legal_form,
        name=name,
        reg_number=reg_number,
        municipality_id=municipality.id,
        address=address or "",
        email=email,
        phone=phone or None,
        website=website or None,
        bank_name=bank_name or None,
        iban=iban or None,
        created_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(org)
            db.session.flush()
    except IntegrityError:  # registered by someone else a moment ago
        raise OrganisationError(_duplicate_message(), field="reg_number") from None
    _add_member(actor, org, representative=True, granted_by=actor)
    audit.record(
        "organisation.registered",
        actor=actor,
        obj=org,
        after={
            "name": org.name,
            "legal_form": org.legal_form,
            "reg_number": org.reg_number,
            "municipality_id": org.municipality_id,
            "iban": mask_iban_for_audit(org.iban),
        },
        **_scope(org),
    )
    db.session.flush()
    return org


def _duplicate_message() -> str:
    return str(
        _l(
            "An organisation with this registration number is already registered. Ask its "
            "representative to invite you to it."
        )
    )


def create_group(
    actor: User,
    representative: Organisation,
    *,
    name: str,
    municipality: Municipality,
    members_count: int,
    email: str,
) -> Organisation:
    """Start a youth initiative group represented by a registered organisation the actor belongs to.

    The group stores only how many young people it has, never who they are (DESIGN §6); it has no
    registration number or account of its own: its representative's are used.
    """
    from portal.organisations.permissions import can_create_group

    if not can_create_group(actor, representative):
        raise OrganisationError(
            str(_l("Only a member of a registered organisation can start a group for it."))
        )
    if members_count is None or int(members_count) < MIN_GROUP_MEMBERS:
        raise OrganisationError(
            str(_l("A youth initiative group has at least %(n)d young people.", n=MIN_GROUP_MEMBERS)),
            field="members_count",
        )
    group = Organisation(
        legal_form=LegalForm.INITIATIVE_GROUP,
        name=name,
        municipality_id=municipality.id,
        email=email,
        address="",
        representative_organisation_id=representative.id,
        group_members_count=int(members_count),
        created_by_id=actor.id,
    )
    db.session.add(group)
    db.session.flush()
    # The creator runs the group day to day; the representative organisation still signs for it.
    _add_member(actor, group, representative=True, granted_by=actor)
    audit.record(
        "organisation.group_created",
        actor=actor,
        obj=group,
        after={
            "name": group.name,
            "representative_organisation_id": representative.id,
            "group_members_count": group.group_members_count,
            "municipality_id": group.municipality_id,
        },
        **_scope(group),
    )
    db.session.flush()
    return group


# --- editing -------------------------------------------------------------------------------------------


def update_organisation(
    actor: User, org: Organisation, *, totp_step: int | None = None, **values
) -> dict[str, tuple]:
    """Change the editable details; return {field: (before, after)} of what changed.

    Only the whitelisted fields can change (never the legal form, registration number or members).
    A new bank account is audited with both accounts masked and announced to every member, so a
    hijacked account cannot quietly redirect a grant (QUALITY B6). `totp_step` is the time step of
    the code the actor re-authenticated with: it is marked used so the code cannot be replayed.
    """
    if totp_step is not None:
        actor.totp_last_step = max(totp_step, actor.totp_last_step or 0)
    allowed = GROUP_EDITABLE_FIELDS if org.is_initiative_group else EDITABLE_FIELDS
    changes: dict[str, tuple] = {}
    for field, value in values.items():
        if field not in allowed:
            raise TypeError(f"{field} cannot be changed here")
        if field in ("phone", "website", "bank_name", "iban") and not value:
            value = None
        if field == "address" and value is None:
            value = ""
        before = getattr(org, field)
        if before != value:
            changes[field] = (before, value)
            setattr(org, field, value)
    if not changes:
        return changes
    db.session.flush()
    plain = {f: c for f, c in changes.items() if f != "iban"}
    if plain:
        audit.record(
            "organisation.updated",
            actor=actor,
            obj=org,
            before={f: b for f, (b, _a) in plain.items()},
            after={f: a for f, (_b, a) in plain.items()},
            **_scope(org),
        )
    if "iban" in changes:
        old, new = changes["iban"]
        audit.record(
            "organisation.iban_changed",
            actor=actor,
            obj=org,
            before={"iban": mask_iban_for_audit(old)},
            after={"iban": mask_iban_for_audit(new)},
            **_scope(org),
        )
        _announce_iban_change(actor, org, old, new)
    return changes


def _announce_iban_change(actor: User, org: Organisation, old: str | None, new: str | None) -> None:
    recipients: dict[str, str] = {}
    for m in members_of(org):
        recipients.setdefault(m.user.email.lower(), m.user.locale)
    recipients.setdefault(org.email.lower(), actor.locale)
    for address, locale in recipients.items():
        queue_email(
            address,
            "org_iban_changed",
            locale=locale,
            organisation=org,
            actor=actor,
            old_iban=mask_iban_for_audit(old),
            new_iban=mask_iban_for_audit(new),
            changed_at=utcnow(),
            url=public_url("organisations.show_organisation", org_id=org.id),
        )


def record_iban_view(actor: User, org: Organisation) -> str:
    """Record that the actor displayed the full bank account (QUALITY F5) and return it."""
    audit.record("organisation.iban_viewed", actor=actor, obj=org, **_scope(org))
    db.session.flush()
    return org.iban or ""


# --- members -------------------------------------------------------------------------------------------


def remove_member(actor: User, membership: Membership) -> None:
    """Remove a member; an organisation never loses its last representative."""
    org = membership.organisation
    if membership.is_representative and len(representatives_of(org)) <= 1:
        raise OrganisationError(
            str(_l("The last representative cannot be removed. First make another member a representative."))
        )
    user = membership.user
    audit.record(
        "membership.removed",
        actor=actor,
        object_type="memberships",
        object_id=membership.id,
        before={"user_id": user.id, "is_representative": membership.is_representative},
        **_scope(org),
    )
    db.session.delete(membership)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    db.session.expire(org, ["memberships"])


def make_representative(actor: User, membership: Membership) -> None:
    """Make a member one of the organisation's representatives."""
    if membership.is_representative:
        return
    membership.is_representative = True
    membership.granted_by_id = actor.id
    audit.record(
        "membership.representative_granted",
        actor=actor,
        object_type="memberships",
        object_id=membership.id,
        before={"is_representative": False},
        after={"is_representative": True, "user_id": membership.user_id},
        **_scope(membership.organisation),
    )
    db.session.flush()


# --- invitations ---------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_url(endpoint: str, **values) -> str:
    """Build an absolute link for an e-mail from PUBLIC_BASE_URL (works outside a request too)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def invite_member(actor: User, org: Organisation, email: str) -> tuple[Invitation, str]:
    """Invite someone by e-mail; return the invitation and the token (only its hash is stored).

    Any earlier pending invitation to the same address is revoked, so only the newest link works.
    """
    email = email.strip()
    existing_user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.lower()))
    if existing_user is not None and _membership_of(existing_user, org) is not None:
        raise OrganisationError(str(_l("This person is already a member.")), field="email")
    now = utcnow()
    for old in pending_invitations(org):
        if old.email.lower() == email.lower():
            old.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=hash_token(token),
        email=email,
        organisation_id=org.id,
        role=Role.APPLICANT,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + current_app.config["TOKEN_LIFETIME_INVITE"],
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "invitation.created",
        actor=actor,
        obj=invitation,
        after={"email": email, "expires_at": invitation.expires_at},
        **_scope(org),
    )
    locale = existing_user.locale if existing_user is not None else actor.locale
    queue_email(
        email,
        "org_invitation",
        locale=locale,
        organisation=org,
        inviter=actor,
        expires_at=invitation.expires_at,
        url=public_url("organisations.accept_invitation", token=token),
    )
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    """Return the invitation a token belongs to, whatever its state."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == hash_token(token)))


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= utcnow():
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def accept_invitation(user: User, invitation: Invitation) -> Membership:
    """Make the invited user a member, if the invitation is still open and was sent to them."""
    state = invitation_state(invitation)
    if state != InvitationState.PENDING:
        raise OrganisationError(str(_l("This invitation can no longer be used.")))
    if user.email.lower() != invitation.email.lower():
        raise OrganisationError(str(_l("This invitation was sent to a different e-mail address.")))
    org = invitation.organisation
    if _membership_of(user, org) is not None:
        raise OrganisationError(str(_l("You are already a member of this organisation.")))
    now = utcnow()
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    membership = _add_member(user, org, representative=False, granted_by=invitation.invited_by)
    db.session.flush()
    audit.record(
        "invitation.accepted",
        actor=user,
        obj=invitation,
        after={"membership_id": membership.id, "user_id": user.id},
        **_scope(org),
    )
    for rep in representatives_of(org):
        if rep.user_id == user.id:
            continue
        queue_email(
            rep.user.email,
            "org_member_added",
            locale=rep.user.locale,
            organisation=org,
            member=user,
            url=public_url("organisations.show_organisation", org_id=org.id),
        )
    return membership


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    """Make a pending invitation's link stop working."""
    if invitation_state(invitation) != InvitationState.PENDING:
        raise OrganisationError(str(_l("This invitation can no longer be revoked.")))
    invitation.revoked_at = utcnow()
    audit.record(
        "invitation.revoked",
        actor=actor,
        obj=invitation,
        before={"email": invitation.email},
        **_scope(invitation.organisation),
    )
    db.session.flush()
