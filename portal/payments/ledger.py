"""The ledger (issue 7): where a programme's money stands, per call, municipality, round and programme.

Every measure is an exact Decimal (euro and cents), computed from the database in SQL: each level is
ONE statement, whatever the number of calls, contracts and payments (aggregate subqueries grouped by
the level's key, outer-joined to the level's rows; never a query per row).

The measures of one funded project, then added up at every level:

- **awarded**: the money held by a funded application that is not yet under a signed contract
  (application status *funded* or *contract sent*, its contract, if any, neither signed nor
  terminated): the call's amount per project. This is the issue's "reserved" column, named
  differently because "reserved" already means something else on the national dashboard and in the
  quotas (DESIGN §3): the *quota* money set aside for a municipality in a round, `quota × amount`.
  That quota reservation is shown too (`reserved`, for municipalities, rounds and programmes only: a
  call has no quota of its own), so `reserved − awarded − contracted` is what the quota still leaves.
- **contracted**: the amount of each signed contract; for a terminated contract only the part that was
  paid (what the municipality actually spent on it; the rest is freed).
- **paid**: the payments with status *paid* (advance and final), whatever became of the contract.
- **reduced**: how much final payments of signed contracts were reduced (results partly achieved):
  `reduced_from − amount`; that money will never be paid.
- **to be paid**: for each signed contract, `amount − paid − reduced`, never below zero; 0 for a
  terminated contract. So for signed contracts `contracted = paid + reduced + to be paid`.
- **recovered**: recovery claims with status *recovered* (money paid back).
- **claimed**: recovery claims still outstanding (status *claimed*); a written-off claim counts nowhere.

Draft calls are left out (they hold no applications that could be funded).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from portal.applications.models import Application
from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.contracts.models import Contract, ContractStatus
from portal.core.db import ZERO
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.payments.models import Payment, PaymentStatus, Recovery
from portal.programmes.models import Programme, Quota, Round

MEASURES = ("awarded", "contracted", "paid", "reduced", "to_be_paid", "recovered", "claimed")
AWARDED_STATUSES = (ApplicationStatus.FUNDED.value, ApplicationStatus.CONTRACT_SENT.value)
_CENT = Decimal("0.01")


def money(value) -> Decimal:
    """An SQL sum as exact euro and cents (SQLite sums NUMERIC as REAL; quantizing restores the cents)."""
    return ZERO if value is None else Decimal(str(value)).quantize(_CENT)


@dataclass(frozen=True, kw_only=True)
class Measures:
    awarded: Decimal = ZERO
    contracted: Decimal = ZERO
    paid: Decimal = ZERO
    reduced: Decimal = ZERO
    to_be_paid: Decimal = ZERO
    recovered: Decimal = ZERO
    claimed: Decimal = ZERO

    def measures(self) -> tuple[Decimal, ...]:
        return tuple(getattr(self, name) for name in MEASURES)


@dataclass(frozen=True, kw_only=True)
class CallLedger(Measures):
    call_id: int
    title: str
    municipality_id: int
    municipality_code: str
    municipality_name: str
    round_id: int
    round_number: int
    projects: int = 0  # funded projects with money on them (awarded or under contract)


@dataclass(frozen=True, kw_only=True)
class MunicipalityLedger(Measures):
    municipality_id: int
    code: str
    name: str
    reserved: Decimal = ZERO  # the quota money (quota × amount), as on the national dashboard


@dataclass(frozen=True, kw_only=True)
class RoundLedger(Measures):
    round_id: int
    number: int
    status: str
    reserved: Decimal = ZERO


@dataclass(frozen=True, kw_only=True)
class ProgrammeTotals(Measures):
    programme_id: int
    reserved: Decimal = ZERO


@dataclass(frozen=True, kw_only=True)
class Sum(Measures):
    """Rows added up (a table's footer)."""

    reserved: Decimal = ZERO


def add_up(rows) -> Sum:
    """Add rows of any level (in Python: the rows are already aggregates, a handful of them)."""
    values = {name: sum((getattr(r, name) for r in rows), ZERO) for name in MEASURES}
    values["reserved"] = sum((getattr(r, "reserved", ZERO) for r in rows), ZERO)
    return Sum(**values)


# --- SQL -----------------------------------------------------------------------------------------


def project_rows(*extra_columns, name: str = "ledger_projects", round_id: int | None = None):
    """One row per application that has money on it, with its call's keys and its measures; the
    `extra_columns` (of Application, Contract or Call) are added, so other tables (the monitoring table)
    build on the same definitions instead of re-deriving them. With `round_id` only the round's
    payments and recoveries are summed (the caller still filters the rows by the round): the sums of
    the other rounds' contracts would be thrown away after the join."""
    contract_ids = None
    if round_id is not None:
        contract_ids = (
            sa.select(Contract.id)
            .join(Application, Application.id == Contract.application_id)
            .join(Call, Call.id == Application.call_id)
            .where(Call.round_id == round_id)
        )
    payments = (
        sa.select(
            Payment.contract_id.label("contract_id"),
            sa.func.sum(sa.case((Payment.status == PaymentStatus.PAID.value, Payment.amount), else_=0)).label(
                "paid"
            ),
            sa.func.sum(
                sa.case((Payment.reduced_from.is_not(None), Payment.reduced_from - Payment.amount), else_=0)
            ).label("reduced"),
        )
        .where(sa.true() if contract_ids is None else Payment.contract_id.in_(contract_ids))
        .group_by(Payment.contract_id)
        .subquery("ledger_payments")
    )
    recoveries = (
        sa.select(
            Recovery.contract_id.label("contract_id"),
            sa.func.sum(sa.case((Recovery.status == "recovered", Recovery.amount), else_=0)).label(
                "recovered"
            ),
            sa.func.sum(sa.case((Recovery.status == "claimed", Recovery.amount), else_=0)).label("claimed"),
        )
        .where(sa.true() if contract_ids is None else Recovery.contract_id.in_(contract_ids))
        .group_by(Recovery.contract_id)
        .subquery("ledger_recoveries")
    )
    paid = sa.func.coalesce(payments.c.paid, 0)
    reduced = sa.func.coalesce(payments.c.reduced, 0)
    signed = Contract.status == ContractStatus.SIGNED.value
    terminated = Contract.status == ContractStatus.TERMINATED.value
    under_contract = Contract.status.in_([ContractStatus.SIGNED.value, ContractStatus.TERMINATED.value])
    awarded = sa.and_(
        Application.status.in_(AWARDED_STATUSES), sa.or_(Contract.id.is_(None), sa.not_(under_contract))
    )
    left = Contract.amount - paid - reduced
    return (
        sa.select(
            Call.id.label("call_id"),
            Call.municipality_id.label("municipality_id"),
            Call.round_id.label("round_id"),
            Call.programme_id.label("programme_id"),
            sa.case((sa.or_(awarded, under_contract), 1), else_=0).label("projects"),
            sa.case((awarded, Call.amount), else_=0).label("awarded"),
            sa.case((signed, Contract.amount), (terminated, paid), else_=0).label("contracted"),
            paid.label("paid"),
            sa.case((signed, reduced), else_=0).label("reduced"),
            sa.case((sa.and_(signed, left > 0), left), else_=0).label("to_be_paid"),
            sa.func.coalesce(recoveries.c.recovered, 0).label("recovered"),
            sa.func.coalesce(recoveries.c.claimed, 0).label("claimed"),
            *extra_columns,
        )
        .select_from(Application)
        .join(Call, Call.id == Application.call_id)
        .outerjoin(Contract, Contract.application_id == Application.id)
        .outerjoin(payments, payments.c.contract_id == Contract.id)
        .outerjoin(recoveries, recoveries.c.contract_id == Contract.id)
        .where(sa.or_(Application.status.in_(AWARDED_STATUSES), Contract.id.is_not(None)))
        .subquery(name)
    )


def measures_by(
    key: str,
    *,
    round_id: int | None = None,
    programme_id: int | None = None,
    municipality_ids=None,
    name: str = "ledger",
):
    """A subquery of the measures summed per `key` (call_id, municipality_id, round_id or programme_id),
    to outer-join to the level's rows (the national dashboard joins it per municipality)."""
    projects = project_rows(round_id=round_id)
    stmt = sa.select(
        projects.c[key].label(key),
        sa.func.sum(projects.c.projects).label("projects"),
        *(sa.func.sum(projects.c[m]).label(m) for m in MEASURES),
    ).group_by(projects.c[key])
    if round_id is not None:
        stmt = stmt.where(projects.c.round_id == round_id)
    if programme_id is not None:
        stmt = stmt.where(projects.c.programme_id == programme_id)
    if municipality_ids is not None:
        stmt = stmt.where(projects.c.municipality_id.in_(municipality_ids))
    return stmt.subquery(name)


def _quota_reserved(key: str, round_id: int | None = None):
    column = getattr(Quota, key)
    stmt = sa.select(column.label(key), sa.func.sum(Quota.reserved).label("reserved")).group_by(column)
    if round_id is not None:
        stmt = stmt.where(Quota.round_id == round_id)
    return stmt.subquery(f"quota_by_{key}")


def _measure_values(r) -> dict:
    return {m: money(r[m]) for m in MEASURES}


def _name_key(text: str):
    from portal.programmes.dashboard import latvian_key  # the dashboard imports this module

    return latvian_key(text)


def ledger_by_call(municipality_ids=None, round_id: int | None = None) -> list[CallLedger]:
    """One row per published call (of the municipalities and/or the round), by municipality, round, title."""
    sums = measures_by("call_id", round_id=round_id, municipality_ids=municipality_ids)
    stmt = (
        sa.select(
            Call.id.label("call_id"),
            Call.title.label("title"),
            Call.municipality_id.label("municipality_id"),
            Municipality.code.label("municipality_code"),
            Municipality.name.label("municipality_name"),
            Call.round_id.label("round_id"),
            Round.number.label("round_number"),
            sa.func.coalesce(sums.c.projects, 0).label("projects"),
            *(sums.c[m] for m in MEASURES),
        )
        .join(Municipality, Municipality.id == Call.municipality_id)
        .join(Round, Round.id == Call.round_id)
        .outerjoin(sums, sums.c.call_id == Call.id)
        .where(Call.status != CallStatus.DRAFT.value)
    )
    if municipality_ids is not None:
        stmt = stmt.where(Call.municipality_id.in_(municipality_ids))
    if round_id is not None:
        stmt = stmt.where(Call.round_id == round_id)
    rows = [
        CallLedger(
            call_id=r["call_id"],
            title=r["title"],
            municipality_id=r["municipality_id"],
            municipality_code=r["municipality_code"],
            municipality_name=r["municipality_name"],
            round_id=r["round_id"],
            round_number=r["round_number"],
            projects=int(r["projects"]),
            **_measure_values(r),
        )
        for r in db.session.execute(stmt).mappings()
    ]
    return sorted(rows, key=lambda r: (_name_key(r.municipality_name), -r.round_number, r.title, r.call_id))


def ledger_by_municipality(round_id: int, municipality_ids=None) -> list[MunicipalityLedger]:
    """One row per municipality of the round (it has a quota or money in it), by name."""
    sums = measures_by("municipality_id", round_id=round_id, municipality_ids=municipality_ids)
    quotas = _quota_reserved("municipality_id", round_id=round_id)
    stmt = (
        sa.select(
            Municipality.id.label("municipality_id"),
            Municipality.code,
            Municipality.name,
            quotas.c.reserved,
            *(sums.c[m] for m in MEASURES),
        )
        .select_from(Municipality)
        .outerjoin(quotas, quotas.c.municipality_id == Municipality.id)
        .outerjoin(sums, sums.c.municipality_id == Municipality.id)
        .where(sa.or_(quotas.c.municipality_id.is_not(None), sums.c.municipality_id.is_not(None)))
    )
    if municipality_ids is not None:
        stmt = stmt.where(Municipality.id.in_(municipality_ids))
    rows = [
        MunicipalityLedger(
            municipality_id=r["municipality_id"],
            code=r["code"],
            name=r["name"],
            reserved=money(r["reserved"]),
            **_measure_values(r),
        )
        for r in db.session.execute(stmt).mappings()
    ]
    return sorted(rows, key=lambda r: _name_key(r.name))


def ledger_by_round(programme_id: int) -> list[RoundLedger]:
    """One row per round of the programme, the latest first."""
    sums = measures_by("round_id", programme_id=programme_id)
    quotas = _quota_reserved("round_id")
    stmt = (
        sa.select(
            Round.id.label("round_id"),
            Round.number,
            Round.status,
            quotas.c.reserved,
            *(sums.c[m] for m in MEASURES),
        )
        .outerjoin(quotas, quotas.c.round_id == Round.id)
        .outerjoin(sums, sums.c.round_id == Round.id)
        .where(Round.programme_id == programme_id)
        .order_by(Round.number.desc(), Round.id.desc())
    )
    return [
        RoundLedger(
            round_id=r["round_id"],
            number=r["number"],
            status=r["status"],
            reserved=money(r["reserved"]),
            **_measure_values(r),
        )
        for r in db.session.execute(stmt).mappings()
    ]


def programme_totals(programme_id: int) -> ProgrammeTotals:
    """The programme's totals (every round)."""
    sums = measures_by("programme_id", programme_id=programme_id)
    reserved = (
        sa.select(sa.func.sum(Quota.reserved))
        .join(Round, Round.id == Quota.round_id)
        .where(Round.programme_id == programme_id)
        .scalar_subquery()
    )
    stmt = (
        sa.select(reserved.label("reserved"), *(sums.c[m] for m in MEASURES))
        .select_from(Programme)
        .outerjoin(sums, sums.c.programme_id == Programme.id)
        .where(Programme.id == programme_id)
    )
    r = db.session.execute(stmt).mappings().first()
    if r is None:
        return ProgrammeTotals(programme_id=programme_id)
    return ProgrammeTotals(programme_id=programme_id, reserved=money(r["reserved"]), **_measure_values(r))


# --- export --------------------------------------------------------------------------------------


def to_csv(rows: list[CallLedger], headers: list[str], language: str) -> bytes:
    """Per-call rows as CSV for Latvian Excel: UTF-8 with a BOM, `;`, decimal comma in Latvian, and no
    text cell a spreadsheet could read as a formula. `headers`: the translated column names, in the
    order code, municipality, round, call, projects, then MEASURES."""
    import csv
    import io

    from portal.programmes.dashboard import spreadsheet_safe

    def amount(value: Decimal) -> str:
        text = f"{value:.2f}"
        return text.replace(".", ",") if language == "lv" else text

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for r in rows:
        writer.writerow(
            [
                spreadsheet_safe(r.municipality_code),
                spreadsheet_safe(r.municipality_name),
                str(r.round_number),
                spreadsheet_safe(r.title),
                str(r.projects),
                *(amount(v) for v in r.measures()),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
