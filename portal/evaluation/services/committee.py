"""The committee: appointments, invitations by e-mail, the call's impartiality declaration and the
per-application conflict-of-interest statements (DESIGN §4, issue 5). Callers commit."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Membership, User
from portal.calls.permissions import can_manage_call
from portal.core import audit
from portal.core.enums import Role
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.evaluation import permissions, queries
from portal.evaluation.models import CommitteeMember, CommitteeRole, ConflictDeclaration
from portal.extensions import db
from portal.organisations.services import hash_token, public_url


def _scope(call) -> dict:
    return {"municipality_id": call.municipality_id}


def _require_manager(actor, call) -> None:
    if not can_manage_call(actor, call):
        raise TransitionDenied("only the municipality's coordinators manage the committee")
    if not permissions.can_manage_committee(actor, call):
        raise WorkflowError(str(_l("The committee can no longer change: the decision has been recorded.")))


def _check_role(call, role: str, *, replacing: CommitteeMember | None = None) -> CommitteeRole:
    try:
        role = CommitteeRole(role)
    except ValueError:
        raise WorkflowError(str(_l("Choose a role on the committee.")), field="role") from None
    if role is CommitteeRole.CHAIR:
        chair = db.session.scalar(
            sa.select(CommitteeMember).where(
                CommitteeMember.call_id == call.id, CommitteeMember.role == "chair"
            )
        )
        if chair is not None and chair is not replacing:
            raise WorkflowError(str(_l("The committee already has a chair.")), field="role")
    return role


def municipality_users(call) -> list[User]:
    """Return the users who hold a staff role in the call's municipality: whom the coordinator appoints."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.municipality_id == call.municipality_id,
                Membership.role.in_([Role.COORDINATOR, Role.EVALUATOR]),
                User.is_disabled.is_(False),
            )
            .distinct()
            .order_by(User.full_name)
        )
    )


def _grant_evaluator(user: User, call, actor) -> None:
    """A committee member holds the evaluator role in the municipality (the scope of their access)."""
    if not user.has_role(Role.EVALUATOR, municipality_id=call.municipality_id):
        db.session.add(
            Membership(
                user=user,
                role=Role.EVALUATOR,
                municipality_id=call.municipality_id,
                granted_by_id=getattr(actor, "id", None),
            )
        )
        db.session.flush()
        db.session.refresh(user)


def appoint_member(call, user: User, role: str, *, actor) -> CommitteeMember:
    """Appoint one of the municipality's users to the call's committee in a role, and tell them."""
    _require_manager(actor, call)
    role = _check_role(call, role)
    if user not in municipality_users(call):
        raise WorkflowError(str(_l("Choose one of the municipality's users.")), field="user")
    if queries.member_for(user, call.id) is not None:
        raise WorkflowError(str(_l("This person is already on the committee.")), field="user")
    now = utcnow()
    member = CommitteeMember(
        call_id=call.id,
        user_id=user.id,
        email=user.email.lower(),
        role=role,
        appointed_by_id=actor.id,
        appointed_at=now,
        accepted_at=now,
    )
    db.session.add(member)
    db.session.flush()
    _grant_evaluator(user, call, actor)
    audit.record(
        "committee.appointed",
        actor=actor,
        obj=member,
        after={"user_id": user.id, "role": role.value},
        **_scope(call),
    )
    queue_email(
        user.email,
        "committee_appointed",
        locale=user.locale,
        call=call,
        member=member,
        link=public_url("evaluation.overview", call_id=call.id),
    )
    return member


def invite_member(call, email: str, role: str, *, actor) -> tuple[CommitteeMember, str]:
    """Invite someone by e-mail to the committee; return the seat and the link's token (only its hash
    is stored). The seat is theirs once they open the link signed in with that e-mail address."""
    _require_manager(actor, call)
    role = _check_role(call, role)
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise WorkflowError(str(_l("Give a valid e-mail address.")), field="email")
    taken = db.session.scalar(
        sa.select(CommitteeMember).where(CommitteeMember.call_id == call.id, CommitteeMember.email == email)
    )
    if taken is not None:
        raise WorkflowError(str(_l("This person is already on the committee.")), field="email")
    token = secrets.token_urlsafe(32)
    member = CommitteeMember(
        call_id=call.id, email=email, role=role, appointed_by_id=actor.id, token_hash=hash_token(token)
    )
    db.session.add(member)
    db.session.flush()
    audit.record(
        "committee.invited",
        actor=actor,
        obj=member,
        after={"email": email, "role": role.value},
        **_scope(call),
    )
    queue_email(
        email,
        "committee_invitation",
        locale="lv",
        call=call,
        member=member,
        link=public_url("evaluation.accept_invitation", token=token),
    )
    return member, token


