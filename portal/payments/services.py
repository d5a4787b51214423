"""Payment use cases (issue 7): the schedule from the programme, approving, marking paid, a reduced
final payment. Callers commit; a lost race surfaces as IntegrityError/StaleDataError, which the views
turn into "already done" (QUALITY H3)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.applications.workflow import ApplicationStatus
from portal.core import audit
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import WorkflowError, transition
from portal.extensions import db
from portal.payments.models import Payment, PaymentKind, PaymentStatus
from portal.payments.workflow import WORKFLOW

CENT = Decimal("0.01")
# The final payment waits for the final report's approval (DESIGN §2).
REPORT_APPROVED = (ApplicationStatus.REPORT_APPROVED, ApplicationStatus.FORWARDED, ApplicationStatus.CLOSED)


def schedule(amount: Decimal, advance_percent: Decimal) -> tuple[Decimal, Decimal]:
    """Split the contract amount into the advance and the final payment; the two always add up."""
    advance = (amount * advance_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return advance, amount - advance


def plan_payments(contract, *, actor) -> list[Payment]:
    """Create the contract's advance and final payment from the programme's schedule (once)."""
    programme = contract.application.call.programme
    advance, final = schedule(contract.amount, programme.advance_percent)
    payments = [
        Payment(
            contract_id=contract.id, kind=PaymentKind.ADVANCE, amount=advance, status=PaymentStatus.PLANNED
        ),
        Payment(contract_id=contract.id, kind=PaymentKind.FINAL, amount=final, status=PaymentStatus.PLANNED),
    ]
    db.session.add_all(payments)
    db.session.flush()
    audit.record(
        "payment.planned",
        actor=actor,
        object_type="contracts",
        object_id=contract.id,
        after={"advance": advance, "final": final},
        municipality_id=contract.municipality_id,
        organisation_id=contract.application.organisation_id,
    )
    return payments


def payments_of(contract) -> dict[str, Payment]:
    rows = db.session.scalars(sa.select(Payment).where(Payment.contract_id == contract.id))
    return {p.kind: p for p in rows}


def approve_payment(payment: Payment, *, actor) -> Payment:
    """Approve a payment: the advance once the contract is signed, the final once the report is approved."""
    contract = payment.contract
    if payment.kind == PaymentKind.ADVANCE and contract.status != "signed":
        raise WorkflowError(str(_l("The advance is approved once the contract is signed.")))
    if payment.kind == PaymentKind.FINAL and contract.application.status not in REPORT_APPROVED:
        raise WorkflowError(str(_l("The final payment is approved once the final report is approved.")))
    with db.session.no_autoflush:  # the time and the status reach the database together (a CHECK ties them)
        payment.approved_at, payment.approved_by_id = utcnow(), actor.id
        transition(WORKFLOW, payment, "approve", actor)
    return payment


def mark_paid(
    payment: Payment, *, paid_on: date, bank_reference: str, actor, now: datetime | None = None
) -> Payment:
    """Record that the bank paid the approved payment: the date (not in the future) and its reference."""
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise WorkflowError(str(_l("Give the bank's reference of the payment.")), field="bank_reference")
    if paid_on is None or paid_on > to_riga(now or utcnow()).date():
        raise WorkflowError(str(_l("The payment date cannot be in the future.")), field="paid_on")
    with db.session.no_autoflush:
        payment.paid_on, payment.bank_reference, payment.paid_recorded_by_id = (
            paid_on,
            bank_reference,
            actor.id,
        )
        transition(WORKFLOW, payment, "mark_paid", actor)
    return payment


def reduce_final_payment(payment: Payment, amount: Decimal, reason: str, *, actor) -> Payment:
    """Lower the planned final payment (results partly achieved) with a written reason (audited)."""
    reason = (reason or "").strip()
    if payment.kind != PaymentKind.FINAL or payment.status != PaymentStatus.PLANNED:
        raise WorkflowError(str(_l("Only a planned final payment can be reduced.")))
    if not reason:
        raise WorkflowError(str(_l("Give the reason for the reduction.")), field="reason")
    scheduled = payment.reduced_from or payment.amount
    if amount is None or amount < 0 or amount >= scheduled:
        raise WorkflowError(
            str(
                _l(
                    "The reduced amount must be less than the scheduled %(amount)s.",
                    amount=f"{scheduled:.2f}",
                )
            ),
            field="amount",
        )
    before = payment.amount
    payment.reduced_from, payment.amount, payment.reduction_reason = scheduled, amount, reason
    db.session.flush()
    audit.record(
        "payment.reduced",
        actor=actor,
        obj=payment,
        before={"amount": before},
        after={"amount": amount},
        reason=reason,
        municipality_id=payment.contract.municipality_id,
        organisation_id=payment.contract.application.organisation_id,
    )
    return payment
