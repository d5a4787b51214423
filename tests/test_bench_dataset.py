"""The benchmark's national dataset (bench/dataset.py, issue 9): it loads coherent data, its manifest's
users can log in and reach their pages, and every page of the manifest runs the same number of SQL
statements whatever the data size (QUALITY: no N+1 queries).

The dataset is built twice (small and four times larger), each time inside a transaction that is rolled
back, so the other tests never see it."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.helpers import browser_client, count_queries, fresh_g_per_request, log_in, rolled_back_db

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import dataset  # noqa: E402 - bench/ is not a package

SIZES = (60, 240)


def _table_counts(db) -> dict[str, int]:
    return {
        t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def _page_queries(app, db, manifest) -> dict[str, tuple[int, int]]:
    """GET each manifest page as its user (warmed up once); return {page: (status, statements)}.

    Each request starts as on a real server: an empty `g` and an empty session (no objects cached)."""
    out = {}
    with fresh_g_per_request(app):
        for page, path in manifest["pages"].items():
            out[page] = _one_page(app, db, manifest, page, path)
    return out


def _one_page(app, db, manifest, page, path) -> tuple[int, int]:
    client = browser_client(app)
    role = manifest["page_users"][page]
    if role is not None:
        entry = manifest["users"][role]
        user = SimpleNamespace(email=entry["email"], has_totp=True, totp_secret=entry["totp_secret"])
        log_in(client, user, manifest["password"])
    client.get(path)
    db.session.remove()
    with count_queries(db.engine) as statements:
        response = client.get(path)
    return response.status_code, len(statements)


def _coherence(db, manifest) -> dict:
    """Facts about the loaded data that must hold (checked by the tests below)."""
    from portal.applications.models import Application, ApplicationVersion
    from portal.applications.rules import submission_problems
    from portal.applications.workflow import FUNDED_STATUSES, ApplicationStatus
    from portal.calls.models import Call
    from portal.contracts.models import Contract, ContractStatus
    from portal.evaluation.models import CommitteeMember, ConflictDeclaration, ScoreSheet
    from portal.payments.models import Payment
    from portal.programmes.models import Quota

    s = db.session
    facts = {}
    facts["statuses"] = set(s.scalars(sa.select(Application.status).distinct()))
    facts["unknown_statuses"] = facts["statuses"] - {m.value for m in ApplicationStatus}
    facts["contract_statuses"] = set(s.scalars(sa.select(Contract.status).distinct()))
    facts["unknown_contract_statuses"] = facts["contract_statuses"] - {m.value for m in ContractStatus}
    facts["submitted_without_version"] = s.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .where(
            Application.submitted_at.is_not(None),
            ~sa.exists().where(ApplicationVersion.application_id == Application.id),
        )
    )
    declared = sa.exists().where(
        ConflictDeclaration.member_id == ScoreSheet.member_id,
        ConflictDeclaration.application_id == ScoreSheet.application_id,
        ConflictDeclaration.recused.is_(False),
    )
    facts["sheets_without_clean_declaration"] = s.scalar(
        sa.select(sa.func.count())
        .select_from(ScoreSheet)
        .join(CommitteeMember, CommitteeMember.id == ScoreSheet.member_id)
        .where(sa.or_(~declared, CommitteeMember.declared_at.is_(None), CommitteeMember.role == "secretary"))
    )
    paid = (
        sa.select(Payment.contract_id, sa.func.sum(Payment.amount).label("total"))
        .group_by(Payment.contract_id)
        .subquery()
    )
    facts["overpaid_contracts"] = s.scalar(
        sa.select(sa.func.count())
        .select_from(Contract)
        .join(paid, paid.c.contract_id == Contract.id)
        .where(paid.c.total > Contract.amount)
    )
    funded = {
        f"{r}-{m}": n
        for r, m, n in s.execute(
            sa.select(Call.round_id, Call.municipality_id, sa.func.count())
            .select_from(Application)
            .join(Call, Call.id == Application.call_id)
            .where(Application.status.in_([x.value for x in FUNDED_STATUSES]))
            .group_by(Call.round_id, Call.municipality_id)
        )
    }
    quotas = {f"{q.round_id}-{q.municipality_id}": q.total for q in s.scalars(sa.select(Quota))}
    facts["over_quota"] = {k: v for k, v in funded.items() if v > quotas.get(k, 0)}
    drafts = [s.get(Application, a["application_id"]) for a in manifest["autosave"]["applicants"]]
    facts["autosave_ok"] = all(
        a.status == ApplicationStatus.DRAFT and a.call_id == manifest["autosave"]["call_id"] for a in drafts
    )
    facts["autosave_problems"] = [str(p) for a in drafts[:3] for p in submission_problems(a)]
    facts["autosave_orgs_unique"] = len({a.organisation_id for a in drafts}) == len(drafts)
    facts["autosave_org_applications"] = s.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .where(
            Application.call_id == manifest["autosave"]["call_id"],
            Application.organisation_id.in_([a.organisation_id for a in drafts]),
        )
    )
    facts["autosave_count"] = len(drafts)
    facts["manifest_contracts_draft"] = all(
        s.get(Contract, cid).status == ContractStatus.DRAFT for cid in manifest["contracts"]
    )
    facts["amounts"] = set(s.scalars(sa.select(Contract.amount).distinct()))
    return facts


@pytest.fixture(scope="module")
def measured(app):
    """Build the dataset at each size in a rolled-back transaction; keep what the tests check."""
    out = {}
    for size in SIZES:
        with rolled_back_db() as db:
            before = _table_counts(db)
            db.session.remove()  # build() commits in its own session: leave no savepoint open under it
            manifest = dataset.build(app, size)
            after = _table_counts(db)
            out[size] = {
                "manifest": manifest,
                "added": {t: after[t] - before[t] for t in after if after[t] != before[t]},
                "pages": _page_queries(app, db, manifest),
                "facts": _coherence(db, manifest),
            }
    return out


def test_manifest_counts_match_the_database(measured):
    for size in SIZES:
        manifest = measured[size]["manifest"]
        added = measured[size]["added"]
        for table, rows in manifest["counts"].items():
            assert added.get(table, 0) == rows, (size, table)
        assert manifest["applications"] == added["applications"]
        assert abs(manifest["applications"] - size) <= size * 0.1


def test_the_dataset_is_coherent(measured):
    for size in SIZES:
        facts = measured[size]["facts"]
        assert not facts["unknown_statuses"] and not facts["unknown_contract_statuses"]
        assert facts["submitted_without_version"] == 0
        assert facts["sheets_without_clean_declaration"] == 0
        assert facts["overpaid_contracts"] == 0
        assert facts["over_quota"] == {}
        assert facts["amounts"] == {Decimal("4600.00")}
        assert facts["autosave_ok"] and facts["autosave_orgs_unique"] and facts["autosave_problems"] == []
        assert (
            facts["autosave_org_applications"] == facts["autosave_count"]
        )  # one each: submitting is allowed
        assert facts["manifest_contracts_draft"] and measured[size]["manifest"]["contracts"]
    larger = measured[SIZES[-1]]["facts"]
    for status in (
        "draft",
        "submitted",
        "admissible",
        "scored",
        "funded",
        "reserve",
        "not_funded",
        "rejected",
    ):
        assert status in larger["statuses"], status
    for status in ("in_progress", "report_submitted", "report_returned", "forwarded", "closed"):
        assert status in larger["statuses"], status
    assert larger["contract_statuses"] == {
        "draft",
        "sent",
        "signed_by_applicant",
        "signed",
        "lapsed",
        "terminated",
    }


def test_every_page_answers_its_user(measured):
    for size in SIZES:
        for page, (status, _count) in measured[size]["pages"].items():
            assert status == 200, (size, page, status)


def test_query_counts_do_not_grow_with_the_data(measured):
    small, large = (measured[size]["pages"] for size in SIZES)
    grown = {page: (small[page][1], large[page][1]) for page in small if small[page][1] != large[page][1]}
    assert grown == {}, f"SQL statements per page at {SIZES[0]} and {SIZES[1]} applications: {grown}"
