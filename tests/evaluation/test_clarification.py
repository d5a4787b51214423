"""The one clarification round: the request and its deadline in working days, the applicant's answer as
a new version, the expiry (`flask evaluation expire-clarifications`), the applicant's pages during and
after it, and the two versions side by side (issue 5, DESIGN §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.services import SubmissionRefused
from portal.applications.workflow import ApplicationStatus
from portal.core.mail import OutboxMessage
from portal.core.timeutil import riga_instant, utcnow
from portal.core.workflow import WorkflowError, history
from portal.evaluation import queries
from portal.evaluation.models import EvaluationResult
from portal.evaluation.services import checks
from portal.extensions import db
from tests.factories import (
    close_call,
    coordinator,
    evaluation_call,
    failed_check,
    municipality,
    open_call,
    submitted_application,
)
from tests.helpers import Page, browser_client, csrf_token, log_in


@pytest.fixture()
def checked(db):
    """A closed call, one submitted application checked with one failed criterion, and its people."""
    return failed_check()


def _request(checked, *, now=None, days=5, message="Pievienojiet budžeta pielikumu."):
    return checks.request_clarification(
        checked["application"], message, days, actor=checked["coordinator"], now=now
    )


def _mails(template: str, recipient: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.template == template)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(query))


# --- the request -----------------------------------------------------------------------------------


def test_the_deadline_skips_the_weekend_and_the_proclamation_day(checked):
    # Friday 13.11.2026; 5 working days: 16, 17, (18.11 is a holiday), 19, 20, 23.
    request = _request(checked, now=datetime(2026, 11, 13, 10, 0, tzinfo=UTC))
    assert request.due_at == riga_instant(date(2026, 11, 23))
    assert request.due_at == datetime(2026, 11, 23, 21, 59, 59, tzinfo=UTC)  # 23:59:59 in Riga (EET)
    assert checked["application"].status == ApplicationStatus.CLARIFICATION_REQUESTED
    mail = _mails("clarification_requested", checked["applicant"].email)
    assert len(mail) == 1 and "Pievienojiet budžeta pielikumu." in mail[0].body_text


def test_a_clarification_is_requested_only_once(checked):
    _request(checked)
    application = checked["application"]
    application.status = ApplicationStatus.SUBMITTED  # even back in "submitted" (after an answer)
    with force_locale("en"), pytest.raises(WorkflowError, match="only once"):
        _request(checked)


@pytest.mark.parametrize("days", [0, 31, None])
def test_the_working_days_are_between_1_and_30(checked, days):
    with pytest.raises(WorkflowError) as refused:
        _request(checked, days=days)
    assert refused.value.field == "working_days"
    assert checked["application"].status == ApplicationStatus.SUBMITTED


# --- the answer ------------------------------------------------------------------------------------


def test_an_answer_after_the_deadline_is_refused(checked):
    request = _request(checked, now=utcnow() - timedelta(days=30), days=1)
    with force_locale("en"), pytest.raises(WorkflowError, match="deadline"):
        checks.answer_clarification(checked["application"], "Pievienots", actor=checked["applicant"])
    assert request.answered_at is None
    assert checked["application"].status == ApplicationStatus.CLARIFICATION_REQUESTED


def test_an_answer_needs_text_and_a_complete_application(checked):
    _request(checked)
    application = checked["application"]
    with pytest.raises(WorkflowError) as refused:
        checks.answer_clarification(application, "  ", actor=checked["applicant"])
    assert refused.value.field == "answer"
    application.goal = ""
    with pytest.raises(SubmissionRefused) as problems:
        checks.answer_clarification(application, "Labots", actor=checked["applicant"])
    assert "goal" in {p.field for p in problems.value.problems}


def test_the_answer_is_version_2_back_in_submitted_and_the_check_starts_again(checked):
    _request(checked)
    application = checked["application"]
    application.places = "Aizkraukle, Koknese, Skrīveri"
    version = checks.answer_clarification(application, "Pielikums pievienots.", actor=checked["applicant"])
    assert version.number == 2 and version.kind == "clarification"
    assert version.data["places"] == "Aizkraukle, Koknese, Skrīveri"
    assert version.pdf_sha256 and version.pdf_file_id
    assert application.versions[0].data["places"] == "Aizkraukle, Koknese"  # the first stays as it was
    assert application.status == ApplicationStatus.SUBMITTED
    assert queries.eligibility_answers(application.id) == {}
    request = checks.clarification_of(application)
    assert request.answer == "Pielikums pievienots." and request.version_id == version.id
    assert _mails("clarification_answered", checked["applicant"].email)
    assert _mails("clarification_answered_staff", checked["call"].contact_email)


# --- the expiry ------------------------------------------------------------------------------------


def test_expiry_rejects_only_overdue_unanswered_requests_once_and_tells_the_applicant(checked):
    overdue = _request(checked, now=utcnow() - timedelta(days=30), days=1)
    call = checked["call"]
    call.status = "open"  # submit two more applications to the same call
    call.closes_at = utcnow() + timedelta(days=1)
    pending_app, _ = submitted_application(call)
    answered_app, answered_user = submitted_application(call)
    close_call(call)
    coord = checked["coordinator"]
    pending = checks.request_clarification(pending_app, "Labojiet", 5, actor=coord)
    answered = checks.request_clarification(
        answered_app, "Labojiet", 1, actor=coord, now=utcnow() - timedelta(days=30)
    )
    answered.answered_at = answered.due_at - timedelta(hours=1)  # answered in time (set by hand)
    answered_app.status = ApplicationStatus.SUBMITTED

    assert checks.expire_clarifications() == 1
    application = checked["application"]
    assert application.status == ApplicationStatus.REJECTED
    assert overdue.expired_at is not None
    assert pending_app.status == ApplicationStatus.CLARIFICATION_REQUESTED and pending.expired_at is None
    assert answered_app.status == ApplicationStatus.SUBMITTED and answered.expired_at is None
    change = list(history(checks.WORKFLOW, application))[-1]
    assert change.actor_id is None and change.reason  # by the system, with the reason in Latvian
    mails = _mails("application_rejected", checked["applicant"].email)
    assert len(mails) == 1 and change.reason in mails[0].body_text

    assert checks.expire_clarifications() == 0  # cron-friendly: the second run changes nothing
    assert len(_mails("application_rejected", checked["applicant"].email)) == 1


def test_the_cli_expires_and_prints_how_many(app, checked):
    _request(checked, now=utcnow() - timedelta(days=30), days=1)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["evaluation", "expire-clarifications"])
    assert result.exit_code == 0, result.output
    assert "rejected 1" in result.output
    assert checked["application"].status == ApplicationStatus.REJECTED
    again = runner.invoke(args=["evaluation", "expire-clarifications"])
    assert "rejected 0" in again.output


# --- the applicant's pages -------------------------------------------------------------------------


def test_the_applicant_sees_the_request_and_edits_during_the_clarification(client, login_as, checked):
    request = _request(checked)
    application = checked["application"]
    login_as(checked["applicant"])
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Pievienojiet budžeta pielikumu." in page
    assert f"/applications/{application.id}/clarification/answer" in page
    assert f"/applications/{application.id}/edit/applicant" in page

    response = client.get(f"/applications/{application.id}/edit/project")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Pievienojiet budžeta pielikumu." in html
    lock = Page(html).find("input", name="lock_version")[0].get("value")
    response = client.post(
        f"/applications/{application.id}/edit/project",
        data={
            "csrf_token": csrf_token(client, f"/applications/{application.id}/edit/project"),
            "lock_version": lock,
            "title": "Skolas sols: labots",
            "start_date": "2026-03-01",
            "end_date": "30.11.2026",
            "places": "Aizkraukle",
            "action": "save",
        },
    )
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.title == "Skolas sols: labots"
    assert request.due_at > utcnow()

    # The autosave works too (the same JSON endpoint as for drafts).
    token = csrf_token(client, f"/applications/{application.id}/edit/project")
    response = client.post(
        f"/applications/{application.id}/autosave",
        json={"lock_version": application.lock_version, "step": "project", "values": {"places": "Koknese"}},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_json()
    db.session.refresh(application)
    assert application.places == "Koknese"


def test_after_the_deadline_the_applicant_can_no_longer_edit_or_answer(client, login_as, checked):
    _request(checked, now=utcnow() - timedelta(days=30), days=1)
    application = checked["application"]
    login_as(checked["applicant"])
    response = client.get(f"/applications/{application.id}/edit/project")
    assert response.status_code == 302 and response.location.endswith(f"/applications/{application.id}")
    show = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "The deadline for the clarification has passed." in show
    assert f"/applications/{application.id}/clarification/answer" not in show

    token = csrf_token(client, f"/applications/{application.id}")
    page = client.get(f"/applications/{application.id}/clarification/answer").get_data(as_text=True)
    assert "The deadline for the clarification has passed." in page
    response = client.post(
        f"/applications/{application.id}/clarification/answer", data={"csrf_token": token, "answer": "Vēlu"}
    )
    assert response.status_code == 409
    response = client.post(
        f"/applications/{application.id}/autosave",
        json={"lock_version": application.lock_version, "step": "project", "values": {"places": "X"}},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 409
    db.session.refresh(application)
    assert application.status == ApplicationStatus.CLARIFICATION_REQUESTED
    assert application.places == "Aizkraukle, Koknese"


def test_the_applicant_answers_in_the_portal(client, login_as, checked):
    _request(checked)
    application = checked["application"]
    login_as(checked["applicant"])
    url = f"/applications/{application.id}/clarification/answer"
    # An empty answer: refused next to the field, nothing sent.
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "answer": ""})
    assert response.status_code == 200
    assert 'id="answer-error"' in response.get_data(as_text=True)
    assert application.status == ApplicationStatus.CLARIFICATION_REQUESTED

    # A problem in the application itself is listed like on submission; the answer typed is kept.
    application.goal = None
    db.session.commit()
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "answer": "Pievienots"})
    html = response.get_data(as_text=True)
    assert "The answer cannot be sent yet" in html and "/edit/plan#goal" in html
    assert "Pievienots</textarea>" in html

    application.goal = "Mazināt kavējumus"
    db.session.commit()
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "answer": "Pievienots"})
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.status == ApplicationStatus.SUBMITTED
    assert [v.number for v in application.versions] == [1, 2]
    show = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f"/applications/{application.id}/versions/compare?a=1&amp;b=2" in show


def test_the_compare_view_marks_the_changed_fields(client, login_as, checked):
    _request(checked)
    application = checked["application"]
    application.places = "Skrīveri"
    budget = {b.category: b for b in application.budget_lines}
    budget["trainers"].amount = Decimal("1400.00")
    budget["materials"].amount = Decimal("700.00")
    checks.answer_clarification(application, "Labots", actor=checked["applicant"])
    db.session.commit()
    login_as(checked["applicant"])
    response = client.get(f"/applications/{application.id}/versions/compare?a=1&b=2")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    changed = {e.get("id") for e in page.with_class("is-changed")}
    assert changed == {"field-places", "field-budget-trainers", "field-budget-materials"}
    places = page.by_id("field-places")
    assert "Changed" in places.text  # marked in words, not by colour alone
    assert "Aizkraukle, Koknese" in places.text and "Skrīveri" in places.text
    assert "Changed" not in page.by_id("field-title").text
    assert "3 fields changed" in page.find("h2", id="changed-title")[0].text
    only = Page(
        client.get(f"/applications/{application.id}/versions/compare?a=1&b=2&changed=1").get_data(
            as_text=True
        )
    )
    assert only.by_id("field-title") is None and only.by_id("field-places") is not None
    assert client.get(f"/applications/{application.id}/versions/compare?a=1&b=7").status_code == 404


def test_the_compare_view_is_for_the_members_and_the_staff_only(app, client, login_as, checked):
    _request(checked)
    application = checked["application"]
    checks.answer_clarification(application, "Labots", actor=checked["applicant"])
    db.session.commit()
    url = f"/applications/{application.id}/versions/compare"
    login_as(coordinator(municipality("0044000")))
    assert client.get(url).status_code == 404
    staff = browser_client(app)
    log_in(staff, checked["coordinator"])
    assert staff.get(url).status_code == 200
    outsider = browser_client(app)
    log_in(outsider, submitted_application(open_call())[1])
    assert outsider.get(url).status_code == 404


def test_a_rejection_reason_is_shown_to_the_applicant(client, login_as, checked):
    checks.reject(checked["application"], "Nav pievienots budžets.", actor=checked["coordinator"])
    db.session.commit()
    login_as(checked["applicant"])
    page = client.get(f"/applications/{checked['application'].id}").get_data(as_text=True)
    assert "Why the application was rejected" in page and "Nav pievienots budžets." in page


def test_the_result_appears_on_the_show_page_only_after_the_decision(client, login_as, db):
    setup = evaluation_call(applications=1)
    application, user = setup["applications"][0], setup["applicants"][0]
    result = EvaluationResult(
        call_id=setup["call"].id,
        application_id=application.id,
        average=Decimal("12.50"),
        scorers=3,
        passed=True,
        rank=1,
        proposal="funded",
    )
    db.session.add(result)
    db.session.commit()
    login_as(user)
    url = f"/applications/{application.id}"
    assert "Result of the evaluation" not in client.get(url).get_data(as_text=True)
    result.decision = "funded"
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Result of the evaluation" in page
    assert "12.5" in page


def test_staff_do_not_get_the_applicants_result_block(client, login_as, db):
    setup = evaluation_call(applications=1)
    application = setup["applications"][0]
    db.session.add(
        EvaluationResult(
            call_id=setup["call"].id,
            application_id=application.id,
            average=Decimal("12.50"),
            scorers=3,
            passed=True,
            rank=1,
            proposal="funded",
            decision="funded",
        )
    )
    db.session.commit()
    login_as(setup["coordinator"])
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Result of the evaluation" not in page  # the coordinator has the results page instead


# --- annexes during a clarification ----------------------------------------------------------------


def test_a_missing_annex_can_be_added_during_the_clarification_but_submitted_files_stay(checked):
    from portal.applications import attachments
    from tests.factories import sample_pdf

    application, applicant = checked["application"], checked["applicant"]
    from portal.applications.models import Attachment
    from portal.core.storage import save_file

    stored = save_file(sample_pdf(), filename="budzets.pdf", content_type="application/pdf")
    submitted = Attachment(application=application, file_id=stored.id, kind="other", created_at=utcnow())
    db.session.add(submitted)
    db.session.flush()
    before_request = attachments.can_manage_attachments(applicant, application)
    _request(checked)
    added = attachments.add_attachment(application, sample_pdf(b"x"), "pielikums.pdf", "other", applicant)
    db.session.flush()

    assert before_request is False
    assert attachments.can_remove_attachment(applicant, application, added)
    assert not attachments.can_remove_attachment(applicant, application, submitted)
    with pytest.raises(WorkflowError):
        attachments.remove_attachment(application, submitted, applicant)
    attachments.remove_attachment(application, added, applicant)
    assert [a.id for a in application.attachments] == [submitted.id]
