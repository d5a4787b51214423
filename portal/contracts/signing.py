"""Signing a contract (issue 7): the coordinator sends it with a deadline, the applicant's representative
uploads the signed file (a PDF scan or an e-signed .edoc/.asice container), the coordinator confirms the
counter-signature; a contract not signed in time lapses and its place goes to the reserve list. Every
file is stored with its SHA-256. Callers commit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.applications.services import notify_organisation
from portal.applications.workflow import WORKFLOW as APPLICATION_WORKFLOW
from portal.contracts.models import Contract, ContractStatus
from portal.contracts.workflow import WORKFLOW
from portal.core import storage, uploads
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.core.workdays import working_day_deadline
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db
from portal.organisations.services import public_url

SIGNED_KINDS = ("pdf", "asice")
SIGN_DAYS = (1, 30)
DEFAULT_SIGN_DAYS = 10


def _store(data: bytes, filename: str, *, actor) -> storage.StoredFile:
    kind, content_type = uploads.check_upload(data, filename, actor=actor)
    if kind not in SIGNED_KINDS:
        raise WorkflowError(
            str(_l("Upload the signed contract as a PDF or an e-signed .edoc/.asice file.")), field="file"
        )
    return storage.save_file(data, filename=filename, content_type=content_type, actor=actor)


def send_contract(
    contract: Contract, *, actor, sign_days: int = DEFAULT_SIGN_DAYS, now: datetime | None = None
) -> Contract:
    """Send the generated contract to the applicant, with a deadline to sign in working days."""
    now = now or utcnow()
    if contract.pdf_file_id is None:
        raise WorkflowError(str(_l("Generate the contract's PDF before sending it.")))
    low, high = SIGN_DAYS
    if sign_days is None or not low <= sign_days <= high:
        raise WorkflowError(
            str(_l("Give between %(low)d and %(high)d working days.", low=low, high=high)), field="sign_days"
        )
    with db.session.no_autoflush:  # the time and the status reach the database together (a CHECK ties them)
        contract.sent_at = now
        contract.sign_by = working_day_deadline(now, sign_days)
        transition(WORKFLOW, contract, "send", actor)
    transition(APPLICATION_WORKFLOW, contract.application, "send_contract", actor)
    notify_organisation(
        contract.application.organisation_id,
        "contract_sent",
        contract=contract,
        link=public_url("applications.show", application_id=contract.application_id),
        attachments=[contract.pdf_file],
    )
    return contract


def upload_signed(
    contract: Contract, data: bytes, filename: str, *, actor, now: datetime | None = None
) -> Contract:
    """The applicant's representative uploads the contract they signed, before the deadline."""
    now = now or utcnow()
    if contract.status == ContractStatus.SENT and contract.sign_by is not None and now > contract.sign_by:
        raise WorkflowError(str(_l("The deadline to sign the contract has passed.")))
    if "representative" not in WORKFLOW.roles_for(contract, actor):
        raise TransitionDenied("only the organisation's representative signs its contract")
    stored = _store(data, filename, actor=actor)
    contract.applicant_file_id, contract.applicant_sha256, contract.applicant_signed_at = (
        stored.id,
        stored.sha256,
        now,
    )
    transition(WORKFLOW, contract, "upload_signed", actor)
    queue_email(
        contract.application.call.contact_email,
        "contract_signed_by_applicant",
        locale="lv",
        contract=contract,
    )
    return contract


def countersign(
    contract: Contract,
    *,
    actor,
    data: bytes | None = None,
    filename: str | None = None,
    now: datetime | None = None,
) -> Contract:
    """Confirm the municipality's signature (uploading the counter-signed file, or confirming that the
    applicant's e-signed file was signed by the municipality too): the contract is in force."""
    now = now or utcnow()
    if data:
        stored = _store(data, filename or "ligums.pdf", actor=actor)
        contract.countersigned_file_id, contract.countersigned_sha256 = stored.id, stored.sha256
    with db.session.no_autoflush:
        contract.signed_at = now
        transition(WORKFLOW, contract, "countersign", actor)
    transition(APPLICATION_WORKFLOW, contract.application, "sign_contract", actor)
    notify_organisation(contract.application.organisation_id, "contract_signed", contract=contract)
    return contract


def lapse_unsigned(now: datetime | None = None) -> int:
    """Let every contract not signed by its deadline lapse and offer its place to the reserve list
    (cron-friendly: a second run changes nothing). Returns how many lapsed."""
    from portal.evaluation.services.decisions import cancel_funding  # contracts build on evaluation

    now = now or utcnow()
    overdue = db.session.scalars(
        sa.select(Contract).where(Contract.status == ContractStatus.SENT, Contract.sign_by < now)
    ).all()
    for contract in overdue:
        with force_locale("lv"):
            reason = _("The contract was not signed by the deadline.")
        transition(WORKFLOW, contract, "lapse", None, reason)
        cancel_funding(contract.application, reason, actor=None)
    db.session.flush()
    return len(overdue)
