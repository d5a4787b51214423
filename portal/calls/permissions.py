"""Who may do what with a call (per object: the call's municipality). Views turn every "no" into 404."""

from portal.calls.workflow import CallStatus
from portal.core.enums import Role


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_public(call) -> bool:
    """Published calls (and everything after) are public; drafts are not."""
    return call.status != CallStatus.DRAFT


def can_manage_call(user, call) -> bool:
    """Coordinators of the call's municipality manage it."""
    return _authenticated(user) and user.has_role(Role.COORDINATOR, municipality_id=call.municipality_id)


def can_manage_calls(user) -> bool:
    """Coordinators (of any municipality) have the "My calls" page."""
    return _authenticated(user) and bool(user.coordinated_municipality_ids())


def can_view_call(user, call) -> bool:
    """Anyone sees a published call; a draft only its municipality's coordinators and national admins."""
    if is_public(call):
        return True
    return can_manage_call(user, call) or (_authenticated(user) and user.is_national_admin)


def can_edit_call(user, call) -> bool:
    """The municipality's coordinators change a call until it closes (after publication with a reason)."""
    return can_manage_call(user, call) and call.status in (CallStatus.DRAFT, CallStatus.OPEN)


def can_publish_call(user, call) -> bool:
    """The municipality's coordinators publish a draft."""
    return can_manage_call(user, call) and call.status == CallStatus.DRAFT


def can_close_call(user, call) -> bool:
    """The municipality's coordinators may close an open call early (with a reason)."""
    return can_manage_call(user, call) and call.status == CallStatus.OPEN


def can_preview_regulations(user, call) -> bool:
    """Whoever may see the call may see its current regulations rendered on the fly."""
    return can_manage_call(user, call) or (_authenticated(user) and user.is_national_admin)


def can_see_applications(user, call) -> bool:
    """Staff see the applications' content only once the call has closed (DESIGN §7: sealed until then)."""
    if call.is_sealed:
        return False
    return can_manage_call(user, call) or (_authenticated(user) and user.is_national_admin)


def can_see_counts(user, call) -> bool:
    """Staff of the call see how many applications there are, even while they are sealed."""
    return can_manage_call(user, call) or (_authenticated(user) and user.is_national_admin)
