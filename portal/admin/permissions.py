"""Who may use the administration pages (DESIGN §1): predicates shared by views and templates.

Pages and objects that are not the user's answer 404, never 403, so their existence is not revealed.
"""

from __future__ import annotations

from portal.accounts.models import Membership, User
from portal.core.audit import AuditEvent
from portal.core.enums import Role


def audit_scope(user: User) -> set[int] | None:
    """Return the municipalities whose events the user may see: None means all of them.

    National administrators see the whole country; a coordinator sees the events scoped to the
    municipalities they coordinate; anyone else gets an empty set (no access).
    """
    if not user.is_authenticated:
        return set()
    if user.is_national_admin:
        return None
    return user.coordinated_municipality_ids()


def can_view_audit_log(user: User) -> bool:
    """National administrators and municipality coordinators have an audit trail page."""
    scope = audit_scope(user)
    return scope is None or bool(scope)


def can_view_event(user: User, event: AuditEvent) -> bool:
    """Say whether the event is inside the user's audit scope (per object, not per page)."""
    scope = audit_scope(user)
    return scope is None or (event.municipality_id is not None and event.municipality_id in scope)


def can_manage_outbox(user: User) -> bool:
    """Only national administrators see the e-mail outbox (recipients are personal data)."""
    return user.is_authenticated and user.is_national_admin


def can_manage_users(user: User) -> bool:
    """Granting roles, disabling accounts and ending sessions belongs to national administrators."""
    return user.is_authenticated and user.is_national_admin


def can_revoke_membership(actor: User, membership: Membership) -> bool:
    """Administrators may revoke any membership except their own national administrator role.

    Revoking one's own role would lock the actor out halfway through; another administrator does it.
    """
    if not can_manage_users(actor):
        return False
    return not (membership.user_id == actor.id and membership.role == Role.NATIONAL_ADMIN)
