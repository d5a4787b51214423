"""Attachments (issue 4; QUALITY E1, E2): services, the upload/remove/download views, who may download."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa
from flask import g, render_template_string, session
from flask_login import login_user

from portal.applications import attachments as att
from portal.applications.models import Attachment
from portal.applications.workflow import ApplicationStatus
from portal.calls.workflow import CallStatus
from portal.core import storage
from portal.core.audit import AuditEvent
from portal.core.enums import LegalForm
from portal.core.timeutil import utcnow
from portal.core.uploads import UploadRefused
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from tests import factories
from tests.factories import sample_docx, sample_pdf, sample_png
from tests.helpers import csrf_token

EDIT_PAGE = "/applications/{id}/edit?step=applicant"


def events(action: str) -> list[AuditEvent]:
    return list(_db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def stored_count() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(storage.StoredFile))


def close_and_submit(application) -> None:
    """Move the call past its deadline with the application submitted (what staff may then open)."""
    application.call.status = CallStatus.CLOSED
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = utcnow()
    _db.session.flush()


def english_draft(organisation=None):
    """A draft and its member, who reads the portal in English (the assertions read English text)."""
    organisation = organisation or factories.OrganisationFactory()
    member = factories.applicant(organisation, locale="en")
    return factories.draft_application(organisation=organisation, user=member)


def initiative_group():
    return factories.OrganisationFactory(
        legal_form=LegalForm.INITIATIVE_GROUP,
        reg_number=None,
        representative_organisation=factories.OrganisationFactory(),
        group_members_count=6,
    )


# --- services ----------------------------------------------------------------------------------------


def test_member_attaches_a_file_stored_by_uuid(db):
    application, user = english_draft()
    data = sample_pdf()
    attachment = att.add_attachment(application, data, "../../Līgums.pdf", "other", user)
    stored = attachment.file
    assert uuid.UUID(stored.id).version == 4  # the stored name is a random UUID, not the user's name
    assert stored.filename == "Līgums.pdf"
    assert stored.content_type == "application/pdf"
    assert storage.read_file(stored) == data
    (event,) = events("attachment.added")
    assert event.actor_id == user.id
    assert (event.object_type, event.object_id) == ("applications", application.id)
    assert event.organisation_id == application.organisation_id
    assert event.municipality_id == application.call.municipality_id
    assert event.after_data()["sha256"] == stored.sha256


def test_a_refused_file_stores_nothing(db):
    application, user = english_draft()
    before = stored_count()
    with pytest.raises(UploadRefused):
        att.add_attachment(application, b"MZ\x90\x00" + b"\x00" * 60, "iesniegums.pdf", "other", user)
    assert stored_count() == before
    assert application.attachments == []
    assert events("attachment.added") == []


def test_only_members_attach(db):
    application, _user = english_draft()
    for outsider in (factories.applicant(), factories.coordinator(), factories.national_admin()):
        with pytest.raises(TransitionDenied):
            att.add_attachment(application, sample_pdf(), "a.pdf", "other", outsider)


def test_only_drafts_change(db):
    application, user = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", user)
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = utcnow()
    with pytest.raises(WorkflowError):
        att.add_attachment(application, sample_pdf(), "b.pdf", "other", user)
    with pytest.raises(WorkflowError):
        att.remove_attachment(application, attachment, user)


def test_at_most_ten_files(db):
    application, user = english_draft()
    data = sample_pdf()
    for i in range(att.MAX_ATTACHMENTS):
        att.add_attachment(application, data, f"{i}.pdf", "other", user)
    with pytest.raises(WorkflowError) as caught:
        att.add_attachment(application, data, "11.pdf", "other", user)
    assert caught.value.field == "file" and "10" in caught.value.message


def test_cooperation_agreement_only_for_youth_initiative_groups(db):
    application, user = english_draft()
    with pytest.raises(WorkflowError) as caught:
        att.add_attachment(application, sample_pdf(), "ligums.pdf", "cooperation_agreement", user)
    assert caught.value.field == "kind"
    with pytest.raises(WorkflowError):
        att.add_attachment(application, sample_pdf(), "ligums.pdf", "anything", user)
    group_application, member = english_draft(initiative_group())
    attachment = att.add_attachment(
        group_application, sample_pdf(), "ligums.pdf", "cooperation_agreement", member
    )
    assert attachment.kind == "cooperation_agreement"


def test_remove_deletes_the_stored_bytes(db):
    application, user = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", user)
    file_id = attachment.file_id
    att.remove_attachment(application, attachment, user)
    assert application.attachments == []
    assert _db.session.get(storage.StoredFile, file_id) is None
    (event,) = events("attachment.removed")
    assert event.before_data()["file_id"] == file_id
    with pytest.raises(TransitionDenied):
        other, other_user = english_draft()
        att.remove_attachment(
            application, att.add_attachment(other, sample_pdf(), "b.pdf", "other", other_user), user
        )


def test_staff_downloads_are_audited_members_are_not(db):
    application, user = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", user)
    att.open_attachment(application, attachment, user)
    assert events("attachment.downloaded") == []
    coordinator = factories.coordinator(application.call.municipality)
    with pytest.raises(TransitionDenied):  # sealed while the call is open
        att.open_attachment(application, attachment, coordinator)
    close_and_submit(application)
    _stored, data = att.open_attachment(application, attachment, coordinator)
    assert data == sample_pdf()
    (event,) = events("attachment.downloaded")
    assert event.actor_id == coordinator.id and event.after_data()["attachment_id"] == attachment.id


# --- views -------------------------------------------------------------------------------------------


def upload(client, application, data: bytes, filename: str, *, kind="other", next_url=None, token=None):
    token = token or csrf_token(client, "/")
    return client.post(
        f"/applications/{application.id}/attachments",
        data={
            "attachment-csrf_token": token,
            "attachment-kind": kind,
            "attachment-next": next_url or EDIT_PAGE.format(id=application.id),
            "attachment-file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def pending_error(client) -> dict | None:
    with client.session_transaction() as sess:
        return sess.get(att.ERROR_KEY)


def test_upload_through_the_form(client, login_as):
    application, user = english_draft()
    login_as(user)
    response = upload(client, application, sample_pdf(), "Līgums.pdf")
    assert response.status_code == 302
    assert response.headers["Location"] == EDIT_PAGE.format(id=application.id) + "#attachments"
    (attachment,) = application.attachments
    assert attachment.file.filename == "Līgums.pdf"
    assert pending_error(client) is None


def test_a_refused_upload_returns_to_the_form_with_the_reason(client, login_as):
    application, user = english_draft()
    login_as(user)
    response = upload(client, application, b"<html><script>alert(1)</script></html>", "lapa.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#attachments")
    error = pending_error(client)
    assert error["application_id"] == application.id and error["field"] == "file"
    assert "PDF" in error["message"]
    assert application.attachments == []


def test_a_missing_file_is_told(client, login_as):
    application, user = english_draft()
    login_as(user)
    response = client.post(
        f"/applications/{application.id}/attachments",
        data={"attachment-csrf_token": csrf_token(client, "/"), "attachment-kind": "other"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert pending_error(client)["message"] == "Choose a file to upload."


def test_next_never_leaves_the_site(client, login_as):
    application, user = english_draft()
    login_as(user)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = upload(client, application, sample_png(), "a.png", next_url=target)
        assert response.headers["Location"] == "/"


def test_traversal_names_are_harmless(client, login_as):
    application, user = english_draft()
    login_as(user)
    upload(client, application, sample_pdf(), "../../../../etc/passwd.pdf")
    upload(client, application, sample_pdf(), "..\\..\\static\\x.pdf")
    names = sorted(a.file.filename for a in application.attachments)
    # (the test client's multipart quoting eats the backslashes before the portal sees the name)
    assert names[0] == "passwd.pdf" and names[1].endswith("x.pdf")
    assert not any(ch in name for name in names for ch in "/\\") and not any(".." in name for name in names)
    for attachment in application.attachments:
        uuid.UUID(attachment.file_id)
        response = client.get(f"/applications/{application.id}/attachments/{attachment.id}")
        assert ".." not in response.headers["Content-Disposition"]
        assert "/" not in response.headers["Content-Disposition"].split("filename=", 1)[1].split(";")[0]


def test_oversize_request_gets_the_413_page(client, login_as, app):
    application, user = english_draft()
    login_as(user)
    too_big = b"%PDF-1.4\n" + b"\x00" * app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, application, too_big, "liels.pdf")
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
    assert application.attachments == []


def test_a_file_over_the_per_file_limit_is_told_by_the_input(client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024)
    application, user = english_draft()
    login_as(user)
    response = upload(client, application, sample_pdf() + b"\x00" * 2048, "liels.pdf")
    assert response.status_code == 302
    assert "1 KB" in pending_error(client)["message"]


def test_upload_needs_csrf_and_membership(client, login_as):
    application, _user = english_draft()
    outsider = factories.applicant()
    login_as(outsider)
    assert upload(client, application, sample_pdf(), "a.pdf").status_code == 404
    assert upload(client, application, sample_pdf(), "a.pdf", token="forged").status_code == 400
    assert application.attachments == []


def test_download_headers(client, login_as):
    application, user = english_draft()
    data = sample_pdf()
    attachment = att.add_attachment(application, data, "Līgums.pdf", "other", user)
    login_as(user)
    response = client.get(f"/applications/{application.id}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Ligums.pdf\"; filename*=UTF-8''L%C4%ABgums.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert events("attachment.downloaded") == []  # members' own downloads are not staff access


def test_an_attachment_of_another_application_is_404(client, login_as):
    application, user = english_draft()
    other, other_user = english_draft()
    foreign = att.add_attachment(other, sample_pdf(), "a.pdf", "other", other_user)
    login_as(user)
    assert client.get(f"/applications/{application.id}/attachments/{foreign.id}").status_code == 404
    assert client.get(f"/applications/{application.id}/attachments/999999").status_code == 404
    assert client.get(f"/applications/999999/attachments/{foreign.id}").status_code == 404


def _who(name, application):
    muni = application.call.municipality
    if name == "member":
        return factories.applicant(application.organisation, locale="en")
    if name == "other_org_member":
        return factories.applicant()
    if name == "coordinator":
        return factories.coordinator(muni)
    if name == "other_municipality_coordinator":
        return factories.coordinator(factories.municipality("0044000"))
    if name == "national_admin":
        return factories.national_admin()
    if name == "evaluator":
        return factories.evaluator(muni)
    return None


@pytest.mark.parametrize(
    ("who", "closed", "expected"),
    [
        ("member", False, 200),
        ("member", True, 200),
        ("other_org_member", False, 404),
        ("other_org_member", True, 404),
        ("coordinator", False, 404),  # sealed until the call closes
        ("coordinator", True, 200),
        ("other_municipality_coordinator", True, 404),
        ("national_admin", False, 404),
        ("national_admin", True, 200),
        ("evaluator", True, 404),  # evaluators get files through their assignment (later issue)
        ("anonymous", True, 302),
    ],
)
def test_who_may_download(client, login_as, who, closed, expected):
    application, owner = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", owner)
    if closed:
        close_and_submit(application)
    user = _who(who, application)
    if user is not None:
        login_as(user)
    response = client.get(f"/applications/{application.id}/attachments/{attachment.id}")
    assert response.status_code == expected
    if expected == 302:
        assert "/account/login" in response.headers["Location"]
    audited = events("attachment.downloaded")
    if expected == 200 and who != "member":
        assert [e.actor_id for e in audited] == [user.id]
    else:
        assert audited == []


def test_staff_never_see_a_draft_even_after_closing(client, login_as):
    application, owner = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", owner)
    application.call.status = CallStatus.CLOSED
    _db.session.flush()
    login_as(factories.coordinator(application.call.municipality))
    assert client.get(f"/applications/{application.id}/attachments/{attachment.id}").status_code == 404


def test_remove_through_the_form(client, login_as):
    application, user = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", user)
    login_as(user)
    url = f"/applications/{application.id}/attachments/{attachment.id}/delete"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/"), "next": "/x"})
    assert response.status_code == 302 and response.headers["Location"] == "/x#attachments"
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_remove_is_refused_to_others_and_after_submission(client, login_as):
    application, user = english_draft()
    attachment = att.add_attachment(application, sample_pdf(), "a.pdf", "other", user)
    url = f"/applications/{application.id}/attachments/{attachment.id}/delete"
    login_as(factories.applicant())
    assert client.post(url, data={"csrf_token": csrf_token(client, "/")}).status_code == 404
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = utcnow()
    _db.session.flush()
    login_as(user)
    response = client.post(url, data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert len(application.attachments) == 1


# --- the partial -------------------------------------------------------------------------------------


def render_panel(app, user, application, *, error=None, **context) -> str:
    """Render `applications/_attachments.html` as the form page would, for the given user."""
    g.__dict__.clear()
    try:
        with app.test_request_context(EDIT_PAGE.format(id=application.id)):
            if user is not None:
                login_user(user)
            if error:
                session[att.ERROR_KEY] = error
            return render_template_string(
                '{% include "applications/_attachments.html" %}', application=application, **context
            )
    finally:
        g.__dict__.clear()


def test_partial_for_a_member_of_a_draft(app, db):
    application, user = english_draft()
    attachment = att.add_attachment(application, sample_docx(), "Tāme.docx", "other", user)
    html = render_panel(app, user, application)
    assert 'id="attachments"' in html
    assert f'/applications/{application.id}/attachments/{attachment.id}"' in html
    assert "Tāme.docx" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="attachment-file"' in html and 'accept=".pdf,' in html
    assert 'name="attachment-next"' in html and "step=applicant" in html
    assert 'id="csrf_token"' not in html  # ids never clash with the draft form's
    assert "Remove" in html


def test_partial_shows_the_refusal_by_the_input(app, db):
    application, user = english_draft()
    error = {"application_id": application.id, "field": "file", "message": "Programs cannot be uploaded."}
    html = render_panel(app, user, application, error=error)
    assert 'role="alert"' in html and 'href="#attachment-file"' in html
    assert 'id="attachment-file-error"' in html and 'aria-invalid="true"' in html
    assert html.count("Programs cannot be uploaded.") == 2  # in the summary and by the field


def test_partial_offers_the_agreement_to_groups_only(app, db):
    application, user = english_draft()
    assert 'name="attachment-kind" value="other"' in render_panel(app, user, application)
    group_application, member = english_draft(initiative_group())
    html = render_panel(app, member, group_application)
    assert "<select" in html and 'value="cooperation_agreement"' in html
    # after a refusal the chosen kind is still chosen
    error = {
        "application_id": group_application.id,
        "field": "file",
        "message": "x",
        "kind": "cooperation_agreement",
    }
    html = render_panel(app, member, group_application, error=error)
    assert 'selected value="cooperation_agreement"' in html


def test_partial_read_only_and_for_staff(app, db):
    application, user = english_draft()
    att.add_attachment(application, sample_pdf(), "a.pdf", "other", user)
    html = render_panel(app, user, application, attachments_readonly=True)
    assert "a.pdf" in html and "<form" not in html
    close_and_submit(application)
    html = render_panel(app, factories.coordinator(application.call.municipality), application)
    assert "a.pdf" in html and "<form" not in html and "/attachments/" in html
