"""Public pages: home, accessibility statement, privacy notice, language switch, error pages."""

from __future__ import annotations

import pytest
from flask import url_for

from portal.public.views import safe_next
from tests import factories
from tests.helpers import Page, browser_client, csrf_token, login_view_ready, unused_reg_number

NBSP = "\xa0"


def switch_language(client, lang: str, next_url: str = "/"):
    token = csrf_token(client, "/")
    return client.post("/language", data={"lang": lang, "next": next_url, "csrf_token": token})


def english(client, path: str) -> str:
    switch_language(client, "en")
    return client.get(path).get_data(as_text=True)


# --- Home ----------------------------------------------------------------------------------------


def test_home_explains_the_programmes_rules_in_latvian_format(app, db):
    from portal.programmes.services import ensure_pumpurs_programme

    ensure_pumpurs_programme()
    response = browser_client(app, lang="lv").get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"4{NBSP}600,00{NBSP}€" in html  # the amount from the programme's data, formatted the Latvian way
    assert "10 %" in html or f"10{NBSP}%" in html


def test_home_without_a_programme_shows_no_rules(client):
    assert "€" not in client.get("/").get_data(as_text=True)


def test_home_speaks_to_each_kind_of_visitor(client):
    from portal.programmes.services import ensure_pumpurs_programme

    ensure_pumpurs_programme()
    html = english(client, "/")
    page = Page(html)
    headings = " ".join(h.text for h in page.find("h2"))
    for audience in (
        "young people",
        "municipalities",
        "evaluators",
        "national programme operator",
        "everyone",
    ):
        assert audience in headings, audience
    for rule in ("€4,600.00", "3–18 months", "At least 10 %", "Grades 5–12", "years 1–4 of vocational"):
        assert rule in html, rule
    with client.application.test_request_context():
        register = url_for("accounts.register")
    assert page.find("a", href=register), "the home page links to registration"


def test_home_for_a_logged_in_user_does_not_offer_registration(client, login_as):
    if not login_view_ready(client):
        pytest.skip("the accounts login view is not built yet")
    login_as(factories.applicant(factories.OrganisationFactory(reg_number=unused_reg_number())))
    page = Page(client.get("/").get_data(as_text=True))
    assert not any("button" in a.classes and a.get("href") == "/account/register" for a in page.find("a"))


# --- Accessibility statement (QUALITY G4) ---------------------------------------------------------


def test_accessibility_statement_is_dated_and_has_a_contact(app, client):
    response = client.get("/accessibility")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    dates = [t.get("datetime") for t in page.find("time")]
    assert dates == ["2026-11-22", "2026-11-22"]  # prepared, last reviewed
    email = app.config["SUPPORT_EMAIL"]
    assert page.find("a", href=f"mailto:{email}")
    assert "Latvijas Republikas Tiesībsarga birojs" in response.get_data(as_text=True)


def test_accessibility_statement_content(client):
    html = english(client, "/accessibility")
    for text in (
        "partially conformant",
        "WCAG",
        "2016/2102",
        "No. 445",
        "PDF/UA",
        "axe-core",
        "keyboard",
        "Statement prepared",
        "Last reviewed",
        "November 22, 2026",
        "Ombudsman",
    ):
        assert text in html, text


def test_accessibility_statement_is_linked_from_the_footer_of_pages(client):
    for path in ("/", "/privacy", "/no-such-page"):
        page = Page(client.get(path).get_data(as_text=True))
        assert any(a.get("href") == "/accessibility" and "footer" in a.ancestors for a in page.find("a")), (
            path
        )


# --- Privacy notice -------------------------------------------------------------------------------


def test_privacy_notice(app, client):
    html = english(client, "/privacy")
    for text in (
        "controller",
        "never stores personal data about pupils",
        "only counted",
        "Article 6(1)(e)",
        "Article 15",
        "Article 16",
        "Article 17",
        "Article 18",
        "Article 20",
        "Article 21",
        "How long we keep it",
        "Data State Inspectorate",
        app.config["SUPPORT_EMAIL"],
    ):
        assert text in html, text


# --- Language switch ------------------------------------------------------------------------------


def test_latvian_is_the_default(client):
    assert Page(client.get("/").get_data(as_text=True)).lang == "lv"


def test_switching_language_persists_in_a_host_cookie(client):
    response = switch_language(client, "en", "/privacy")
    assert response.status_code == 302
    assert response.headers["Location"] == "/privacy"
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-lang=")]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert attributes[0] == "__host-lang=en"
    assert "secure" in attributes and "httponly" in attributes
    assert "samesite=lax" in attributes and "path=/" in attributes
    assert not any(a.startswith("domain") for a in attributes)
    # ... and it is read back on the next visits.
    for path in ("/", "/accessibility"):
        assert Page(client.get(path).get_data(as_text=True)).lang == "en"
    switch_language(client, "lv")
    assert Page(client.get("/").get_data(as_text=True)).lang == "lv"


def test_a_plain_lang_cookie_is_ignored_where_cookies_are_secure(client):
    """Only the __Host- cookie counts: a sibling subdomain could plant a plain one."""
    client.set_cookie("lang", "en")
    assert Page(client.get("/").get_data(as_text=True)).lang == "lv"
    client.set_cookie("__Host-lang", "en")
    assert Page(client.get("/").get_data(as_text=True)).lang == "en"


def test_an_unknown_language_falls_back_to_latvian(client):
    response = switch_language(client, "de")
    assert response.status_code == 302
    assert Page(client.get("/").get_data(as_text=True)).lang == "lv"
    client.set_cookie("__Host-lang", "xx")
    assert Page(client.get("/").get_data(as_text=True)).lang == "lv"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/account",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "/\t/evil.example",
        "",
    ],
)
def test_the_language_switch_refuses_to_redirect_elsewhere(client, target):
    response = switch_language(client, "en", target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_returns_to_the_same_page_with_its_query(client):
    response = switch_language(client, "en", "/privacy?x=1")
    assert response.headers["Location"] == "/privacy?x=1"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account/", "/account/"),
        ("/a?b=c#d", "/a?b=c#d"),
        (None, "/"),
        ("https://evil.example", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("relative/path", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_the_language_choice_is_saved_on_the_account(client, db, login_as):
    if not login_view_ready(client):
        pytest.skip("the accounts login view is not built yet")
    user = factories.applicant(factories.OrganisationFactory(reg_number=unused_reg_number()))
    login_as(user)
    switch_language(client, "en")
    db.session.refresh(user)
    assert user.locale == "en"
    # The account's choice wins over a cookie the browser still has.
    client.set_cookie("__Host-lang", "lv")
    assert Page(client.get("/").get_data(as_text=True)).lang == "en"


# --- Error pages ----------------------------------------------------------------------------------


def test_the_404_page_is_friendly_and_offers_ways_on(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = Page(response.get_data(as_text=True))
    hrefs = {a.get("href") for a in page.find("a") if "main" in a.ancestors}
    assert "/" in hrefs and "/accessibility" in hrefs
    assert len(page.find("h1")) == 1


def test_error_pages_in_english(client):
    html = english(client, "/no-such-page")
    assert "Page not found" in html
    assert "Error code: 404" in html


def test_405_keeps_the_allow_header(client):
    response = client.delete("/accessibility")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "<h1>" in response.get_data(as_text=True)


def test_api_paths_get_json_errors(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == 404


def test_a_csrf_failure_explains_what_to_do(client):
    html = english(client, "/")
    assert html
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
