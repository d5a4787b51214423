"""Payment orders (issue 7): the approved, unpaid payments of a municipality exported as an ISO 20022
credit transfer file (pain.001.001.03, SEPA) that a Latvian bank or the Treasury accepts, or as a CSV
list; and marking the exported payments paid afterwards.

The XML is built with the standard library's ElementTree. SEPA allows only a restricted Latin character
set (a-z A-Z 0-9 / - ? : ( ) . , ' + space), so names and the remittance text are transliterated in the
file (ā → a, š → s, …); the CSV keeps the Latvian letters. Callers commit.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from stdnum import bic as std_bic
from stdnum.exceptions import ValidationError

from portal.applications.models import Application
from portal.contracts.models import Contract
from portal.core import audit
from portal.core.enums import Role
from portal.core.storage import save_file
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.organisations.models import Organisation
from portal.organisations.validators import validate_iban
from portal.payments.models import PayingAccount, Payment, PaymentExport, PaymentKind, PaymentStatus
from portal.payments.services import mark_paid
from portal.programmes.dashboard import spreadsheet_safe

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
CENT = Decimal("0.01")
# The main Latvian banks' BICs by the bank code in the IBAN (characters 5–8); for another bank the
# creditor agent is left out, which pain.001.001.03 and SEPA ("IBAN only") allow.
LATVIAN_BICS = {
    "HABA": "HABALV22",  # Swedbank
    "UNLA": "UNLALV2X",  # SEB banka
    "PARX": "PARXLV22",  # Citadele
    "RIKO": "RIKOLV2X",  # Luminor
    "NDEA": "NDEALV2X",  # Luminor (former Nordea)
    "LATB": "LATBLV22",
    "TREL": "TRELLV22",  # State Treasury
}
# Remittance text per payment kind, in Latvian (the bank shows it to the recipient).
REMITTANCE = {PaymentKind.ADVANCE: "avanss", PaymentKind.FINAL: "noslēguma maksājums"}
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
NAME_MAX = 70  # SEPA (EPC) limit for party names, narrower than the schema's 140
REMITTANCE_MAX = 140
ID_MAX = 35


def sepa_text(value: str, limit: int) -> str:
    """Return the text in SEPA's Latin character set: letters without diacritics (ā → a, ž → z),
    other characters replaced by a space, spaces collapsed, cut to `limit`."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    plain = _NOT_SEPA.sub(" ", plain)
    return " ".join(plain.split())[:limit].strip()


def sepa_id(value: str) -> str:
    """An identifier (MsgId, EndToEndId): SEPA characters, no spaces, not starting or ending with '/',
    no '//', at most 35 characters."""
    text = sepa_text(value, 200).replace(" ", "")
    text = re.sub(r"/{2,}", "/", text).strip("/")
    if not text or len(text) > ID_MAX:
        raise WorkflowError(_("The identifier %(id)s cannot be used in a payment order.", id=value))
    return text


def bic_for_iban(iban: str) -> str | None:
    """The BIC of a Latvian bank from the IBAN's bank code, or None when the bank is not in the table."""
    return LATVIAN_BICS.get(iban[4:8]) if iban.startswith("LV") else None


def remittance_text(payment: Payment) -> str:
    """'Līgums <number>, avanss' or '…, noslēguma maksājums' (Latvian letters; transliterated in XML)."""
    return f"Līgums {payment.contract.number}, {REMITTANCE[PaymentKind(payment.kind)]}"


def creditor_of(payment: Payment) -> Organisation:
    """The organisation paid: the contract's organisation, or a youth initiative group's representative."""
    return payment.contract.application.organisation.legal_entity


def _eager():
    contract = joinedload(Payment.contract)
    organisation = contract.joinedload(Contract.application).joinedload(Application.organisation)
    return (contract, organisation.joinedload(Organisation.representative_organisation))


def approved_unpaid(municipality_id: int) -> list[Payment]:
    """The municipality's approved, not yet paid payments (one query, contracts and payees loaded)."""
    query = (
        sa.select(Payment)
        .join(Payment.contract)
        .where(Contract.municipality_id == municipality_id, Payment.status == PaymentStatus.APPROVED)
        .options(*_eager())
        .order_by(Contract.number, Payment.kind)
    )
    return list(db.session.scalars(query).unique())


def _check_actor(municipality_id: int, actor) -> None:
    if actor is None or not actor.has_role(Role.COORDINATOR, municipality_id=municipality_id):
        raise TransitionDenied("payment orders: only the municipality's coordinators export payments")


