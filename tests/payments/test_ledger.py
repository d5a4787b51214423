"""The ledger (issue 7): hand-computed figures, levels that add up, constant SQL, the page and the
national dashboard's money columns."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal.contracts.models import ContractStatus
from portal.extensions import db as _db
from portal.payments import ledger
from portal.payments import services as payments
from portal.payments.models import Recovery
from portal.programmes import dashboard as dash
from portal.programmes.models import Round
from tests.factories import (
    contract_in,
    coordinator,
    municipality,
    national_admin,
    open_call,
    report_approved,
)
from tests.helpers import browser_client, count_queries, log_in

D = Decimal
ZERO = D("0.00")


def _funded_call(funded: int = 4, muni_code: str = "0020000"):
    """A cheaper `decided_call`: a call whose `funded` submitted applications are set to funded directly
    (no scoring, no rendered protocol). Keys as decided_call's: call, coordinator, applications,
    applicants."""
    from portal.applications.workflow import ApplicationStatus
    from tests.factories import round_with_quota, submitted_application

    muni = municipality(muni_code)
    call = open_call(muni, round=round_with_quota(muni, quota=funded), projects=funded)
    apps, users = [], []
    for _ in range(funded):
        application, user = submitted_application(call)
        application.status = ApplicationStatus.FUNDED
        apps.append(application)
        users.append(user)
    _db.session.flush()
    return {"call": call, "coordinator": coordinator(muni), "applications": apps, "applicants": users}


def _scenario():
    """Four funded projects of EUR 4600.00 (advance 3680.00, final 920.00) in one call:
    0 advance paid, final reduced to 500.00 and paid, 300.00 recovered, 100.00 still claimed and
    50.00 written off; 1 signed; 2 advance paid; 3 a draft contract."""
    from portal.core.timeutil import riga_today

    ev = _funded_call(4)
    reduced = contract_in("advance_paid", ev, index=0)[0]
    report_approved(reduced, ev)  # it acts as applicants[0]: so the reduced one is application 0
    contract_in("signed", ev, index=1)
    contract_in("advance_paid", ev, index=2)
    contract_in("draft", ev, index=3)
    final = payments.payments_of(reduced)["final"]
    payments.reduce_final_payment(final, D("500.00"), "Daļēji sasniegti rezultāti", actor=ev["coordinator"])
    payments.approve_payment(final, actor=ev["coordinator"])
    payments.mark_paid(final, paid_on=riga_today(), bank_reference="SWED-2", actor=ev["coordinator"])
    _db.session.add_all(
        [
            Recovery(
                contract_id=reduced.id,
                amount=D("300.00"),
                reason="Atmaksa",
                status="recovered",
                recovered_on=riga_today(),
            ),
            Recovery(contract_id=reduced.id, amount=D("100.00"), reason="Prasība", status="claimed"),
            Recovery(contract_id=reduced.id, amount=D("50.00"), reason="Norakstīts", status="written_off"),
        ]
    )
    _db.session.flush()
    return ev


EXPECTED = {
    "awarded": D("4600.00"),
    "contracted": D("13800.00"),
    "paid": D("7860.00"),  # two advances (2 × 3680.00) and the reduced final (500.00)
    "reduced": D("420.00"),
    "to_be_paid": D("5520.00"),  # 4600.00 (signed, nothing paid) + 920.00 (advance paid)
    "recovered": D("300.00"),
    "claimed": D("100.00"),
}


def _measures(row) -> dict:
    return {m: getattr(row, m) for m in ledger.MEASURES}


def test_hand_computed_figures_reconcile_across_levels(db):
    ev = _scenario()
    call = ev["call"]
    [row] = ledger.ledger_by_call({call.municipality_id}, round_id=call.round_id)
    assert row.call_id == call.id and row.projects == 4
    assert _measures(row) == EXPECTED
    assert all(isinstance(v, Decimal) for v in _measures(row).values())
    # For signed contracts the money adds up: contracted = paid + reduced + to be paid.
    assert row.contracted == row.paid + row.reduced + row.to_be_paid
    [muni] = ledger.ledger_by_municipality(call.round_id)
    rounds = ledger.ledger_by_round(call.programme_id)
    round_row = next(r for r in rounds if r.round_id == call.round_id)
    assert _measures(ledger.add_up([row])) == _measures(muni) == _measures(round_row) == EXPECTED
    assert muni.reserved == round_row.reserved == D("18400.00")  # quota 4 × 4600.00, as on the dashboard
    totals = ledger.programme_totals(call.programme_id)
    assert _measures(totals) == _measures(ledger.add_up(rounds))
    assert totals.reserved == ledger.add_up(rounds).reserved


def test_terminated_contract_counts_what_was_paid(db):
    contract, ev = contract_in("advance_paid", _funded_call(1))
    contract.status = ContractStatus.TERMINATED  # the termination service is another helper's work
    _db.session.flush()
    [row] = ledger.ledger_by_call(round_id=ev["call"].round_id)
    assert (row.contracted, row.paid, row.to_be_paid, row.awarded) == (D("3680.00"), D("3680.00"), ZERO, ZERO)


def test_only_funded_applications_are_awarded(db):
    from tests.factories import submitted_application

    ev = _funded_call(1)
    submitted_application(ev["call"])  # submitted, not funded: no money
    [row] = ledger.ledger_by_call(round_id=ev["call"].round_id)
    assert (row.awarded, row.contracted, row.projects) == (D("4600.00"), ZERO, 1)


def test_statements_do_not_grow_with_contracts(db):
    one_ev = contract_in("advance_paid", _funded_call(1))[1]
    four_ev = _scenario()
    counts = []
    for ev in (one_ev, four_ev):
        call = ev["call"]
        with count_queries(_db.engine) as statements:
            ledger.ledger_by_call({call.municipality_id}, round_id=call.round_id)
            ledger.ledger_by_municipality(call.round_id)
            ledger.ledger_by_round(call.programme_id)
            ledger.programme_totals(call.programme_id)
            dash.round_dashboard(call.round_id)
        counts.append(len(statements))
    assert counts == [5, 5]


def test_dashboard_rows_and_csv_have_the_money(db):
    ev = _scenario()
    [row] = dash.round_dashboard(ev["call"].round_id)
    assert (row.reserved, row.contracted, row.paid, row.to_be_paid) == (
        D("18400.00"),
        D("13800.00"),
        D("7860.00"),
        D("5520.00"),
    )
    sums = dash.totals([row])
    assert (sums.contracted, sums.paid, sums.to_be_paid) == (row.contracted, row.paid, row.to_be_paid)
    assert {"contracted", "paid", "to_be_paid"} <= {c.key for c in dash.visible_columns([row])}
    with force_locale("en"):  # the headings follow the locale of the request
        text = dash.to_csv([row], "lv").decode("utf-8-sig")
    header, line = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert header[-3:] == ["Contracted", "Paid", "To be paid"]
    assert line[-3:] == ["13800,00", "7860,00", "5520,00"]


def test_dashboard_page_and_xlsx_show_the_money(client, login_as, db):
    openpyxl = pytest.importorskip("openpyxl")
    ev = _scenario()
    round_id = ev["call"].round_id
    login_as(national_admin())
    html = client.get(f"/programmes/dashboard?round={round_id}").get_data(as_text=True)
    assert "To be paid" in html and "Contracted" in html
    assert "13,800.00" in html and "5,520.00" in html
    assert f"/payments/ledger?programme={ev['call'].programme_id}&amp;round={round_id}" in html
    response = client.get(f"/programmes/dashboard/{round_id}.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][-3:] == ["Contracted", "Paid", "To be paid"]
    assert [D(str(v)) for v in values[-1][-3:]] == [D("13800"), D("7860"), D("5520")]  # the totals line


# --- the page ------------------------------------------------------------------------------------


def test_national_admin_sees_rounds_municipalities_calls_and_csv(client, login_as, db):
    ev = _scenario()
    call = ev["call"]
    login_as(national_admin())
    base = f"/payments/ledger?programme={call.programme_id}&round={call.round_id}"
    html = client.get(base).get_data(as_text=True)
    assert "Per round" in html and "Aizkraukles novads" in html and "Programme total" in html
    assert "13,800.00" in html and "18,400.00" in html
    assert call.title not in html  # calls only for a chosen municipality
    html = client.get(f"{base}&municipality={call.municipality_id}").get_data(as_text=True)
    assert call.title in html
    assert client.get(f"{base}&municipality=999999").status_code == 404
    assert client.get(f"/payments/ledger?programme={call.programme_id}&round=999999").status_code == 404
    response = client.get(f"{base}&format=csv")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == 2 and lines[1][2] == str(_db.session.get(Round, call.round_id).number)
    assert lines[1][5:] == ["4600.00", "13800.00", "7860.00", "420.00", "5520.00", "300.00", "100.00"]


def test_coordinator_sees_only_their_municipality(app, client, login_as, db):
    ev = _funded_call(1)
    open_call(municipality("0044000"), title="Ropažu konkurss")
    login_as(ev["coordinator"])
    html = client.get("/payments/ledger").get_data(as_text=True)
    assert ev["call"].title in html and "4,600.00" in html
    assert "Ropažu konkurss" not in html and "Per round" not in html
    other = browser_client(app)
    log_in(other, coordinator(municipality("0044000")))
    html = other.get("/payments/ledger").get_data(as_text=True)
    assert "Ropažu konkurss" in html and ev["call"].title not in html


def test_applicant_and_evaluator_get_404_anonymous_logs_in(app, client, login_as, db):
    from tests.factories import evaluator

    ev = _funded_call(1)
    assert client.get("/payments/ledger").status_code == 302  # to the login page
    login_as(ev["applicants"][0])
    assert client.get("/payments/ledger").status_code == 404
    assert client.get("/payments/ledger?format=csv").status_code == 404
    other = browser_client(app)
    log_in(other, evaluator(municipality()))
    assert other.get("/payments/ledger").status_code == 404


def test_csv_export_is_safe_and_complete(client, login_as, db):
    ev = _scenario()
    ev["call"].title = '=HYPERLINK("http://x")'
    _db.session.flush()
    login_as(ev["coordinator"])
    response = client.get("/payments/ledger?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    header, line = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert header == [
        "Code",
        "Municipality",
        "Round",
        "Call",
        "Projects",
        "Awarded, not yet contracted",
        "Contracted",
        "Paid",
        "Reduced",
        "To be paid",
        "Recovered",
        "Recovery claimed",
    ]
    assert line[3] == '\'=HYPERLINK("http://x")'
    assert line[5:] == ["4600.00", "13800.00", "7860.00", "420.00", "5520.00", "300.00", "100.00"]
