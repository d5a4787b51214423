"""Payment order pages (issue 7): the coordinator sees the approved, unpaid payments, downloads them as a
pain.001.001.03 file (valid against the shipped XSD, sums matching) or a CSV list, sees the past exports
and marks an export's payments paid. A missing paying account is a message, not an error page; every
route is 404 for another municipality's coordinator; every POST needs the CSRF token."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from portal.core.timeutil import riga_today
from portal.extensions import db as _db
from portal.payments import accounts, orders
from portal.payments.models import PaymentExport, PaymentStatus
from portal.payments.orders import NAMESPACE
from portal.payments.services import payments_of
from tests import factories
from tests.helpers import Page, csrf_token

NS = {"p": NAMESPACE}
_XSD = Path(__file__).with_name("pain.001.001.03.xsd")


def assert_valid_pain001(data: bytes):
    """Parse the file and validate it against the official schema shipped beside the tests."""
    schema = etree.XMLSchema(etree.parse(str(_XSD)))
    doc = etree.fromstring(data)
    schema.assertValid(doc)
    return doc


@pytest.fixture()
def approved(db):
    """A signed contract with its advance approved, and the municipality's paying account."""
    contract, ev = factories.contract_in("advance_approved")
    muni = ev["call"].municipality
    accounts.save_paying_account(
        muni.id,
        name="Aizkraukles novada pašvaldība",
        iban="LV62HABA0551234567890",
        bic="",
        reg_number="90000059438",
        actor=ev["coordinator"],
    )
    _db.session.flush()
    ev.update(contract=contract, muni=muni, advance=payments_of(contract)["advance"])
    return ev


def _orders_path(ev) -> str:
    return f"/payments/orders?municipality={ev['muni'].id}"


def _export(client, ev, fmt: str, payment_ids=None):
    path = _orders_path(ev)
    ids = [ev["advance"].id] if payment_ids is None else payment_ids
    data = {"format": fmt, "payment": [str(i) for i in ids], "csrf_token": csrf_token(client, path)}
    return client.post(f"/payments/export?municipality={ev['muni'].id}", data=data)


def _exports():
    return list(_db.session.scalars(sa.select(PaymentExport).order_by(PaymentExport.id)))


def test_the_orders_page_lists_the_approved_payments_ticked_with_their_sum(client, login_as, approved):
    login_as(approved["coordinator"])
    response = client.get("/payments/orders")  # the only municipality they coordinate
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    box = page.by_id(f"payment-{approved['advance'].id}")
    assert box.get("type") == "checkbox" and "checked" in box.attrs and box.get("name") == "payment"
    html = response.get_data(as_text=True)
    assert approved["contract"].number in html
    assert "Download ISO 20022 file (pain.001)" in html and "Download CSV" in html
    amount = f"{approved['advance'].amount:,.2f}"
    assert html.count(amount) >= 2  # the row and the total
    assert "paying account is not set" not in html


def test_the_pain001_download_validates_and_its_control_sum_matches(client, login_as, approved):
    login_as(approved["coordinator"])
    response = _export(client, approved, "pain001")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".xml" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/xml"
    doc = assert_valid_pain001(response.data)
    amount = f"{approved['advance'].amount:.2f}"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == amount
    assert doc.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == (
        "LV62HABA0551234567890"
    )
    assert doc.findtext(".//p:EndToEndId", namespaces=NS) == approved["contract"].number
    _db.session.expire_all()
    (made,) = _exports()
    assert made.format == "pain001" and made.total == approved["advance"].amount and made.count == 1
    assert approved["advance"].export_id == made.id
    page = client.get(_orders_path(approved)).get_data(as_text=True)
    assert made.sha256[:12] in page and f"/payments/exports/{made.id}/file" in page
    assert "checked" not in Page(page).by_id(f"payment-{approved['advance'].id}").attrs  # not paid twice
    again = client.get(f"/payments/exports/{made.id}/file")
    assert again.status_code == 200 and again.data == response.data


