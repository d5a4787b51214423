"""The check pages through HTTP: who may open them (everyone else: 404), the pre-filled suggestions,
errors next to their fields with the input kept, admit / reject / ask for a clarification."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.applications.workflow import ApplicationStatus
from portal.core.mail import OutboxMessage
from portal.evaluation import queries
from portal.evaluation.models import Clarification
from portal.evaluation.services import checks
from portal.extensions import db
from tests.factories import (
    close_call,
    committee,
    coordinator,
    municipality,
    open_call,
    submitted_application,
)
from tests.helpers import Page, browser_client, csrf_token, log_in


@pytest.fixture()
def closed(db):
    muni = municipality()
    call = open_call(muni)
    application, user = submitted_application(call)
    late, _ = submitted_application(call)
    close_call(call)
    board = committee(call)
    db.session.commit()
    return {
        "call": call,
        "application": application,
        "other": late,
        "applicant": user,
        "coordinator": coordinator(muni),
        "committee": board,
    }


def _urls(closed) -> list[str]:
    app_id = closed["application"].id
    return [
        f"/evaluation/calls/{closed['call'].id}/checks",
        f"/evaluation/applications/{app_id}/check",
        f"/evaluation/applications/{app_id}/reject",
        f"/evaluation/applications/{app_id}/clarification",
    ]


def _criteria(closed):
    return checks.check_criteria(closed["call"])


def _form_data(closed, *, overrides=None) -> dict:
    """Every criterion answered "yes", then the overrides ({code: ("no", reason)})."""
    data = {}
    for c in _criteria(closed):
        answer, reason = (overrides or {}).get(c.code, ("yes", ""))
        data[f"passed_{c.id}"] = answer
        data[f"reason_{c.id}"] = reason
    return data


# --- who may open the pages ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "secretary"])
def test_the_coordinator_and_the_secretary_check(client, login_as, closed, who):
    user = closed["coordinator"] if who == "coordinator" else closed["committee"]["secretary"].user
    login_as(user)
    for url in _urls(closed):
        assert client.get(url).status_code == 200, url
    listing = client.get(_urls(closed)[0]).get_data(as_text=True)
    assert closed["application"].title in listing and "Not started" in listing


@pytest.mark.parametrize("who", ["voting_member", "other_coordinator", "applicant"])
def test_everyone_else_gets_404(app, closed, who):
    user = {
        "voting_member": lambda: closed["committee"]["members"][1].user,
        "other_coordinator": lambda: coordinator(municipality("0044000")),
        "applicant": lambda: closed["applicant"],
    }[who]()
    db.session.commit()
    client = browser_client(app)
    log_in(client, user)
    for url in _urls(closed):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/")
    app_id = closed["application"].id
    for url in (f"/evaluation/applications/{app_id}/admit", f"/evaluation/applications/{app_id}/check"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert closed["application"].status == ApplicationStatus.SUBMITTED
    assert queries.eligibility_answers(app_id) == {}


def test_the_checks_stay_sealed_while_the_call_is_open(client, login_as, db):
    muni = municipality()
    call = open_call(muni)
    submitted_application(call)
    user = coordinator(muni)
    db.session.commit()
    login_as(user)
    assert client.get(f"/evaluation/calls/{call.id}/checks").status_code == 404


# --- the check form --------------------------------------------------------------------------------


def test_the_form_is_prefilled_with_the_portals_suggestions_and_marks_them(client, login_as, closed):
    login_as(closed["coordinator"])
    html = client.get(f"/evaluation/applications/{closed['application'].id}/check").get_data(as_text=True)
    page = Page(html)
    on_time = next(c for c in _criteria(closed) if c.code == "on_time")
    complete = next(c for c in _criteria(closed) if c.code == "complete")
    yes = page.find("input", name=f"passed_{on_time.id}", value="yes")[0]
    assert "checked" in yes.attrs
    assert not any("checked" in e.attrs for e in page.find("input", name=f"passed_{complete.id}"))
    hint = page.by_id(f"passed_{on_time.id}-hint")
    assert "Suggested by the portal" in hint.text
    assert "cannot decide" in page.by_id(f"passed_{complete.id}-hint").text
    assert f"/applications/{closed['application'].id}/versions/1.pdf" in html or "Version 1" in html
    assert "Admit to scoring" not in html  # nothing saved yet


def test_a_no_without_reason_is_refused_next_to_its_field_and_the_input_is_kept(client, login_as, closed):
    login_as(closed["coordinator"])
    url = f"/evaluation/applications/{closed['application'].id}/check"
    data = _form_data(closed, overrides={"signed": ("no", ""), "complete": ("no", "Trūkst pielikuma")})
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    signed = next(c for c in _criteria(closed) if c.code == "signed")
    complete = next(c for c in _criteria(closed) if c.code == "complete")
    assert page.by_id(f"reason_{signed.id}-error") is not None
    assert page.find("a", href=f"#reason_{signed.id}")  # the summary links to it
    assert "Trūkst pielikuma" in page.by_id(f"reason_{complete.id}").text  # typed text kept
    assert "checked" in page.find("input", name=f"passed_{signed.id}", value="no")[0].attrs
    assert queries.eligibility_answers(closed["application"].id) == {}


def test_save_then_admit_to_scoring(client, login_as, closed):
    login_as(closed["coordinator"])
    application = closed["application"]
    url = f"/evaluation/applications/{application.id}/check"
    response = client.post(url, data={**_form_data(closed), "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert len(queries.eligibility_answers(application.id)) == len(_criteria(closed))
    html = client.get(url).get_data(as_text=True)
    assert "Admit to scoring" in html
    listing = client.get(f"/evaluation/calls/{closed['call'].id}/checks").get_data(as_text=True)
    assert "All criteria met" in listing
    response = client.post(
        f"/evaluation/applications/{application.id}/admit", data={"csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.status == ApplicationStatus.ADMISSIBLE


def test_admit_with_an_unanswered_criterion_is_refused_with_a_message(client, login_as, closed):
    login_as(closed["coordinator"])
    application = closed["application"]
    url = f"/evaluation/applications/{application.id}/check"
    response = client.post(
        f"/evaluation/applications/{application.id}/admit", data={"csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 302
    assert "Answer every criterion" in client.get(url).get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == ApplicationStatus.SUBMITTED


def test_reject_prefills_the_failed_reasons_and_emails_the_applicant(client, login_as, closed):
    login_as(closed["coordinator"])
    application = closed["application"]
    url = f"/evaluation/applications/{application.id}/check"
    data = _form_data(closed, overrides={"amount": ("no", "Summa 4000 EUR, nevis 4600 EUR")})
    client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    check_page = client.get(url).get_data(as_text=True)
    assert "1 criterion is not met" in check_page
    assert f"/evaluation/applications/{application.id}/reject" in check_page
    assert f"/evaluation/applications/{application.id}/clarification" in check_page

    reject_url = f"/evaluation/applications/{application.id}/reject"
    form = Page(client.get(reject_url).get_data(as_text=True))
    assert "Summa 4000 EUR, nevis 4600 EUR" in form.by_id("reason").text
    response = client.post(reject_url, data={"csrf_token": csrf_token(client, reject_url), "reason": ""})
    assert response.status_code == 200 and 'id="reason-error"' in response.get_data(as_text=True)
    response = client.post(
        reject_url, data={"csrf_token": csrf_token(client, reject_url), "reason": "Summa neatbilst."}
    )
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.status == ApplicationStatus.REJECTED
    mail = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.template == "application_rejected",
            OutboxMessage.recipient == closed["applicant"].email,
        )
    ).one()
    assert "Summa neatbilst." in mail.body_text


def test_request_a_clarification_once_and_see_its_due_date(client, login_as, closed):
    login_as(closed["committee"]["secretary"].user)
    application = closed["application"]
    url = f"/evaluation/applications/{application.id}/clarification"
    form = Page(client.get(url).get_data(as_text=True))
    assert form.by_id("working_days").get("value") == "5"
    response = client.post(
        url, data={"csrf_token": csrf_token(client, url), "message": "X", "working_days": "31"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="working_days-error"' in html
    assert "X</textarea>" in html
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "message": "Pievienojiet tāmi.", "working_days": "5"},
    )
    assert response.status_code == 302
    request = checks.clarification_of(application)
    assert request is not None and request.working_days == 5
    page = client.get(url).get_data(as_text=True)
    assert "Pievienojiet tāmi." in page and "Due" in page
    assert request.due_at.year >= 2026
    db.session.refresh(application)
    assert application.status == ApplicationStatus.CLARIFICATION_REQUESTED
    # A second request is not possible.
    client.post(url, data={"csrf_token": csrf_token(client, url), "message": "Vēl", "working_days": "5"})
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Clarification)
        .where(Clarification.application_id == application.id)
    )
    assert count == 1
    listing = client.get(f"/evaluation/calls/{closed['call'].id}/checks").get_data(as_text=True)
    assert "Clarification requested" in listing
