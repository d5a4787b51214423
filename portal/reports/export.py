"""The national audit export (issue 8): one XLSX workbook of everything, one sheet per kind.

`audit_workbook(programme_id=None, round_id=None)` writes, for the programme and/or round chosen (all of
them when none is):

- **Pieteikumi**: the applications that reached the municipality (drafts are the applicant's own work and
  are left out), with the amount requested (the budget's total) and the evaluation's average, rank and
  decision;
- **Vērtējumi**: one row per criterion of each *submitted* score sheet. Evaluators are named: they are
  staff acting in an official capacity and the committee's protocol names them too; a draft sheet is
  not a score yet and is left out;
- **Lēmumi**: the council's decision of each call, with the number of funded, reserve and not funded
  applications;
- **Līgumi**, **Maksājumi**, **Atmaksas**: contracts, payments and recovery claims. No IBAN anywhere: an
  audit checks amounts and dates, the payment orders hold the accounts;
- **Pārskati**: the final reports' steps and participant **counts only** (no personal data of minors);
- **Kopsavilkums**: per municipality the ledger's money (`portal.payments.ledger`, the same figures as
  the ledger page and the national dashboard), next to what the Maksājumi and Atmaksas sheets add up to,
  and the difference (0.00 when they reconcile), with a totals line.

The sheet names are fixed (Latvian, the format auditors script against); the headers follow the user's
language. Each sheet is ONE SQL statement whatever the amount of data (aggregates in SQL), read as a
stream and written by a write-only workbook, so a large programme does not sit in memory as objects.
Every text cell goes through `spreadsheet_safe` (no formula injection); dates are dates, times are Riga
wall-clock times, money is a number formatted `#,##0.00`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.applications.models import Application, BudgetLine
from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call, CallCriterion
from portal.contracts.models import Contract, ContractStatus
from portal.core.db import ZERO
from portal.core.timeutil import to_riga
from portal.evaluation.models import (
    CommitteeMember,
    CommitteeRole,
    Decision,
    EvaluationResult,
    Score,
    ScoreSheet,
)
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.organisations.models import Organisation
from portal.payments import ledger
from portal.payments.models import Payment, PaymentKind, PaymentStatus, Recovery
from portal.payments.recoveries import RecoveryStatus
from portal.programmes.dashboard import spreadsheet_safe
from portal.programmes.models import Round
from portal.reports.models import FinalReport

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

# Sheet names, in the order of the workbook.
APPLICATIONS = "Pieteikumi"
SCORES = "Vērtējumi"
DECISIONS = "Lēmumi"
CONTRACTS = "Līgumi"
PAYMENTS = "Maksājumi"
RECOVERIES = "Atmaksas"
REPORTS = "Pārskati"
SUMMARY = "Kopsavilkums"
SHEETS = (APPLICATIONS, SCORES, DECISIONS, CONTRACTS, PAYMENTS, RECOVERIES, REPORTS, SUMMARY)

_PROPOSALS = {
    "funded": lazy_pgettext("proposal", "Fund"),
    "reserve": lazy_pgettext("proposal", "Reserve list"),
    "not_funded": lazy_pgettext("proposal", "Do not fund"),
}


@dataclass(frozen=True)
class Col:
    key: str
    label: object  # a lazy translated string
    kind: str = "text"  # text | int | money | date | datetime | label
    labels: Callable | None = None  # for kind "label": code -> translated label


def _label_of(enum):
    def label(code):
        try:
            return str(enum(code).label)
        except ValueError:
            return code

    return label


def _proposal(code):
    return str(_PROPOSALS.get(code, code))


# --- the statements (one per sheet) --------------------------------------------------------------


def _scope(stmt, programme_id, round_id):
    if programme_id is not None:
        stmt = stmt.where(Call.programme_id == programme_id)
    if round_id is not None:
        stmt = stmt.where(Call.round_id == round_id)
    return stmt


def _applications(programme_id, round_id):
    budget = (
        sa.select(
            BudgetLine.application_id.label("application_id"), sa.func.sum(BudgetLine.amount).label("total")
        )
        .group_by(BudgetLine.application_id)
        .subquery("budget_totals")
    )
    stmt = (
        sa.select(
            Application.id.label("id"),
            Municipality.name.label("municipality"),
            Round.number.label("round"),
            Call.title.label("call"),
            Organisation.name.label("organisation"),
            Organisation.reg_number.label("reg_number"),
            Application.title.label("title"),
            Application.status.label("status"),
            Application.submitted_at.label("submitted_at"),
            Application.start_date.label("start_date"),
            Application.end_date.label("end_date"),
            budget.c.total.label("requested"),
            Application.participants_total.label("participants_total"),
            Application.participants_risk.label("participants_risk"),
            EvaluationResult.average.label("average"),
            EvaluationResult.rank.label("rank"),
            EvaluationResult.decision.label("decision"),
            Application.anonymised_at.label("anonymised_at"),
        )
        .join(Call, Call.id == Application.call_id)
        .join(Municipality, Municipality.id == Call.municipality_id)
        .join(Round, Round.id == Call.round_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(budget, budget.c.application_id == Application.id)
        .outerjoin(EvaluationResult, EvaluationResult.application_id == Application.id)
        .where(Application.status != ApplicationStatus.DRAFT.value)
        .order_by(Municipality.name, Round.number, Call.id, Application.id)
    )
    return _scope(stmt, programme_id, round_id)


def _scores(programme_id, round_id):
    evaluator = aliased(User)
    stmt = (
        sa.select(
            ScoreSheet.application_id.label("application_id"),
            Municipality.name.label("municipality"),
            Call.title.label("call"),
            sa.func.coalesce(evaluator.full_name, CommitteeMember.email).label("member"),
            CommitteeMember.role.label("role"),
            CallCriterion.code.label("criterion"),
            CallCriterion.title_lv.label("criterion_title"),
            Score.value.label("value"),
            Score.comment.label("comment"),
            ScoreSheet.submitted_at.label("submitted_at"),
        )
        .select_from(Score)
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .join(CommitteeMember, CommitteeMember.id == ScoreSheet.member_id)
        .outerjoin(evaluator, evaluator.id == CommitteeMember.user_id)
        .join(CallCriterion, CallCriterion.id == Score.criterion_id)
        .join(Application, Application.id == ScoreSheet.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(Municipality, Municipality.id == Call.municipality_id)
        .where(ScoreSheet.status == "submitted")
        .order_by(
            Municipality.name, Call.id, ScoreSheet.application_id, ScoreSheet.id, CallCriterion.position
        )
    )
    return _scope(stmt, programme_id, round_id)


def _decisions(programme_id, round_id):
    def count(value):
        return sa.func.sum(sa.case((EvaluationResult.decision == value, 1), else_=0))

    outcomes = (
        sa.select(
            EvaluationResult.call_id.label("call_id"),
            count("funded").label("funded"),
            count("reserve").label("reserve"),
            count("not_funded").label("not_funded"),
        )
        .group_by(EvaluationResult.call_id)
        .subquery("decision_outcomes")
    )
    stmt = (
        sa.select(
            Decision.number.label("number"),
            Decision.decided_on.label("decided_on"),
            Municipality.name.label("municipality"),
            Round.number.label("round"),
            Call.title.label("call"),
            sa.func.coalesce(outcomes.c.funded, 0).label("funded"),
            sa.func.coalesce(outcomes.c.reserve, 0).label("reserve"),
            sa.func.coalesce(outcomes.c.not_funded, 0).label("not_funded"),
        )
        .join(Call, Call.id == Decision.call_id)
        .join(Municipality, Municipality.id == Call.municipality_id)
        .join(Round, Round.id == Call.round_id)
        .outerjoin(outcomes, outcomes.c.call_id == Call.id)
        .order_by(Municipality.name, Decision.decided_on, Decision.id)
    )
    return _scope(stmt, programme_id, round_id)


def _contract_base(*columns, start=None):
    """Select `columns` from `start` (joined to its contract) or from contracts, with the contract's
    application, call, municipality and organisation."""
    stmt = sa.select(*columns)
    if start is not None:
        stmt = stmt.select_from(start).join(Contract, Contract.id == start.contract_id)
    else:
        stmt = stmt.select_from(Contract)
    return (
        stmt.join(Application, Application.id == Contract.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(Municipality, Municipality.id == Contract.municipality_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
    )


def _contracts(programme_id, round_id):
    stmt = _contract_base(
        Contract.number.label("number"),
        Contract.application_id.label("application_id"),
        Municipality.name.label("municipality"),
        Organisation.name.label("organisation"),
        Contract.status.label("status"),
        Contract.amount.label("amount"),
        Contract.start_date.label("start_date"),
        Contract.end_date.label("end_date"),
        Contract.report_due.label("report_due"),
        Contract.sent_at.label("sent_at"),
        Contract.applicant_signed_at.label("applicant_signed_at"),
        Contract.signed_at.label("signed_at"),
        Contract.terminated_at.label("terminated_at"),
    ).order_by(Municipality.name, Contract.year, Contract.sequence)
    return _scope(stmt, programme_id, round_id)


def _payments(programme_id, round_id):
    stmt = _contract_base(
        Contract.number.label("contract"),
        Contract.municipality_id.label("municipality_id"),
        Municipality.name.label("municipality"),
        Payment.kind.label("kind"),
        Payment.status.label("status"),
        Payment.amount.label("amount"),
        Payment.reduced_from.label("reduced_from"),
        Payment.reduction_reason.label("reduction_reason"),
        Payment.approved_at.label("approved_at"),
        Payment.paid_on.label("paid_on"),
        Payment.bank_reference.label("bank_reference"),
        start=Payment,
    ).order_by(Municipality.name, Contract.year, Contract.sequence, Payment.kind)
    return _scope(stmt, programme_id, round_id)


def _recoveries(programme_id, round_id):
    stmt = _contract_base(
        Contract.number.label("contract"),
        Contract.municipality_id.label("municipality_id"),
        Municipality.name.label("municipality"),
        Recovery.amount.label("amount"),
        Recovery.status.label("status"),
        Recovery.reason.label("reason"),
        Recovery.created_at.label("claimed_at"),
        Recovery.recovered_on.label("recovered_on"),
        start=Recovery,
    ).order_by(Municipality.name, Contract.year, Contract.sequence, Recovery.id)
    return _scope(stmt, programme_id, round_id)


def _reports(programme_id, round_id):
    stmt = (
        sa.select(
            FinalReport.application_id.label("application_id"),
            Contract.number.label("contract"),
            Municipality.name.label("municipality"),
            Organisation.name.label("organisation"),
            Application.status.label("status"),
            Contract.report_due.label("due"),
            FinalReport.submitted_at.label("submitted_at"),
            FinalReport.times_returned.label("times_returned"),
            FinalReport.approved_at.label("approved_at"),
            FinalReport.forwarded_at.label("forwarded_at"),
            FinalReport.acknowledged_at.label("acknowledged_at"),
            FinalReport.participants_total.label("participants_total"),
            FinalReport.participants_grades_5_9.label("participants_grades_5_9"),
            FinalReport.participants_grades_10_12.label("participants_grades_10_12"),
            FinalReport.participants_vocational.label("participants_vocational"),
            FinalReport.participants_risk.label("participants_risk"),
            FinalReport.activity_hours.label("activity_hours"),
        )
        .select_from(FinalReport)
        .join(Application, Application.id == FinalReport.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(Municipality, Municipality.id == Call.municipality_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(Contract, Contract.application_id == Application.id)
        .order_by(Municipality.name, Contract.number, FinalReport.id)
    )
    return _scope(stmt, programme_id, round_id)


def _summary(programme_id, round_id):
    sums = ledger.measures_by(
        "municipality_id", programme_id=programme_id, round_id=round_id, name="audit_sums"
    )
    return (
        sa.select(
            Municipality.id.label("municipality_id"),
            Municipality.code.label("code"),
            Municipality.name.label("municipality"),
            *(sums.c[m] for m in ledger.MEASURES),
        )
        .join(sums, sums.c.municipality_id == Municipality.id)
        .order_by(Municipality.name)
    )


# --- the columns ---------------------------------------------------------------------------------

_APPLICATION_STATUS = _label_of(ApplicationStatus)

COLUMNS: dict[str, list[Col]] = {
    APPLICATIONS: [
        Col("id", _l("Application no."), "int"),
        Col("municipality", _l("Municipality")),
        Col("round", _l("Round"), "int"),
        Col("call", _l("Call")),
        Col("organisation", _l("Organisation")),
        Col("reg_number", _l("Registration number")),
        Col("title", _l("Project title")),
        Col("status", _l("Status"), "label", _APPLICATION_STATUS),
        Col("submitted_at", _l("Submitted"), "datetime"),
        Col("start_date", _l("Start"), "date"),
        Col("end_date", _l("End"), "date"),
        Col("requested", _l("Amount requested"), "money"),
        Col("participants_total", _l("Participants planned"), "int"),
        Col("participants_risk", _l("Of them at risk"), "int"),
        Col("average", _l("Average score"), "money"),
        Col("rank", _l("Rank"), "int"),
        Col("decision", _l("Decision"), "label", _proposal),
        Col("anonymised_at", _l("Anonymised"), "datetime"),
    ],
    SCORES: [
        Col("application_id", _l("Application no."), "int"),
        Col("municipality", _l("Municipality")),
        Col("call", _l("Call")),
        Col("member", _l("Evaluator")),
        Col("role", _l("Role"), "label", _label_of(CommitteeRole)),
        Col("criterion", _l("Criterion code")),
        Col("criterion_title", _l("Criterion")),
        Col("value", _l("Score"), "int"),
        Col("comment", _l("Comment")),
        Col("submitted_at", _l("Submitted"), "datetime"),
    ],
    DECISIONS: [
        Col("number", _l("Decision no.")),
        Col("decided_on", _l("Date"), "date"),
        Col("municipality", _l("Municipality")),
        Col("round", _l("Round"), "int"),
        Col("call", _l("Call")),
        Col("funded", _l("Funded"), "int"),
        Col("reserve", _l("Reserve list"), "int"),
        Col("not_funded", _l("Not funded"), "int"),
    ],
    CONTRACTS: [
        Col("number", _l("Contract no.")),
        Col("application_id", _l("Application no."), "int"),
        Col("municipality", _l("Municipality")),
        Col("organisation", _l("Organisation")),
        Col("status", _l("Status"), "label", _label_of(ContractStatus)),
        Col("amount", _l("Amount"), "money"),
        Col("start_date", _l("Start"), "date"),
        Col("end_date", _l("End"), "date"),
        Col("report_due", _l("Report due"), "date"),
        Col("sent_at", _l("Sent for signature"), "datetime"),
        Col("applicant_signed_at", _l("Signed by the applicant"), "datetime"),
        Col("signed_at", _l("Signed"), "datetime"),
        Col("terminated_at", _l("Terminated"), "datetime"),
    ],
    PAYMENTS: [
        Col("contract", _l("Contract no.")),
        Col("municipality", _l("Municipality")),
        Col("kind", _l("Payment"), "label", _label_of(PaymentKind)),
        Col("status", _l("Status"), "label", _label_of(PaymentStatus)),
        Col("amount", _l("Amount"), "money"),
        Col("reduced_from", _l("Reduced from"), "money"),
        Col("reduction_reason", _l("Reason for the reduction")),
        Col("approved_at", _l("Approved"), "datetime"),
        Col("paid_on", _l("Paid on"), "date"),
        Col("bank_reference", _l("Bank reference")),
    ],
    RECOVERIES: [
        Col("contract", _l("Contract no.")),
        Col("municipality", _l("Municipality")),
        Col("amount", _l("Amount"), "money"),
        Col("status", _l("Status"), "label", _label_of(RecoveryStatus)),
        Col("reason", _l("Reason")),
        Col("claimed_at", _l("Claimed"), "datetime"),
        Col("recovered_on", _l("Recovered on"), "date"),
    ],
    REPORTS: [
        Col("application_id", _l("Application no."), "int"),
        Col("contract", _l("Contract no.")),
        Col("municipality", _l("Municipality")),
        Col("organisation", _l("Organisation")),
        Col("status", _l("Status"), "label", _APPLICATION_STATUS),
        Col("due", _l("Report due"), "date"),
        Col("submitted_at", _l("Submitted"), "datetime"),
        Col("times_returned", _l("Times returned"), "int"),
        Col("approved_at", _l("Approved"), "datetime"),
        Col("forwarded_at", _l("Forwarded"), "datetime"),
        Col("acknowledged_at", _l("Acknowledged"), "datetime"),
        Col("participants_total", _l("Participants"), "int"),
        Col("participants_grades_5_9", _l("Grades 5–9"), "int"),
        Col("participants_grades_10_12", _l("Grades 10–12"), "int"),
        Col("participants_vocational", _l("Vocational 1–4"), "int"),
        Col("participants_risk", _l("At risk"), "int"),
        Col("activity_hours", _l("Activity hours"), "int"),
    ],
    SUMMARY: [
        Col("code", _l("Code")),
        Col("municipality", _l("Municipality")),
        Col("contracted", _l("Contracted"), "money"),
        Col("paid", _l("Paid"), "money"),
        Col("reduced", _l("Reduced"), "money"),
        Col("to_be_paid", _l("To be paid"), "money"),
        Col("recovered", _l("Recovered"), "money"),
        Col("claimed", _l("Claimed, outstanding"), "money"),
        Col("paid_in_sheet", _l("Paid (payments sheet)"), "money"),
        Col("paid_difference", _l("Difference, paid"), "money"),
        Col("recovered_in_sheet", _l("Recovered (recoveries sheet)"), "money"),
        Col("recovered_difference", _l("Difference, recovered"), "money"),
    ],
}

STATEMENTS = {
    APPLICATIONS: _applications,
    SCORES: _scores,
    DECISIONS: _decisions,
    CONTRACTS: _contracts,
    PAYMENTS: _payments,
    RECOVERIES: _recoveries,
    REPORTS: _reports,
}


# --- writing -------------------------------------------------------------------------------------


def _value(col: Col, value):
    if value is None:
        return None
    if col.kind == "money":
        return ledger.money(value)
    if col.kind == "datetime":
        return to_riga(value).replace(tzinfo=None) if isinstance(value, datetime) else value
    if col.kind == "label":
        return spreadsheet_safe(str(col.labels(value)))
    if col.kind == "text":
        return spreadsheet_safe(str(value))
    return value


def _cells(ws, columns: list[Col], values: Iterable):
    from openpyxl.cell import WriteOnlyCell

    row = []
    for col, value in zip(columns, values, strict=True):
        cell = WriteOnlyCell(ws, value=value)
        if col.kind == "money":
            cell.number_format = MONEY_FORMAT
        elif col.kind == "date":
            cell.number_format = DATE_FORMAT
        elif col.kind == "datetime":
            cell.number_format = DATETIME_FORMAT
        row.append(cell)
    return row


def _sheet(wb, name: str, columns: list[Col]):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    ws.freeze_panes = "A2"
    for index, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = 14 if col.kind in ("int", "date") else 22
    header = []
    for col in columns:
        cell = WriteOnlyCell(ws, value=str(col.label))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    return ws


def _stream(stmt):
    return db.session.execute(stmt.execution_options(stream_results=True, max_row_buffer=1000)).mappings()


def audit_workbook(programme_id: int | None = None, round_id: int | None = None) -> bytes:
    """Return the audit workbook (XLSX bytes) of the programme and/or round, or of everything."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.title = "JIP audit"
    wb.properties.creator = "JIP portāls"
    # What the Maksājumi and Atmaksas sheets add up to per municipality, for the summary's check.
    paid_in_sheet: dict[int, Decimal] = defaultdict(lambda: ZERO)
    recovered_in_sheet: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for name, statement in STATEMENTS.items():
        columns = COLUMNS[name]
        ws = _sheet(wb, name, columns)
        for r in _stream(statement(programme_id, round_id)):
            if name == PAYMENTS and r["status"] == PaymentStatus.PAID.value:
                paid_in_sheet[r["municipality_id"]] += ledger.money(r["amount"])
            if name == RECOVERIES and r["status"] == RecoveryStatus.RECOVERED.value:
                recovered_in_sheet[r["municipality_id"]] += ledger.money(r["amount"])
            ws.append(_cells(ws, columns, (_value(c, r[c.key]) for c in columns)))

    columns = COLUMNS[SUMMARY]
    ws = _sheet(wb, SUMMARY, columns)
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in _stream(_summary(programme_id, round_id)):
        values = {"code": r["code"], "municipality": r["municipality"]}
        values |= {m: ledger.money(r[m]) for m in ledger.MEASURES}
        values["paid_in_sheet"] = paid_in_sheet.get(r["municipality_id"], ZERO)
        values["paid_difference"] = values["paid"] - values["paid_in_sheet"]
        values["recovered_in_sheet"] = recovered_in_sheet.get(r["municipality_id"], ZERO)
        values["recovered_difference"] = values["recovered"] - values["recovered_in_sheet"]
        for col in columns:
            if col.kind == "money":
                totals[col.key] += values[col.key]
        ws.append(_cells(ws, columns, (_value(c, values[c.key]) for c in columns)))
    footer = {"code": None, "municipality": str(_l("Total"))} | dict(totals)
    ws.append(_cells(ws, columns, (_value(c, footer.get(c.key, ZERO)) for c in columns)))

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
