"""Embedding the results in a municipality's website and the Atom feed of published results (issue 6):
only the embed view may be framed, it stays an accessible document, and the feed is valid XML with one
entry per published call and nothing else."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from portal.core.security import CSP, EMBED_CSP
from tests import factories
from tests.helpers import Page, browser_client
from tests.public.support import SECRET_COMMENT, SECRETS, results_call

ATOM = "{http://www.w3.org/2005/Atom}"
LIGHT = {"with_rejected": False, "scores": ([3, 3, 3], [2, 2, 2])}


@pytest.fixture()
def client(app, db):
    return browser_client(app)


def text(response) -> str:
    return response.get_data(as_text=True)


def frame_ancestors(response) -> str:
    directives = [d.strip() for d in response.headers.get("Content-Security-Policy", "").split(";")]
    return next((d for d in directives if d.startswith("frame-ancestors")), "")


@pytest.fixture()
def published(db):
    return results_call("ALFA")


# --- framing ------------------------------------------------------------------------------------------


def test_only_the_embed_view_may_be_framed(client, published):
    call = published.call
    embed = client.get(f"/results/{call.id}/embed")
    assert embed.status_code == 200
    assert frame_ancestors(embed) == "frame-ancestors *"
    assert "X-Frame-Options" not in embed.headers
    assert embed.headers["Content-Security-Policy"] == EMBED_CSP
    assert "object-src 'none'" in EMBED_CSP and "script-src 'self'" in EMBED_CSP  # only framing differs
    for url in (
        f"/results/{call.id}",
        "/results/",
        "/results/feed.atom",
        "/projects/",
        f"/projects/{published.funded[0].id}",
        "/statistics",
        "/",
        "/results/999999/embed",  # a 404 of the embed URL is not frameable either
    ):
        response = client.get(url)
        assert frame_ancestors(response) == "frame-ancestors 'none'", url
        assert response.headers.get("X-Frame-Options") == "DENY", url
        assert response.headers["Content-Security-Policy"] == CSP, url


def test_the_embed_view_of_an_unpublished_call_is_404_and_not_frameable(client, db):
    decided = results_call("BETA", publish=False, **LIGHT)
    response = client.get(f"/results/{decided.call.id}/embed")
    assert response.status_code == 404
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "BETA" not in text(response)


def test_the_embed_view_is_a_minimal_accessible_document(client, published):
    call = published.call
    html = text(client.get(f"/results/{call.id}/embed"))
    page = Page(html)
    assert page.lang == "en"
    assert "Konkurss ALFA" in page.find("title")[0].text
    assert len(page.find("h1")) == 1 and len(page.find("main")) == 1
    assert not page.find("nav") and not page.find("header") and not page.find("footer")
    assert not page.find("form") and not page.find("script")
    captions = [c.text for c in page.find("caption")]
    assert any("Funded projects" in c for c in captions) and any("Reserve list" in c for c in captions)
    assert all(th.get("scope") in ("col", "row") for th in page.find("th"))
    for application in published.funded:
        links = page.find("a", href=f"https://localhost/projects/{application.id}")
        assert links and links[0].get("target") == "_blank" and links[0].get("rel") == "noopener"
        assert "opens in a new tab" in links[0].text
    assert published.reserve[0].title in html
    for secret in [*SECRETS, SECRET_COMMENT, published.not_funded[0].title, published.rejected[0].title]:
        assert secret not in html


def test_the_embed_view_takes_its_language_from_the_snippet(client, published):
    call = published.call
    assert Page(text(client.get(f"/results/{call.id}/embed?lang=lv"))).lang == "lv"
    assert Page(text(client.get(f"/results/{call.id}/embed?lang=xx"))).lang == "en"  # unknown: the visitor's
    assert (
        Page(text(browser_client(client.application, lang=None).get(f"/results/{call.id}/embed"))).lang
        == "lv"
    )


def test_the_results_page_offers_the_snippet_with_the_absolute_embed_url(client, published):
    call = published.call
    page = Page(text(client.get(f"/results/{call.id}")))
    snippet = page.by_id("embed-code").text
    assert snippet.startswith(f'<iframe src="https://localhost/results/{call.id}/embed?lang=en"')
    assert 'title="Results: Konkurss ALFA"' in snippet
    assert snippet.rstrip().endswith("</iframe>")


# --- the Atom feed -----------------------------------------------------------------------------------


def test_the_feed_has_one_entry_per_published_call_and_nothing_unpublished(client, published):
    other = results_call("GAMMA", muni_code="0044000", **LIGHT)
    results_call("BETA", publish=False, **LIGHT)
    draft = factories.open_call(title="Konkurss DELTA")
    draft.status, draft.published_at = "draft", None
    response = client.get("/results/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    body = response.get_data()
    feed = ET.fromstring(body)  # noqa: S314 - our own response
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    ids = {e.find(f"{ATOM}id").text for e in entries}
    assert ids == {f"https://localhost/results/{c.id}" for c in (published.call, other.call)}
    for entry in entries:
        assert entry.find(f"{ATOM}title").text.startswith("Results: Konkurss ")
        assert entry.find(f"{ATOM}link").get("href") == entry.find(f"{ATOM}id").text
        assert entry.find(f"{ATOM}updated").text.endswith("Z")
        assert "/2026" in entry.find(f"{ATOM}summary").text  # the decision's number
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://localhost/results/feed.atom"
    decoded = body.decode("utf-8")
    for secret in [*SECRETS, "BETA", "DELTA", "Projekts "]:
        assert secret not in decoded


def test_the_feed_is_linked_from_the_results_pages_and_speaks_latvian(app, published):
    client = browser_client(app, lang="lv")
    for url in ("/results/", f"/results/{published.call.id}"):
        links = Page(text(client.get(url))).find("link", rel="alternate", type="application/atom+xml")
        assert links and links[0].get("href") == "/results/feed.atom", url
    feed = ET.fromstring(client.get("/results/feed.atom").get_data())  # noqa: S314 - our own response
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "lv"


def test_an_empty_feed_is_still_valid(client, db):
    feed = ET.fromstring(client.get("/results/feed.atom").get_data())  # noqa: S314 - our own response
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.find(f"{ATOM}updated").text
