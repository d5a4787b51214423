"""Administration use cases: roles, the first administrator, the outbox, audit exports.

Every function flushes, writes the audit trail and queues e-mail; none commits (STYLE "Service layer").
Each checks all its rules before it changes anything, so an AdminRuleError leaves the session clean.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Membership, User
from portal.accounts.passwords import hash_password, password_problem
from portal.core import audit, mail
from portal.core.enums import Role
from portal.core.mail import OutboxMessage, queue_email
from portal.core.timeutil import riga_today, utcnow
from portal.extensions import db
from portal.municipalities.models import Municipality

# Roles an administrator grants here; applicant memberships come from organisations' invitations.
GRANTABLE_ROLES = (Role.COORDINATOR, Role.EVALUATOR, Role.NATIONAL_ADMIN)
MUNICIPAL_ROLES = frozenset({Role.COORDINATOR, Role.EVALUATOR})


class AdminRuleError(Exception):
    """A rule forbids the change; `field` names the form field the message belongs next to."""

    def __init__(self, message: Any, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def _login_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/account/login"


def _scope_of(membership: Membership) -> dict[str, Any]:
    """Describe a membership's scope for the audit trail (codes, which stay meaningful after mergers)."""
    data: dict[str, Any] = {"role": membership.role.value}
    if membership.municipality is not None:
        data["municipality"] = membership.municipality.code
    if membership.organisation is not None:
        data["organisation_id"] = membership.organisation_id
    return data


def grant_role(
    user: User, role: Role, *, actor: User, municipality: Municipality | None = None
) -> Membership:
    """Give the user a staff role: coordinator or evaluator of a municipality, or national administrator.

    The scope is checked here, not only in the form, so the CLI and tests obey the same rules as the
    page (the database's CHECK constraint is the last line).
    """
    role = Role(role)
    if role not in GRANTABLE_ROLES:
        raise AdminRuleError(_l("This role cannot be granted here."), field="role")
    if role in MUNICIPAL_ROLES:
        if municipality is None:
            raise AdminRuleError(_l("Choose the municipality."), field="municipality")
        if not municipality.is_valid_on(riga_today()):
            raise AdminRuleError(_l("This municipality no longer exists."), field="municipality")
    else:
        municipality = None
    municipality_id = municipality.id if municipality is not None else None
    if any(m.role == role and m.municipality_id == municipality_id for m in user.memberships):
        raise AdminRuleError(_l("The user already has this role."), field="role")

    membership = Membership(
        user=user,
        role=role,
        municipality_id=municipality_id,
        municipality=municipality,
        granted_by_id=actor.id,
    )
    db.session.add(membership)
    db.session.flush()
    audit.record(
        "role_granted",
        actor=actor,
        obj=user,
        municipality_id=municipality_id,
        after=_scope_of(membership),
    )
    queue_email(
        user.email,
        "admin_role_granted",
        locale=user.locale or "lv",
        user=user,
        role=role,
        municipality=municipality,
        login_url=_login_url(),
    )
    return membership


def revoke_membership(membership: Membership, *, actor: User, reason: str | None) -> None:
    """Take a role away from its user, with the reason written to the audit trail.

    The last national administrator cannot be removed: nobody could then manage the portal.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AdminRuleError(_l("Give the reason for revoking the role."), field="reason")
    if membership.role == Role.NATIONAL_ADMIN:
        if membership.user_id == actor.id:
            raise AdminRuleError(
                _l("You cannot revoke your own administrator role; ask another administrator."),
                field="reason",
            )
        others = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.role == Role.NATIONAL_ADMIN,
                Membership.id != membership.id,
                User.is_disabled.is_(False),
            )
        )
        if not others:
            raise AdminRuleError(
                _l("The portal must keep at least one national administrator."), field="reason"
            )

    user = membership.user
    before = _scope_of(membership)
    municipality, role = membership.municipality, membership.role
    audit.record(
        "role_revoked",
        actor=actor,
        obj=user,
        municipality_id=membership.municipality_id,
        organisation_id=membership.organisation_id,
        before=before,
        reason=reason,
    )
    user.memberships.remove(membership)  # delete-orphan cascade deletes the row
    db.session.flush()
    queue_email(
        user.email,
        "admin_role_revoked",
        locale=user.locale or "lv",
        user=user,
        role=role,
        municipality=municipality,
        reason=reason,
    )


def create_national_admin(email: str, full_name: str, password: str, *, actor: User | None = None) -> User:
    """Create a confirmed national administrator (the first one comes from `flask accounts create-admin`).

    No TOTP secret is set: staff must enrol TOTP at their first login (QUALITY A5), so the password alone
    never gives an administrator session.
    """
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    if not email or "@" not in email:
        raise AdminRuleError(_l("Enter a valid e-mail address."), field="email")
    if not full_name:
        raise AdminRuleError(_l("Enter the name."), field="name")
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email)) is not None:
        raise AdminRuleError(_l("A user with this e-mail address already exists."), field="email")
    problem = password_problem(password, email=email)
    if problem:
        raise AdminRuleError(problem, field="password")
    now = utcnow()
    user = User(
        email=email,
        full_name=full_name,
        password_hash=hash_password(password),
        locale="lv",
        email_confirmed_at=now,
        password_changed_at=now,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user=user, role=Role.NATIONAL_ADMIN, granted_by_id=getattr(actor, "id", None)))
    db.session.flush()
    audit.record(
        "admin_created", actor=actor, obj=user, after={"email": email, "role": Role.NATIONAL_ADMIN.value}
    )
    return user


def retry_outbox_message(message: OutboxMessage, *, actor: User) -> None:
    """Put a dead-lettered message back in the queue; it is sent after the commit."""
    if message.status != mail.DEAD:
        raise AdminRuleError(_l("This message is not waiting for a retry."))
    before = {"status": message.status, "attempts": message.attempts, "last_error": message.last_error}
    mail.retry_dead(message)
    audit.record(
        "mail_retried",
        actor=actor,
        obj=message,
        before=before,
        after={"status": message.status, "attempts": message.attempts},
    )


def record_audit_export(*, actor: User, filters: dict[str, Any], rows: int) -> None:
    """Write the export of the audit trail into the audit trail itself (QUALITY F5)."""
    audit.record(
        "audit_exported", actor=actor, object_type="audit_events", after={"filters": filters, "rows": rows}
    )