def find_invitation(token: str) -> CommitteeMember | None:
    """Return the open invitation the token belongs to (None when unknown or already accepted)."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(CommitteeMember).where(CommitteeMember.token_hash == hash_token(token))
    )


def accept_invitation(user: User, member: CommitteeMember) -> CommitteeMember:
    """Take the invited seat: only the person signed in with the invited e-mail address may."""
    if member.user_id is not None or member.token_hash is None:
        raise WorkflowError(str(_l("This invitation has already been used.")))
    if user.email.lower() != member.email:
        raise WorkflowError(
            str(_l("This invitation was sent to another e-mail address. Sign in with that address."))
        )
    if member.call.status not in permissions.COMMITTEE_EDITABLE:
        raise WorkflowError(str(_l("The committee can no longer change: the decision has been recorded.")))
    if queries.member_for(user, member.call_id) is not None:
        raise WorkflowError(str(_l("You are already on this committee.")))
    member.user_id = user.id
    member.accepted_at = utcnow()
    member.token_hash = None
    db.session.flush()
    _grant_evaluator(user, member.call, user)
    audit.record("committee.accepted", actor=user, obj=member, **_scope(member.call))
    return member


def change_role(member: CommitteeMember, role: str, *, actor) -> CommitteeMember:
    """Change a member's role (e.g. make a member the chair) until they have scored."""
    _require_manager(actor, member.call)
    new = _check_role(member.call, role, replacing=member)
    if not new.votes and _has_submitted(member):
        raise WorkflowError(
            str(_l("A member who has submitted scores cannot become the secretary.")), field="role"
        )
    before = member.role
    member.role = new
    db.session.flush()
    audit.record(
        "committee.role_changed",
        actor=actor,
        obj=member,
        before={"role": before},
        after={"role": new.value},
        **_scope(member.call),
    )
    return member


def _has_submitted(member: CommitteeMember) -> bool:
    return any(s.is_submitted for s in queries.sheets_of(member.id).values())


def remove_member(member: CommitteeMember, *, actor, reason: str | None = None) -> None:
    """Remove a member (or withdraw an invitation) as long as they have submitted no scores."""
    _require_manager(actor, member.call)
    if _has_submitted(member):
        raise WorkflowError(str(_l("A member who has submitted scores cannot be removed.")))
    audit.record(
        "committee.removed",
        actor=actor,
        obj=member,
        before={"email": member.email, "role": member.role},
        reason=reason,
        **_scope(member.call),
    )
    db.session.delete(member)
    db.session.flush()


# --- declarations ----------------------------------------------------------------------------------


def declaration_text(call, locale: str) -> str:
    """Return the words of the impartiality and confidentiality declaration, in the member's language."""
    with force_locale(locale):
        return _(
            "I declare that I will evaluate the applications of the call “%(call)s” impartially and "
            "independently; that I will keep their content, the scores and the discussions of the committee "
            "confidential; and that, before opening each application, I will state whether I have a "
            "conflict of interest with the applicant (a family, work, membership or financial link), and "
            "recuse myself where I have one.",
            call=call.title,
        )


def sign_declaration(member: CommitteeMember, *, actor) -> CommitteeMember:
    """Sign the call's impartiality and confidentiality declaration (once the applicants are known)."""
    if actor is None or member.user_id != actor.id:
        raise TransitionDenied("only the member signs their declaration")
    if member.declared_at is not None:
        raise WorkflowError(str(_l("You have already signed the declaration.")))
    if not permissions.can_sign_declaration(member, member.call):
        raise WorkflowError(str(_l("The declaration can be signed once the call has closed.")))
    member.declared_at = utcnow()
    member.declaration_text = declaration_text(member.call, actor.locale)
    db.session.flush()
    audit.record("committee.declared", actor=actor, obj=member, **_scope(member.call))
    return member


def declare_conflict(
    member: CommitteeMember, application, *, recused: bool, reason: str | None, actor
) -> ConflictDeclaration:
    """State, for one application, that there is no conflict of interest, or recuse with a reason.

    The statement is final, except that "no conflict" may become a recusal until the member's scores
    for the application are submitted (a conflict noticed late): the draft scores are then discarded."""
    if actor is None or member.user_id != actor.id:
        raise TransitionDenied("only the member declares their own conflicts")
    if not permissions.can_declare_conflict(member, application):
        if member.declared_at is None:
            raise WorkflowError(str(_l("Sign the call's impartiality declaration first.")))
        raise WorkflowError(str(_l("Conflicts can be declared while the applications are being scored.")))
    reason = (reason or "").strip() or None
    if recused and not reason:
        raise WorkflowError(str(_l("Say why you recuse yourself.")), field="reason")
    existing = queries.conflict(member.id, application.id)
    if existing is not None:
        if existing.recused or not recused:
            raise WorkflowError(str(_l("You have already made your statement on this application.")))
        sheet = queries.sheet(member.id, application.id)
        if sheet is not None and sheet.is_submitted:
            raise WorkflowError(
                str(_l("Your scores for this application are submitted; ask the coordinator."))
            )
        if sheet is not None:
            db.session.delete(sheet)
        existing.recused, existing.reason, existing.declared_at = True, reason, utcnow()
        declaration = existing
    else:
        declaration = ConflictDeclaration(
            member_id=member.id, application_id=application.id, recused=recused, reason=reason
        )
        db.session.add(declaration)
    db.session.flush()
    audit.record(
        "committee.recused" if recused else "committee.no_conflict",
        actor=actor,
        object_type="applications",
        object_id=application.id,
        after={"member_id": member.id, "recused": recused},
        reason=reason,
        **_scope(member.call),
    )
    return declaration
