"""Issue 4 as an NGO does it in the browser: find an open call, start an application, type a little,
leave, come back, let the submission summary say what is missing, fix it step by step and submit.

Latvian on a 360 px phone, English on a 1280 px desktop. A new applicant (a confirmed account and its
organisation, made directly: the foundation journey covers registering both through the forms) opens the
public list of calls as a visitor, the call's page and "Apply", logs in and lands on the start page.
On step 2 they type only the title and the dates and wait until the autosave says "Saved at …"; then they
leave (the tab is closed) and come back through "My applications": the values are there, from the server.
Submitting now is refused with a summary of every problem, each a link to its field; following one lands
on the field. They then fill each step (a wrongly written amount is reported next to its field first),
submit, see the confirmation, and the confirmation e-mail arrives over SMTP with the PDF of exactly what
was submitted (its text names the project).

Every page seen passes `check_page` (<html lang>, no sideways scrolling, the axe gate), error states too.
"""

from __future__ import annotations

import io
import random
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.support import check_page

pytestmark = pytest.mark.browser

START, END = "2027-01-04", "2027-06-30"  # six months, inside the PuMPuRS period (2017–2029)
# Nine categories adding up to exactly the PuMPuRS lump sum of 4600 euros, as each language writes them.
BUDGET = {
    "lv": {
        "trainers": "1 500,00",
        "catering": "900",
        "transport": "700",
        "accommodation": "",
        "materials": "600,00",
        "venue": "300",
        "equipment": "200",
        "publicity": "150",
        "coordination": "250",
    },
    "en": {
        "trainers": "1,500.00",
        "catering": "900",
        "transport": "700.00",
        "accommodation": "0",
        "materials": "600",
        "venue": "300",
        "equipment": "200",
        "publicity": "150",
        "coordination": "250",
    },
}
AMBIGUOUS_AMOUNT = "1,500"  # a thousand and a half, or one and a half? Refused rather than guessed.
SAVED = re.compile(r"(Saved|Saglabāt).*\d{1,2}:\d{2}")


@dataclass(frozen=True)
class Applicant:
    email: str
    password: str
    organisation: str
    call_id: int
    call_title: str


def _seed(live_server, language: str) -> Applicant:
    """In the live server's database: PuMPuRS, a round with a quota for Aizkraukles novads and an open
    call there; a confirmed applicant (no second factor) who represents a new association."""
    from portal.extensions import db
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    email = f"ngo.{tag}@example.lv"
    with live_server.app.app_context():
        aizkraukle = factories.municipality("0020000")
        call = factories.open_call(aizkraukle, title=f"Jauniešu iniciatīvas Aizkrauklē {tag}")
        organisation = factories.OrganisationFactory(
            name=f"Biedrība Jaunā Vēja {tag}",
            reg_number=factories.valid_reg_number(random.randrange(10_000, 5_000_000)),
            email=f"org.{tag}@example.lv",
            municipality=aizkraukle,
        )
        factories.applicant(organisation, email=email, full_name="Līga Zariņa", locale=language)
        applicant = Applicant(email, factories.PASSWORD, organisation.name, call.id, call.title)
        db.session.commit()
        db.session.remove()
    return applicant


def _watch(page, page_errors: list[str]) -> None:
    """Fail the test on console errors of a page opened by the test itself (as the `page` fixture does)."""

    def _console(msg):
        if msg.type == "error":
            page_errors.append(f"console error: {msg.text}")

    page.on("console", _console)
    page.on("pageerror", lambda exc: page_errors.append(f"page error: {exc}"))


def _submit(page, button) -> None:
    """Press a submit button and wait for the page that answers."""
    with page.expect_navigation():
        button.click()


def _follow(page, link) -> None:
    with page.expect_navigation():
        link.click()


def _path(page) -> str:
    return urlsplit(page.url).path


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _button(page, value: str):
    """A button of the application form's actions (next, save, back)."""
    return page.locator(f"#application-form .form-actions button[name=action][value={value}]")


def _check(page, language: str, label: str) -> None:
    """`check_page`, and the page is in the person's language."""
    lang = page.locator("html").get_attribute("lang")
    assert lang == language, f"{label}: in {lang!r}, not {language!r}: {page.url}"
    check_page(page, label)


def _next_step(page, language: str, application: str, slug: str) -> None:
    """Press "Save and continue" and arrive at the step `slug`, saved."""
    _submit(page, _button(page, "next"))
    assert _path(page) == f"{application}/edit/{slug}", f"not on step {slug}: {page.url}"
    assert page.locator("#error-summary").count() == 0, page.locator("#error-summary").inner_text()
    _check(page, language, f"step {slug}")


