"""Who may do what with accounts: predicates shared by views and templates."""

from __future__ import annotations

from flask import current_app

from portal.accounts.models import User
from portal.core.enums import Role


def is_demo_exempt(user: User) -> bool:
    """Say whether the user may skip TOTP: demo accounts, and only while the app runs in DEMO_MODE.

    Production refuses to start with DEMO_MODE (Config.validate), so this is never true there.
    """
    return bool(current_app.config.get("DEMO_MODE")) and bool(user.is_demo)


def must_enrol_totp(user: User) -> bool:
    """Say whether the user has to set up TOTP before getting a session (staff, QUALITY A5)."""
    return user.is_staff and not user.has_totp and not is_demo_exempt(user)


def can_enable_totp(user: User) -> bool:
    """Any user without an active second factor may turn it on."""
    return not user.has_totp


def can_disable_totp(user: User) -> bool:
    """Only applicants may turn TOTP off; staff must keep it (QUALITY A5)."""
    return user.has_totp and not user.is_staff


def can_view_audit_trail(user: User) -> bool:
    """National administrators and coordinators see an audit trail (scoped by the admin views)."""
    return Role.NATIONAL_ADMIN in user.roles() or Role.COORDINATOR in user.roles()


def can_manage_users(actor: User) -> bool:
    """Disabling, enabling and ending others' sessions belongs to national administrators."""
    return actor.is_authenticated and actor.is_national_admin
