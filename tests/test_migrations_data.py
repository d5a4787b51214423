"""Migrations with data (QUALITY H6), on whichever engine TEST_DATABASE_URL names, in a database of this
module's own (the fixtures of tests/test_migrations.py, which already proves one head, the full upgrade,
models == migrations and the full downgrade to base).

Here: every revision's downgrade and upgrade, one step at a time, restore the schema exactly; and rows
written with plain SQL at an earlier revision (before contracts and payments) survive the upgrade to head
and the downgrade back unchanged: row counts, money sums, every value, a stored file's bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from portal.core.backup import table_checks
from portal.extensions import db
from tests import test_migrations

# The fixtures of tests/test_migrations.py: a fresh database for this module, and an app bound to it.
fresh_url = test_migrations.fresh_url
migration_app = test_migrations.migration_app
MIGRATIONS = test_migrations.MIGRATIONS

SCRIPTS = ScriptDirectory(str(MIGRATIONS))
# The last revision before contracts and payments (3768ac7e50b2): calls, applications with budgets,
# committees, scores and decisions exist; everything after it is added on top of that data.
DATA_REVISION = "6348d6bf8da0"


def _chain() -> list[str]:
    """Revision ids from the first to the head."""
    return [script.revision for script in reversed(list(SCRIPTS.walk_revisions()))]


def _current() -> str | None:
    with db.engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _sql(text: str) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().lower()


def _schema() -> dict:
    """Tables with their columns, keys, indexes and checks, in a comparable form (one query per kind)."""
    inspector = sa.inspect(db.engine)
    kinds = {
        "columns": (inspector.get_multi_columns, lambda c: (c["name"], str(c["type"]), c["nullable"])),
        "fks": (
            inspector.get_multi_foreign_keys,
            lambda fk: (
                fk["name"],
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                fk["options"].get("ondelete"),
            ),
        ),
        "indexes": (
            inspector.get_multi_indexes,
            lambda ix: (ix["name"], tuple(ix["column_names"]), bool(ix["unique"])),
        ),
        "uniques": (inspector.get_multi_unique_constraints, lambda u: (u["name"], tuple(u["column_names"]))),
        "checks": (inspector.get_multi_check_constraints, lambda c: (c["name"], _sql(c["sqltext"]))),
    }
    schema: dict = {}
    for kind, (reflect, key) in kinds.items():
        for (_, table), items in reflect().items():
            if table != "alembic_version":
                schema.setdefault(table, {})[kind] = sorted(map(key, items))
    for (_, table), pk in inspector.get_multi_pk_constraint().items():
        if table != "alembic_version":
            schema[table]["pk"] = sorted(pk["constrained_columns"])
    return schema


def test_every_step_downgrades_to_the_schema_before_it(migration_app):
    """Up one revision at a time from base to head, then down one at a time: after each downgrade the
    schema is exactly what it was before that revision's upgrade (pytest-alembic's up_down_consistency)."""
    downgrade(revision="base")
    chain = _chain()
    schemas = {None: _schema()}
    for revision in chain:
        upgrade(revision=revision)
        assert _current() == revision
        schemas[revision] = _schema()
    assert chain[-1] == SCRIPTS.get_current_head()
    head = schemas[chain[-1]]
    for kind in ("columns", "pk", "fks", "indexes", "uniques", "checks"):  # the comparison sees all of them
        assert any(table.get(kind) for table in head.values()), kind
    for previous, revision in reversed(list(zip([None, *chain[:-1]], chain, strict=True))):
        downgrade(revision=previous or "base")
        assert _current() == previous
        assert _schema() == schemas[previous], f"downgrade of {revision} does not restore {previous}"


# --- a data-bearing upgrade and downgrade ---------------------------------------------------------


def _insert(table: str, **values) -> None:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    db.session.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)  # noqa: S608


def _at(text: str) -> datetime:
    """A UTC instant as the portal stores it: aware on PostgreSQL, naive UTC on SQLite."""
    value = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return value.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else value


def _money(text: str):
    """An amount as the portal binds it: Decimal on PostgreSQL, float on SQLite (no native decimal)."""
    return float(text) if db.engine.dialect.name == "sqlite" else Decimal(text)


PDF = b"%PDF-1.4\n% the council's decision\n%%EOF\n"
FILE_ID = "00000000-0000-4000-8000-000000000001"


def _fill_at_data_revision() -> None:
    """Rows valid for DATA_REVISION: users and roles, two organisations, a programme with a round, quotas
    and a snapshot, a call with criteria, three submitted applications with budgets and activities, a
    committee with score sheets and scores, results, a decision with its file, audit and outbox rows."""
    muni = db.session.scalar(sa.text("SELECT id FROM municipalities WHERE code = '0020000'"))
    other = db.session.scalar(sa.text("SELECT id FROM municipalities WHERE code = '0044000'"))
    t = _at("2026-03-02 09:00:00")
    user = dict(password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", locale="lv", is_disabled=False)
    user |= dict(is_demo=False, password_changed_at=t, created_at=t, updated_at=t, email_confirmed_at=t)
    for uid, email in enumerate(("koord@x.lv", "vert1@x.lv", "vert2@x.lv", "iesn1@x.lv", "iesn2@x.lv"), 1):
        _insert("users", id=uid, email=email, full_name=f"Lietotājs {uid}", **user)
    _insert(
        "memberships",
        id=1,
        user_id=1,
        role="coordinator",
        municipality_id=muni,
        is_representative=False,
        created_at=t,
        updated_at=t,
    )
    for oid, reg in ((1, "40008000011"), (2, "40008000026")):
        _insert(
            "organisations",
            id=oid,
            name=f"Biedrība {oid}",
            legal_form="association",
            reg_number=reg,
            iban="LV80BANK0000435195001",
            address="Skolas iela 1",
            email=f"org{oid}@x.lv",
            municipality_id=muni,
            created_at=t,
            updated_at=t,
        )
        _insert(
            "memberships",
            id=1 + oid,
            user_id=3 + oid,
            role="applicant",
            organisation_id=oid,
            is_representative=True,
            created_at=t,
            updated_at=t,
        )
    _insert(
        "programmes",
        id=1,
        code="PUMPURS",
        name_lv="PuMPuRS",
        name_en="PuMPuRS",
        operator="IKVD",
        period_start=date(2024, 1, 1),
        period_end=date(2029, 12, 31),
        funding_mode="fixed",
        amount=_money("4600.00"),
        min_months=3,
        max_months=12,
        min_risk_share=_money("20.00"),
        grade_min=5,
        grade_max=12,
        vocational_min=1,
        vocational_max=4,
        eligible_legal_forms='["association"]',
        risk_categories='["learning"]',
        advance_percent=_money("80.00"),
        min_call_window_days=20,
        report_due_working_days=10,
        report_review_working_days=10,
        pass_share=_money("50.00"),
        is_active=True,
        created_at=t,
        updated_at=t,
    )
    _insert(
        "rounds",
        id=1,
        programme_id=1,
        number=1,
        budget=_money("197800.00"),
        projects=43,
        period_start=date(2026, 1, 1),
        period_end=date(2027, 12, 31),
        unused_policy="redistribute",
        status="open",
        created_at=t,
        updated_at=t,
    )
    _insert(
        "quota_snapshots",
        id=1,
        round_id=1,
        computed_at=t,
        computed_by_id=1,
        method="Hamilton",
        projects=43,
        amount=_money("4600.00"),
        inputs="{}",
        result="{}",
    )
    for qid, (m, quota) in enumerate(((muni, 2), (other, 3)), 1):
        _insert(
            "quotas",
            id=qid,
            round_id=1,
            municipality_id=m,
            snapshot_id=1,
            computed_quota=quota,
            quota=quota,
            carried_in=0,
            reserved=_money(f"{4600 * quota}.00"),
            redistributed_in=qid - 1,
        )
    _insert(
        "stored_files",
        id=FILE_ID,
        filename="lemums.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        created_at=t,
        created_by_id=1,
        data=PDF,
    )
    _insert(
        "calls",
        id=1,
        municipality_id=muni,
        programme_id=1,
        round_id=1,
        title="Konkurss 2026",
        description="Apraksts",
        projects=2,
        amount=_money("4600.00"),
        opens_at=_at("2026-02-01 08:00:00"),
        closes_at=_at("2026-03-01 21:59:59"),
        contact_name="Jānis",
        contact_email="k@x.lv",
        status="decided",
        published_at=_at("2026-02-01 08:00:00"),
        closed_at=_at("2026-03-01 22:00:00"),
        created_by_id=1,
        version=3,
        created_at=t,
        updated_at=t,
    )
    for cid in (1, 2):
        _insert(
            "call_criteria",
            id=cid,
            call_id=1,
            kind="quality",
            code=f"Q{cid}",
            position=cid,
            title_lv=f"Kritērijs {cid}",
            title_en=f"Criterion {cid}",
            description_lv="-",
            description_en="-",
            weight=_money("1.50") if cid == 1 else _money("1.00"),
            essential=cid == 1,
            tie_break_order=cid,
            levels="[]",
        )
    budgets = {1: ("2600.00", "2000.00"), 2: ("3100.55", "1499.45"), 3: ("4600.00", "0.00")}
    for aid, org in ((1, 1), (2, 2), (3, 1)):
        _insert(
            "applications",
            id=aid,
            call_id=1,
            organisation_id=org,
            status="funded" if aid == 1 else "reserve",
            created_by_id=3 + org,
            submitted_at=_at(f"2026-02-2{aid} 12:00:00"),
            lock_version=aid,
            title=f"Projekts {aid}",
            start_date=date(2026, 5, 1),
            end_date=date(2026, 11, 30),
            participants_total=30,
            participants_risk=6,
            risk_by_category='{"learning": 6}',
            declaration_truth=True,
            declaration_no_double_funding=True,
            declaration_participant_lists=True,
            created_at=t,
            updated_at=t,
        )
        for n, (category, amount) in enumerate(zip(("trainers", "catering"), budgets[aid], strict=True)):
            _insert(
                "budget_lines", id=aid * 10 + n, application_id=aid, category=category, amount=_money(amount)
            )
        _insert(
            "application_activities",
            id=aid,
            application_id=aid,
            position=1,
            activity="Darbnīcas",
            participants=30,
        )
    for mid, (uid, role) in enumerate(((2, "chair"), (3, "member")), 1):
        _insert(
            "committee_members",
            id=mid,
            call_id=1,
            user_id=uid,
            email=f"vert{mid}@x.lv",
            role=role,
            appointed_by_id=1,
            appointed_at=t,
            accepted_at=t,
            declared_at=t,
        )
        for aid in (1, 2, 3):
            sheet = mid * 10 + aid
            _insert(
                "conflict_declarations",
                id=sheet,
                member_id=mid,
                application_id=aid,
                recused=False,
                declared_at=t,
            )
            _insert(
                "score_sheets",
                id=sheet,
                member_id=mid,
                application_id=aid,
                status="submitted",
                submitted_at=t,
                updated_at=t,
                lock_version=2,
            )
            for cid in (1, 2):
                _insert(
                    "scores",
                    id=sheet * 10 + cid,
                    sheet_id=sheet,
                    criterion_id=cid,
                    value=(aid + cid) % 4,
                    comment="Pamatojums",
                )
    for aid, average in ((1, "4.25"), (2, "3.50"), (3, "2.75")):
        _insert(
            "evaluation_results",
            id=aid,
            call_id=1,
            application_id=aid,
            average=_money(average),
            scorers=2,
            passed=True,
            rank=aid,
            proposal="funded" if aid == 1 else "reserve",
            decision="funded" if aid == 1 else "reserve",
            disagreements="[]",
            criterion_averages="{}",
        )
    _insert(
        "decisions",
        id=1,
        call_id=1,
        number="3/2026",
        decided_on=date(2026, 3, 10),
        file_id=FILE_ID,
        recorded_by_id=1,
        created_at=t,
        updated_at=t,
    )
    _insert(
        "audit_events",
        id=1,
        at=t,
        actor_id=1,
        action="decision_recorded",
        object_type="call",
        object_id=1,
        municipality_id=muni,
        after=json.dumps({"number": "3/2026"}),
    )
    _insert(
        "status_changes",
        id=1,
        object_type="application",
        object_id=1,
        action="fund",
        from_status="scored",
        to_status="funded",
        actor_id=1,
        at=t,
    )
    _insert(
        "outbox_messages",
        id=1,
        recipient="iesn1@x.lv",
        subject="Lēmums",
        body_text="Finansēts",
        locale="lv",
        template="decision",
        status="queued",
        attempts=0,
        created_at=t,
        next_attempt_at=t,
    )
    db.session.commit()


def _contents(tables: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of the tables, on the given columns, in id order."""
    with db.engine.connect() as conn:
        return {
            table: [
                tuple(row)
                for row in conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")  # noqa: S608
            ]
            for table, columns in tables.items()
        }


