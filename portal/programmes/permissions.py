"""Who may see and change programmes, rounds and quotas (DESIGN §1, STYLE "Permissions").

Programmes, rounds, pupil counts and the national dashboard belong to national administrators. A
municipality coordinator may read the quotas of the municipalities they coordinate, and nothing else
here. Views turn every "no" into 404, so nobody learns what exists outside their scope.
"""

from __future__ import annotations

from portal.programmes.models import Programme, Quota, Round


def _authenticated(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_national_admin(user) -> bool:
    """Say whether the user administers programmes for the whole country."""
    return _authenticated(user) and user.is_national_admin


def can_view_programmes(user) -> bool:
    """Allow national administrators to list programmes and read their rules."""
    return is_national_admin(user)


def can_create_programme(user) -> bool:
    """Allow national administrators to add a programme (a second programme is data, not code)."""
    return is_national_admin(user)


def can_edit_programme(user, programme: Programme) -> bool:
    """Allow national administrators to change a programme's rules and criteria."""
    return is_national_admin(user)


def can_create_round(user, programme: Programme) -> bool:
    """Allow national administrators to open rounds of an active programme."""
    return is_national_admin(user) and programme.is_active


def can_view_round(user, rnd: Round) -> bool:
    """Allow national administrators to see a round, its pupil counts, quotas and snapshots."""
    return is_national_admin(user)


def can_manage_round(user, rnd: Round) -> bool:
    """Allow national administrators to change what a round's quotas are computed from.

    Role only: a closed round is refused by the service with a message, not by a 404.
    """
    return is_national_admin(user)


def can_close_round(user, rnd: Round) -> bool:
    """Allow national administrators to close a round and pass its unused quota on (DESIGN §3.4).

    Role only, like `can_manage_round`: a closed round or undecided calls are refused by the service
    with a message the page shows beforehand.
    """
    return is_national_admin(user)


def can_import_pupil_counts(user, rnd: Round) -> bool:
    """Allow national administrators to upload pupil counts while the round is not closed."""
    return can_manage_round(user, rnd) and rnd.status != "closed"


def can_compute_quotas(user, rnd: Round) -> bool:
    """Allow national administrators to compute quotas from pupil counts while the round is not closed."""
    return can_import_pupil_counts(user, rnd) and bool(rnd.pupil_counts)


def can_view_quota(user, quota: Quota) -> bool:
    """Allow national administrators, and the coordinators of the quota's municipality, to read it."""
    if not _authenticated(user):
        return False
    return user.is_national_admin or quota.municipality_id in user.coordinated_municipality_ids()


def can_override_quota(user, quota: Quota) -> bool:
    """Allow national administrators to set a quota by hand while its round is not closed."""
    return is_national_admin(user) and quota.round.status != "closed"


def can_view_dashboard(user) -> bool:
    """Allow national administrators to monitor every municipality's quota and its use."""
    return is_national_admin(user)


def can_view_own_quotas(user) -> bool:
    """Allow municipality coordinators to read the quotas of the municipalities they coordinate."""
    return _authenticated(user) and bool(user.coordinated_municipality_ids())
