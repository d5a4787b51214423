"""QUALITY D7: security headers on every response, no-store for logged-in pages, no stack traces.

Routes come from `app.url_map`, so a new route is covered without touching this file.
"""

from __future__ import annotations

import logging
import re

import pytest
from flask import url_for

from portal import create_app
from portal.config import TestConfig
from tests import factories
from tests.helpers import Page, fresh_g_per_request, login_view_ready, routes, unused_reg_number

ONE_YEAR = 31536000


@pytest.fixture(autouse=True)
def _fresh_g(app):
    with fresh_g_per_request(app):
        yield


@pytest.fixture()
def client(app, db):
    """A browser-like client on https://localhost: it sends a Referer, as Flask-WTF's strict check wants."""
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


def header_problems(response) -> list[str]:
    """Return what is missing or too weak in the response's security headers (empty when all is well)."""
    problems = []
    headers = response.headers
    hsts = headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    if not match or int(match.group(1)) < ONE_YEAR:
        problems.append(f"HSTS max-age < {ONE_YEAR}: {hsts!r}")
    if "includesubdomains" not in hsts.lower():
        problems.append(f"HSTS without includeSubDomains: {hsts!r}")
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}
    if directives.get("object-src") != "object-src 'none'":
        problems.append(f"CSP object-src is not 'none': {csp!r}")
    if "base-uri" not in directives:
        problems.append(f"CSP without base-uri: {csp!r}")
    if directives.get("frame-ancestors") != "frame-ancestors 'none'":
        problems.append(f"CSP frame-ancestors is not 'none': {csp!r}")
    if "'unsafe-inline'" in directives.get("script-src", "") or "'unsafe-eval'" in directives.get(
        "script-src", ""
    ):
        problems.append(f"CSP allows inline or eval scripts: {csp!r}")
    if headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    referrer = headers.get("Referrer-Policy", "")
    if not referrer or referrer in {"unsafe-url", "no-referrer-when-downgrade"}:
        problems.append(f"Referrer-Policy missing or weak: {referrer!r}")
    return problems


def crawl(client, app, *, skip_logout: bool = False):
    """GET every route of the app; yield (endpoint, url, response)."""
    for endpoint, url in routes(app, "GET"):
        if skip_logout and "logout" in endpoint:
            continue
        yield endpoint, url, client.get(url)


def test_every_anonymous_get_response_carries_the_security_headers(app, client):
    failures, seen = [], 0
    for endpoint, url, response in crawl(client, app):
        seen += 1
        for problem in header_problems(response):
            failures.append(f"{endpoint} GET {url} ({response.status_code}): {problem}")
    assert seen >= 4, "the crawl found almost no routes"
    assert not failures, "\n".join(failures)


def test_no_get_route_fails_with_a_server_error(app, client):
    failures = [
        f"{endpoint} GET {url} -> {response.status_code}"
        for endpoint, url, response in crawl(client, app)
        if response.status_code >= 500
    ]
    assert not failures, "\n".join(failures)


def test_rejected_and_error_responses_carry_the_headers_too(app, client):
    """CSRF refusals (400), 404 and 405 are rendered by our handlers; they must not lose the headers."""
    failures = []
    for endpoint, url in routes(app, "POST"):
        response = client.post(url, data={})
        failures += [
            f"{endpoint} POST {url} ({response.status_code}): {p}" for p in header_problems(response)
        ]
    for url in ("/no-such-page", "/static/no-such-file.css"):
        response = client.get(url)
        assert response.status_code == 404
        failures += [f"GET {url}: {p}" for p in header_problems(response)]
    response = client.delete("/")
    assert response.status_code == 405
    failures += [f"DELETE /: {p}" for p in header_problems(response)]
    assert not failures, "\n".join(failures)


def test_anonymous_pages_are_not_stored_as_private(app, client):
    """Anonymous pages may be revalidated, but never cached as if they were private to someone."""
    response = client.get("/")
    assert "no-store" in response.headers["Cache-Control"] or "no-cache" in response.headers["Cache-Control"]
    assert response.headers.get("X-Frame-Options") == "DENY"


PERSONAS = {
    "applicant": lambda: factories.applicant(factories.OrganisationFactory(reg_number=unused_reg_number())),
    "coordinator": lambda: factories.coordinator(),
    "national_admin": lambda: factories.national_admin(),
}


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_logged_in_response_is_no_store(app, client, db, login_as, persona):
    if not login_view_ready(client):
        pytest.skip("the accounts login view is not built yet (stub)")
    user = PERSONAS[persona]()
    login_as(user)
    with app.test_request_context():
        dashboard = client.get(url_for("accounts.dashboard"))
    assert dashboard.status_code == 200, "login through the real forms did not succeed"
    failures = []
    for endpoint, url, response in crawl(client, app, skip_logout=True):
        problems = header_problems(response)
        cache = response.headers.get("Cache-Control", "")
        if "no-store" not in cache:
            problems.append(f"Cache-Control is {cache!r}, not no-store")
        failures += [f"{persona} {endpoint} GET {url} ({response.status_code}): {p}" for p in problems]
    assert not failures, "\n".join(failures)


# --- Forced 500: a fresh app (views cannot be added to the shared one after its first request) -------


class _BoomConfig(TestConfig):
    SQLALCHEMY_DATABASE_URI = "sqlite://"


SECRET_DETAIL = "internal-detail-7f3a: password=hunter2"


@pytest.fixture()
def boom_app():
    """A fresh app with one test-only view that raises."""
    fresh = create_app(_BoomConfig)

    def boom():
        raise RuntimeError(SECRET_DETAIL)

    fresh.add_url_rule("/__test__/boom", "boom", boom)
    return fresh


@pytest.mark.parametrize("testing", [True, False])
def test_forced_500_shows_the_friendly_page_without_a_traceback(boom_app, testing, caplog):
    boom_app.config["TESTING"] = testing
    with caplog.at_level(logging.ERROR, logger="portal.core.errors"):
        response = boom_app.test_client().get("/__test__/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    assert SECRET_DETAIL not in html
    assert "RuntimeError" not in html
    assert 'File "' not in html
    page = Page(html)
    assert len(page.find("h1")) == 1
    assert page.find("main", id="main")
    assert not header_problems(response)
    # ... while the details are in the server log for the operators.
    assert any(SECRET_DETAIL in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_forced_500_asking_for_json_gets_json_without_details(boom_app):
    response = boom_app.test_client().get("/__test__/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.is_json
    assert response.json["error"]["code"] == 500
    assert SECRET_DETAIL not in response.get_data(as_text=True)


def test_a_broken_error_page_still_gives_a_plain_friendly_page(boom_app, monkeypatch):
    """If the error page itself cannot be rendered (say the database is down), a static page is sent."""
    import portal.core.errors as errors

    def broken(*args, **kwargs):
        raise RuntimeError("template engine down")

    monkeypatch.setattr(errors, "render_template", broken)
    response = boom_app.test_client().get("/__test__/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "<h1>" in html and "Traceback" not in html and SECRET_DETAIL not in html
    assert not header_problems(response)
