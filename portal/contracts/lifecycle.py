"""A contract in force (issue 7): the project starts on its start date (cron), and the coordinator may
terminate the contract with a reason. Status changes go through the workflows, which audit them.
Callers commit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.applications.models import Application
from portal.applications.services import notify_organisation
from portal.applications.workflow import WORKFLOW as APPLICATION_WORKFLOW
from portal.applications.workflow import ApplicationStatus
from portal.contracts.models import Contract, ContractStatus
from portal.contracts.workflow import WORKFLOW
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import WorkflowError, transition
from portal.extensions import db
from portal.organisations.services import public_url

# The application statuses from which its contract can be terminated (the application workflow's table).
TERMINABLE = frozenset(
    {ApplicationStatus.CONTRACT_SIGNED, ApplicationStatus.IN_PROGRESS, ApplicationStatus.REPORT_RETURNED}
)


def terminate_contract(contract: Contract, reason: str, *, actor, now: datetime | None = None) -> Contract:
    """Terminate a signed contract with a reason: the contract and its application become terminated and
    the organisation's members are told why."""
    application = contract.application
    transition(WORKFLOW, contract, "terminate", actor, reason)
    if application.status not in TERMINABLE:
        raise WorkflowError(
            str(_l("The contract can no longer be terminated: the project's final report is being handled.")),
        )
    transition(APPLICATION_WORKFLOW, application, "terminate", actor, reason)
    contract.terminated_at = now or utcnow()
    contract.termination_reason = reason.strip()
    db.session.flush()
    notify_organisation(
        application.organisation_id,
        "contract_terminated",
        contract=contract,
        reason=contract.termination_reason,
        link=public_url("contracts.for_application", application_id=application.id),
    )
    return contract


def start_due(now: datetime | None = None) -> int:
    """Start every project whose contract is signed and whose start date has come (in Riga): the
    application moves to "in progress". Cron-friendly: a second run changes nothing. Returns how many."""
    today = to_riga(now or utcnow()).date()
    due = db.session.scalars(
        sa.select(Application)
        .join(Contract, Contract.application_id == Application.id)
        .where(
            Contract.status == ContractStatus.SIGNED,
            Contract.start_date <= today,
            Application.status == ApplicationStatus.CONTRACT_SIGNED,
        )
        .order_by(Application.id)
    ).all()
    for application in due:
        transition(APPLICATION_WORKFLOW, application, "start", None)
    db.session.flush()
    return len(due)
