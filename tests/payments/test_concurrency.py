"""QUALITY H3 (issue 7): two coordinators at once, double clicks and retries never pay twice. On
PostgreSQL, 20 transactions approve the same payment at once, 20 mark the same approved payment paid at
once, and 20 insert the contract's advance at once: each time exactly one wins and the others lose with
the expected lost-race error (which the pages turn into "already approved / already recorded").

The data must be committed for the threads' own transactions to see it, so these tests do not use the
rolled-back `db` fixture: they remove every row they added afterwards."""

from __future__ import annotations

import os
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import User
from portal.core.audit import AuditEvent
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import StatusChange, WorkflowError
from portal.extensions import db as _db
from portal.payments import services as payments
from portal.payments.models import Payment, PaymentKind, PaymentStatus
from tests import factories
from tests.helpers import removing_added_rows, run_in_threads

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="concurrent transactions need PostgreSQL (SQLite serialises writers by locking the file)",
)

THREADS = 20
LOST_RACE = (StaleDataError, IntegrityError, WorkflowError)


@pytest.fixture()
def committed(app):
    """Build a contract at `step` and commit it; afterwards delete every row the test added."""

    def build(step: str) -> dict:
        with app.app_context():
            contract, ev = factories.contract_in(step)
            _db.session.commit()
            planned = payments.payments_of(contract)
            return {
                "contract_id": contract.id,
                "coordinator_id": ev["coordinator"].id,
                "advance_id": planned["advance"].id,
                "amount": planned["advance"].amount,
            }

    with removing_added_rows(app):
        yield build


def _race(app, work) -> tuple[list[str], list[BaseException]]:
    """Run `work(barrier, index)` in THREADS threads, each in its own session and transaction; `work`
    loads what it needs, waits at the barrier, acts; the thread commits. Returns the outcomes ("won" or
    the lost-race error's name) and the unexpected errors."""
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run(index: int):
        try:
            with app.app_context():
                try:
                    work(barrier, index)
                    _db.session.commit()
                    outcomes.append("won")
                except LOST_RACE as exc:
                    _db.session.rollback()
                    outcomes.append(type(exc).__name__)
                finally:
                    _db.session.remove()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    run_in_threads(run, THREADS, pool_size=THREADS + 1)
    return outcomes, errors


def _audit(action: str, payment_id: int) -> int:
    return _db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == action, AuditEvent.object_id == payment_id
        )
    )


def _load(ids: dict) -> tuple[Payment, User]:
    payment = _db.session.get(Payment, ids["advance_id"])
    actor = _db.session.get(User, ids["coordinator_id"])
    # Everything the service reads is loaded before the barrier, so the threads collide on the write.
    assert payment.contract.application.status and actor.memberships
    return payment, actor


def test_twenty_simultaneous_approvals_approve_once(app, committed):
    ids = committed("signed")

    def approve(barrier, index):
        payment, actor = _load(ids)
        barrier.wait()
        payments.approve_payment(payment, actor=actor)

    outcomes, errors = _race(app, approve)
    assert not errors, errors
    assert outcomes.count("won") == 1 and len(outcomes) == THREADS, outcomes
    with app.app_context():
        payment = _db.session.get(Payment, ids["advance_id"])
        assert payment.status == PaymentStatus.APPROVED and payment.lock_version == 2
        assert _audit("payment.approve", payment.id) == 1
        changes = sa.select(sa.func.count(StatusChange.id)).where(
            StatusChange.object_type == "payment", StatusChange.object_id == payment.id
        )
        assert _db.session.scalar(changes) == 1


def test_twenty_simultaneous_mark_paid_record_one_payment(app, committed):
    ids = committed("advance_approved")
    today = to_riga(utcnow()).date()

    def mark_paid(barrier, index):
        payment, actor = _load(ids)
        barrier.wait()
        payments.mark_paid(payment, paid_on=today, bank_reference=f"SWED-{index:04d}", actor=actor)

    outcomes, errors = _race(app, mark_paid)
    assert not errors, errors
    assert outcomes.count("won") == 1 and len(outcomes) == THREADS, outcomes
    with app.app_context():
        paid = _db.session.scalars(
            sa.select(Payment).where(Payment.contract_id == ids["contract_id"], Payment.status == "paid")
        ).all()
        assert len(paid) == 1 and paid[0].paid_on == today and paid[0].bank_reference.startswith("SWED-")
        assert paid[0].amount == ids["amount"] == Decimal("3680.00")
        assert _audit("payment.mark_paid", paid[0].id) == 1


def test_twenty_simultaneous_inserts_leave_one_advance(app, committed):
    ids = committed("signed")
    with app.app_context():  # the race is for the contract's only advance: start without one
        _db.session.execute(sa.delete(Payment).where(Payment.id == ids["advance_id"]))
        _db.session.commit()

    def insert(barrier, index):
        barrier.wait()
        _db.session.add(
            Payment(contract_id=ids["contract_id"], kind=PaymentKind.ADVANCE, amount=Decimal("3680.00"))
        )
        _db.session.flush()

    outcomes, errors = _race(app, insert)
    assert not errors, errors
    assert outcomes.count("won") == 1 and outcomes.count("IntegrityError") == THREADS - 1, outcomes
    with app.app_context():
        advances = sa.select(sa.func.count(Payment.id)).where(
            Payment.contract_id == ids["contract_id"], Payment.kind == PaymentKind.ADVANCE
        )
        assert _db.session.scalar(advances) == 1
