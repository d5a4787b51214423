"""Recovery claims (DESIGN §2, §4; issue 7): the coordinator of the contract's municipality claims money
back (e.g. the project was not carried out), with a reason; the claim is later recovered or written off.
At most what was paid on the contract, less what is already claimed, can be claimed. Every step is
audited; status changes go through the workflow. Callers commit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.applications.services import notify_organisation
from portal.contracts.models import Contract
from portal.core import audit
from portal.core.enums import Role
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import Transition, TransitionDenied, Workflow, WorkflowError, transition
from portal.extensions import db
from portal.organisations.services import public_url
from portal.payments.models import Payment, PaymentStatus, Recovery

CENT = Decimal("0.01")


class RecoveryStatus(StrEnum):
    CLAIMED = "claimed"
    RECOVERED = "recovered"
    WRITTEN_OFF = "written_off"

    @property
    def label(self):
        return {
            RecoveryStatus.CLAIMED: lazy_pgettext("recovery", "Claimed"),
            RecoveryStatus.RECOVERED: lazy_pgettext("recovery", "Recovered"),
            RecoveryStatus.WRITTEN_OFF: lazy_pgettext("recovery", "Written off"),
        }[self]


COORDINATOR = frozenset({"coordinator"})

TRANSITIONS = {
    RecoveryStatus.CLAIMED: {
        "recover": Transition(RecoveryStatus.RECOVERED, COORDINATOR, _l("Mark as recovered")),
        "write_off": Transition(
            RecoveryStatus.WRITTEN_OFF, COORDINATOR, _l("Write off"), requires_reason=True
        ),
    },
}


def is_coordinator(actor, contract) -> bool:
    """The actor coordinates the contract's municipality."""
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_role(Role.COORDINATOR, municipality_id=contract.municipality_id)
    )


def roles_for(recovery, actor) -> set[str]:
    return {"coordinator"} if is_coordinator(actor, recovery.contract) else set()


WORKFLOW = Workflow(
    name="recovery",
    status_enum=RecoveryStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda r: {
        "municipality_id": r.contract.municipality_id,
        "organisation_id": r.contract.application.organisation_id,
    },
)


def recoveries_of(contract) -> list[Recovery]:
    """The contract's recovery claims, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Recovery).where(Recovery.contract_id == contract.id).order_by(Recovery.id)
        )
    )


def paid_on_contract(contract_id: int) -> Decimal:
    """What the bank paid on the contract (the paid advance and final payment)."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
            Payment.contract_id == contract_id, Payment.status == PaymentStatus.PAID
        )
    ) or Decimal("0")


def claimed_on_contract(contract_id: int) -> Decimal:
    """What is claimed back on the contract, written-off claims excepted."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Recovery.amount), 0)).where(
            Recovery.contract_id == contract_id, Recovery.status != RecoveryStatus.WRITTEN_OFF
        )
    ) or Decimal("0")


def claimable(contract) -> Decimal:
    """The most that can still be claimed back on the contract."""
    return Decimal(paid_on_contract(contract.id)) - Decimal(claimed_on_contract(contract.id))


def claim_recovery(contract: Contract, amount: Decimal | None, reason: str | None, *, actor) -> Recovery:
    """Claim money back on the contract, with a reason (audited; the organisation's members are told)."""
    if not is_coordinator(actor, contract):
        raise TransitionDenied("only a coordinator of the contract's municipality claims a recovery")
    # Two claims at once must not together exceed what was paid: the second waits for the first.
    db.session.execute(sa.select(Contract.id).where(Contract.id == contract.id).with_for_update())
    reason = (reason or "").strip()
    if amount is None or amount <= 0 or amount != amount.quantize(CENT):
        raise WorkflowError(str(_l("Give an amount in euros greater than zero, in cents.")), field="amount")
    available = claimable(contract)
    if available <= 0:
        raise WorkflowError(
            str(_l("Nothing can be claimed: nothing paid on this contract is left unclaimed.")),
            field="amount",
        )
    if amount > available:
        raise WorkflowError(
            str(
                _l(
                    "At most %(amount)s can be claimed: what was paid on this contract less what is "
                    "already claimed.",
                    amount=f"{available:.2f}",
                )
            ),
            field="amount",
        )
    if not reason:
        raise WorkflowError(str(_l("Give the reason for the recovery.")), field="reason")
    recovery = Recovery(
        contract_id=contract.id,
        amount=amount,
        reason=reason,
        status=RecoveryStatus.CLAIMED,
        claimed_by_id=actor.id,
    )
    db.session.add(recovery)
    db.session.flush()
    audit.record(
        "recovery.claimed",
        actor=actor,
        obj=recovery,
        after={"amount": amount, "status": RecoveryStatus.CLAIMED.value},
        reason=reason,
        municipality_id=contract.municipality_id,
        organisation_id=contract.application.organisation_id,
    )
    notify_organisation(
        contract.application.organisation_id,
        "payment_recovery_claimed",
        contract=contract,
        recovery=recovery,
        link=public_url("applications.show", application_id=contract.application_id),
    )
    return recovery


def _locked(recovery: Recovery) -> Recovery:
    """Re-read the claim and hold it: of two coordinators at once, the second sees the first's change."""
    db.session.refresh(recovery, with_for_update=True)
    return recovery


def mark_recovered(
    recovery: Recovery, *, recovered_on: date | None, actor, now: datetime | None = None
) -> Recovery:
    """Record that the claimed money came back, on a date not in the future (audited)."""
    if not is_coordinator(actor, recovery.contract):
        raise TransitionDenied("only a coordinator of the contract's municipality records a recovery")
    _locked(recovery)
    if recovered_on is None:
        raise WorkflowError(str(_l("Give the date the money came back.")), field="recovered_on")
    if recovered_on > to_riga(now or utcnow()).date():
        raise WorkflowError(str(_l("The date cannot be in the future.")), field="recovered_on")
    with db.session.no_autoflush:
        recovery.recovered_on = recovered_on
        transition(WORKFLOW, recovery, "recover", actor)
    return recovery


def write_off(recovery: Recovery, reason: str | None, *, actor) -> Recovery:
    """Give up a claim (e.g. the organisation was dissolved), with a reason (audited)."""
    if not is_coordinator(actor, recovery.contract):
        raise TransitionDenied("only a coordinator of the contract's municipality writes a claim off")
    _locked(recovery)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(str(_l("Give the reason for writing the claim off.")), field="reason")
    transition(WORKFLOW, recovery, "write_off", actor, reason)
    return recovery
