"""Application services without HTTP: drafts, optimistic locking, submission, withdrawal."""

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.applications import services
from portal.applications.workflow import ApplicationStatus
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.storage import read_file
from portal.core.workflow import StatusChange, TransitionDenied, WorkflowError
from tests.factories import OrganisationFactory, applicant, draft_application, open_call


def test_one_application_per_organisation_per_call(db):
    application, user = draft_application()
    with pytest.raises(WorkflowError):
        services.start_application(application.call, application.organisation, actor=user)
    services.withdraw_application(application, actor=user)
    assert services.start_application(application.call, application.organisation, actor=user).id


def test_only_members_start_and_edit(db):
    call = open_call()
    org = OrganisationFactory()
    stranger = applicant()
    with pytest.raises(TransitionDenied):
        services.start_application(call, org, actor=stranger)
    application, _ = draft_application(call, org)
    with pytest.raises(TransitionDenied):
        services.save_draft(
            application, {"title": "x"}, actor=stranger, expected_version=application.lock_version
        )


def test_closed_call_refuses_new_drafts(db):
    call = open_call(days_left=-1)
    org = OrganisationFactory()
    with pytest.raises(WorkflowError):
        services.start_application(call, org, actor=applicant(org))


def test_stale_save_is_refused_and_says_what_changed(db):
    application, user = draft_application()
    loaded = application.lock_version
    services.save_draft(application, {"title": "Pirmais"}, actor=user, expected_version=loaded)
    with pytest.raises(services.DraftConflict) as conflict:
        services.save_draft(application, {"title": "Otrais"}, actor=user, expected_version=loaded)
    assert conflict.value.changed == {"title": "Pirmais"}
    assert application.title == "Pirmais"


def test_draft_accepts_empty_fields(db):
    application, user = draft_application()
    services.save_draft(
        application,
        {"title": None, "participants_total": None, "activities": []},
        actor=user,
        expected_version=application.lock_version,
    )
    assert application.title is None


def test_submit_freezes_a_version_with_pdf_and_email(db):
    application, user = draft_application(complete=True)
    version = services.submit_application(application, actor=user)
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.submitted_at is not None
    assert version.number == 1 and version.data["title"] == "Skolas sols: jaunieši jauniešiem"
    pdf_bytes = read_file(version.pdf_file)
    assert hashlib.sha256(pdf_bytes).hexdigest() == version.pdf_sha256
    from io import BytesIO

    text = " ".join("".join(page.extract_text() for page in PdfReader(BytesIO(pdf_bytes)).pages).split())
    assert "Skolas sols" in text and "jauniešiem" in text
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.template == "application_submitted")
    )
    assert message.recipient == user.email and message.attachment_file_ids == [version.pdf_file_id]
    assert db.session.scalar(sa.select(StatusChange).where(StatusChange.object_type == "application"))
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "application.submit"))
    with pytest.raises(WorkflowError):
        services.save_draft(
            application, {"title": "Vēlāk"}, actor=user, expected_version=application.lock_version
        )
    with pytest.raises(WorkflowError):
        services.submit_application(application, actor=user)


def test_submit_refused_lists_problems_and_changes_nothing(db):
    application, user = draft_application()
    with pytest.raises(services.SubmissionRefused) as refused:
        services.submit_application(application, actor=user)
    assert {p.field for p in refused.value.problems} >= {"title", "budget"}
    assert application.status == ApplicationStatus.DRAFT and application.versions == []


def test_submit_after_deadline_refused(db):
    application, user = draft_application(complete=True)
    with pytest.raises(services.SubmissionRefused):
        services.submit_application(
            application, actor=user, now=application.call.closes_at + timedelta(seconds=1)
        )


def test_injected_markup_is_literal_in_the_pdf(db):
    application, user = draft_application(complete=True)
    payload = '<script>document.write("X")</script><img src="http://127.0.0.1:9/x">{{7*7}}'
    services.save_draft(
        application, {"problem": payload}, actor=user, expected_version=application.lock_version
    )
    version = services.submit_application(application, actor=user)
    from io import BytesIO

    text = " ".join(
        "".join(p.extract_text() for p in PdfReader(BytesIO(read_file(version.pdf_file))).pages).split()
    )
    assert "<script>" in text and "{{7*7}}" in text


def test_withdraw(db):
    application, user = draft_application(complete=True)
    services.submit_application(application, actor=user)
    services.withdraw_application(application, actor=user, reason="Mainījās plāni")
    assert application.status == ApplicationStatus.WITHDRAWN
    with pytest.raises(WorkflowError):
        services.withdraw_application(application, actor=user)
