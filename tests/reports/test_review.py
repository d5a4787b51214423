"""Reviewing final reports (issue 8): return once with comments per section, approve (optionally with a
reduced final payment), the Latvian PDF, forwarding to the national administrator and acknowledgement.

Approvals in most tests store a sample PDF (the `no_render` fixture patches the service's render_pdf:
a wkhtmltopdf rendering costs ~1 s); test_the_approved_report_is_a_latvian_pdf renders the one real PDF."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from pypdf import PdfReader

from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.core import storage
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db as _db
from portal.payments import services as payments
from portal.reports.services import review
from tests import factories
from tests.helpers import Page, browser_client, csrf_token, log_in

COMMENTS = {"activities": "Norādiet katras darbnīcas datumu.", "participants": "Skaitļi nesakrīt."}


@pytest.fixture()
def no_render(monkeypatch):
    monkeypatch.setattr(review, "render_pdf", lambda *args, **kwargs: factories.sample_pdf(b"report"))


@pytest.fixture()
def submitted(db):
    report, contract, ev = factories.submitted_report()
    return report, contract, ev


def _mails(template):
    return list(_db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def _as(app, user):
    """A browser logged in as `user` (one per user: no logging out between them)."""
    client = browser_client(app)
    log_in(client, user)
    return client


def _final(contract):
    return payments.payments_of(contract)["final"]


# --- the workflow table: every (status, action, role) ------------------------------------------------

STATUSES = (
    ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.REPORT_SUBMITTED,
    ApplicationStatus.REPORT_RETURNED,
    ApplicationStatus.REPORT_APPROVED,
    ApplicationStatus.FORWARDED,
    ApplicationStatus.CLOSED,
)
ACTIONS = {
    "return": lambda report, actor: review.return_report(report, COMMENTS, actor=actor),
    "approve": lambda report, actor: review.approve_report(report, actor=actor),
    "acknowledge": lambda report, actor: review.acknowledge_report(report, actor=actor),
}
# Who may, and from which status (everything else: the wrong role is denied, the wrong status refused).
MAY = {"return": "coordinator", "approve": "coordinator", "acknowledge": "national_admin"}
FROM = {
    "return": ApplicationStatus.REPORT_SUBMITTED,
    "approve": ApplicationStatus.REPORT_SUBMITTED,
    "acknowledge": ApplicationStatus.FORWARDED,
}


@pytest.mark.parametrize("status", STATUSES)
def test_the_report_workflow_for_every_status_action_and_role(submitted, no_render, status):
    report, contract, ev = submitted
    application = report.application
    roles = {
        "coordinator": ev["coordinator"],
        "other_coordinator": factories.coordinator(factories.municipality("0044000")),
        "applicant": ev["applicants"][0],
        "national_admin": factories.national_admin(),
    }
    application.status = status  # the table is about the status, not how it was reached
    _db.session.flush()

    outcome, expected = {}, {}
    for action, perform in ACTIONS.items():
        for role, user in roles.items():
            if role != MAY[action]:
                expected[action, role] = "denied"
            else:
                expected[action, role] = "allowed" if status == FROM[action] else "refused"
            savepoint = _db.session.begin_nested()
            try:
                perform(report, user)
                outcome[action, role] = "allowed"
                assert application.status != status
            except TransitionDenied:
                outcome[action, role] = "denied"
                assert application.status == status
            except WorkflowError:
                outcome[action, role] = "refused"
                assert application.status == status
            finally:
                savepoint.rollback()
    assert outcome == expected


# --- returning ------------------------------------------------------------------------------------------


def test_return_records_the_comments_and_mails_them_per_section(submitted):
    report, contract, ev = submitted
    review.return_report(report, {**COMMENTS, "lessons": "  "}, actor=ev["coordinator"])
    assert report.application.status == ApplicationStatus.REPORT_RETURNED
    assert report.times_returned == 1 and report.returned_by_id == ev["coordinator"].id
    assert report.return_comments == COMMENTS  # the empty comment is dropped
    change = _history(report)[-1]
    assert change.action == "return_report" and "Skaitļi nesakrīt." in change.reason
    mails = _mails("report_returned")
    assert [m.recipient for m in mails] == [ev["applicants"][0].email]
    assert "Participants:\nSkaitļi nesakrīt." in mails[0].body_text
    assert "Activities carried out:\nNorādiet katras darbnīcas datumu." in mails[0].body_text


def _history(report):
    from portal.core.workflow import StatusChange

    return list(
        _db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.object_type == "application", StatusChange.object_id == report.application_id)
            .order_by(StatusChange.id)
        )
    )


def test_a_return_needs_a_comment_without_personal_codes(submitted):
    report, contract, ev = submitted
    with force_locale("en"), pytest.raises(WorkflowError, match="at least one section"):
        review.return_report(report, {"activities": " ", "unknown": "x"}, actor=ev["coordinator"])
    with force_locale("en"), pytest.raises(WorkflowError, match="identity code") as refused:
        review.return_report(report, {"participants": "Jānis, 010190-12345"}, actor=ev["coordinator"])
    assert refused.value.field == "comment_participants"
    assert report.application.status == ApplicationStatus.REPORT_SUBMITTED and report.times_returned == 0


def test_a_report_is_returned_only_once(submitted, no_render):
    report, contract, ev = submitted
    review.return_report(report, COMMENTS, actor=ev["coordinator"])
    transition(WORKFLOW, report.application, "submit_report", ev["applicants"][0])
    with force_locale("en"), pytest.raises(WorkflowError, match="already returned once") as refused:
        review.return_report(report, COMMENTS, actor=ev["coordinator"])
    assert "reduced final payment" in refused.value.message and "terminate" in refused.value.message
    assert report.times_returned == 1 and report.application.status == ApplicationStatus.REPORT_SUBMITTED
    review.approve_report(report, actor=ev["coordinator"])  # the corrected report can still be approved
    assert report.application.status == ApplicationStatus.FORWARDED


# --- approving ------------------------------------------------------------------------------------------


def test_a_reduction_needs_a_reason_and_lowers_the_final_payment(submitted, no_render):
    report, contract, ev = submitted
    final = _final(contract)
    scheduled = final.amount
    with force_locale("en"), pytest.raises(WorkflowError, match="reason") as refused:
        review.approve_report(report, actor=ev["coordinator"], reduced_amount=Decimal("100.00"))
    assert refused.value.field == "reason"
    with force_locale("en"), pytest.raises(WorkflowError, match="less than") as refused:
        review.approve_report(report, actor=ev["coordinator"], reduced_amount=scheduled, reduction_reason="x")
    assert refused.value.field == "amount"
    assert report.application.status == ApplicationStatus.REPORT_SUBMITTED and final.amount == scheduled

    review.approve_report(
        report, actor=ev["coordinator"], reduced_amount=Decimal("100.00"), reduction_reason="Puse darbnīcu"
    )
    _db.session.expire(final)
    assert final.amount == Decimal("100.00") and final.reduced_from == scheduled
    assert final.reduction_reason == "Puse darbnīcu" and final.status == "planned"
    approved = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.approved")).one()
    assert approved.reason == "Puse darbnīcu"


def test_approval_forwards_the_report_and_unlocks_the_final_payment(submitted, no_render):
    report, contract, ev = submitted
    admin = factories.national_admin()
    final = _final(contract)
    with pytest.raises(WorkflowError):
        payments.approve_payment(final, actor=ev["coordinator"])
    review.approve_report(report, actor=ev["coordinator"])
    application = report.application
    assert application.status == ApplicationStatus.FORWARDED
    assert report.approved_by_id == ev["coordinator"].id and report.approved_at and report.forwarded_at
    assert [c.action for c in _history(report)][-2:] == ["approve_report", "forward"]
    assert report.pdf_file_id and len(report.pdf_sha256) == 64
    assert [m.recipient for m in _mails("report_forwarded")] == [admin.email]
    assert [m.recipient for m in _mails("report_approved")] == [ev["applicants"][0].email]
    assert final.status == "planned"
    payments.approve_payment(final, actor=ev["coordinator"])
    assert final.status == "approved"

    review.acknowledge_report(report, actor=admin)
    assert application.status == ApplicationStatus.CLOSED
    assert report.acknowledged_by_id == admin.id and report.acknowledged_at


def test_the_approved_report_is_a_latvian_pdf(submitted):
    report, contract, ev = submitted
    review.approve_report(report, actor=ev["coordinator"])
    data = storage.read_file(report.pdf_file)
    assert hashlib.sha256(data).hexdigest() == report.pdf_sha256
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)
    assert "Projekta noslēguma atskaite" in text
    assert contract.number in text and report.application.title in text
    assert "Unikālie dalībnieki kopā 30" in text and "PMP riska grupā 6 (20.0 %)" in text
    assert "5.–9. klase 18" in text and "10.–12. klase 9" in text
    assert "Jaunieši plānoja un vadīja darbnīcas." in text
    assert "nacionālajam administratoram" in text


# --- the pages ------------------------------------------------------------------------------------------


def test_the_review_page_is_for_the_municipality_and_the_national_admin(app, submitted):
    report, contract, ev = submitted
    url = f"/reports/{report.id}/review"
    other = _as(app, factories.coordinator(factories.municipality("0044000")))
    assert other.get(url).status_code == 404
    assert other.get(f"/reports/{report.id}/report.pdf").status_code == 404
    applicant = _as(app, ev["applicants"][0])
    assert applicant.get(url).status_code == 404
    assert applicant.get("/reports/national").status_code == 404
    assert applicant.get("/reports/").status_code == 404
    coordinator = _as(app, ev["coordinator"])
    page = Page(coordinator.get(url).get_data(as_text=True))
    assert page.find("form", action=f"/reports/{report.id}/approve")
    assert page.find("form", action=f"/reports/{report.id}/return")
    assert page.find("textarea", name="comment_activities")
    assert not page.find("form", action=f"/reports/{report.id}/acknowledge")
    admin = _as(app, factories.national_admin())
    page = Page(admin.get(url).get_data(as_text=True))
    assert not page.find("form", action=f"/reports/{report.id}/approve")
    token = csrf_token(admin, url)
    assert admin.post(f"/reports/{report.id}/return", data={"csrf_token": token}).status_code == 404


def test_the_coordinator_returns_and_approves_through_the_pages(app, submitted, no_render):
    report, contract, ev = submitted
    url = f"/reports/{report.id}/review"
    client = _as(app, ev["coordinator"])
    response = client.post(
        f"/reports/{report.id}/return", data={"csrf_token": csrf_token(client, url), "comment_results": ""}
    )
    assert response.status_code == 200
    assert "Write a comment on at least one section" in response.get_data(as_text=True)
    response = client.post(
        f"/reports/{report.id}/return",
        data={"csrf_token": csrf_token(client, url), "comment_results": "Pievienojiet rādītājus."},
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert report.application.status == ApplicationStatus.REPORT_RETURNED
    assert report.return_comments == {"results": "Pievienojiet rādītājus."}

    transition(WORKFLOW, report.application, "submit_report", ev["applicants"][0])
    _db.session.flush()
    page = Page(client.get(url).get_data(as_text=True))
    assert not page.find("form", action=f"/reports/{report.id}/return")  # returned once already
    response = client.post(
        f"/reports/{report.id}/approve",
        data={"csrf_token": csrf_token(client, url), "amount": "", "reason": ""},
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert report.application.status == ApplicationStatus.FORWARDED and report.pdf_file_id

    pdf = _as(app, ev["applicants"][0]).get(f"/reports/{report.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"

    admin = factories.national_admin()
    client = _as(app, admin)
    response = client.post(f"/reports/{report.id}/acknowledge", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    _db.session.expire_all()
    assert report.application.status == ApplicationStatus.CLOSED and report.acknowledged_by_id == admin.id
