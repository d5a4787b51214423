"""The application form through HTTP: steps, drafts with empty fields, errors that keep the input,
conflicts, mass assignment, submission at the deadline, the confirmation and its e-mail."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
import time_machine

from portal.applications.models import Application
from portal.applications.workflow import ApplicationStatus
from portal.core.timeutil import riga_instant
from portal.extensions import db as _db
from tests.applications.support import (
    STEP_DATA,
    STEP_SLUGS,
    csrf_for,
    empty_data,
    fill_everything,
    page_tokens,
    post_step,
    reload,
)
from tests.factories import OrganisationFactory, applicant, draft_application, open_call
from tests.helpers import Page, browser_client, csrf_token, log_in


@pytest.fixture()
def draft(db, login_as):
    application, user = draft_application()
    login_as(user)
    return application, user


@pytest.fixture()
def complete(db, login_as):
    application, user = draft_application(complete=True)
    login_as(user)
    return application, user


def _text(response) -> str:
    return response.get_data(as_text=True)


def _submit(client, application, **extra):
    csrf, lock = page_tokens(client, f"/applications/{application.id}/edit/review")
    data = {"csrf_token": csrf, "lock_version": lock, **STEP_DATA["review"], **extra}
    return client.post(f"/applications/{application.id}/submit", data=data)


# --- the steps ------------------------------------------------------------------------------------


def test_every_step_has_a_progress_indicator_and_one_h1(client, draft):
    application, _ = draft
    for step in STEP_SLUGS:
        response = client.get(f"/applications/{application.id}/edit/{step}")
        assert response.status_code == 200, step
        page = Page(_text(response))
        assert len(page.find("h1")) == 1
        current = page.find("a", aria_current="step")
        assert len(current) == 1 and current[0].get("href").endswith(f"/edit/{step}")
        assert current[0].parents().__next__().parent.tag == "ol"
        assert page.find("input", name="lock_version")
        assert page.by_id("autosave-status").get("aria-live") == "polite"


def test_unknown_step_is_404(client, draft):
    application, _ = draft
    assert client.get(f"/applications/{application.id}/edit/nowhere").status_code == 404


@pytest.mark.parametrize("step", STEP_SLUGS)
def test_every_step_saves_with_every_field_empty(client, complete, step):
    application, _ = complete
    response = post_step(client, application.id, step, empty_data(step))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/edit/{step}")
    saved = reload(application)
    for name in STEP_DATA[step]:
        if name.startswith("budget_"):
            assert saved.budget_total == Decimal("0.00")
        elif name.startswith("risk_"):
            assert not any(saved.risk_by_category.values())
        elif name.startswith("activities-"):
            assert saved.activities == []
        elif name.startswith("declaration_"):
            assert getattr(saved, name) is False
        else:
            assert getattr(saved, name) is None, name


def test_typing_every_step_fills_an_application_that_passes_every_rule(client, draft):
    from portal.applications.rules import submission_problems

    application, _ = draft
    fill_everything(client, application.id)
    saved = reload(application)
    assert submission_problems(saved) == []
    assert saved.start_date == date(2026, 3, 1) and saved.end_date == date(2026, 11, 30)
    assert saved.risk_by_category == {"learning": 3, "social": None, "economic": None, "family": 2}
    assert saved.budget_total == Decimal("4600.00")
    assert [a.activity for a in saved.activities] == ["Darbnīcas"]


def test_save_and_continue_goes_to_the_next_step_and_back_to_the_previous(client, draft):
    application, _ = draft
    response = post_step(client, application.id, "plan", STEP_DATA["plan"], action="next")
    assert response.headers["Location"].endswith("/edit/target-group")
    response = post_step(client, application.id, "plan", STEP_DATA["plan"], action="back")
    assert response.headers["Location"].endswith("/edit/project")


def test_typed_values_survive_errors_and_the_rest_is_saved(client, draft):
    application, _ = draft
    data = {
        "title": "Mans projekts",
        "start_date": "31.02.2026",
        "end_date": "not a date",
        "places": "Aizkraukle",
    }
    response = post_step(client, application.id, "project", data)
    assert response.status_code == 200
    page = Page(_text(response))
    assert page.by_id("start_date").get("value") == "31.02.2026"
    assert page.by_id("start_date").get("aria-invalid") == "true"
    assert "start_date-error" in page.by_id("start_date").get("aria-describedby")
    assert page.by_id("end_date").get("value") == "not a date"
    summary = page.by_id("error-summary")
    assert summary is not None
    assert {a.get("href") for a in page.find("a") if a.inside("error-summary")} >= {
        "#start_date",
        "#end_date",
    }
    saved = reload(application)
    assert saved.title == "Mans projekts" and saved.places == "Aizkraukle"
    assert saved.start_date is None
    # The form carries the new version: saving again is not a conflict.
    assert page.find("input", name="lock_version")[0].get("value") == str(saved.lock_version)


def test_an_end_before_the_start_is_refused_but_kept_in_the_form(client, draft):
    application, _ = draft
    data = {"title": "", "start_date": "2026-05-01", "end_date": "2026-04-01", "places": ""}
    response = post_step(client, application.id, "project", data)
    assert response.status_code == 200
    assert Page(_text(response)).by_id("end_date").get("value") == "2026-04-01"
    saved = reload(application)
    assert saved.start_date == date(2026, 5, 1) and saved.end_date is None


def test_more_at_risk_than_participants_is_a_field_error(client, draft):
    application, _ = draft
    data = {**STEP_DATA["target-group"], "participants_total": "10", "participants_risk": "11"}
    response = post_step(client, application.id, "target-group", data)
    assert response.status_code == 200
    assert Page(_text(response)).by_id("participants_risk").get("aria-invalid") == "true"
    saved = reload(application)
    assert saved.participants_total == 10 and saved.participants_risk is None


@pytest.mark.parametrize("value", ["-3", "abc", "1.5", "12345678901", "٣"])
def test_a_count_that_is_not_a_whole_number_is_a_field_error(client, draft, value):
    application, _ = draft
    response = post_step(
        client, application.id, "target-group", {**STEP_DATA["target-group"], "participants_total": value}
    )
    assert response.status_code == 200
    assert Page(_text(response)).by_id("participants_total").get("value") == value
    assert reload(application).participants_total is None


@pytest.fixture()
def latvian_draft(db, login_as):
    org = OrganisationFactory()
    application, user = draft_application(organisation=org, user=applicant(org, locale="lv"))
    login_as(user)
    return application, user


def test_the_risk_share_is_shown_with_the_programme_minimum(client, latvian_draft):
    application, _ = latvian_draft
    post_step(
        client,
        application.id,
        "target-group",
        {**STEP_DATA["target-group"], "participants_risk": "3", "participants_total": "31"},
    )
    page = Page(_text(client.get(f"/applications/{application.id}/edit/target-group")))
    assert page.by_id("risk-share").text.strip() == "9,67 %"
    assert "10 %" in page.by_id("risk-share-panel").text
    assert page.by_id("risk-share-verdict").text.strip()


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("1 500,50", Decimal("1500.50")),
        ("1500.50", Decimal("1500.50")),
        ("1\u00a0500,5", Decimal("1500.50")),
        ("4 600,00 €", Decimal("4600.00")),
        ("1.500,50", Decimal("1500.50")),
        ("1,500.50", Decimal("1500.50")),
        ("", Decimal("0.00")),
    ],
)
def test_amounts_are_read_the_latvian_and_the_english_way(client, draft, typed, stored):
    application, _ = draft
    response = post_step(client, application.id, "budget", {**STEP_DATA["budget"], "budget_trainers": typed})
    assert response.status_code == 302
    lines = {line.category: line.amount for line in reload(application).budget_lines}
    assert lines["trainers"] == stored


@pytest.mark.parametrize("typed", ["-100", "abc", "1e3", "1,500", "1.500", "12,345", "10000000"])
def test_a_negative_or_unreadable_amount_is_a_field_error(client, draft, typed):
    application, _ = draft
    response = post_step(client, application.id, "budget", {**STEP_DATA["budget"], "budget_trainers": typed})
    assert response.status_code == 200
    page = Page(_text(response))
    assert page.by_id("budget_trainers").get("value") == typed
    assert page.by_id("budget_trainers").get("aria-invalid") == "true"
    lines = {line.category: line.amount for line in reload(application).budget_lines}
    assert lines["trainers"] == Decimal("0.00")
    assert lines["catering"] == Decimal("900.00")  # the rest was saved


def test_the_budget_step_shows_the_total_against_the_programme_amount(client, latvian_draft):
    application, _ = latvian_draft
    post_step(client, application.id, "budget", {**STEP_DATA["budget"], "budget_trainers": "1 499,99"})
    page = Page(_text(client.get(f"/applications/{application.id}/edit/budget")))
    norm = lambda s: " ".join(s.replace("\u00a0", " ").split())  # noqa: E731
    assert norm(page.by_id("budget-total").text) == "4 599,99 €"
    assert "4 600,00 €" in norm(page.by_id("budget-summary").text)
    assert "0,01 €" in norm(page.by_id("budget-difference").text)


def test_activity_rows_are_added_and_removed_without_script(client, draft):
    application, _ = draft
    response = post_step(client, application.id, "activities", STEP_DATA["activities"], action="add_row")
    assert response.status_code == 302 and "add_row=1" in response.headers["Location"]
    page = Page(_text(client.get(response.headers["Location"])))
    assert page.by_id("activities-1-activity") is not None
    data = {
        **STEP_DATA["activities"],
        "activities-1-activity": "Pārgājiens",
        "activities-1-method": "",
        "activities-1-months": "5",
        "activities-1-participants": "12",
        "activities-1-responsible": "",
    }
    assert post_step(client, application.id, "activities", data).status_code == 302
    assert [a.activity for a in reload(application).activities] == ["Darbnīcas", "Pārgājiens"]
    csrf, lock = page_tokens(client, f"/applications/{application.id}/edit/activities")
    response = client.post(
        f"/applications/{application.id}/edit/activities",
        data={"csrf_token": csrf, "lock_version": lock, **data, "remove_row": "0"},
    )
    assert response.status_code == 302
    assert [(a.activity, a.participants) for a in reload(application).activities] == [("Pārgājiens", 12)]


def test_a_crafted_row_number_is_ignored(client, draft):
    application, _ = draft
    data = {**STEP_DATA["activities"], "activities-²-activity": "x", "activities-99999999999-activity": "y"}
    response = post_step(client, application.id, "activities", data)
    assert response.status_code == 302
    assert [a.activity for a in reload(application).activities] == ["Darbnīcas"]


def test_a_personal_code_is_refused_with_guidance(client, draft):
    application, _ = draft
    response = post_step(
        client, application.id, "plan", {**STEP_DATA["plan"], "problem": "Jānis, 010101-12345"}
    )
    assert response.status_code == 200
    assert "personal" in _text(response)
    assert reload(application).problem is None


# --- optimistic locking ---------------------------------------------------------------------------


def test_two_clients_with_the_same_version_the_second_gets_409_and_the_first_is_kept(app, client, draft):
    application, user = draft
    other_member = applicant(application.organisation)
    other = browser_client(app)
    log_in(other, other_member)
    path = f"/applications/{application.id}/edit/project"
    csrf_1, lock_1 = page_tokens(client, path)
    csrf_2, lock_2 = page_tokens(other, path)
    assert lock_1 == lock_2
    first = client.post(
        path,
        data={
            "csrf_token": csrf_1,
            "lock_version": lock_1,
            "action": "save",
            **STEP_DATA["project"],
            "title": "Pirmais",
        },
    )
    assert first.status_code == 302
    second = other.post(
        path,
        data={
            "csrf_token": csrf_2,
            "lock_version": lock_2,
            "action": "save",
            **STEP_DATA["project"],
            "title": "Otrais",
        },
    )
    assert second.status_code == 409
    page = Page(_text(second))
    assert page.by_id("title").get("value") == "Otrais"  # the input is kept
    assert "Pirmais" in page.by_id("error-summary").text  # and what changed is listed
    reload_links = [
        a for a in page.find("a") if a.inside("error-summary") and a.get("href", "").endswith(path)
    ]
    assert reload_links
    assert reload(application).title == "Pirmais"
    # The re-shown form carries the current version: saving again is an informed overwrite.
    again = other.post(
        path,
        data={
            "csrf_token": csrf_2,
            "lock_version": page.find("input", name="lock_version")[0].get("value"),
            "action": "save",
            **STEP_DATA["project"],
            "title": "Otrais",
        },
    )
    assert again.status_code == 302
    assert reload(application).title == "Otrais"


@pytest.mark.parametrize("lock", ["", "abc", "-1", "0", "99999", "1.0", "1e3"])
def test_a_wrong_or_garbled_lock_version_is_a_conflict(client, draft, lock):
    application, _ = draft
    response = post_step(client, application.id, "project", STEP_DATA["project"], lock=lock)
    assert response.status_code == 409
    assert reload(application).title is None


def test_posted_fields_outside_the_form_are_ignored(client, draft):
    application, _ = draft
    other_call = open_call(title="Cits konkurss")
    other_org = OrganisationFactory()
    before = {
        c: getattr(application, c)
        for c in ("status", "organisation_id", "call_id", "submitted_at", "created_by_id")
    }
    data = {
        **STEP_DATA["project"],
        "status": "funded",
        "organisation_id": str(other_org.id),
        "call_id": str(other_call.id),
        "submitted_at": "2020-01-01T00:00:00",
        "created_by_id": "1",
        "id": "999",
        "declaration_truth": "y",  # not a field of this step
    }
    assert post_step(client, application.id, "project", data).status_code == 302
    saved = reload(application)
    assert {c: getattr(saved, c) for c in before} == before
    assert saved.declaration_truth is False
    assert saved.title == STEP_DATA["project"]["title"]


# --- submission -----------------------------------------------------------------------------------


def test_the_review_page_lists_what_is_still_missing_with_links(client, draft):
    application, _ = draft
    page = Page(_text(client.get(f"/applications/{application.id}/edit/review")))
    hrefs = {a.get("href") for a in page.find("a")}
    assert f"/applications/{application.id}/edit/project#title" in hrefs
    assert f"/applications/{application.id}/edit/budget#budget_trainers" in hrefs
    assert f"/applications/{application.id}/edit/activities#activities-0-activity" in hrefs


def test_a_refused_submission_lists_every_problem_linked_to_its_step_and_field(client, draft):
    application, _ = draft
    response = _submit(client, application)
    assert response.status_code == 200
    page = Page(_text(response))
    summary = page.by_id("error-summary")
    assert summary is not None and summary.get("role") == "alert"
    links = {a.get("href") for a in page.find("a") if a.inside("error-summary")}
    assert f"/applications/{application.id}/edit/project#start_date" in links
    assert f"/applications/{application.id}/edit/target-group#participants_total" in links
    assert f"/applications/{application.id}/edit/plan#plan_link" in links
    assert reload(application).status == ApplicationStatus.DRAFT
    # The declarations ticked on the refused attempt are kept.
    assert reload(application).declaration_truth is True


@pytest.mark.parametrize("trainers, accepted", [("1 499,99", False), ("1 500,01", False), ("1 500,00", True)])
def test_the_budget_must_add_up_to_exactly_the_programme_amount(client, complete, trainers, accepted):
    application, _ = complete
    post_step(client, application.id, "budget", {**STEP_DATA["budget"], "budget_trainers": trainers})
    response = _submit(client, application)
    assert (response.status_code == 302) is accepted
    if not accepted:
        assert f"/applications/{application.id}/edit/budget#budget_trainers" in _text(response)
        assert reload(application).status == ApplicationStatus.DRAFT


def test_the_whole_amount_typed_in_one_line_the_latvian_way_is_accepted(client, complete):
    application, _ = complete
    one_line = {name: "" for name in STEP_DATA["budget"]} | {"budget_coordination": "4 600,00"}
    assert post_step(client, application.id, "budget", one_line).status_code == 302
    assert _submit(client, application).status_code == 302


def test_submission_freezes_the_application_and_emails_the_pdf(client, complete, outbox):
    application, user = complete
    response = _submit(client, application)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{application.id}/submitted")
    saved = reload(application)
    assert saved.status == ApplicationStatus.SUBMITTED
    [version] = saved.versions
    page = _text(client.get(response.headers["Location"]))
    assert version.pdf_sha256 in page
    assert f"/applications/{application.id}/versions/1.pdf" in page
    [message] = [m for m in outbox if user.email in m.recipients]
    [attachment] = message.attachments
    assert attachment.content_type == "application/pdf"
    assert attachment.data.startswith(b"%PDF")
    assert version.pdf_sha256 in message.body


def test_the_pdf_download_is_an_attachment_that_cannot_run(client, complete):
    application, _ = complete
    assert _submit(client, application).status_code == 302
    response = client.get(f"/applications/{application.id}/versions/1.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''pieteikums-" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get(f"/applications/{application.id}/versions/2.pdf").status_code == 404


def test_a_submitted_application_cannot_be_edited(client, complete):
    application, _ = complete
    path = f"/applications/{application.id}/edit/project"
    csrf, lock = page_tokens(client, path)
    assert _submit(client, application).status_code == 302
    frozen = reload(application)
    title, version = frozen.title, frozen.lock_version
    response = client.post(
        path,
        data={
            "csrf_token": csrf,
            "lock_version": str(version),
            "action": "save",
            **STEP_DATA["project"],
            "title": "Changed",
        },
    )
    assert response.status_code == 409
    response = client.post(
        f"/applications/{application.id}/autosave",
        json={"lock_version": version, "step": "project", "values": {"title": "Changed"}},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 409
    response = client.post(
        f"/applications/{application.id}/submit",
        data={"csrf_token": csrf, "lock_version": str(version), **STEP_DATA["review"]},
    )
    assert response.status_code == 409
    assert client.get(path).status_code == 302  # to the application's page
    after = reload(application)
    assert (after.title, after.lock_version, len(after.versions)) == (title, version, 1)


# --- the deadline (QUALITY H4): the server's clock in Europe/Riga, DST days included --------------


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 3, 31), date(2026, 10, 25)])
@pytest.mark.parametrize("second, accepted", [(time(23, 59, 59), True), (None, False)])
def test_submission_at_the_deadline(app, db, day, second, accepted):
    application, user = draft_application(complete=True)
    call = application.call
    call.opens_at = riga_instant(date(2026, 1, 1), time(0, 0))
    call.closes_at = riga_instant(day)  # 23:59:59 Riga
    _db.session.flush()
    moment = call.closes_at if accepted else riga_instant(day + timedelta(days=1), time(0, 0, 0))
    assert moment - call.closes_at in (timedelta(0), timedelta(seconds=1))
    with time_machine.travel(moment, tick=False):
        client = browser_client(app)
        log_in(client, user)
        # A client-sent time is never read.
        response = _submit(client, application, submitted_at="2026-01-01T00:00:00", now="2026-01-01T00:00:00")
    saved = reload(application)
    if accepted:
        assert response.status_code == 302
        assert saved.status == ApplicationStatus.SUBMITTED
        assert saved.submitted_at == moment
    else:
        assert response.status_code == 200
        assert saved.status == ApplicationStatus.DRAFT and saved.submitted_at is None
        assert "deadline" in _text(response)


# --- view, withdraw, dashboard, start -------------------------------------------------------------


def test_the_application_page_shows_status_next_step_and_versions(client, complete):
    application, _ = complete
    page = _text(client.get(f"/applications/{application.id}"))
    assert "Continue the application" in page or "Turpināt" in page
    assert _submit(client, application).status_code == 302
    page = Page(_text(client.get(f"/applications/{application.id}")))
    assert any(a.get("href") == f"/applications/{application.id}/versions/1.pdf" for a in page.find("a"))
    assert page.find("form", action=f"/applications/{application.id}/withdraw")


def test_withdraw_with_a_reason(client, complete):
    application, _ = complete
    csrf = csrf_for(client, f"/applications/{application.id}/edit/project")
    response = client.post(
        f"/applications/{application.id}/withdraw", data={"csrf_token": csrf, "reason": "Vairs nevaram"}
    )
    assert response.status_code == 302
    saved = reload(application)
    assert saved.status == ApplicationStatus.WITHDRAWN and saved.withdrawn_at is not None
    again = client.post(f"/applications/{application.id}/withdraw", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_the_dashboard_lists_every_application_with_status_and_next_step(client, complete):
    application, user = complete
    response = client.get("/applications/")
    assert response.status_code == 200
    page = Page(_text(response))
    assert len(page.find("h1")) == 1
    rows = [e for e in page.find("tr") if e.inside("table-wrap")]
    assert len(rows) == 2  # the header and the application
    assert application.title in rows[1].text
    assert "badge-draft" in _text(response)
    assert any(a.get("href") == f"/applications/{application.id}/edit/applicant" for a in page.find("a"))


def test_start_with_one_organisation_creates_a_draft(client, db, login_as):
    call = open_call()
    org = OrganisationFactory()
    user = applicant(org)
    login_as(user)
    page = _text(client.get(f"/applications/start/{call.id}"))
    assert org.name in page and 'type="radio"' not in page
    csrf = csrf_token(client, f"/applications/start/{call.id}")
    response = client.post(
        f"/applications/start/{call.id}", data={"csrf_token": csrf, "organisation": str(org.id)}
    )
    assert response.status_code == 302
    application = _db.session.scalar(sa.select(Application).where(Application.organisation_id == org.id))
    assert response.headers["Location"].endswith(f"/applications/{application.id}/edit/applicant")
    # A second one for the same organisation is refused (one per organisation per call).
    response = client.post(
        f"/applications/start/{call.id}", data={"csrf_token": csrf, "organisation": str(org.id)}
    )
    assert response.status_code == 200
    assert (
        _db.session.scalar(
            sa.select(sa.func.count()).select_from(Application).where(Application.organisation_id == org.id)
        )
        == 1
    )


def test_start_with_several_organisations_offers_only_the_users_own(client, db, login_as):
    from portal.core.enums import Role
    from tests.factories import membership

    call = open_call()
    first, second, stranger = OrganisationFactory(), OrganisationFactory(), OrganisationFactory()
    user = applicant(first)
    membership(user, Role.APPLICANT, organisation=second)
    login_as(user)
    page = Page(_text(client.get(f"/applications/start/{call.id}")))
    assert {i.get("value") for i in page.find("input", type="radio")} == {str(first.id), str(second.id)}
    csrf = csrf_token(client, f"/applications/start/{call.id}")
    response = client.post(
        f"/applications/start/{call.id}", data={"csrf_token": csrf, "organisation": str(stranger.id)}
    )
    assert response.status_code == 200
    assert not _db.session.scalar(
        sa.select(sa.func.count()).select_from(Application).where(Application.call_id == call.id)
    )
    response = client.post(
        f"/applications/start/{call.id}", data={"csrf_token": csrf, "organisation": str(second.id)}
    )
    assert response.status_code == 302


def test_start_without_an_organisation_links_to_registering_one(client, db, login_as):
    from tests.factories import UserFactory

    call = open_call()
    user = UserFactory()
    login_as(user)
    response = client.get(f"/applications/start/{call.id}")
    assert response.status_code == 200
    assert "/organisations/new" in _text(response)


def test_start_for_a_draft_call_is_404(client, db, login_as):
    from portal.calls.workflow import CallStatus

    call = open_call()
    call.status = CallStatus.DRAFT
    call.published_at = None
    _db.session.flush()
    login_as(applicant())
    assert client.get(f"/applications/start/{call.id}").status_code == 404


def test_pages_need_a_login(client, db):
    application, _ = draft_application()
    for path in (
        f"/applications/{application.id}",
        f"/applications/{application.id}/edit/project",
        "/applications/",
        f"/applications/start/{application.call_id}",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_pages_are_in_the_users_language(client, latvian_draft):
    application, _ = latvian_draft
    page = _text(client.get(f"/applications/{application.id}/edit/project"))
    assert '<html lang="lv">' in page


def test_the_budget_total_in_english(client, draft):
    application, _ = draft
    post_step(client, application.id, "budget", STEP_DATA["budget"])
    page = Page(_text(client.get(f"/applications/{application.id}/edit/budget")))
    assert page.by_id("budget-total").text.strip() == "€4,600.00"
    assert "must add up to exactly €4,600.00" in page.by_id("budget-summary").text
