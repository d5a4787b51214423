"""Programme, round and quota services, without HTTP."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.core.audit import AuditEvent
from portal.core.workflow import WorkflowError
from portal.programmes import services
from portal.programmes.models import Programme, Quota
from tests.factories import national_admin

CSV = "municipality;pupils\nAizkraukles novads;2100\nRopažu novads;3900\nRīga;52000\n".encode()


@pytest.fixture()
def admin(db):
    return national_admin()


@pytest.fixture()
def programme(db):
    return services.ensure_pumpurs_programme()


@pytest.fixture()
def rnd(programme, admin):
    return services.create_round(
        programme,
        actor=admin,
        number=1,
        projects=10,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )


def test_pumpurs_defaults(programme):
    assert programme.amount == Decimal("4600.00")
    assert (programme.min_months, programme.max_months) == (3, 18)
    assert programme.min_risk_share == Decimal("10.00")
    assert (programme.grade_min, programme.grade_max, programme.vocational_min, programme.vocational_max) == (
        5,
        12,
        1,
        4,
    )
    assert programme.advance_percent + programme.final_percent == Decimal("100.00")
    assert programme.max_score == Decimal("30.00")
    quality = [c for c in programme.criteria if c.kind == "quality"]
    assert [c.code for c in quality if c.essential] == ["relevance", "youth_led", "activities"]
    assert [
        c.code for c in sorted((c for c in quality if c.tie_break_order), key=lambda c: c.tie_break_order)
    ] == ["youth_led", "relevance"]
    assert all(set(c.levels) == {"0", "1", "2", "3"} for c in quality)
    assert services.ensure_pumpurs_programme() is programme  # idempotent


def test_second_programme_is_only_data(db, admin):
    other = Programme(
        code="4231",
        name_lv="Integrēta skola–kopiena",
        name_en="Integrated school–community",
        operator="IKVD",
        period_start=date(2024, 1, 1),
        period_end=date(2029, 12, 31),
        funding_mode="cap",
        amount=Decimal("10000.00"),
        min_months=6,
        max_months=24,
        min_risk_share=Decimal("20.00"),
        advance_percent=Decimal("90.00"),
    )
    db.session.add(other)
    db.session.flush()
    rnd = services.create_round(
        other,
        actor=admin,
        number=1,
        budget=Decimal("450000"),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    assert services.import_pupil_counts(rnd, CSV, actor=admin).ok
    snapshot = services.compute_round_quotas(rnd, actor=admin)
    assert snapshot.projects == 45
    assert sum(q.quota for q in rnd.quotas) == 45
    assert other.final_percent == Decimal("10.00")


def test_import_all_or_nothing(rnd, admin):
    assert services.import_pupil_counts(rnd, CSV, actor=admin).ok
    assert len(rnd.pupil_counts) == 3
    report = services.import_pupil_counts(rnd, b"Aizkraukles novads;5\nNekur;3\n", actor=admin)
    assert not report.ok
    assert len(rnd.pupil_counts) == 3  # the earlier counts are kept untouched


def test_compute_stores_snapshot_and_quotas(rnd, admin, db):
    services.import_pupil_counts(rnd, CSV, actor=admin)
    snapshot = services.compute_round_quotas(rnd, actor=admin)
    assert snapshot.method.startswith("1 + largest remainder")
    assert snapshot.inputs == [
        {"code": "0001000", "pupils": 52000},
        {"code": "0020000", "pupils": 2100},
        {"code": "0044000", "pupils": 3900},
    ]
    quotas = {q.municipality.code: (q.quota, q.reserved) for q in rnd.quotas}
    assert quotas == {
        "0001000": (7, Decimal("32200.00")),
        "0020000": (1, Decimal("4600.00")),
        "0044000": (2, Decimal("9200.00")),
    }
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.quotas_computed"))


def test_fewer_projects_than_municipalities(programme, admin):
    rnd = services.create_round(
        programme,
        actor=admin,
        number=2,
        projects=2,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    services.import_pupil_counts(rnd, CSV, actor=admin)
    with pytest.raises(WorkflowError, match="fewer projects"):
        services.compute_round_quotas(rnd, actor=admin)


def test_override_needs_reason_and_is_audited(rnd, admin, db):
    services.import_pupil_counts(rnd, CSV, actor=admin)
    services.compute_round_quotas(rnd, actor=admin)
    quota = db.session.scalars(sa.select(Quota).where(Quota.round_id == rnd.id)).first()
    with pytest.raises(WorkflowError):
        services.override_quota(quota, 3, reason="  ", actor=admin)
    computed = quota.computed_quota
    services.override_quota(quota, 3, reason="Apvienota ar rezerves sarakstu", actor=admin)
    assert (quota.quota, quota.computed_quota) == (3, computed)
    assert quota.reserved == Decimal("13800.00")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "quota.overridden"))
    assert event.reason == "Apvienota ar rezerves sarakstu"
    assert event.before_data() != event.after_data()


def test_round_numbers_unique(rnd, programme, admin):
    with pytest.raises(WorkflowError):
        services.create_round(
            programme,
            actor=admin,
            number=1,
            projects=5,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
        )


def test_recompute_drops_municipalities_no_longer_counted(rnd, admin):
    services.import_pupil_counts(rnd, CSV, actor=admin)
    services.compute_round_quotas(rnd, actor=admin)
    services.import_pupil_counts(rnd, "Aizkraukles novads;2100\nRopažu novads;3900\n".encode(), actor=admin)
    services.compute_round_quotas(rnd, actor=admin)
    assert sorted(q.municipality.code for q in rnd.quotas) == ["0020000", "0044000"]
    assert sum(q.quota for q in rnd.quotas) == 10


def test_closed_round_refuses_new_counts(rnd, admin):
    rnd.status, rnd.closed_at = "closed", rnd.created_at
    with pytest.raises(WorkflowError):
        services.import_pupil_counts(rnd, CSV, actor=admin)


def test_open_round_needs_quotas_and_is_audited(rnd, admin, db):
    with pytest.raises(WorkflowError):
        services.open_round(rnd, actor=admin)
    services.import_pupil_counts(rnd, CSV, actor=admin)
    services.compute_round_quotas(rnd, actor=admin)
    services.open_round(rnd, actor=admin)
    assert rnd.status == "open"
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.opened"))
    with pytest.raises(WorkflowError):
        services.open_round(rnd, actor=admin)
