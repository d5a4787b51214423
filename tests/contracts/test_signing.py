"""Signing a contract (issue 7): send with a deadline in working days, the representative uploads the
signed file, the coordinator confirms; a contract not signed in time lapses and the reserve is offered."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.applications.workflow import ApplicationStatus
from portal.contracts import services, signing
from portal.contracts.models import ContractStatus
from portal.core import storage
from portal.core.mail import OutboxMessage
from portal.core.timeutil import utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from portal.payments import services as payments
from portal.payments.models import PaymentStatus
from tests import factories


@pytest.fixture()
def contract(funded):
    application = funded["applications"][0]
    contract = services.create_contract(application, actor=funded["coordinator"])
    stored = storage.save_file(factories.sample_pdf(), filename="ligums.pdf", content_type="application/pdf")
    contract.pdf_file_id, contract.pdf_sha256 = stored.id, stored.sha256
    _db.session.flush()
    return contract


def _mails(template):
    return list(_db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def test_send_sign_countersign_and_approve_the_advance(funded, contract):
    coordinator, representative = funded["coordinator"], funded["applicants"][0]
    signing.send_contract(contract, actor=coordinator, sign_days=5)
    assert (
        contract.status == ContractStatus.SENT
        and contract.application.status == ApplicationStatus.CONTRACT_SENT
    )
    assert contract.sign_by > utcnow() + timedelta(days=4)
    assert _mails("contract_sent")[0].attachment_file_ids

    signing.upload_signed(contract, factories.sample_asice(), "ligums.edoc", actor=representative)
    assert contract.status == ContractStatus.SIGNED_BY_APPLICANT and len(contract.applicant_sha256) == 64
    assert _mails("contract_signed_by_applicant")

    signing.countersign(contract, actor=coordinator, data=factories.sample_pdf(b"x"), filename="abpusēji.pdf")
    assert contract.status == ContractStatus.SIGNED and contract.signed_at is not None
    assert contract.application.status == ApplicationStatus.CONTRACT_SIGNED
    advance = payments.payments_of(contract)["advance"]
    payments.approve_payment(advance, actor=coordinator)
    assert advance.status == PaymentStatus.APPROVED


def test_only_the_representative_uploads_and_only_a_pdf_or_an_e_signed_file(funded, contract):
    signing.send_contract(contract, actor=funded["coordinator"])
    with pytest.raises(TransitionDenied):
        signing.upload_signed(contract, factories.sample_pdf(), "l.pdf", actor=funded["coordinator"])
    with pytest.raises(WorkflowError) as refused:
        signing.upload_signed(contract, factories.sample_png(), "l.png", actor=funded["applicants"][0])
    assert refused.value.field == "file"


def test_a_contract_is_sent_only_with_its_pdf_and_a_sensible_deadline(funded, contract):
    with pytest.raises(WorkflowError) as refused:
        signing.send_contract(contract, actor=funded["coordinator"], sign_days=0)
    assert refused.value.field == "sign_days"
    contract.pdf_file_id = None
    with pytest.raises(WorkflowError):
        signing.send_contract(contract, actor=funded["coordinator"])


def test_an_unsigned_contract_lapses_and_the_reserve_is_offered_once(funded, contract):
    reserve = funded["applications"][1]
    assert reserve.status == ApplicationStatus.RESERVE
    signing.send_contract(
        contract, actor=funded["coordinator"], sign_days=1, now=utcnow() - timedelta(days=10)
    )
    with pytest.raises(WorkflowError):
        signing.upload_signed(contract, factories.sample_pdf(), "l.pdf", actor=funded["applicants"][0])
    assert signing.lapse_unsigned() == 1
    assert contract.status == ContractStatus.LAPSED
    assert contract.application.status == ApplicationStatus.NOT_FUNDED
    assert reserve.status == ApplicationStatus.FUNDED
    assert signing.lapse_unsigned() == 0


def test_the_cli_lets_overdue_contracts_lapse_once(app, funded, contract):
    signing.send_contract(
        contract, actor=funded["coordinator"], sign_days=1, now=utcnow() - timedelta(days=10)
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["contracts", "lapse-unsigned"])
    assert result.exit_code == 0, result.output
    assert "lapsed 1" in result.output and contract.status == ContractStatus.LAPSED
    assert "lapsed 0" in runner.invoke(args=["contracts", "lapse-unsigned"]).output