def _selection(municipality_id: int, payment_ids) -> list[Payment]:
    """The chosen payments; refuse the whole export if any is not an approved, unpaid payment of the
    municipality (or the amount is zero)."""
    ids = sorted({int(i) for i in payment_ids or ()})
    if not ids:
        raise WorkflowError(_("Choose at least one approved payment to export."))
    query = sa.select(Payment).where(Payment.id.in_(ids)).options(*_eager())
    found = {p.id: p for p in db.session.scalars(query).unique()}
    for payment_id in ids:
        payment = found.get(payment_id)
        if payment is None or payment.contract.municipality_id != municipality_id:
            raise WorkflowError(_("Payment %(id)s is not a payment of this municipality.", id=payment_id))
        if payment.status != PaymentStatus.APPROVED:
            raise WorkflowError(
                _(
                    "Only approved, unpaid payments can be exported; the payment of contract %(number)s "
                    "is %(status)s.",
                    number=payment.contract.number,
                    status=PaymentStatus(payment.status).label,
                )
            )
        if payment.amount <= 0:
            raise WorkflowError(
                _("The payment of contract %(number)s has nothing to pay.", number=payment.contract.number)
            )
    return sorted(found.values(), key=lambda p: (p.contract.number, p.kind))


def _paying_account(municipality_id: int) -> tuple[PayingAccount, str, str]:
    account = db.session.get(PayingAccount, municipality_id)
    if account is None:
        raise WorkflowError(
            _("The municipality's paying account is not set: enter it in the municipality's settings first.")
        )
    try:
        iban = validate_iban(account.iban)
    except ValueError as exc:
        raise WorkflowError(
            _("The municipality's paying account is not valid: %(problem)s", problem=str(exc))
        ) from None
    try:
        bic = std_bic.validate(account.bic or "")
    except ValidationError:
        raise WorkflowError(
            _("The BIC of the municipality's paying account is not valid: check it in the settings.")
        ) from None
    return account, iban, bic


def _creditor_iban(payment: Payment) -> str:
    creditor = creditor_of(payment)
    try:
        return validate_iban(creditor.iban)
    except ValueError as exc:
        raise WorkflowError(
            _(
                "The bank account of %(organisation)s (contract %(number)s) is not valid: %(problem)s",
                organisation=creditor.name,
                number=payment.contract.number,
                problem=str(exc),
            )
        ) from None


def _message_id(municipality: Municipality, now: datetime) -> str:
    """Unique per export (the database checks it too): code, Riga time and a random part, ≤ 35."""
    return f"JIP-{municipality.code}-{to_riga(now):%Y%m%d%H%M%S}-{secrets.token_hex(3).upper()}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value.quantize(CENT):.2f}"


