"""The national audit workbook (issue 8): every sheet with its headers and rows, totals that reconcile
with the payments ledger and the payments sheet, safe text, constant SQL, national administrator only,
audited."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from portal.core.audit import AuditEvent
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db as _db
from portal.payments import ledger
from portal.payments.models import Recovery
from portal.reports import export
from tests.factories import applicant, contract_in, coordinator, national_admin, submitted_report
from tests.helpers import browser_client, count_queries, log_in

D = Decimal


def _scenario():
    """A submitted final report on a project whose advance is paid, and a recovered claim on it."""
    report, contract, ev = submitted_report()
    _db.session.add(
        Recovery(
            contract_id=contract.id,
            amount=D("100.00"),
            reason="=1+1 atmaksa",
            status="recovered",
            recovered_on=date(2027, 3, 1),
        )
    )
    _db.session.flush()
    return report, contract, ev


def _rows(book, sheet: str) -> list[tuple]:
    return list(book[sheet].iter_rows(values_only=True))


def _book(**scope):
    with force_locale("en"):
        return load_workbook(io.BytesIO(export.audit_workbook(**scope)))


def test_every_sheet_has_its_headers_and_rows(db):
    report, contract, ev = _scenario()
    application = contract.application
    book = _book()
    assert book.sheetnames == list(export.SHEETS)
    for name in export.SHEETS:
        ws = book[name]
        header = next(ws.iter_rows(max_row=1))
        with force_locale("en"):
            assert [c.value for c in header] == [str(c.label) for c in export.COLUMNS[name]]
        assert all(c.font.b for c in header)
        assert ws.freeze_panes == "A2"

    apps = {r[0]: r for r in _rows(book, "Pieteikumi")[1:]}
    assert set(apps) == {a.id for a in ev["applications"]}  # both submitted applications, no drafts
    row = dict(zip(_rows(book, "Pieteikumi")[0], apps[application.id], strict=True))
    assert row["Project title"] == application.title
    assert row["Status"] == "Report submitted"
    assert row["Amount requested"] == pytest.approx(4600.00)
    assert isinstance(row["Submitted"], datetime)
    assert row["Decision"] == "Fund"

    scores = _rows(book, "Vērtējumi")[1:]
    criteria = len({r[5] for r in scores})
    # 3 voting members × 2 applications × each criterion; evaluators are named (staff).
    assert len(scores) == 3 * 2 * criteria
    assert {r[3] for r in scores} == {m.user.full_name for m in ev["committee"]["members"]}

    [decision] = _rows(book, "Lēmumi")[1:]
    assert decision[0] == "3/2026" and decision[5:] == (1, 1, 0)  # the second passed: reserve

    [contract_row] = _rows(book, "Līgumi")[1:]
    assert contract_row[0] == contract.number and contract_row[5] == pytest.approx(float(contract.amount))
    assert isinstance(contract_row[6], datetime)  # a date cell (openpyxl reads dates back as datetimes)

    payments = _rows(book, "Maksājumi")[1:]
    assert [(r[0], r[2], r[3]) for r in payments] == [
        (contract.number, "Advance", "Paid"),
        (contract.number, "Final payment", "Planned"),
    ]
    assert book["Maksājumi"]["E2"].number_format == "#,##0.00"
    assert payments[0][9] == "SWED-0001"

    [recovery] = _rows(book, "Atmaksas")[1:]
    assert recovery[2] == pytest.approx(100.00) and recovery[3] == "Recovered"
    assert recovery[4] == "'=1+1 atmaksa"  # formula-looking text is made safe

    [report_row] = _rows(book, "Pārskati")[1:]
    assert report_row[0] == application.id and report_row[11] == 30 and report_row[15] == 6
    # No IBAN anywhere in the workbook.
    iban = application.organisation.iban
    for name in export.SHEETS:
        assert not any(iban in str(v) for r in _rows(book, name) for v in r if v is not None)


def test_summary_reconciles_with_the_ledger_and_the_payments_sheet(db):
    _report, contract, ev = _scenario()
    call = ev["call"]
    book = _book(round_id=call.round_id)
    header, *rows, footer = _rows(book, "Kopsavilkums")
    [muni] = ledger.ledger_by_municipality(call.round_id, {call.municipality_id})
    row = dict(zip(header, rows[0], strict=True))
    assert row["Municipality"] == muni.name
    for key, label in (
        ("contracted", "Contracted"),
        ("paid", "Paid"),
        ("to_be_paid", "To be paid"),
        ("recovered", "Recovered"),
    ):
        assert D(str(row[label])).quantize(D("0.01")) == getattr(muni, key)
    paid_in_sheet = sum(D(str(r[4])) for r in _rows(book, "Maksājumi")[1:] if r[3] == "Paid")
    assert D(str(row["Paid"])).quantize(D("0.01")) == paid_in_sheet == D("3680.00")
    assert row["Paid (payments sheet)"] == pytest.approx(3680.00)
    assert row["Difference, paid"] == 0 and row["Difference, recovered"] == 0
    assert footer[1] == "Total" and footer[3] == pytest.approx(3680.00)


def test_formula_looking_title_is_safe(db):
    _report, contract, _ev = _scenario()
    contract.application.title = '=HYPERLINK("http://x.example","klik")'
    _db.session.flush()
    titles = [r[6] for r in _rows(_book(), "Pieteikumi")[1:]]
    assert '\'=HYPERLINK("http://x.example","klik")' in titles
    assert not any(str(t).startswith("=") for t in titles)


def test_the_number_of_queries_does_not_grow_with_the_data(db):
    _scenario()
    counts = []
    for more in (True, False):
        with count_queries(_db.engine) as statements:
            export.audit_workbook()
        counts.append(len(statements))
        if more:  # 1 project, then 3 (each with its own call, committee, scores and payments)
            contract_in("advance_paid")
            contract_in("signed")
    assert counts[0] == counts[1] == len(export.SHEETS)


def test_only_the_national_administrator_gets_the_page_and_the_file(app, client, login_as, db):
    _report, contract, ev = _scenario()
    for user in (coordinator(contract.municipality), applicant(contract.application.organisation)):
        other = browser_client(app)
        log_in(other, user)
        assert other.get("/reports/export").status_code == 404
        assert other.get("/reports/export.xlsx").status_code == 404
    admin = national_admin()
    login_as(admin)
    page = client.get("/reports/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Download the workbook (XLSX)" in html and "Kopsavilkums" in html
    programme_id = ev["call"].programme_id
    response = client.get(f"/reports/export.xlsx?programme={programme_id}&round={ev['call'].round_id}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and f"-{to_riga(utcnow()).date().isoformat()}.xlsx" in disposition
    )
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == list(export.SHEETS)
    event = _db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export.audit_workbook")
    ).one()
    assert event.actor_id == admin.id
    assert event.after_data()["programme_id"] == programme_id
    # An unknown programme, or a round of another programme, is 404.
    assert client.get("/reports/export.xlsx?programme=999999").status_code == 404
