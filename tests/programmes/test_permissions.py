"""Who may see and change programmes, rounds and quotas: the predicates, without HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from flask_login import AnonymousUserMixin

from portal.core.timeutil import utcnow
from portal.programmes import permissions as perm
from portal.programmes import services
from tests.factories import applicant, coordinator, evaluator, municipality, national_admin

CSV = "Aizkraukles novads;2100\nRopažu novads;3900\nRīga;52000\n".encode()


@pytest.fixture()
def admin(db):
    return national_admin()


@pytest.fixture()
def rnd(db, admin):
    programme = services.ensure_pumpurs_programme()
    rnd = services.create_round(
        programme,
        actor=admin,
        number=1,
        projects=10,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    services.import_pupil_counts(rnd, CSV, actor=admin)
    services.compute_round_quotas(rnd, actor=admin)
    return rnd


def _quota(rnd, code):
    return next(q for q in rnd.quotas if q.municipality.code == code)


def test_national_admin_may_do_everything(admin, rnd):
    programme = rnd.programme
    quota = _quota(rnd, "0044000")
    assert perm.can_view_programmes(admin) and perm.can_create_programme(admin)
    assert perm.can_edit_programme(admin, programme) and perm.can_create_round(admin, programme)
    assert perm.can_view_round(admin, rnd) and perm.can_manage_round(admin, rnd)
    assert perm.can_import_pupil_counts(admin, rnd) and perm.can_compute_quotas(admin, rnd)
    assert perm.can_view_quota(admin, quota) and perm.can_override_quota(admin, quota)
    assert perm.can_view_dashboard(admin)
    assert not perm.can_view_own_quotas(admin)  # coordinators' page: an admin has the dashboard


@pytest.mark.parametrize(
    "make",
    [applicant, evaluator, coordinator, lambda: AnonymousUserMixin(), lambda: None],
    ids=["applicant", "evaluator", "coordinator", "anonymous", "none"],
)
def test_others_may_not_administer(rnd, make):
    user = make()
    programme = rnd.programme
    assert not perm.can_view_programmes(user) and not perm.can_create_programme(user)
    assert not perm.can_edit_programme(user, programme) and not perm.can_create_round(user, programme)
    assert not perm.can_view_round(user, rnd) and not perm.can_manage_round(user, rnd)
    assert not perm.can_import_pupil_counts(user, rnd) and not perm.can_compute_quotas(user, rnd)
    assert not perm.can_override_quota(user, _quota(rnd, "0020000"))
    assert not perm.can_view_dashboard(user)


def test_coordinator_reads_only_own_municipality(rnd):
    user = coordinator(municipality("0020000"))
    assert perm.can_view_own_quotas(user)
    assert perm.can_view_quota(user, _quota(rnd, "0020000"))
    assert not perm.can_view_quota(user, _quota(rnd, "0044000"))
    assert not perm.can_override_quota(user, _quota(rnd, "0020000"))


def test_evaluator_of_a_municipality_sees_no_quota(rnd):
    user = evaluator(municipality("0020000"))
    assert not perm.can_view_own_quotas(user)
    assert not perm.can_view_quota(user, _quota(rnd, "0020000"))


@pytest.mark.parametrize("make", [applicant, lambda: AnonymousUserMixin(), lambda: None])
def test_no_quota_for_non_staff(rnd, make):
    user = make()
    assert not perm.can_view_own_quotas(user)
    assert not perm.can_view_quota(user, _quota(rnd, "0020000"))


def test_closed_round_is_read_only(admin, rnd):
    rnd.status, rnd.closed_at = "closed", utcnow()
    assert perm.can_view_round(admin, rnd)
    assert not perm.can_import_pupil_counts(admin, rnd)
    assert not perm.can_compute_quotas(admin, rnd)
    assert not perm.can_override_quota(admin, _quota(rnd, "0020000"))


def test_inactive_programme_takes_no_new_rounds(admin, rnd):
    rnd.programme.is_active = False
    assert perm.can_edit_programme(admin, rnd.programme)
    assert not perm.can_create_round(admin, rnd.programme)


def test_quotas_need_pupil_counts_first(admin, db):
    programme = services.ensure_pumpurs_programme()
    empty = services.create_round(
        programme,
        actor=admin,
        number=2,
        projects=10,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    assert perm.can_import_pupil_counts(admin, empty)
    assert not perm.can_compute_quotas(admin, empty)
