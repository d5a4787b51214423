"""Contract use cases (issue 7, first part): creating a funded application's contract with the next
number of its municipality's sequence and its payment schedule. Generating the PDF, sending, signing
and amendments build on this. Callers commit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.applications.workflow import ApplicationStatus
from portal.calls.permissions import can_manage_call
from portal.contracts import numbering
from portal.contracts.models import Contract, ContractStatus
from portal.core import audit
from portal.core.timeutil import to_riga, utcnow
from portal.core.workdays import add_working_days
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.payments.services import plan_payments


def contract_of(application) -> Contract | None:
    return db.session.scalar(sa.select(Contract).where(Contract.application_id == application.id))


def create_contract(application, *, actor, now: datetime | None = None) -> Contract:
    """Create the contract of a funded application: the next number of the municipality's sequence for
    the year, the amount and period from the application, the report's due date (working days after
    the end, DESIGN §2) and the advance and final payments from the programme's schedule."""
    call = application.call
    if not can_manage_call(actor, call):
        raise TransitionDenied("only the municipality's coordinators create contracts")
    if application.status != ApplicationStatus.FUNDED:
        raise WorkflowError(str(_l("A contract is made for a funded application.")))
    if contract_of(application) is not None:
        raise WorkflowError(str(_l("This application already has a contract.")))
    year = to_riga(now or utcnow()).year
    sequence = numbering.next_sequence(call.municipality_id, year)
    contract = Contract(
        application_id=application.id,
        municipality_id=call.municipality_id,
        year=year,
        sequence=sequence,
        number=numbering.format_number(call.municipality.code, year, sequence),
        status=ContractStatus.DRAFT,
        amount=call.amount,
        start_date=application.start_date,
        end_date=application.end_date,
        report_due=add_working_days(application.end_date, call.programme.report_due_working_days),
        generated_by_id=actor.id,
    )
    db.session.add(contract)
    db.session.flush()
    plan_payments(contract, actor=actor)
    audit.record(
        "contract.created",
        actor=actor,
        obj=contract,
        after={"number": contract.number, "amount": contract.amount},
        municipality_id=call.municipality_id,
        organisation_id=application.organisation_id,
    )
    return contract