def test_the_csv_download_has_a_bom_semicolons_and_latvian_letters(client, login_as, approved):
    login_as(approved["coordinator"])
    response = _export(client, approved, "csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 and len(rows[1]) == 8
    assert rows[1][0] == approved["contract"].number
    assert rows[1][7].startswith("Līgums ")
    assert rows[1][6] == f"{approved['advance'].amount:.2f}".replace(".", ",")
    assert [e.format for e in _exports()] == ["csv"]


def test_without_a_paying_account_the_page_says_so_and_the_export_is_refused(client, login_as, db):
    contract, ev = factories.contract_in("advance_approved")
    muni = ev["call"].municipality
    login_as(ev["coordinator"])
    path = f"/payments/orders?municipality={muni.id}"
    html = client.get(path).get_data(as_text=True)
    assert "paying account is not set" in html
    assert f"/payments/account?municipality={muni.id}" in html
    ev.update(muni=muni, advance=payments_of(contract)["advance"])
    response = _export(client, ev, "pain001")
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    html = client.get(path).get_data(as_text=True)
    assert "paying account is not set: enter it" in html  # the service's message, flashed
    assert _exports() == []
    nothing = _export(client, ev, "csv", payment_ids=[])
    assert nothing.status_code == 302
    assert "Choose at least one approved payment" in client.get(path).get_data(as_text=True)


def test_marking_an_export_paid_pays_its_payments_on_that_day(client, login_as, approved):
    login_as(approved["coordinator"])
    _export(client, approved, "pain001")
    (made,) = _exports()
    path = _orders_path(approved)
    future = riga_today() + timedelta(days=3)
    token = csrf_token(client, path)
    response = client.post(f"/payments/exports/{made.id}/paid", data={"paid_on": future, "csrf_token": token})
    assert response.status_code == 302
    assert "cannot be in the future" in client.get(path).get_data(as_text=True)
    _db.session.expire_all()
    assert approved["advance"].status == PaymentStatus.APPROVED
    paid_on = riga_today() - timedelta(days=1)
    token = csrf_token(client, path)
    response = client.post(
        f"/payments/exports/{made.id}/paid", data={"paid_on": paid_on.isoformat(), "csrf_token": token}
    )
    assert response.status_code == 302
    _db.session.expire_all()
    advance = approved["advance"]
    assert advance.status == PaymentStatus.PAID and advance.paid_on == paid_on
    assert advance.bank_reference == f"{made.message_id}/{approved['contract'].number}"
    html = client.get(path).get_data(as_text=True)
    assert f"/payments/exports/{made.id}/paid" not in html  # nothing left to mark
    assert "There are no approved, unpaid payments" in html


def test_another_municipalitys_coordinator_gets_404_on_every_route(client, login_as, approved):
    made = orders.export_csv(approved["muni"].id, [approved["advance"].id], actor=approved["coordinator"])
    _db.session.flush()
    other = factories.municipality("0044000")
    stranger = factories.coordinator(other)
    login_as(stranger)
    muni_id = approved["muni"].id
    token = csrf_token(client, "/payments/orders")
    assert client.get(f"/payments/orders?municipality={muni_id}").status_code == 404
    assert client.get(f"/payments/account?municipality={muni_id}").status_code == 404
    assert client.get(f"/payments/exports/{made.id}/file").status_code == 404
    posts = {
        f"/payments/account?municipality={muni_id}": {"name": "X", "iban": "LV62HABA0551234567890"},
        f"/payments/export?municipality={muni_id}": {"format": "csv", "payment": str(approved["advance"].id)},
        f"/payments/exports/{made.id}/paid": {"paid_on": riga_today().isoformat()},
    }
    for url, data in posts.items():
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    _db.session.expire_all()
    assert approved["advance"].status == PaymentStatus.APPROVED
    assert accounts.paying_account(muni_id).name == "Aizkraukles novada pašvaldība"
    assert len(_exports()) == 1
    own = client.get("/payments/orders")  # the stranger's own municipality: nothing of the other's
    assert own.status_code == 200 and approved["contract"].number not in own.get_data(as_text=True)


def test_an_applicant_gets_404(client, login_as, approved):
    login_as(approved["applicants"][0])
    assert client.get("/payments/orders").status_code == 404
    assert client.get("/payments/account").status_code == 404


def test_every_post_needs_the_csrf_token(client, login_as, approved):
    made = orders.export_csv(approved["muni"].id, [approved["advance"].id], actor=approved["coordinator"])
    _db.session.flush()
    login_as(approved["coordinator"])
    muni_id = approved["muni"].id
    posts = {
        f"/payments/account?municipality={muni_id}": {"name": "X", "iban": "LV62HABA0551234567890"},
        f"/payments/export?municipality={muni_id}": {"format": "csv", "payment": str(approved["advance"].id)},
        f"/payments/exports/{made.id}/paid": {"paid_on": riga_today().isoformat()},
    }
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 400, url
    _db.session.expire_all()
    assert approved["advance"].status == PaymentStatus.APPROVED
    assert accounts.paying_account(muni_id).name == "Aizkraukles novada pašvaldība"
    assert len(_exports()) == 1
