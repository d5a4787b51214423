"""The foundation journey as a person does it, on a 360 px phone, in Latvian and in English:
register, confirm the e-mail from the link that really arrives over SMTP, log in, register an
organisation, switch the language with the header button, log out.

Every page seen passes `check_page`: <html lang>, no sideways scrolling, the axe gate (QUALITY G1),
including the validation-error states of the two forms.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urlsplit

import pytest

from tests.browser.support import check_page

pytestmark = pytest.mark.browser

PASSWORD = "Zaļa laiva pie Daugavas 2026"
ORGANISATION = {
    "legal_form": "association",
    "name": "Biedrība Jauniešu Saule",
    "reg_number": "40000100001",
    "municipality": "0020000",  # Aizkraukles novads
    "address": "Skolas iela 1, Aizkraukle, LV-5101",
    "email": "saule@example.lv",
    "phone": "+371 20000000",
    "bank_name": "Paraugbanka",
    "iban": "LV80BANK0000435195001",
}
_LINK = re.compile(r"https?://[^\s<>\"]+/account/confirm/[^\s<>\"]+")


def _submit(page, form: str = "main form") -> None:
    """Press the form's submit button and wait for the page that answers."""
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").last.click()


def _switch_language(page, expected: str) -> None:
    """Press the header button (English / Latviešu) and wait until the page is in `expected`."""
    button = page.locator("header form.lang-switch button[type=submit]")
    assert button.get_attribute("value") == expected
    path = urlsplit(page.url).path
    with page.expect_navigation():
        button.click()
    assert urlsplit(page.url).path == path, "the language switch must come back to the same page"
    assert page.locator("html").get_attribute("lang") == expected


def _wait_for_mail(mailbox, address: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = mailbox.to(address)
        if messages:
            return messages[-1]
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {address} arrived; got {[m['To'] for m in mailbox.messages]}")


@pytest.mark.parametrize("device", ["phone"])
@pytest.mark.parametrize("language", ["lv", "en"])
def test_register_confirm_login_organisation_language_logout(page, live_server, mailbox, language):
    email = f"anna.{uuid.uuid4().hex[:10]}@example.lv"
    other = "en" if language == "lv" else "lv"

    # Home page: Latvian first; an English speaker switches with the header button.
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "lv"
    check_page(page, "home")
    if language == "en":
        _switch_language(page, "en")
        check_page(page, "home")

    # Register, first with nothing filled in: errors are summarised and tied to the fields.
    page.locator("header a[href='/account/register']").click()
    page.wait_for_url("**/account/register")
    check_page(page, "register")
    _submit(page)
    assert page.locator("#error-summary").is_visible()
    assert page.locator("[name=full_name][aria-invalid=true]").count() == 1
    check_page(page, "register with errors")

    page.fill("[name=full_name]", "Anna Bērziņa")
    page.fill("[name=email]", email)
    page.fill("[name=password]", PASSWORD)
    page.fill("[name=password_repeat]", PASSWORD)
    if page.locator("select[name=language]").count():
        page.select_option("select[name=language]", language)
    page.check("[name=consent]")
    _submit(page)
    assert "/account/register" in page.url and page.locator("#error-summary").count() == 0, page.url
    check_page(page, "registered")

    # The confirmation e-mail really arrives over SMTP; its link confirms the address.
    message = _wait_for_mail(mailbox, email)
    body = mailbox.text(message)
    match = _LINK.search(body)
    assert match, f"no confirmation link in the e-mail:\n{body}"
    link = match.group(0)
    assert link.startswith(live_server.url), f"{link} does not lead to the portal at {live_server.url}"
    page.goto(link)
    page.wait_for_url("**/account/login**")
    check_page(page, "login after confirmation")

    # Log in.
    page.fill("[name=email]", email)
    page.fill("[name=password]", PASSWORD)
    _submit(page)
    assert "/account/login" not in page.url, f"still on the login page: {page.url}"
    assert page.locator("html").get_attribute("lang") == language
    check_page(page, "after login")

    # Register an organisation, again first with nothing filled in.
    page.goto("/organisations/new")
    check_page(page, "new organisation")
    _submit(page)
    assert page.locator("#error-summary").is_visible()
    check_page(page, "new organisation with errors")
    data = dict(ORGANISATION, name=f"{ORGANISATION['name']} {language.upper()}")
    page.check(f"[name=legal_form][value={data['legal_form']}]")
    page.select_option("select[name=municipality]", data["municipality"])
    for name in ("name", "reg_number", "address", "email", "phone", "bank_name", "iban"):
        page.fill(f"[name={name}]", data[name])
    if language == "en":  # the number is unique: the second run registers another one
        page.fill("[name=reg_number]", "40000100016")
    _submit(page)
    assert re.search(r"/organisations/\d+$", urlsplit(page.url).path), f"not on the organisation: {page.url}"
    assert data["name"] in page.locator("main").inner_text()
    check_page(page, "organisation")

    # The header button switches the language there and back; the account remembers it.
    _switch_language(page, other)
    check_page(page, f"organisation ({other})")
    page.goto("/organisations/")
    assert page.locator("html").get_attribute("lang") == other
    check_page(page, f"organisations ({other})")
    _switch_language(page, language)
    check_page(page, "organisations")

    # Log out: back to a page for logged-out visitors, and the organisation is out of reach.
    with page.expect_navigation():
        page.locator("header form[action='/account/logout'] button[type=submit]").click()
    assert page.locator("header a[href='/account/login']").count() == 1
    check_page(page, "after logout")
    page.goto("/organisations/")
    assert "/account/login" in page.url, f"a logged-out visitor reached {page.url}"
