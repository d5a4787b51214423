"""QUALITY H1 and H2 in a real browser: what the autosave script (static/js/autosave.js, wired by
static/js/application-form.js) keeps when the browser dies, when the session ends while the person types,
and when two people edit the same draft.

The page's clock is Playwright's fake clock (`context.clock.install()`): the debounce (3 s), the longest
wait while typing goes on (10 s) and the poll for a fresh token after a lost session (5 s) pass when the
test says so, without sleeping. The requests themselves are real, to the live server.

1. The browser is killed mid-typing after typing 45 characters, one a second, without a pause: the script
   saved while typing went on (never a 3 s pause, so only the 10 s maximum wait made it save), and a new
   browser that logs in finds everything up to the last acknowledged save: at most the last ≤ 30 s lost.
2. The server-side session ends while the person types: the page says so (the login notice), keeps typing
   in memory, and once the person logs in again in another tab the script saves by itself: 0 characters
   lost.
3. Two members of the organisation edit the same step: the second save gets the conflict notice with a
   reload link, the database keeps the first change, and the reload shows it.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import DEVICES, TIMEOUT_MS

pytestmark = pytest.mark.browser

SAVED = re.compile(r"(Saved|Saglabāt).*\d{1,2}:\d{2}")
TEXT = "Skolas sols: jaunieši māca jauniešus Aizkrauklē"  # 47 characters (ā, ē, ū: not only ASCII)
DEBOUNCE_MS, MAX_WAIT_MS, AUTH_POLL_MS = 3000, 10_000, 5000  # as static/js/autosave.js sets them


@dataclass(frozen=True)
class Draft:
    application_id: int
    emails: tuple[str, ...]
    password: str

    @property
    def step(self) -> str:
        return f"/applications/{self.application_id}/edit/project"

    @property
    def autosave(self) -> str:
        return f"/applications/{self.application_id}/autosave"


def _seed(live_server, members: int = 1) -> Draft:
    """In the live server's database: an open call, an association with `members` applicant members
    (no second factor) and an empty draft application of it."""
    from portal.core.enums import Role
    from portal.extensions import db
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        muni = factories.municipality("0020000")
        call = factories.open_call(muni, title=f"Uzticamības pārbaude {tag}")
        organisation = factories.OrganisationFactory(
            name=f"Biedrība Noturība {tag}",
            reg_number=factories.valid_reg_number(random.randrange(10_000, 5_000_000)),
            email=f"org.{tag}@example.lv",
            municipality=muni,
        )
        users = [factories.applicant(organisation, email=f"ngo.{tag}@example.lv")]
        for n in range(1, members):
            user = factories.UserFactory(email=f"ngo{n}.{tag}@example.lv")
            factories.membership(user, Role.APPLICANT, organisation=organisation, representative=False)
            users.append(user)
        application, _ = factories.draft_application(call, organisation, user=users[0])
        draft = Draft(application.id, tuple(u.email for u in users), factories.PASSWORD)
        db.session.commit()
        db.session.remove()
    return draft


def _stored(live_server, draft: Draft) -> dict:
    from portal.applications.models import Application
    from portal.extensions import db

    with live_server.app.app_context():
        row = db.session.execute(
            sa.select(Application.title, Application.places, Application.lock_version).where(
                Application.id == draft.application_id
            )
        ).one()
        db.session.remove()
    return {"title": row.title or "", "places": row.places or "", "lock_version": row.lock_version}


def _end_sessions(live_server, email: str) -> int:
    """The server ends the person's sessions (as the idle timeout, a logout elsewhere or an admin does)."""
    from portal.accounts.models import User, UserSession
    from portal.extensions import db

    with live_server.app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
        ended = db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user_id)).rowcount
        db.session.commit()
        db.session.remove()
    return ended


def _watch(page, page_errors: list[str]) -> None:
    """Fail the test on console errors of a page the test opened itself (as the `page` fixture does)."""

    def _console(msg):
        if msg.type == "error":
            page_errors.append(f"console error: {msg.text}")

    page.on("console", _console)
    page.on("pageerror", lambda exc: page_errors.append(f"page error: {exc}"))


def _expected_refusal(page_errors: list[str], status: int) -> None:
    """The browser logs a refused fetch ("Failed to load resource ... status of 401") as a console error:
    here it is the behaviour under test, so only those entries are taken back (at the end of the test:
    the console event may arrive after the response)."""
    for entry in [e for e in page_errors if f"status of {status}" in e]:
        page_errors.remove(entry)


