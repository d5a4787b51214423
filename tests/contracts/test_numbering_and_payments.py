"""Contracts and payments, first part (issue 7): gap-free numbers per municipality and year, the
payment schedule, one advance and one final per contract enforced by the database, and the payment
workflow (approve after signing, mark paid with a date and a reference, a reduced final with a reason)."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.contracts import numbering, services
from portal.contracts.models import ContractCounter
from portal.core.audit import AuditEvent
from portal.core.timeutil import riga_today, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from portal.payments import services as payments
from portal.payments.models import Payment, PaymentKind, PaymentStatus
from tests import factories

# --- numbers ------------------------------------------------------------------------------------------


def test_numbers_run_per_municipality_and_year_without_gaps(db):
    aizkraukle, ropazi = factories.municipality("0020000"), factories.municipality("0044000")
    first = [numbering.next_sequence(aizkraukle.id, 2026) for _ in range(3)]
    other = numbering.next_sequence(ropazi.id, 2026)
    next_year = numbering.next_sequence(aizkraukle.id, 2027)
    assert first == [1, 2, 3] and other == 1 and next_year == 1
    assert numbering.format_number("0020000", 2026, 7) == "JIP/0020000/2026/007"


def test_a_rolled_back_number_is_given_again(db):
    muni = factories.municipality()
    assert numbering.next_sequence(muni.id, 2030) == 1
    savepoint = _db.session.begin_nested()
    assert numbering.next_sequence(muni.id, 2030) == 2
    savepoint.rollback()
    assert numbering.next_sequence(muni.id, 2030) == 2


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="concurrent transactions need PostgreSQL (SQLite serialises writers by locking the file)",
)
def test_concurrent_generation_never_repeats_or_skips_a_number(app):
    """Twelve transactions at once take twelve different numbers, 1 to 12 (QUALITY: no duplicates)."""
    with app.app_context():
        muni_id = factories.municipality("0054000").id
        _db.session.commit()
    year, taken, errors = 2999, [], []
    barrier = threading.Barrier(12)

    def take():
        try:
            with app.app_context():
                barrier.wait()
                taken.append(numbering.next_sequence(muni_id, year))
                _db.session.commit()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert sorted(taken) == list(range(1, 13))
    finally:
        with app.app_context():
            _db.session.execute(sa.delete(ContractCounter).where(ContractCounter.year == year))
            _db.session.commit()


# --- the contract and its schedule --------------------------------------------------------------------


def test_a_funded_application_gets_a_numbered_contract_and_its_two_payments(funded):
    application = funded["applications"][0]
    contract = services.create_contract(application, actor=funded["coordinator"])
    assert contract.number.startswith(f"JIP/{funded['call'].municipality.code}/") and contract.sequence == 1
    assert contract.amount == Decimal("4600.00") and contract.start_date == application.start_date
    assert contract.report_due > contract.end_date
    planned = payments.payments_of(contract)
    assert planned["advance"].amount == Decimal("3680.00") and planned["final"].amount == Decimal("920.00")
    assert {p.status for p in planned.values()} == {PaymentStatus.PLANNED}
    assert _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contract.created"))


def test_only_a_funded_application_of_ones_own_municipality_gets_a_contract(funded):
    reserve = funded["applications"][1]
    with pytest.raises(WorkflowError):
        services.create_contract(reserve, actor=funded["coordinator"])
    other = factories.coordinator(factories.municipality("0044000"))
    with pytest.raises(TransitionDenied):
        services.create_contract(funded["applications"][0], actor=other)
    services.create_contract(funded["applications"][0], actor=funded["coordinator"])
    with pytest.raises(WorkflowError):
        services.create_contract(funded["applications"][0], actor=funded["coordinator"])


@pytest.mark.parametrize(
    ("amount", "percent", "advance", "final"),
    [
        ("4600.00", "80.00", "3680.00", "920.00"),
        ("4600.00", "90.00", "4140.00", "460.00"),
        ("1000.01", "33.33", "333.30", "666.71"),
        ("0.01", "50.00", "0.01", "0.00"),
    ],
)
def test_the_schedule_always_adds_up(amount, percent, advance, final):
    got = payments.schedule(Decimal(amount), Decimal(percent))
    assert got == (Decimal(advance), Decimal(final)) and sum(got) == Decimal(amount)


def test_the_database_refuses_a_second_advance(funded):
    contract = services.create_contract(funded["applications"][0], actor=funded["coordinator"])
    _db.session.add(Payment(contract_id=contract.id, kind=PaymentKind.ADVANCE, amount=Decimal("1.00")))
    with pytest.raises(IntegrityError):
        _db.session.flush()


# --- the payment workflow -----------------------------------------------------------------------------


def test_the_advance_waits_for_the_signature_then_is_approved_and_paid_once(funded):
    coordinator = funded["coordinator"]
    contract = services.create_contract(funded["applications"][0], actor=coordinator)
    advance = payments.payments_of(contract)["advance"]
    with pytest.raises(WorkflowError):
        payments.approve_payment(advance, actor=coordinator)
    contract.status, contract.sent_at, contract.signed_at = "signed", utcnow(), utcnow()
    payments.approve_payment(advance, actor=coordinator)
    assert advance.status == PaymentStatus.APPROVED and advance.approved_by_id == coordinator.id
    with pytest.raises(WorkflowError):
        payments.approve_payment(advance, actor=coordinator)  # a second click changes nothing
    with pytest.raises(WorkflowError) as refused:
        payments.mark_paid(
            advance, paid_on=riga_today() + timedelta(days=2), bank_reference="X1", actor=coordinator
        )
    assert refused.value.field == "paid_on"
    payments.mark_paid(advance, paid_on=riga_today(), bank_reference="LV-2026-001", actor=coordinator)
    assert advance.status == PaymentStatus.PAID and advance.bank_reference == "LV-2026-001"
    with pytest.raises(WorkflowError):
        payments.mark_paid(advance, paid_on=riga_today(), bank_reference="again", actor=coordinator)


def test_the_final_payment_waits_for_the_report_and_a_reduction_needs_a_reason(funded):
    coordinator = funded["coordinator"]
    contract = services.create_contract(funded["applications"][0], actor=coordinator)
    final = payments.payments_of(contract)["final"]
    with pytest.raises(WorkflowError):
        payments.approve_payment(final, actor=coordinator)
    with pytest.raises(WorkflowError) as refused:
        payments.reduce_final_payment(final, Decimal("500.00"), " ", actor=coordinator)
    assert refused.value.field == "reason"
    with pytest.raises(WorkflowError):
        payments.reduce_final_payment(final, Decimal("920.00"), "Daļēji", actor=coordinator)
    payments.reduce_final_payment(final, Decimal("500.00"), "Sasniegti 2 no 3 rezultātiem", actor=coordinator)
    assert final.amount == Decimal("500.00") and final.reduced_from == Decimal("920.00")
    assert _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment.reduced"))


def test_another_municipality_cannot_approve(funded):
    contract = services.create_contract(funded["applications"][0], actor=funded["coordinator"])
    contract.status, contract.sent_at, contract.signed_at = "signed", utcnow(), utcnow()
    other = factories.coordinator(factories.municipality("0044000"))
    with pytest.raises(TransitionDenied):
        payments.approve_payment(payments.payments_of(contract)["advance"], actor=other)
