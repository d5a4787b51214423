"""The public register of funded projects (issue 6): the list with its filters and pages, and each
project's page (summary, plan, planned participants with small counts suppressed, achieved later)."""

from __future__ import annotations

import pytest

from portal.applications.workflow import ApplicationStatus
from portal.core import paging
from portal.extensions import db as _db
from tests.helpers import Page, browser_client
from tests.public.support import SECRETS, results_call

LIGHT = {"with_rejected": False, "scores": ([3, 3, 3], [2, 2, 2])}  # two funded projects, nothing else


@pytest.fixture()
def client(app, db):
    return browser_client(app)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def published(db):
    return results_call("ALFA")


def test_the_register_lists_funded_projects_of_published_calls_only(client, published):
    decided = results_call("BETA", publish=False, muni_code="0044000", **LIGHT)
    response = client.get("/projects/")
    assert response.status_code == 200
    html = text(response)
    page = Page(html)
    for application in published.funded:
        assert page.find("a", href=f"/projects/{application.id}")
        assert application.organisation.name in html
    for application in published.reserve + published.not_funded + published.rejected + decided.applications:
        assert application.title not in html
    assert "2 funded projects found." in html
    for secret in SECRETS:
        assert secret not in html


def test_the_register_filters_by_municipality_round_and_status(client, published):
    other = results_call("GAMMA", muni_code="0044000", **LIGHT)
    html = text(client.get("/projects/?municipality=0044000"))
    assert "Projekts GAMMA" in html and "Projekts ALFA" not in html
    html = text(client.get(f"/projects/?round={published.call.round.number}"))
    assert "Projekts ALFA" in html and "Projekts GAMMA" not in html
    other.funded[0].status = ApplicationStatus.CONTRACT_SIGNED
    _db.session.flush()
    html = text(client.get("/projects/?status=contract_signed"))
    assert other.funded[0].title in html
    assert other.funded[1].title not in html and "Projekts ALFA" not in html
    # A status outside the register (e.g. the reserve list) is not a filter: everything funded shows.
    html = text(client.get("/projects/?status=reserve"))
    assert "Projekts ALFA" in html and published.reserve[0].title not in html
    programme = published.call.programme.code
    html = text(client.get(f"/projects/?programme={programme}"))
    assert "Projekts ALFA" in html and "Projekts GAMMA" in html


def test_the_register_has_pages(client, published, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 1)
    first, second = text(client.get("/projects/")), text(client.get("/projects/?page=2"))
    titles = [a.title for a in published.funded]
    assert sum(t in first for t in titles) == 1 and sum(t in second for t in titles) == 1
    assert Page(first).find("a", rel="next") and Page(second).find("a", rel="prev")
    assert client.get("/projects/?page=3").status_code == 404
    assert client.get("/projects/?page=abc").status_code == 200  # read as the first page


def test_a_project_page_shows_its_summary_plan_and_suppressed_small_counts(client, published):
    application = published.funded[0]
    response = client.get(f"/projects/{application.id}")
    assert response.status_code == 200
    html = text(response)
    page = Page(html)
    assert page.find("h1")[0].text.strip() == application.title
    for value in (application.organisation.name, "Aizkraukles novads", "Konkurss ALFA", "€4,600.00"):
        assert value in html
    assert application.goal in html and application.results in html
    assert page.find("a", href=f"/results/{published.call.id}")
    plan = {dt.text.strip(): dd for dt, dd in zip(page.find("dt"), page.find("dd"), strict=False)}
    assert plan["Planned participants"].text.strip() == "40"
    # 4 participants at risk: a small group is shown as "<5", and its share is not given away.
    assert plan["Of them at risk of early school leaving"].text.strip() == "<5"
    assert "&lt;5" in html
    assert plan["Share at risk of early school leaving"].text.strip() == "not shown"
    assert "once the municipality has approved its final report" in html
    for secret in SECRETS:
        assert secret not in html


def test_a_project_with_more_participants_at_risk_shows_the_count_and_share(client, published):
    application = published.funded[0]
    application.participants_risk = 12
    _db.session.flush()
    page = Page(text(client.get(f"/projects/{application.id}")))
    plan = {
        dt.text.strip(): dd.text.strip() for dt, dd in zip(page.find("dt"), page.find("dd"), strict=False)
    }
    assert plan["Of them at risk of early school leaving"] == "12"
    assert plan["Share at risk of early school leaving"] == "30%"


def test_no_project_page_for_what_is_not_a_published_funded_project(client, published):
    for application in published.reserve + published.not_funded + published.rejected:
        assert client.get(f"/projects/{application.id}").status_code == 404
    assert client.get("/projects/999999").status_code == 404
    published.call.status = "decided"  # as if it had never been published
    _db.session.flush()
    assert client.get(f"/projects/{published.funded[0].id}").status_code == 404
