"""A contract in force (issue 7): the coordinator terminates it with a reason (both statuses, the reason,
the members' e-mail, the audit trail); the project starts on its start date (cron, idempotent)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.workflow import ApplicationStatus
from portal.contracts import lifecycle
from portal.contracts.models import ContractStatus
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from tests import factories


def _mails(template):
    return list(_db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def _audit(action, object_id):
    return _db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == object_id)
    ).all()


def test_terminating_a_signed_contract_ends_the_project_and_tells_the_members(db):
    contract, ev = factories.contract_in("signed")
    lifecycle.terminate_contract(contract, "  Projekts netiek īstenots.  ", actor=ev["coordinator"])
    assert contract.status == ContractStatus.TERMINATED
    assert contract.application.status == ApplicationStatus.TERMINATED
    assert contract.termination_reason == "Projekts netiek īstenots." and contract.terminated_at is not None
    mails = _mails("contract_terminated")
    assert {m.recipient for m in mails} >= {ev["applicants"][0].email}
    assert "Projekts netiek īstenots." in mails[0].body_text and contract.number in mails[0].subject
    assert _audit("contract.terminate", contract.id)[0].reason == "Projekts netiek īstenots."
    assert _audit("application.terminate", contract.application_id)


def test_termination_needs_a_reason_a_coordinator_and_a_signed_contract(db):
    contract, ev = factories.contract_in("signed")
    with force_locale("en"), pytest.raises(WorkflowError) as refused:
        lifecycle.terminate_contract(contract, "  ", actor=ev["coordinator"])
    assert refused.value.field == "reason"
    with pytest.raises(TransitionDenied):
        lifecycle.terminate_contract(contract, "Iemesls", actor=ev["applicants"][0])
    other = factories.coordinator(factories.municipality("0044000"))
    with pytest.raises(TransitionDenied):
        lifecycle.terminate_contract(contract, "Iemesls", actor=other)
    sent, ev2 = factories.contract_in("sent", factories.decided_call(2, funded=1, scores=(3, 2)))
    with pytest.raises(WorkflowError):
        lifecycle.terminate_contract(sent, "Iemesls", actor=ev2["coordinator"])
    assert contract.status == ContractStatus.SIGNED


def test_projects_start_on_their_start_date_once(app, db):
    contract, _ev = factories.contract_in("signed")
    today = to_riga(utcnow()).date()
    contract.start_date = today + timedelta(days=3)
    _db.session.flush()
    assert lifecycle.start_due() == 0
    assert contract.application.status == ApplicationStatus.CONTRACT_SIGNED
    assert lifecycle.start_due(utcnow() + timedelta(days=3)) == 1
    assert contract.application.status == ApplicationStatus.IN_PROGRESS
    assert lifecycle.start_due(utcnow() + timedelta(days=3)) == 0

    contract.start_date = today
    contract.application.status = ApplicationStatus.CONTRACT_SIGNED
    _db.session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["contracts", "start-due"])
    assert result.exit_code == 0, result.output
    assert "started 1" in result.output
    assert contract.application.status == ApplicationStatus.IN_PROGRESS
    assert "started 0" in runner.invoke(args=["contracts", "start-due"]).output