def _checks(tables: dict[str, list[str]]) -> dict[str, dict]:
    """Row counts and money sums of the tables, on the columns they had at DATA_REVISION."""
    with db.engine.connect() as conn:
        checks = table_checks(conn)
    return {
        table: {
            "rows": checks[table]["rows"],
            "sums": {c: s for c, s in checks[table]["sums"].items() if c in columns},
        }
        for table, columns in tables.items()
    }


@pytest.fixture(scope="module")
def data_at_revision(migration_app):
    """The module's database at DATA_REVISION with rows in it; yields the tables' columns at that revision."""
    downgrade(revision="base")
    upgrade(revision=DATA_REVISION)
    _fill_at_data_revision()
    inspector = sa.inspect(db.engine)
    return {
        table: [c["name"] for c in inspector.get_columns(table)]
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"})
    }


def test_data_survives_the_upgrade_to_head_and_the_downgrade_back(data_at_revision):
    tables = data_at_revision
    before_checks, before_rows = _checks(tables), _contents(tables)
    assert before_checks["applications"]["rows"] == 3
    assert before_checks["budget_lines"]["sums"]["amount"] == "13800.00"  # 3 × 4600.00
    assert before_checks["quotas"]["sums"]["reserved"] == "23000.00"
    assert before_checks["scores"]["rows"] == 12

    upgrade()
    assert _current() == SCRIPTS.get_current_head()
    assert _checks(tables) == before_checks
    assert _contents(tables) == before_rows
    assert _stored_pdf() == PDF

    downgrade(revision=DATA_REVISION)
    assert _current() == DATA_REVISION
    assert _checks(tables) == before_checks
    assert _contents(tables) == before_rows
    assert _stored_pdf() == PDF


def _stored_pdf() -> bytes:
    with db.engine.connect() as conn:
        data = conn.execute(sa.text("SELECT data FROM stored_files WHERE id = :id"), {"id": FILE_ID}).scalar()
    return bytes(data)