def build_pain001(
    *, message_id: str, now: datetime, account: PayingAccount, iban: str, bic: str, payments, creditors
) -> bytes:
    """The pain.001.001.03 document: one payment information block, one transaction per payment."""
    total = sum((p.amount.quantize(CENT) for p in payments), Decimal("0.00"))
    root = ET.Element("Document", {"xmlns": NAMESPACE})
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", to_riga(now).replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(len(payments)))
    _sub(header, "CtrlSum", _amount(total))
    _sub(_sub(header, "InitgPty"), "Nm", sepa_text(account.name, NAME_MAX))

    block = _sub(initiation, "PmtInf")
    _sub(block, "PmtInfId", message_id)
    _sub(block, "PmtMtd", "TRF")
    _sub(block, "NbOfTxs", str(len(payments)))
    _sub(block, "CtrlSum", _amount(total))
    _sub(_sub(_sub(block, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _sub(block, "ReqdExctnDt", to_riga(now).date().isoformat())
    debtor = _sub(block, "Dbtr")
    _sub(debtor, "Nm", sepa_text(account.name, NAME_MAX))
    if account.reg_number:
        _sub(_sub(_sub(_sub(debtor, "Id"), "OrgId"), "Othr"), "Id", account.reg_number)
    _sub(_sub(_sub(block, "DbtrAcct"), "Id"), "IBAN", iban)
    _sub(_sub(_sub(block, "DbtrAgt"), "FinInstnId"), "BIC", bic)
    _sub(block, "ChrgBr", "SLEV")

    for payment in payments:
        creditor, creditor_iban = creditors[payment.id]
        item = _sub(block, "CdtTrfTxInf")
        _sub(_sub(item, "PmtId"), "EndToEndId", sepa_id(payment.contract.number))
        _sub(_sub(item, "Amt"), "InstdAmt", _amount(payment.amount), Ccy="EUR")
        creditor_bic = bic_for_iban(creditor_iban)
        if creditor_bic:
            _sub(_sub(_sub(item, "CdtrAgt"), "FinInstnId"), "BIC", creditor_bic)
        _sub(_sub(item, "Cdtr"), "Nm", sepa_text(creditor.name, NAME_MAX))
        _sub(_sub(_sub(item, "CdtrAcct"), "Id"), "IBAN", creditor_iban)
        _sub(_sub(item, "RmtInf"), "Ustrd", sepa_text(remittance_text(payment), REMITTANCE_MAX))
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _record_export(
    municipality_id: int,
    fmt: str,
    message_id: str,
    data: bytes,
    filename: str,
    content_type: str,
    payments,
    *,
    actor,
    now,
) -> PaymentExport:
    stored = save_file(data, filename=filename, content_type=content_type, actor=actor)
    export = PaymentExport(
        municipality_id=municipality_id,
        format=fmt,
        message_id=message_id,
        created_by_id=actor.id,
        created_at=now,
        count=len(payments),
        total=sum((p.amount for p in payments), Decimal("0.00")),
        file_id=stored.id,
        sha256=stored.sha256,
    )
    db.session.add(export)
    db.session.flush()
    for payment in payments:
        payment.export_id = export.id
    db.session.flush()
    audit.record(
        "payment.exported",
        actor=actor,
        obj=export,
        after={
            "format": fmt,
            "message_id": message_id,
            "count": export.count,
            "total": export.total,
            "payments": [p.id for p in payments],
            "sha256": export.sha256,
        },
        municipality_id=municipality_id,
    )
    return export


def export_pain001(municipality_id: int, payment_ids, *, actor, now: datetime | None = None) -> PaymentExport:
    """Export the chosen approved, unpaid payments as a pain.001.001.03 file, stored with its SHA-256."""
    _check_actor(municipality_id, actor)
    now = now or utcnow()
    payments = _selection(municipality_id, payment_ids)
    account, iban, bic = _paying_account(municipality_id)
    creditors = {p.id: (creditor_of(p), _creditor_iban(p)) for p in payments}
    municipality = db.session.get(Municipality, municipality_id)
    message_id = _message_id(municipality, now)
    data = build_pain001(
        message_id=message_id,
        now=now,
        account=account,
        iban=iban,
        bic=bic,
        payments=payments,
        creditors=creditors,
    )
    return _record_export(
        municipality_id,
        "pain001",
        message_id,
        data,
        f"{message_id}.xml",
        "application/xml",
        payments,
        actor=actor,
        now=now,
    )


def export_csv(municipality_id: int, payment_ids, *, actor, now: datetime | None = None) -> PaymentExport:
    """The same selection as a CSV list (UTF-8 with BOM, ';', decimal comma) for a spreadsheet."""
    _check_actor(municipality_id, actor)
    now = now or utcnow()
    payments = _selection(municipality_id, payment_ids)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Contract"),
            _("Payment"),
            _("Recipient"),
            _("Registration number"),
            "IBAN",
            "BIC",
            _("Amount, EUR"),
            _("Payment details"),
        ]
    )
    for payment in payments:
        creditor = creditor_of(payment)
        iban = _creditor_iban(payment)
        writer.writerow(
            [
                spreadsheet_safe(payment.contract.number),
                spreadsheet_safe(str(PaymentKind(payment.kind).label)),
                spreadsheet_safe(creditor.name),
                spreadsheet_safe(creditor.reg_number or ""),
                iban,
                bic_for_iban(iban) or "",
                _amount(payment.amount).replace(".", ","),
                spreadsheet_safe(remittance_text(payment)),
            ]
        )
    data = ("\ufeff" + out.getvalue()).encode("utf-8")
    municipality = db.session.get(Municipality, municipality_id)
    message_id = _message_id(municipality, now)
    return _record_export(
        municipality_id,
        "csv",
        message_id,
        data,
        f"{message_id}.csv",
        "text/csv; charset=utf-8",
        payments,
        actor=actor,
        now=now,
    )


def mark_exported_paid(export: PaymentExport, *, paid_on: date, actor) -> list[Payment]:
    """Mark every still-unpaid payment of the export paid on that day, with the bank reference
    '<MsgId>/<EndToEndId>'; refuse when there is nothing left to mark."""
    query = (
        sa.select(Payment)
        .where(Payment.export_id == export.id, Payment.status == PaymentStatus.APPROVED)
        .options(*_eager())
    )
    payments = list(db.session.scalars(query).unique())
    if not payments:
        raise WorkflowError(_("The payments of this export are already marked paid."))
    for payment in payments:
        reference = f"{export.message_id}/{sepa_id(payment.contract.number)}"
        mark_paid(payment, paid_on=paid_on, bank_reference=reference, actor=actor)
    db.session.flush()
    return payments