def _log_in(page, email: str, password: str) -> None:
    page.goto("/account/login")
    page.fill("[name=email]", email)
    page.fill("[name=password]", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    assert not page.url.endswith("/account/login"), page.locator("main").inner_text()[:500]


def _is_autosave(draft: Draft):
    return lambda r: r.url.endswith(draft.autosave) and r.request.method == "POST"


def _save_now(page, draft: Draft, wait_ms: int = DEBOUNCE_MS):
    """Let the page's clock run past the debounce; return the autosave's response."""
    with page.expect_response(_is_autosave(draft), timeout=TIMEOUT_MS) as response:
        page.clock.run_for(wait_ms)
    return response.value


@pytest.mark.parametrize("device", ["desktop"])
def test_a_browser_killed_mid_typing_loses_at_most_the_last_seconds(browser, live_server, page, page_errors):
    draft = _seed(live_server)
    crashing = browser.new_context(base_url=live_server.url, **DEVICES["desktop"])
    crashing.set_default_timeout(TIMEOUT_MS)
    crashing.clock.install()
    tab = crashing.new_page()
    _watch(tab, page_errors)
    sent: list[str] = []  # the title of every autosave request, in order
    acknowledged: list[str] = []  # ... and of every one the server answered 200

    def _sent(request):
        if request.url.endswith(draft.autosave) and request.method == "POST":
            sent.append(request.post_data_json["values"]["title"])

    def _answered(response):
        if _is_autosave(draft)(response) and response.status == 200:
            acknowledged.append(response.request.post_data_json["values"]["title"])

    tab.on("request", _sent)
    tab.on("response", _answered)
    _log_in(tab, draft.emails[0], draft.password)
    tab.goto(draft.step)
    title = tab.locator("#title")
    title.click()
    for char in TEXT:  # one character a second, never a pause long enough for the debounce
        tab.keyboard.type(char)
        tab.clock.run_for(1000)
    expect(tab.locator("#autosave-status")).to_have_text(SAVED)  # the save under way has been answered
    assert len(sent) >= len(TEXT) // (MAX_WAIT_MS // 1000) - 1, sent  # it saved while typing went on
    assert acknowledged and acknowledged[-1] == sent[-1], (sent, acknowledged)
    last = acknowledged[-1]
    assert TEXT.startswith(last) and len(TEXT) - len(last) <= MAX_WAIT_MS // 1000, last
    tab.keyboard.type(" 2027")  # still typing when the browser dies
    crashing.close()  # killed: nothing waits for the page

    # A new browser: log in, open the draft. Everything up to the last acknowledged save is there; at most
    # the typing after it is lost (the script's save as the page went away may have rescued that too, and
    # may land a moment after the browser is gone), never a mix.
    kept = (last, TEXT, TEXT + " 2027")
    _log_in(page, draft.emails[0], draft.password)
    page.goto(draft.step)
    shown = page.locator("#title").input_value()
    assert shown in kept, shown
    assert len(kept[-1]) - len(shown) <= 30, f"{len(kept[-1]) - len(shown)} s of typing lost"
    assert _stored(live_server, draft)["title"] in kept


@pytest.mark.parametrize("device", ["desktop"])
def test_a_session_ending_while_typing_loses_nothing_after_logging_in_again(
    context, live_server, page, page_errors
):
    draft = _seed(live_server)
    context.clock.install()
    _log_in(page, draft.emails[0], draft.password)
    page.goto(draft.step)
    page.locator("#title").press_sequentially(TEXT)
    assert _save_now(page, draft).status == 200
    status = page.locator("#autosave-status")
    expect(status).to_have_text(SAVED)

    # The server ends the session; the person goes on typing: the next save is refused (401).
    assert _end_sessions(live_server, draft.emails[0]) >= 1
    places = page.locator("#places")
    places.press_sequentially("Aizkraukle, ")
    assert _save_now(page, draft).status == 401
    notice = page.locator("#autosave-login")
    expect(notice).to_be_visible()
    assert "logged out" in notice.inner_text()
    assert notice.locator("a[target=_blank][href^='/account/login']").count() == 1
    places.press_sequentially("Koknese, Skrīveri")  # typing goes on; kept on the page
    page.clock.run_for(DEBOUNCE_MS)  # no save is attempted with a lost session

    # The person logs in again in another tab of the same browser, then comes back: the script finds the
    # new session (it asks every 5 s) and saves what was kept.
    other = context.new_page()
    _watch(other, page_errors)
    _log_in(other, draft.emails[0], draft.password)
    other.close()
    response = _save_now(page, draft, AUTH_POLL_MS)
    assert response.status == 200, response.text()
    expect(status).to_have_text(SAVED)
    expect(notice).to_be_hidden()
    stored = _stored(live_server, draft)
    assert (stored["title"], stored["places"]) == (TEXT, "Aizkraukle, Koknese, Skrīveri"), stored
    _expected_refusal(page_errors, 401)


@pytest.mark.parametrize("device", ["desktop"])
def test_two_members_editing_the_same_step_the_second_save_is_a_conflict(
    browser, context, live_server, page, page_errors
):
    draft = _seed(live_server, members=2)
    context.clock.install()
    second = browser.new_context(base_url=live_server.url, **DEVICES["desktop"])
    second.set_default_timeout(TIMEOUT_MS)
    try:
        second.clock.install()
        other = second.new_page()
        _watch(other, page_errors)
        _log_in(page, draft.emails[0], draft.password)
        _log_in(other, draft.emails[1], draft.password)
        page.goto(draft.step)
        other.goto(draft.step)  # both pages hold the same version

        page.locator("#title").press_sequentially("Pirmā maiņa")
        assert _save_now(page, draft).status == 200
        other.locator("#title").press_sequentially("Otrā maiņa")
        assert _save_now(other, draft).status == 409

        conflict = other.locator("#autosave-conflict")
        expect(conflict).to_be_visible()
        assert "changed in another window or by another member" in conflict.inner_text()
        assert "Pirmā maiņa" in other.locator("#autosave-conflict-fields").inner_text()
        assert other.locator("#title").input_value() == "Otrā maiņa"  # the typing is still on the page
        assert _stored(live_server, draft)["title"] == "Pirmā maiņa"  # the first change is kept

        reload = conflict.locator(f"a[href='{draft.step}']")
        with other.expect_navigation():
            reload.click()
        assert other.locator("#title").input_value() == "Pirmā maiņa"
        assert _stored(live_server, draft)["title"] == "Pirmā maiņa"
        _expected_refusal(page_errors, 409)
    finally:
        second.close()
