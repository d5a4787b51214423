"""The whole money path of one project (issue 7 "Done when"): contract → signed → advance approved and
paid → report approved → final approved and paid; on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from decimal import Decimal

from portal.applications.workflow import ApplicationStatus
from portal.contracts.models import ContractStatus
from portal.core.timeutil import riga_today
from portal.payments import services as payments
from portal.payments.models import PaymentStatus
from tests import factories


def test_contract_advance_report_and_final_payment(db):
    contract, ev = factories.contract_in("advance_paid")
    coordinator = ev["coordinator"]
    advance, final = payments.payments_of(contract)["advance"], payments.payments_of(contract)["final"]
    assert contract.status == ContractStatus.SIGNED
    assert advance.status == PaymentStatus.PAID and advance.amount == Decimal("3680.00")
    assert final.status == PaymentStatus.PLANNED and final.amount == Decimal("920.00")

    factories.report_approved(contract, ev)
    assert contract.application.status == ApplicationStatus.REPORT_APPROVED
    payments.approve_payment(final, actor=coordinator)
    payments.mark_paid(final, paid_on=riga_today(), bank_reference="SWED-0002", actor=coordinator)
    db.session.flush()
    assert final.status == PaymentStatus.PAID
    assert advance.amount + final.amount == contract.amount == Decimal("4600.00")
