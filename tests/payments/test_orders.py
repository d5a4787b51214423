"""Payment orders (issue 7): the pain.001.001.03 credit transfer file validates against the official ISO
20022 schema shipped beside this test, its counts and sums match the payments, the accounts are checked,
only approved, unpaid payments are exported, the CSV list matches, and marking paid from an export pays
each payment once."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from lxml import etree

from portal.contracts import services as contracts
from portal.core.audit import AuditEvent
from portal.core.storage import read_file
from portal.core.timeutil import riga_today, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from portal.payments import orders
from portal.payments import services as payments
from portal.payments.models import PayingAccount, PaymentStatus
from tests import factories
from tests.helpers import count_queries

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("pain.001.001.03.xsd"))))
NS = {"p": orders.NAMESPACE}
DEBTOR_IBAN = "LV62HABA0551234567890"


@pytest.fixture()
def funded(db):
    """A decided call with two funded applications, signed contracts, approved advances and the
    municipality's paying account."""
    ev = factories.decided_call(2, funded=2, scores=(3, 3))
    ev["applications"][0].organisation.iban = "LV25UNLA0050014356789"  # SEB: BIC known
    ev["applications"][0].organisation.name = "Biedrība “Ūdensrožu jaunieši”"
    ev["contracts"], ev["advances"] = [], []
    for application in ev["applications"]:
        contract = contracts.create_contract(application, actor=ev["coordinator"])
        contract.status, contract.sent_at, contract.signed_at = "signed", utcnow(), utcnow()
        advance = payments.payments_of(contract)["advance"]
        payments.approve_payment(advance, actor=ev["coordinator"])
        ev["contracts"].append(contract)
        ev["advances"].append(advance)
    muni = ev["call"].municipality
    _db.session.add(
        PayingAccount(
            municipality_id=muni.id,
            name="Aizkraukles novada pašvaldība",
            iban=DEBTOR_IBAN,
            bic="HABALV22",
            reg_number="90000059438",
        )
    )
    _db.session.flush()
    ev["muni"] = muni
    return ev


def _export(funded, **kwargs):
    ids = [p.id for p in funded["advances"]]
    return orders.export_pain001(funded["muni"].id, ids, actor=funded["coordinator"], **kwargs)


def test_approved_unpaid_lists_the_approved_advances_in_one_query(funded):
    muni_id = funded["muni"].id
    _db.session.flush()
    _db.session.expire_all()
    with count_queries(_db.engine) as queries:
        found = orders.approved_unpaid(muni_id)
        names = [orders.creditor_of(p).name for p in found]
    assert sorted(p.id for p in found) == sorted(p.id for p in funded["advances"]) and len(names) == 2
    assert len([q for q in queries if q.lstrip().upper().startswith("SELECT")]) == 1
    assert orders.approved_unpaid(factories.municipality("0044000").id) == []


def test_the_credit_transfer_file_validates_and_its_sums_match(funded):
    export = _export(funded)
    data = read_file(export.file)
    doc = etree.fromstring(data)
    XSD.assertValid(doc)
    advances = funded["advances"]
    total = sum(p.amount for p in advances)
    assert export.count == 2 and export.total == total and export.format == "pain001"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == export.message_id
    assert len(export.message_id) <= 35
    for path in ("p:CstmrCdtTrfInitn/p:GrpHdr", "p:CstmrCdtTrfInitn/p:PmtInf"):
        assert doc.findtext(f"{path}/p:NbOfTxs", namespaces=NS) == "2"
        assert doc.findtext(f"{path}/p:CtrlSum", namespaces=NS) == f"{total:.2f}"
    info = doc.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:ReqdExctnDt", namespaces=NS) == riga_today().isoformat()
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == DEBTOR_IBAN
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "HABALV22"
    assert info.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Aizkraukles novada pasvaldiba"
    items = info.findall("p:CdtTrfTxInf", NS)
    by_id = {i.findtext("p:PmtId/p:EndToEndId", namespaces=NS): i for i in items}
    assert set(by_id) == {c.number for c in funded["contracts"]}
    first, second = (by_id[c.number] for c in funded["contracts"])
    amount = first.find("p:Amt/p:InstdAmt", NS)
    assert amount.get("Ccy") == "EUR" and amount.text == f"{advances[0].amount:.2f}" and "." in amount.text
    assert len(amount.text.split(".")[1]) == 2
    assert first.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "LV25UNLA0050014356789"
    assert first.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "UNLALV2X"
    assert first.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Biedriba Udensrozu jauniesi"  # transliterated
    assert (
        first.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == f"Ligums {funded['contracts'][0].number}, avanss"
    )
    assert second.find("p:CdtrAgt", NS) is None  # bank not in the table: IBAN only
    assert second.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "LV80BANK0000435195001"
    assert {p.export_id for p in advances} == {export.id}
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment.exported"))
    assert event is not None and event.object_id == export.id
    assert export.sha256 == export.file.sha256


