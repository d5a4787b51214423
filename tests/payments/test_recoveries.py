"""Recovery claims (issue 7): at most what was paid on the contract less what is already claimed, with a
reason, by a coordinator of the contract's municipality; claimed, then recovered (a date not in the
future) or written off (a reason); every step audited and the organisation told."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from portal.payments import recoveries
from portal.payments.models import Recovery
from tests import factories
from tests.helpers import savepoint_db, scene_connection

PAID = Decimal("3680.00")  # the advance of a 4600.00 contract (80 %)


def _advance_paid():
    contract, ev = factories.contract_in("advance_paid")
    return contract.id, ev["coordinator"].id, [a.id for a in ev["applicants"]]


@pytest.fixture(scope="module")
def built(app):
    """A contract whose advance (3680.00) is paid, built once for the module in an outer transaction
    rolled back after its last test (every test of the module runs on this connection)."""
    with scene_connection(app, _advance_paid) as scene:
        yield scene


@pytest.fixture()
def db(built):
    """The built contract, in a savepoint rolled back after the test (overrides conftest's `db`): the
    claims, recoveries and mails of one test are gone before the next."""
    connection, _ids = built
    with savepoint_db(connection) as database:
        yield database


@pytest.fixture()
def paid(built, db):
    """A contract whose advance (3680.00) is paid, and the `ev` of its call (coordinator, applicants)."""
    from portal.accounts.models import User
    from portal.contracts.models import Contract

    contract_id, coordinator_id, applicant_ids = built[1]
    ev = {
        "coordinator": db.session.get(User, coordinator_id),
        "applicants": [db.session.get(User, i) for i in applicant_ids],
    }
    return db.session.get(Contract, contract_id), ev


def _events(action: str) -> list[AuditEvent]:
    return list(_db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_exactly_the_paid_amount_can_be_claimed_and_not_a_cent_more(paid):
    contract, ev = paid
    coordinator = ev["coordinator"]
    with force_locale("en"), pytest.raises(WorkflowError) as refused:
        recoveries.claim_recovery(contract, PAID + Decimal("0.01"), "Not carried out", actor=coordinator)
    assert refused.value.field == "amount" and "3680.00" in refused.value.message
    recovery = recoveries.claim_recovery(contract, PAID, "Not carried out", actor=coordinator)
    assert (
        recovery.status == "claimed" and recovery.amount == PAID and recovery.claimed_by_id == coordinator.id
    )
    with pytest.raises(WorkflowError) as nothing_left:
        recoveries.claim_recovery(contract, Decimal("0.01"), "Again", actor=coordinator)
    assert nothing_left.value.field == "amount"
    assert _db.session.scalar(sa.select(sa.func.count(Recovery.id))) == 1


def test_what_is_already_claimed_counts_until_it_is_written_off(paid):
    contract, ev = paid
    coordinator = ev["coordinator"]
    first = recoveries.claim_recovery(contract, Decimal("3000.00"), "Half the events", actor=coordinator)
    with pytest.raises(WorkflowError):
        recoveries.claim_recovery(contract, Decimal("680.01"), "The rest", actor=coordinator)
    recoveries.claim_recovery(contract, Decimal("680.00"), "The rest", actor=coordinator)
    assert recoveries.claimable(contract) == 0
    recoveries.write_off(first, "The association was dissolved", actor=coordinator)
    assert first.status == "written_off" and recoveries.claimable(contract) == Decimal("3000.00")


def test_the_amount_must_be_positive_in_cents(paid):
    contract, ev = paid
    for amount in (None, Decimal("0.00"), Decimal("-5.00"), Decimal("1.001")):
        with pytest.raises(WorkflowError) as refused:
            recoveries.claim_recovery(contract, amount, "Reason", actor=ev["coordinator"])
        assert refused.value.field == "amount", amount
    recoveries.claim_recovery(contract, Decimal("0.01"), "Reason", actor=ev["coordinator"])


def test_nothing_can_be_claimed_before_anything_is_paid(db):
    contract, ev = factories.contract_in("advance_approved")
    with pytest.raises(WorkflowError) as refused:
        recoveries.claim_recovery(contract, Decimal("1.00"), "Reason", actor=ev["coordinator"])
    assert refused.value.field == "amount"


def test_a_reason_is_required(paid):
    contract, ev = paid
    for reason in (None, "", "   \n "):
        with force_locale("en"), pytest.raises(WorkflowError) as refused:
            recoveries.claim_recovery(contract, Decimal("10.00"), reason, actor=ev["coordinator"])
        assert (
            refused.value.field == "reason" and refused.value.message == "Give the reason for the recovery."
        )
    assert _db.session.scalar(sa.select(sa.func.count(Recovery.id))) == 0


def test_only_a_coordinator_of_the_contracts_municipality_claims(paid):
    contract, ev = paid
    other = factories.coordinator(factories.municipality("0044000"))
    for actor in (other, ev["applicants"][0]):
        with pytest.raises(TransitionDenied):
            recoveries.claim_recovery(contract, Decimal("10.00"), "Reason", actor=actor)
    assert not _events("recovery.claimed")


def test_a_claim_is_audited_and_the_organisation_told(paid):
    contract, ev = paid
    recovery = recoveries.claim_recovery(
        contract, Decimal("100.50"), "  The camp did not take place  ", actor=ev["coordinator"]
    )
    [event] = _events("recovery.claimed")
    assert event.object_id == recovery.id and event.actor_id == ev["coordinator"].id
    assert event.reason == "The camp did not take place" and recovery.reason == event.reason
    assert event.after_data()["amount"] == "100.50" and event.municipality_id == contract.municipality_id
    assert event.organisation_id == contract.application.organisation_id
    mails = list(
        _db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "payment_recovery_claimed")
        )
    )
    assert ev["applicants"][0].email in {m.recipient for m in mails}
    assert any(contract.number in m.subject and "The camp did not take place" in m.body_text for m in mails)


def test_recovered_on_a_date_not_in_the_future_once(paid):
    contract, ev = paid
    coordinator = ev["coordinator"]
    recovery = recoveries.claim_recovery(contract, Decimal("50.00"), "Reason", actor=coordinator)
    today = to_riga(utcnow()).date()
    with pytest.raises(WorkflowError) as refused:
        recoveries.mark_recovered(recovery, recovered_on=today + timedelta(days=1), actor=coordinator)
    assert refused.value.field == "recovered_on" and recovery.status == "claimed"
    recoveries.mark_recovered(recovery, recovered_on=today, actor=coordinator)
    assert recovery.status == "recovered" and recovery.recovered_on == today
    assert len(_events("recovery.recover")) == 1
    with pytest.raises(WorkflowError):
        recoveries.mark_recovered(recovery, recovered_on=today, actor=coordinator)
    with pytest.raises(WorkflowError):
        recoveries.write_off(recovery, "Too late", actor=coordinator)


def test_a_write_off_needs_a_reason_and_is_audited(paid):
    contract, ev = paid
    coordinator = ev["coordinator"]
    recovery = recoveries.claim_recovery(contract, Decimal("50.00"), "Reason", actor=coordinator)
    with pytest.raises(WorkflowError) as refused:
        recoveries.write_off(recovery, "  ", actor=coordinator)
    assert refused.value.field == "reason" and recovery.status == "claimed"
    with pytest.raises(TransitionDenied):
        recoveries.write_off(
            recovery, "Mine now", actor=factories.coordinator(factories.municipality("0044000"))
        )
    recoveries.write_off(recovery, "Dissolved", actor=coordinator)
    [event] = _events("recovery.write_off")
    assert event.reason == "Dissolved" and event.after_data() == {"status": "written_off"}
