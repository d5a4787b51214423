"""The applicant's final report (issue 8): start, save (with gaps, by form and by autosave), files,
submission by the representative only, the resubmission after a return, and 404 for everyone else."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.core.enums import Role
from portal.core.mail import OutboxMessage
from portal.core.workflow import WorkflowError, transition
from portal.extensions import db as _db
from portal.reports.models import FinalReport, ReportFile
from portal.reports.services import form as services
from tests import factories
from tests.helpers import Page, browser_client, csrf_token, log_in
from tests.test_accessibility_markup import _statement_url, markup_problems

CODE = "Jānis 010190-12345"


def _complete_form(report, token: str, **changes) -> dict:
    """A full plain POST of the report form: 30 participants, 3 at risk (the 10 % minimum)."""
    data = {
        "csrf_token": token,
        "lock_version": str(report.lock_version),
        "participants_total": "30",
        "participants_grades_5_9": "18",
        "participants_grades_10_12": "9",
        "participants_vocational": "3",
        "participants_risk": "3",
        "risk_by_category-learning": "2",
        "risk_by_category-family": "1",
        "activities-0-planned": "Darbnīcas",
        "activities-0-carried_out": "Sešas darbnīcas skolā",
        "activities-0-dates": "2027. gada februāris",
        "activities-0-place": "Skola",
        "activities-0-hours": "12",
        "schools-0-name": "Vidusskola",
        "schools-0-count": "30",
        "results-0-indicator": "Dalībnieki",
        "results-0-planned": "30",
        "results-0-achieved": "30",
        "publicity_links-0": "https://example.lv/zinas",
        "youth_led": "Jaunieši plānoja un vadīja darbnīcas.",
        "lessons": "Plānot laikus.",
        "evidence_consent": "y",
        "declaration": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _started(ev=None):
    contract, ev = factories.project_in_progress(ev)
    application = contract.application
    report = services.start_report(application, actor=ev["applicants"][0])
    _db.session.commit()
    return report, application, ev


def _member(application):
    user = factories.UserFactory()
    factories.membership(user, Role.APPLICANT, organisation=application.organisation, representative=False)
    _db.session.commit()
    return user


def _edit(application) -> str:
    return f"/reports/applications/{application.id}/edit"


def test_start_prefills_and_a_draft_with_gaps_is_saved(db):
    contract, ev = factories.project_in_progress()
    application = contract.application
    planned = [a.activity for a in application.activities if (a.activity or "").strip()]
    report = services.start_report(application, actor=ev["applicants"][0])
    assert [row["planned"] for row in report.data["activities"]] == planned
    assert services.report_for(application) is report
    version = report.lock_version
    problems = services.save_report(
        report,
        {"participants_total": "12", "youth_led": "", "lessons": CODE, "participants_risk": "-1"},
        actor=ev["applicants"][0],
        expected_version=version,
    )
    _db.session.flush()
    assert set(problems) == {"lessons", "participants_risk"}
    assert report.participants_total == 12 and report.participants_risk is None
    assert "lessons" not in report.data and report.lock_version == version + 1
    with pytest.raises(services.ReportConflict):
        services.save_report(report, {"youth_led": "x"}, actor=ev["applicants"][0], expected_version=version)
    # Nobody outside the organisation starts or changes it.
    with pytest.raises(WorkflowError):
        services.save_report(report, {"youth_led": "x"}, actor=ev["coordinator"], expected_version=None)


def test_submit_needs_everything_and_only_the_representative_submits(db):
    report, application, ev = _started()
    with force_locale("en"), pytest.raises(services.ReportRefused) as refused:
        services.submit_report(report, actor=ev["applicants"][0])
    assert {"activities", "participants_total", "youth_led", "declaration"} <= set(refused.value.problems)
    member = _member(application)
    with pytest.raises(WorkflowError):
        services.submit_report(report, actor=member)
    # A member's save leaves the declaration alone: it is the representative's.
    services.save_report(report, {"declaration": "y"}, actor=member, expected_version=None)
    assert report.declaration is False
    assert application.status == ApplicationStatus.IN_PROGRESS and report.submitted_at is None


def test_the_representative_writes_and_submits_through_the_page(client, login_as):
    contract, ev = factories.project_in_progress()
    application = contract.application
    login_as(ev["applicants"][0])
    page = client.get(_edit(application))
    assert page.status_code == 200 and "Start the final report" in page.get_data(as_text=True)
    assert (
        markup_problems(
            page.get_data(as_text=True), lang="en", statement_url=_statement_url(client.application)
        )
        == []
    )
    token = csrf_token(client, _edit(application))
    assert client.post(_edit(application), data={"csrf_token": token}).status_code == 302
    report = services.report_for(application)
    html = client.get(_edit(application)).get_data(as_text=True)
    assert "Submit the report" in html and 'id="autosave-status"' in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []
    assert contract.report_due is None or "days left" in html or "late" in html or "today" in html

    photo = client.post(
        f"/reports/{report.id}/files",
        data={"csrf_token": token, "kind": "photo", "file": (BytesIO(factories.sample_png()), "foto.png")},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 302
    _db.session.expire_all()
    sent = client.post(f"/reports/{report.id}/submit", data=_complete_form(report, token))
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]
    _db.session.expire_all()
    report = _db.session.get(FinalReport, report.id)
    assert application.status == ApplicationStatus.REPORT_SUBMITTED
    assert report.submitted_by_id == ev["applicants"][0].id and report.participants_risk == 3
    assert report.risk_by_category == {"learning": 2, "family": 1} and report.activity_hours == 12
    mails = list(
        _db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "report_submitted"))
    )
    assert [m.recipient for m in mails] == [application.call.contact_email]
    shown = client.get(f"/reports/{report.id}")
    assert shown.status_code == 200 and "Sešas darbnīcas skolā" in shown.get_data(as_text=True)
    shown_html = shown.get_data(as_text=True)
    assert "10.00 %" in shown_html
    assert markup_problems(shown_html, lang="en", statement_url=_statement_url(client.application)) == []
    # Frozen now: the edit page sends to the read-only report.
    assert client.get(_edit(application)).status_code == 302


def test_a_plain_post_with_bad_values_keeps_them_by_their_fields(client, login_as):
    report, application, ev = _started()
    login_as(ev["applicants"][0])
    token = csrf_token(client, _edit(application))
    response = client.post(
        _edit(application),
        data=_complete_form(report, token, participants_total="abc", youth_led=CODE, action="save"),
    )
    html = response.get_data(as_text=True)
    page = Page(html)
    assert response.status_code == 200
    assert page.by_id("participants_total").get("value") == "abc"
    assert page.by_id("participants_total").get("aria-invalid") == "true"
    assert CODE in html and "the portal stores no personal codes" in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []
    _db.session.expire_all()
    report = _db.session.get(FinalReport, report.id)
    assert report.participants_risk == 3 and report.participants_total is None  # the rest was saved
    assert "youth_led" not in report.data or report.data["youth_led"] != CODE


def test_a_member_saves_without_script_adds_a_row_and_cannot_submit(client, login_as):
    report, application, ev = _started()
    member = _member(application)
    login_as(member)
    token = csrf_token(client, _edit(application))
    html = client.get(_edit(application)).get_data(as_text=True)
    assert f"reports/{report.id}/submit" not in html
    added = client.post(_edit(application), data=_complete_form(report, token, action="add:schools"))
    assert added.status_code == 302 and "add=schools" in added.headers["Location"]
    page = Page(client.get(added.headers["Location"]).get_data(as_text=True))
    assert page.by_id("schools-1-name") is not None
    refused = client.post(f"/reports/{report.id}/submit", data=_complete_form(report, token))
    assert refused.status_code == 200 and "Only the organisation" in refused.get_data(as_text=True)
    assert application.status == ApplicationStatus.IN_PROGRESS


def test_autosave_saves_and_answers_409_on_a_conflict(client, login_as):
    report, application, ev = _started()
    login_as(ev["applicants"][0])
    token = csrf_token(client, _edit(application))
    headers = {"X-CSRFToken": token}
    version = report.lock_version
    ok = client.post(
        f"/reports/{report.id}/autosave",
        json={"lock_version": version, "values": {"participants_total": "25", "youth_led": "Idejas"}},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.get_json()["lock_version"] == version + 1
    stale = client.post(
        f"/reports/{report.id}/autosave",
        json={"lock_version": version, "values": {"participants_total": "26"}},
        headers=headers,
    )
    assert stale.status_code == 409 and stale.get_json()["lock_version"] == version + 1
    bad = client.post(
        f"/reports/{report.id}/autosave",
        json={"lock_version": version + 1, "values": {"participants_total": "-3", "lessons": "Labi"}},
        headers=headers,
    )
    assert bad.status_code == 422 and "participants_total" in bad.get_json()["errors"]
    _db.session.expire_all()
    report = _db.session.get(FinalReport, report.id)
    assert report.participants_total == 25 and report.data["lessons"] == "Labi"
    assert report.data["youth_led"] == "Idejas"  # not sent the second time, so kept


UPLOADS = [
    ("photo", "foto.png", factories.sample_png, True),
    ("evidence", "saraksts.pdf", factories.sample_pdf, True),
    ("photo", "foto.pdf", factories.sample_pdf, False),  # a photo must be an image
    ("evidence", "virus.exe", lambda: b"MZ\x90\x00binary", False),
]


def test_upload_kinds_are_refused_or_accepted(client, login_as):
    report, application, ev = _started()
    login_as(ev["applicants"][0])
    token = csrf_token(client, _edit(application))
    for kind, filename, data, accepted in UPLOADS:
        response = client.post(
            f"/reports/{report.id}/files",
            data={"csrf_token": token, "kind": kind, "file": (BytesIO(data()), filename)},
            content_type="multipart/form-data",
        )
        files = list(_db.session.scalars(sa.select(ReportFile).where(ReportFile.report_id == report.id)))
        if accepted:
            assert response.status_code == 302 and [f.kind for f in files] == [kind], filename
            download = client.get(f"/reports/files/{files[0].id}")
            assert download.status_code == 200 and download.data == data()
            removed = client.post(
                f"/reports/{report.id}/files/{files[0].id}/remove", data={"csrf_token": token}
            )
            assert removed.status_code == 302
            assert _db.session.scalar(sa.select(sa.func.count(ReportFile.id))) == 0
        else:
            assert response.status_code == 200 and files == [], filename
            assert 'class="error-summary"' in response.get_data(as_text=True)


def test_everyone_else_gets_404_on_every_route(app, db):
    report, application, ev = _started()
    services.add_file(report, factories.sample_pdf(), "a.pdf", "evidence", None, actor=ev["applicants"][0])
    _db.session.commit()
    item = report.files[0]
    outsider = factories.applicant()
    other_coordinator = factories.coordinator(factories.municipality("0040000"))
    for user in (outsider, other_coordinator):
        client = browser_client(app)
        log_in(client, user)
        token = csrf_token(client, "/")
        assert client.get(_edit(application)).status_code == 404
        assert client.post(_edit(application), data={"csrf_token": token}).status_code == 404
        assert (
            client.post(f"/reports/{report.id}/autosave", json={}, headers={"X-CSRFToken": token}).status_code
            == 404
        )
        assert client.get(f"/reports/{report.id}/autosave").status_code == 404
        assert client.post(f"/reports/{report.id}/files", data={"csrf_token": token}).status_code == 404
        remove = f"/reports/{report.id}/files/{item.id}/remove"
        assert client.post(remove, data={"csrf_token": token}).status_code == 404
        assert client.post(f"/reports/{report.id}/submit", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/reports/{report.id}").status_code == 404
        assert client.get(f"/reports/files/{item.id}").status_code == 404
    # The municipality's coordinator reads it (read-only), but does not edit it.
    client = browser_client(app)
    log_in(client, ev["coordinator"])
    assert client.get(f"/reports/{report.id}").status_code == 200
    assert client.get(f"/reports/files/{item.id}").status_code == 200
    assert client.get(_edit(application)).status_code == 404


def test_resubmission_after_a_return_shows_the_comments_and_keeps_them(client, login_as):
    report, contract, ev = factories.submitted_report()
    application = contract.application
    transition(WORKFLOW, application, "return_report", ev["coordinator"], "Skaitļi nesakrīt")
    report.return_comments = {"participants": "Pārbaudiet skolu skaitu."}
    report.times_returned = 1
    _db.session.commit()
    login_as(ev["applicants"][0])
    html = client.get(_edit(application)).get_data(as_text=True)
    assert "Pārbaudiet skolu skaitu." in html and "Submit the corrected report" in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []
    services.submit_report(report, actor=ev["applicants"][0])
    _db.session.commit()
    assert application.status == ApplicationStatus.REPORT_SUBMITTED
    assert report.return_comments == {"participants": "Pārbaudiet skolu skaitu."}
    subjects = [
        m.subject
        for m in _db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "report_submitted")
        )
    ]
    assert len(subjects) == 1 and re.search(r"(?i)labot|corrected", subjects[0])


def test_garbage_posts_never_500(client, login_as):
    report, application, ev = _started()
    login_as(ev["applicants"][0])
    token = csrf_token(client, _edit(application))
    garbage = {
        "csrf_token": token,
        "lock_version": "x" * 50,
        "participants_total": "9" * 40,
        "activities-999-hours": "\x00",
        "activities-0-carried_out": "a\x00b" * 3000,
        "risk_by_category-nope": "1",
        "publicity_links-0": "http://[::1",
        "remove_row": "activities-99999",
        "action": "add:nothing",
    }
    for path in (_edit(application), f"/reports/{report.id}/submit", f"/reports/{report.id}/files"):
        assert client.post(path, data=garbage).status_code < 500, path
    for body in (
        [],
        {"values": []},
        {"lock_version": True, "values": {}},
        {"lock_version": 1, "values": {"x": {}}},
    ):
        response = client.post(f"/reports/{report.id}/autosave", json=body, headers={"X-CSRFToken": token})
        assert response.status_code < 500
    assert (
        client.post(f"/reports/{report.id}/autosave", data="{", headers={"X-CSRFToken": token}).status_code
        < 500
    )


def test_the_applicant_and_the_coordinator_find_the_report_from_the_application(app, client, login_as):
    contract, ev = factories.project_in_progress()
    edit = f'href="/reports/applications/{contract.application_id}/edit"'
    login_as(ev["applicants"][0])
    assert edit in client.get("/applications/").get_data(as_text=True)  # "what to do next"
    report, _contract, _ev = factories.submitted_report(contract, ev)
    _db.session.commit()
    staff = browser_client(app)
    log_in(staff, ev["coordinator"])
    page = staff.get(f"/applications/{contract.application_id}").get_data(as_text=True)
    assert f'href="/reports/{report.id}"' in page