def test_two_exports_have_different_message_ids(funded):
    first = _export(funded)
    second = _export(funded, now=first.created_at)
    assert first.message_id != second.message_id


def test_a_group_is_paid_through_its_representative_organisation(funded):
    application = funded["applications"][1]
    parent = application.organisation
    group = factories.OrganisationFactory(
        legal_form="initiative_group",
        reg_number=None,
        iban=None,
        representative_organisation=parent,
        municipality=parent.municipality,
        name="Grupa ūdens",
    )
    application.organisation = group
    _db.session.flush()
    doc = etree.fromstring(read_file(_export(funded).file))
    names = doc.xpath("//p:Cdtr/p:Nm/text()", namespaces=NS)
    assert orders.sepa_text(parent.name, 70) in names and "Grupa udens" not in names


def test_an_invalid_creditor_iban_is_refused_with_a_message(funded):
    funded["applications"][1].organisation.iban = "LV80BANK0000435195002"
    with pytest.raises(WorkflowError) as refused:
        _export(funded)
    assert funded["applications"][1].organisation.name in refused.value.message
    assert "IBAN" in refused.value.message
    assert funded["advances"][0].export_id is None


def test_a_missing_or_invalid_paying_account_is_refused(funded):
    account = _db.session.get(PayingAccount, funded["muni"].id)
    account.bic = "HABA"
    with pytest.raises(WorkflowError) as refused:
        _export(funded)
    assert "BIC" in refused.value.message
    _db.session.delete(account)
    _db.session.flush()
    with force_locale("en"), pytest.raises(WorkflowError) as refused:
        _export(funded)
    assert "paying account" in refused.value.message


def test_a_planned_or_paid_payment_or_anothers_cannot_be_exported(funded):
    coordinator, muni_id = funded["coordinator"], funded["muni"].id
    final = payments.payments_of(funded["contracts"][0])["final"]
    with force_locale("en"), pytest.raises(WorkflowError, match="approved"):
        orders.export_pain001(muni_id, [final.id], actor=coordinator)
    paid = funded["advances"][1]
    payments.mark_paid(paid, paid_on=riga_today(), bank_reference="X-1", actor=coordinator)
    with pytest.raises(WorkflowError):
        orders.export_pain001(muni_id, [funded["advances"][0].id, paid.id], actor=coordinator)
    with pytest.raises(WorkflowError):
        orders.export_csv(muni_id, [paid.id], actor=coordinator)
    with pytest.raises(WorkflowError):
        orders.export_pain001(muni_id, [], actor=coordinator)
    other = factories.municipality("0044000")
    with pytest.raises(WorkflowError):
        orders.export_pain001(other.id, [funded["advances"][0].id], actor=factories.coordinator(other))
    with pytest.raises(TransitionDenied):
        orders.export_pain001(muni_id, [funded["advances"][0].id], actor=factories.coordinator(other))
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(orders.PaymentExport)) == 0


def test_the_csv_list_has_a_bom_one_row_per_payment_and_the_same_total(funded):
    funded["applications"][1].organisation.name = "=HYPERLINK(1)"
    export = orders.export_csv(
        funded["muni"].id, [p.id for p in funded["advances"]], actor=funded["coordinator"]
    )
    data = read_file(export.file)
    assert data.startswith(b"\xef\xbb\xbf") and export.format == "csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(header) == 8 and len(body) == 2
    amounts = [Decimal(row[6].replace(",", ".")) for row in body]
    assert all("," in row[6] for row in body)
    assert sum(amounts) == export.total == sum(p.amount for p in funded["advances"])
    assert {row[0] for row in body} == {c.number for c in funded["contracts"]}
    assert "'=HYPERLINK(1)" in [row[2] for row in body]
    assert any(row[7].startswith("Līgums ") for row in body)  # the CSV keeps the Latvian letters


def test_marking_an_export_paid_pays_each_payment_once(funded):
    export = _export(funded)
    marked = orders.mark_exported_paid(export, paid_on=riga_today(), actor=funded["coordinator"])
    assert {p.id for p in marked} == {p.id for p in funded["advances"]}
    for payment, contract in zip(funded["advances"], funded["contracts"], strict=True):
        assert payment.status == PaymentStatus.PAID and payment.paid_on == riga_today()
        assert payment.bank_reference == f"{export.message_id}/{contract.number}"
    with pytest.raises(WorkflowError):
        orders.mark_exported_paid(export, paid_on=riga_today(), actor=funded["coordinator"])
    paid_events = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "payment.mark_paid"))
    assert len(list(paid_events)) == 2
    assert orders.approved_unpaid(funded["muni"].id) == []


def test_sepa_text_transliterates_and_drops_what_sepa_forbids():
    assert orders.sepa_text("Ģērķis ļoti čūsks & ņem žāvētu “x”", 140) == "Gerkis loti cusks nem zavetu x"
    assert orders.sepa_text("a" * 200, 70) == "a" * 70
    assert orders.bic_for_iban("LV97TREL2160000000000") == "TRELLV22"
    assert orders.bic_for_iban("LV80BANK0000435195001") is None
