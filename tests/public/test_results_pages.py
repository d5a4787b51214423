"""Public results pages (issue 6): the list of published calls, a call's results, the 404 for every call
whose results are not published, nothing unpublished or personal on any public page, both languages,
query counts that do not grow with the data, and the coordinator's publish/archive buttons."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.calls.workflow import CallStatus
from portal.core import pagecache, paging
from portal.core.audit import AuditEvent
from portal.extensions import db as _db
from tests import factories
from tests.helpers import Page, browser_client, count_queries, csrf_token
from tests.public.support import SECRET_COMMENT, SECRETS, results_call

NBSP = "\xa0"


@pytest.fixture()
def client(app, db):
    """A browser-like client reading English (tests/public/conftest.py's client reads Latvian)."""
    return browser_client(app)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def published(db):
    return results_call("ALFA")


@pytest.fixture()
def decided(db):
    """Decided, with scores and a decision, but the results are not published."""
    return results_call("BETA", publish=False, muni_code="0044000")


def public_urls(published, decided) -> list[str]:
    call = published.call
    urls = [
        "/results/",
        f"/results/?municipality={call.municipality.code}",
        f"/results/{call.id}",
        f"/results/{call.id}/embed",
        f"/results/{call.id}/embed?lang=lv",
        "/results/feed.atom",
        "/projects/",
        "/projects/?status=funded",
        "/statistics",
        f"/results/{decided.call.id}",
        f"/results/{decided.call.id}/embed",
    ]
    urls += [f"/projects/{a.id}" for a in published.applications + decided.applications]
    return urls


# --- what the results page shows ------------------------------------------------------------------


def test_the_results_page_shows_the_decision_funded_projects_reserve_and_counts(client, published):
    call = published.call
    response = client.get(f"/results/{call.id}")
    assert response.status_code == 200
    html = text(response)
    page = Page(html)
    assert page.find("h1")[0].text.strip() == "Konkurss ALFA"
    assert "ALFA/2026" in html  # the decision's number
    funded_table = page.by_id("funded-caption").parent
    for application in published.funded:
        assert application.title in funded_table.text
        assert application.organisation.name in funded_table.text
        assert page.find("a", href=f"/projects/{application.id}")
    assert "€4,600.00" in funded_table.text and "€9,200.00" in funded_table.text  # amount and total
    reserve_table = page.by_id("reserve-caption").parent
    assert published.reserve[0].title in reserve_table.text
    assert published.funded[0].title not in reserve_table.text
    facts = page.by_id("results-facts")
    terms = [e for e in page.find("dt") if e.parent is facts]
    values = [e for e in page.find("dd") if e.parent is facts]
    counts = {dt.text.strip(): dd.text.strip() for dt, dd in zip(terms, values, strict=True)}
    assert counts["Applications received"] == "5"
    assert counts["Funded projects"] == "2"
    assert counts["On the reserve list"] == "1"
    assert counts["Not funded"] == "1"
    assert counts["Rejected in the administrative or eligibility check"] == "1"
    # The titles of applications that were not funded or rejected are not published, only counted.
    assert published.not_funded[0].title not in html
    assert published.rejected[0].title not in html
    # Links to the call page and the feed; the page is printable (no script needed, snippets hidden).
    assert page.find("a", href=f"/calls/{call.id}")
    assert page.find("link", rel="alternate", type="application/atom+xml")
    snippet = page.by_id("embed-code")
    assert snippet.tag == "textarea" and "readonly" in snippet.attrs
    assert page.find("label", for_="embed-code")
    assert f'<iframe src="https://localhost/results/{call.id}/embed?lang=en"' in snippet.text
    assert "no-print" in snippet.parent.classes


def test_the_results_list_shows_published_calls_only(client, published, decided):
    html = text(client.get("/results/"))
    assert "Konkurss ALFA" in html
    assert "Konkurss BETA" not in html
    assert "ALFA/2026" in html and "BETA/2026" not in html
    page = Page(html)
    offered = [
        o.get("value") for o in page.find("option") if o.parent and o.parent.get("name") == "municipality"
    ]
    assert offered == [
        "",
        published.call.municipality.code,
    ]  # the unpublished call's municipality is not offered
    assert page.find("link", rel="alternate", type="application/atom+xml")


@pytest.mark.parametrize(
    "status",
    [CallStatus.DRAFT, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.EVALUATION, CallStatus.DECIDED],
)
def test_results_of_a_call_that_is_not_published_answer_404(client, db, status):
    call = factories.open_call()
    call.status = status
    if status == CallStatus.DRAFT:
        call.published_at = None
    _db.session.flush()
    assert client.get(f"/results/{call.id}").status_code == 404
    assert client.get(f"/results/{call.id}/embed").status_code == 404
    assert client.get("/results/999999").status_code == 404


def test_an_archived_call_stays_public(client, published):
    published.call.status = CallStatus.ARCHIVED
    _db.session.flush()
    assert client.get(f"/results/{published.call.id}").status_code == 200


# --- nothing unpublished, nothing personal ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "lv"])
def test_nothing_unpublished_or_personal_leaks_through_any_public_page(app, published, decided, lang):
    client = browser_client(app, lang=lang)
    hidden = list(SECRETS) + [
        "BETA",  # every title, name and number of the call that is decided but not published
        SECRET_COMMENT,
        published.not_funded[0].title,
        published.rejected[0].title,
        "Neatbilst nolikumam",  # the rejection reason
    ]
    seen_published = False
    for url in public_urls(published, decided):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = text(response)
        for secret in hidden:
            assert secret not in body, f"{secret!r} on {url}"
        seen_published |= published.funded[0].title in body
        if "BETA" in url or any(url == f"/projects/{a.id}" for a in decided.applications):
            assert response.status_code == 404, url
    assert seen_published


def test_applications_that_are_not_funded_have_no_project_page(client, published, decided):
    for application in published.reserve + published.not_funded + published.rejected + decided.applications:
        assert client.get(f"/projects/{application.id}").status_code == 404
    for application in published.funded:
        assert client.get(f"/projects/{application.id}").status_code == 200


# --- filters, pagination, languages, query counts ------------------------------------------------


def test_filters_and_pagination_of_the_results_list(client, published, monkeypatch):
    other = results_call("GAMMA", muni_code="0044000", with_rejected=False, scores=([3, 3, 3], [2, 2, 2]))
    html = text(client.get("/results/?municipality=0044000"))
    assert "Konkurss GAMMA" in html and "Konkurss ALFA" not in html
    html = text(client.get("/results/?municipality=nonsense"))  # an unknown value is ignored
    assert "Konkurss GAMMA" in html and "Konkurss ALFA" in html
    round_number = published.call.round.number
    html = text(client.get(f"/results/?round={round_number}"))
    assert "Konkurss ALFA" in html and "Konkurss GAMMA" not in html
    assert other.call.round.number != round_number

    monkeypatch.setattr(paging, "PAGE_SIZE", 1)
    first, second = text(client.get("/results/")), text(client.get("/results/?page=2"))
    assert ("Konkurss ALFA" in first) != ("Konkurss ALFA" in second)
    assert ("Konkurss GAMMA" in first) != ("Konkurss GAMMA" in second)
    assert Page(first).find("a", rel="next")
    assert client.get("/results/?page=3").status_code == 404


def test_the_pages_speak_latvian(app, published):
    client = browser_client(app, lang="lv")
    for url in (
        "/results/",
        f"/results/{published.call.id}",
        f"/results/{published.call.id}/embed",
        "/projects/",
        f"/projects/{published.funded[0].id}",
        "/statistics",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert Page(text(response)).lang == "lv", url
    assert f"9{NBSP}200,00{NBSP}€" in text(client.get(f"/results/{published.call.id}"))
    # The embed snippet names the page's language, since a third-party frame has no language cookie.
    assert f"/results/{published.call.id}/embed?lang=lv" in text(client.get(f"/results/{published.call.id}"))


def test_list_pages_do_not_run_more_queries_with_more_published_calls(app, db):
    light = {"with_rejected": False, "scores": ([3, 3, 3], [2, 2, 2])}
    for i in range(2):
        results_call(f"Q{i}", **light)
    urls = ("/results/", "/projects/", "/statistics", "/results/feed.atom")

    def counts() -> dict[str, int]:
        client = browser_client(app)
        found = {}
        pagecache.store.clear()  # the rendering is measured, not the page cache
        for url in urls:
            with count_queries(_db.engine) as statements:
                assert client.get(url).status_code == 200
            found[url] = len(statements)
        return found

    before = counts()
    for i in range(2, 6):
        results_call(f"Q{i}", muni_code="0044000" if i % 2 else "0020000", **light)
    after = counts()
    assert after == before


# --- the coordinator publishes and archives (portal/evaluation/views/publication.py) -------------


def _post(client, url: str, referrer: str | None = None):
    token = csrf_token(client, "/")
    headers = {"Referer": referrer} if referrer else {}
    return client.post(url, data={"csrf_token": token}, headers=headers)


def test_the_coordinator_publishes_the_results(client, login_as, decided):
    call = decided.call
    login_as(decided.coordinator)
    assert client.get(f"/results/{call.id}").status_code == 404
    back = f"https://localhost/evaluation/calls/{call.id}/results"
    response = _post(client, f"/evaluation/calls/{call.id}/publish", referrer=back)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evaluation/calls/{call.id}/results")
    _db.session.refresh(call)
    assert call.status == CallStatus.RESULTS_PUBLISHED
    event = _db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "call.publish_results", AuditEvent.object_id == call.id
        )
    )
    assert event is not None and event.actor_id == decided.coordinator.id
    assert client.get(f"/results/{call.id}").status_code == 200
    # Publishing twice is refused with a message, not a server error.
    again = _post(client, f"/evaluation/calls/{call.id}/publish", referrer=back)
    assert again.status_code == 302
    follow = client.get(again.headers["Location"])
    assert "not possible in the current status" in text(follow)


def test_the_coordinator_archives_published_results(client, login_as, published):
    call = published.call
    login_as(published.coordinator)
    response = _post(client, f"/evaluation/calls/{call.id}/archive")  # pressed elsewhere than evaluation
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evaluation/calls/{call.id}/results")
    _db.session.refresh(call)
    assert call.status == CallStatus.ARCHIVED
    assert client.get(f"/results/{call.id}").status_code == 200


def test_only_the_calls_coordinators_may_publish(client, login_as, decided):
    call = decided.call
    login_as(factories.coordinator(factories.municipality("0020000")))  # another municipality's
    assert _post(client, f"/evaluation/calls/{call.id}/publish").status_code == 404
    assert _post(client, f"/evaluation/calls/{call.id}/archive").status_code == 404
    _db.session.refresh(call)
    assert call.status == CallStatus.DECIDED


def test_publishing_needs_the_csrf_token(client, login_as, decided):
    login_as(decided.coordinator)
    response = client.post(f"/evaluation/calls/{decided.call.id}/publish", data={})
    assert response.status_code == 400
    _db.session.refresh(decided.call)
    assert decided.call.status == CallStatus.DECIDED