@pytest.mark.parametrize(("device", "language"), [("phone", "lv"), ("desktop", "en")])
def test_draft_leave_return_fix_the_summary_and_submit(
    page, page_errors, context, live_server, mailbox, language
):
    started = time.monotonic()
    person = _seed(live_server, language)
    tag = person.call_title.rsplit(" ", 1)[1]
    title = f"Skolas sols: jaunieši jauniešiem {tag}"

    # A visitor: the home page (an English speaker switches the language), the list of open calls.
    page.goto("/")
    if language == "en":
        with page.expect_navigation():
            page.locator("header form.lang-switch button[value=en]").click()
    assert page.locator("html").get_attribute("lang") == language
    _follow(page, page.locator("nav.main-nav a[href='/calls/']"))
    _check(page, language, "open calls")
    card = page.locator("main .card-list li", has=page.locator("a", has_text=person.call_title))
    assert card.count() == 1, f"the call is not listed: {page.locator('main').inner_text()[:800]}"
    assert "Aizkraukles novads" in card.inner_text()

    # The call's page, then "Apply": the visitor logs in and lands on the start page.
    _follow(page, card.locator("a").first)
    assert _path(page) == f"/calls/{person.call_id}"
    _check(page, language, "call")
    _follow(page, page.locator(f"main a[href='/applications/start/{person.call_id}']"))
    assert _path(page) == "/account/login", f"a visitor must log in to apply: {page.url}"
    _check(page, language, "login to apply")
    page.fill("[name=email]", person.email)
    page.fill("[name=password]", person.password)
    _submit(page, page.locator("main form button[type=submit]").last)
    assert _path(page) == f"/applications/start/{person.call_id}", f"not back at the call: {page.url}"
    assert page.locator("html").get_attribute("lang") == language
    assert person.organisation in page.locator("main").inner_text()
    _check(page, language, "start")

    # Start: step 1 (the applicant, from the organisation's profile), then on to step 2.
    _submit(page, page.locator("main form button[type=submit]"))
    match = re.fullmatch(r"(/applications/\d+)/edit/applicant", _path(page))
    assert match, f"no draft started: {page.url}"
    application = match.group(1)
    assert person.organisation in page.locator("#organisation").inner_text()
    _check(page, language, "step applicant")
    _next_step(page, language, application, "project")

    # Type only the title and the dates; the autosave stores them and says so (a polite live region).
    status = page.locator("#autosave-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    with page.expect_response(
        lambda r: r.url.endswith(f"{application}/autosave") and r.request.method == "POST", timeout=20_000
    ) as autosave:
        page.fill("#title", title)
        page.fill("#start_date", START)
        page.fill("#end_date", END)
    assert autosave.value.status == 200, autosave.value.text()
    expect(status).to_have_text(SAVED, timeout=10_000)
    _check(page, language, "step project autosaved")

    # Leave: to the home page, then the tab is closed. Nothing was pressed but the typed values were sent.
    _follow(page, page.locator("nav.main-nav a[href='/']"))
    _check(page, language, "home")
    page.close()
    page = context.new_page()
    _watch(page, page_errors)

    # Come back through "My applications": the draft is listed, and its values come from the server.
    page.goto("/")
    _follow(page, page.locator("nav.main-nav a[href='/applications/']"))
    _check(page, language, "my applications")
    row = page.locator("main table tbody tr", has=page.locator("a", has_text=title))
    assert row.count() == 1, page.locator("main").inner_text()[:800]
    _follow(page, row.locator(f"a[href='{application}/edit/applicant']"))
    _follow(page, page.locator(f"nav a[href='{application}/edit/project']"))
    assert page.locator("#title").input_value() == title
    assert page.locator("#start_date").input_value() == START
    assert page.locator("#end_date").input_value() == END
    _check(page, language, "step project restored")

    # The review step lists what is still to do; submitting now is refused with the same list, as links.
    _follow(page, page.locator(f"nav a[href='{application}/edit/review']"))
    _check(page, language, "review")
    _submit(page, page.locator("#application-form button[formaction$='/submit']"))
    summary = page.locator("#error-summary")
    assert summary.is_visible(), f"no error summary: {page.locator('main').inner_text()[:800]}"
    assert summary.get_attribute("role") == "alert"
    links = summary.locator("li a")
    hrefs = links.evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert len(hrefs) >= 15, hrefs  # everything but the title and the dates
    expected = {
        f"{application}/edit/project#places",
        f"{application}/edit/target-group#participants_total",
        f"{application}/edit/activities#activities-0-activity",
        f"{application}/edit/budget#budget_trainers",
        "#declaration_truth",
    }
    assert expected <= set(hrefs), hrefs
    assert not any(h.endswith(("#title", "#start_date", "#end_date")) for h in hrefs), hrefs
    _check(page, language, "submission refused")

    # Follow the first link: the step that fixes it, at the field.
    first = links.first
    assert first.get_attribute("href") == f"{application}/edit/project#places", hrefs
    _follow(page, first)
    assert _path(page) == f"{application}/edit/project"
    assert urlsplit(page.url).fragment == "places"
    assert page.locator("#places").is_visible()
    assert page.evaluate("() => document.querySelector(':target')?.id") == "places"
    _check(page, language, "the linked field")

    # Step 2: the places; step 3: the problem and the goal.
    page.fill("#places", "Aizkraukle, Koknese")
    _next_step(page, language, application, "plan")
    page.fill("#problem", "Skolēni pamet skolu pirms laika; kavējumi aug.")
    page.fill("#plan_link", "Plāna 2.3. aktivitāte: neformālās izglītības pasākumi")
    page.fill("#goal", "Mazināt kavējumus Aizkraukles skolās")
    page.fill("#objectives", "1) Darbnīcas\n2) Pārgājiens")
    _next_step(page, language, application, "target-group")

    # Step 4: 4 of 40 at risk is exactly the 10 % minimum (shown live); the grades add up to 40.
    page.fill("#participants_total", "40")
    page.fill("#participants_risk", "4")
    assert _digits(page.locator("#risk-share").inner_text()) == "1000", page.locator(
        "#risk-share"
    ).inner_text()
    page.fill("#participants_grades_5_9", "25")
    page.fill("#participants_grades_10_12", "10")
    page.fill("#participants_vocational", "5")
    page.fill("#risk_learning", "3")
    page.fill("#risk_family", "2")
    page.fill("#schools", "Aizkraukles novada vidusskola")
    _next_step(page, language, application, "activities")

    # Step 5: how young people lead it, and one row of the activity plan.
    page.fill("#youth_involvement", "Jaunieši paši izvēlas tēmas un vada darbnīcas.")
    page.fill("#activities-0-activity", "Darbnīcas")
    page.fill("#activities-0-method", "Neformālā izglītība")
    page.fill("#activities-0-months", "1–6")
    page.fill("#activities-0-participants", "40")
    page.fill("#activities-0-responsible", "Projekta koordinators")
    _next_step(page, language, application, "results")

    # Step 6: results and risks.
    page.fill("#results", "30 dalībnieki pabeidz programmu")
    page.fill("#indicators", "Kavējumu skaits samazinās par 20 %")
    page.fill("#publicity", "Sociālie tīkli un novada avīze")
    page.fill("#risks", "Slimības: rezerves datumi")
    _next_step(page, language, application, "budget")

    # Step 7: an amount that could mean two things is refused next to its field, the rest saved.
    page.fill("#budget_catering", BUDGET[language]["catering"])
    page.fill("#budget_trainers", AMBIGUOUS_AMOUNT)
    _submit(page, _button(page, "save"))
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href='#budget_trainers']").count() == 1
    assert page.locator("#budget_trainers").get_attribute("aria-invalid") == "true"
    assert page.locator("#budget_trainers").input_value() == AMBIGUOUS_AMOUNT, "the typed value is kept"
    assert page.locator("#budget_catering").input_value() == BUDGET[language]["catering"]
    _check(page, language, "budget with an error")
    for category, amount in BUDGET[language].items():
        page.fill(f"#budget_{category}", amount)
    total = page.locator("#budget-total").inner_text()
    assert _digits(total) == "460000", f"the live total: {total}"
    _next_step(page, language, application, "review")

    # Step 8: only the declarations are left; confirm them and submit.
    todo = page.locator("main section.notice-warning li a")
    hrefs = todo.evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert sorted(hrefs) == sorted(
        ["#declaration_truth", "#declaration_no_double_funding", "#declaration_participant_lists"]
    ), hrefs
    assert title in page.locator("main").inner_text()
    for name in ("declaration_truth", "declaration_no_double_funding", "declaration_participant_lists"):
        page.check(f"#{name}")
    _submit(page, page.locator("#application-form button[formaction$='/submit']"))
    assert _path(page) == f"{application}/submitted", (
        f"not submitted: {page.url}\n{page.locator('main').inner_text()[:1500]}"
    )
    assert page.locator(".flashes .flash-success").count() >= 1
    sha256 = page.locator("main code").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256), sha256
    assert title in page.locator("main").inner_text()
    _check(page, language, "confirmation")

    # The confirmation e-mail arrives over SMTP, with the PDF of what was submitted.
    message = _wait_for_mail(mailbox, person.email)
    assert title in str(message["Subject"]), message["Subject"]
    if language == "en":  # in the person's language (the Latvian catalogue is filled in later)
        assert str(message["Subject"]).startswith("Application received"), message["Subject"]
    assert sha256 in mailbox.text(message)
    attachments = [
        part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    assert len(attachments) == 1, [part.get_content_type() for part in message.iter_attachments()]
    data = attachments[0].get_content()
    assert data.startswith(b"%PDF"), data[:20]
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert " ".join(title.split()) in " ".join(text.split()), text[:1000]

    # Back in "My applications": submitted, nothing more to edit.
    _follow(page, page.locator("nav.main-nav a[href='/applications/']"))
    row = page.locator("main table tbody tr", has=page.locator("a", has_text=title))
    assert row.locator(f"a[href='{application}/edit/applicant']").count() == 0
    _check(page, language, "my applications after submitting")
    assert time.monotonic() - started < 90, f"the journey took {time.monotonic() - started:.0f} s"


def _wait_for_mail(mailbox, address: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = mailbox.to(address)
        if messages:
            return messages[-1]
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {address} arrived; got {[m['To'] for m in mailbox.messages]}")
