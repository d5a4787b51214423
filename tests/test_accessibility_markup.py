"""QUALITY G3 (language, errors tied to fields) and G4 (accessibility statement linked from every page),
checked on the markup of every public page. The browser suite (axe-core) checks the rendered pages."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.helpers import Page, csrf_token, fresh_g_per_request, routes


@pytest.fixture(autouse=True)
def _fresh_g(app):
    with fresh_g_per_request(app):
        yield


@pytest.fixture()
def client(app, db):
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


def public_pages(app, client) -> list[tuple[str, str, str]]:
    """(endpoint, url, html) of every GET page an anonymous visitor can open, plus the 404 page."""
    pages = []
    for endpoint, url in routes(app, "GET"):
        if endpoint == "static":
            continue
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        pages.append((endpoint, url, response.get_data(as_text=True)))
    not_found = client.get("/no-such-page")
    pages.append(("404", "/no-such-page", not_found.get_data(as_text=True)))
    return pages


def markup_problems(html: str, *, lang: str, statement_url: str) -> list[str]:
    """Return what the page lacks of the common accessible shell (empty when all is there)."""
    problems = []
    if html.strip() == "stub":  # the lead's placeholders while the views are being built
        return problems
    page = Page(html)
    if page.lang != lang:
        problems.append(f'<html lang="{page.lang}">, expected "{lang}"')
    titles = page.find("title")
    if not titles or not titles[0].text.strip():
        problems.append("no <title>")
    h1 = page.find("h1")
    if len(h1) != 1:
        problems.append(f"{len(h1)} <h1> elements, expected exactly 1")
    links = page.find("a")
    skip = [a for a in links if a.get("href") == "#main"]
    if not skip:
        problems.append("no skip link to #main")
    elif links[0].get("href") != "#main":
        problems.append("the skip link is not the first link of the page")
    mains = page.find("main")
    if len(mains) != 1 or mains[0].get("id") != "main":
        problems.append('expected exactly one <main id="main">')
    if not any(a.get("href") == statement_url and "footer" in a.ancestors for a in links):
        problems.append("no link to the accessibility statement in the footer")
    if not page.find("nav"):
        problems.append("no <nav> landmark")
    if not page.find("header") or not page.find("footer"):
        problems.append("no <header>/<footer> landmarks")
    ids = [e.get("id") for e in page.elements if e.get("id")]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate ids: {duplicates}")
    return problems


def _statement_url(app) -> str:
    with app.test_request_context():
        return url_for("public.accessibility")


def test_every_public_page_has_the_accessible_shell_in_latvian(app, client):
    pages = public_pages(app, client)
    assert {"public.index", "public.accessibility", "public.privacy"} <= {p[0] for p in pages}
    failures = [
        f"{endpoint} {url}: {problem}"
        for endpoint, url, html in pages
        for problem in markup_problems(html, lang="lv", statement_url=_statement_url(app))
    ]
    assert not failures, "\n".join(failures)


def test_every_public_page_says_it_is_english_after_switching(app, client):
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    failures = [
        f"{endpoint} {url}: {problem}"
        for endpoint, url, html in public_pages(app, client)
        for problem in markup_problems(html, lang="en", statement_url=_statement_url(app))
    ]
    assert not failures, "\n".join(failures)


def test_the_main_public_pages_have_their_own_titles(client):
    titles = {
        path: Page(client.get(path).get_data(as_text=True)).find("title")[0].text
        for path in ("/", "/accessibility", "/privacy")
    }
    assert len(set(titles.values())) == 3, titles


def test_the_language_switch_is_a_post_form_with_a_csrf_token(client):
    page = Page(client.get("/").get_data(as_text=True))
    forms = [f for f in page.find("form") if f.get("action") == "/language"]
    assert forms and forms[0].get("method") == "post"
    assert page.find("input", name="csrf_token")
    (button,) = page.find("button", name="lang")
    assert button.get("value") == "en" and button.get("lang") == "en"


def test_no_inline_scripts_or_styles(app, client):
    """CSP forbids them (script-src 'self'; style-src 'self'), so they would silently not work."""
    failures = []
    for endpoint, _url, html in public_pages(app, client):
        page = Page(html)
        if any(not s.get("src") for s in page.find("script")) or page.find("style"):
            failures.append(f"{endpoint}: inline <script> or <style>")
        if any("style" in e.attrs or any(a.startswith("on") for a in e.attrs) for e in page.elements):
            failures.append(f"{endpoint}: style= or on*= attribute")
    assert not failures, "\n".join(failures)


# --- A form with errors (G3) --------------------------------------------------------------------


def _form_with_errors(client) -> tuple[str, Page]:
    """Post the registration form empty (or the login form if registration is not built yet)."""
    for path in ("/account/register", "/account/login"):
        html = client.get(path).get_data(as_text=True)
        if 'name="csrf_token"' not in html:
            continue
        token = csrf_token(client, path)
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code in (200, 400, 422), f"{path} answered {response.status_code}"
        return path, Page(response.get_data(as_text=True))
    pytest.skip("neither the registration nor the login form exists yet (stubs)")


def test_a_form_with_errors_has_a_summary_linked_to_each_invalid_field(client):
    path, page = _form_with_errors(client)
    summaries = page.with_class("error-summary")
    assert len(summaries) == 1, f"{path}: expected one error summary"
    summary = summaries[0]
    assert summary.get("id") == "error-summary" and summary.get("tabindex") == "-1"
    assert summary.get("role") == "alert"
    title = page.by_id(summary.get("aria-labelledby"))
    assert title is not None and title.tag == "h2"

    summary_links = [
        a for a in page.find("a") if a.get("href", "").startswith("#") and a.inside("error-summary")
    ]
    assert summary_links, f"{path}: the summary links to no field"
    invalid = [e for e in page.elements if e.get("aria-invalid") == "true"]
    assert invalid, f"{path}: no field is marked aria-invalid"
    linked = {a.get("href")[1:] for a in summary_links}
    for element in invalid:
        # Radios and checkboxes in a group share one error: the summary links to the first option.
        group = (
            element.get("id", "").rsplit("-", 1)[0] if element.get("type") in ("radio", "checkbox") else None
        )
        assert element.get("id") in linked or (group and f"{group}-0" in linked), (
            f"{path}: invalid field {element.get('id')} is not listed in the error summary"
        )
    for target_id in linked:
        target = page.by_id(target_id)
        assert target is not None, f"{path}: the summary links to #{target_id}, which does not exist"
        assert target.get("aria-invalid") == "true", f"#{target_id} lacks aria-invalid"
        described_by = target.get("aria-describedby") or _group_described_by(page, target_id)
        described = [page.by_id(i) for i in described_by.split()]
        assert all(described), f"#{target_id}: aria-describedby names an id that does not exist"
        error_ids = [e.get("id") for e in described if "field-error" in e.classes]
        assert error_ids, f"#{target_id} is not tied to its error message with aria-describedby"
        assert page.by_id(error_ids[0]).text.strip(), f"#{target_id}'s error message is empty"


def test_the_typed_value_is_kept_after_an_error(client):
    html = client.get("/account/register").get_data(as_text=True)
    if 'name="csrf_token"' not in html:
        pytest.skip("the registration form is not built yet")
    token = csrf_token(client, "/account/register")
    response = client.post(
        "/account/register", data={"csrf_token": token, "full_name": "Anna Bērziņa", "email": "not-an-email"}
    )
    page = Page(response.get_data(as_text=True))
    assert page.find("input", name="full_name")[0].get("value") == "Anna Bērziņa"
    assert page.find("input", name="email")[0].get("value") == "not-an-email"


def _group_described_by(page: Page, option_id: str) -> str:
    fieldset = page.by_id(option_id.rsplit("-", 1)[0] + "-fieldset")
    return fieldset.get("aria-describedby", "") if fieldset else ""
