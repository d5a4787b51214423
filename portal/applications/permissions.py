"""Who may do what with an application (STYLE "Permissions").

Members of the applying organisation own the application. Staff (the coordinators of the call's
municipality and national administrators) see a submitted application only once the call has closed
(DESIGN §7); views turn every "no" into a 404 so nobody learns that an application exists.
"""

from __future__ import annotations

from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.calls.permissions import can_manage_call, can_see_applications
from portal.core.enums import Role


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_member(user, application) -> bool:
    """Say whether the user is a member of the organisation that applies."""
    return _authenticated(user) and user.has_role(Role.APPLICANT, organisation_id=application.organisation_id)


def can_edit_application(user, application) -> bool:
    """Members edit the application while it is a draft, or to answer a clarification request before
    its deadline; a submitted one is frozen (DESIGN §4)."""
    if not is_member(user, application):
        return False
    if application.status == ApplicationStatus.CLARIFICATION_REQUESTED:
        from portal.applications.services import clarification_open

        return clarification_open(application)
    return application.status == ApplicationStatus.DRAFT


def can_withdraw_application(user, application) -> bool:
    """Members withdraw it until the decision (the workflow table says in which statuses)."""
    return is_member(user, application) and WORKFLOW.allowed(application, "withdraw", user) is not None


def can_review_application(user, application) -> bool:
    """Staff read a submitted application once its call has closed (sealed before: DESIGN §7)."""
    if not _authenticated(user) or application.submitted_at is None:
        return False
    return can_see_applications(user, application.call)


def can_view_application(user, application) -> bool:
    """Members always see their application; staff as `can_review_application` allows."""
    return is_member(user, application) or can_review_application(user, application)


def can_list_applications(user, call) -> bool:
    """Coordinators of the call's municipality and national administrators follow a call's applications
    (only their number until it closes)."""
    if not _authenticated(user):
        return False
    return can_manage_call(user, call) or user.is_national_admin
