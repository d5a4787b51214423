"""QUALITY F7 in a real browser: no third-party origins, nothing of the application in web storage.

An applicant logs in, opens a draft, types into two fields until the autosave says "Saved at …" (the
page's clock is Playwright's fake clock, as in test_reliability.py: the 3 s debounce passes without
sleeping), looks at the application list, the summary and the account page, and logs out. Every request
the pages make is recorded (`page.on("request")`): all go to the live server's origin, none elsewhere.
After the autosave, localStorage and sessionStorage hold none of the typed text; at logout the portal
clears the browser's storage for its origin (a value a script left there before is gone). An evaluator
(password and TOTP) scores with a comment until the score sheet's autosave answers: the same holds.
"""

from __future__ import annotations

import random
import re
import uuid
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SAVED = re.compile(r"(Saved|Saglabāt).*\d{1,2}:\d{2}")
TITLE = "Privātuma pārbaude: jaunieši Jēkabpilī"
PLACES = "Jēkabpils, Krustpils"
DEBOUNCE_MS = 3000  # as static/js/autosave.js sets it
SCORING_DEBOUNCE_MS = 1500  # as static/js/scoring.js sets it
_STORAGE_JS = """() => {
  const dump = (s) => Object.fromEntries(
    [...Array(s.length).keys()].map((i) => [s.key(i), s.getItem(s.key(i))]));
  return {local: dump(window.localStorage), session: dump(window.sessionStorage)};
}"""


def _seed(live_server) -> tuple[int, str, str]:
    """An open call, an association with one applicant (no second factor), an empty draft of it."""
    from portal.extensions import db
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        muni = factories.municipality("0020000")
        call = factories.open_call(muni, title=f"Privātuma konkurss {tag}")
        organisation = factories.OrganisationFactory(
            name=f"Biedrība Privātums {tag}",
            reg_number=factories.valid_reg_number(random.randrange(10_000, 5_000_000)),
            email=f"org.{tag}@example.lv",
            municipality=muni,
        )
        user = factories.applicant(organisation, email=f"privacy.{tag}@example.lv")
        application, _ = factories.draft_application(call, organisation, user=user)
        seeded = application.id, user.email, factories.PASSWORD
        db.session.commit()
        db.session.remove()
    return seeded


@pytest.mark.parametrize("device", ["desktop"])
def test_no_third_party_requests_and_no_application_data_in_web_storage(context, live_server, page):
    application_id, email, password = _seed(live_server)
    context.clock.install()
    origins: list[str] = []
    page.on("request", lambda request: origins.append(_origin(request.url)))

    _log_in(page, email, password)
    step = f"/applications/{application_id}/edit/project"
    page.goto(step)
    page.locator("#title").press_sequentially(TITLE)
    page.locator("#places").press_sequentially(PLACES)
    autosave = f"/applications/{application_id}/autosave"
    with page.expect_response(lambda r: r.url.endswith(autosave) and r.request.method == "POST") as saved:
        page.clock.run_for(DEBOUNCE_MS)
    assert saved.value.status == 200, saved.value.text()
    expect(page.locator("#autosave-status")).to_have_text(SAVED)

    _assert_not_stored(page, TITLE, PLACES, "Privātuma", "Jēkabpil")

    for path in ("/applications/", f"/applications/{application_id}", "/account/settings"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path

    # Something a script (or an earlier version of the portal) left in web storage: logging out clears it.
    page.evaluate("() => { localStorage.setItem('probe', 'x'); sessionStorage.setItem('probe', 'x'); }")
    with page.expect_response(lambda r: r.url.endswith("/account/logout")) as logout:
        page.get_by_role("button", name=re.compile("Log out|Iziet")).first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/account/login"), page.url

    _assert_first_party(origins, live_server)
    after = page.evaluate(_STORAGE_JS)
    assert logout.value.all_headers().get("clear-site-data") == '"storage"'
    assert after == {"local": {}, "session": {}}, after


COMMENT = "Mērķa grupa aprakstīta skaidri, Jēkabpils jaunieši"


@pytest.mark.parametrize("device", ["desktop"])
def test_the_score_sheet_loads_nothing_from_elsewhere_and_keeps_nothing_in_web_storage(
    context, live_server, page
):
    from portal.extensions import db
    from tests import factories

    with live_server.app.app_context():
        ev = factories.evaluation_call(applications=1, voting=1)
        member, application = ev["committee"]["members"][0], ev["applications"][0]
        factories.declare(member, application)  # no conflict of interest: the sheet opens
        email, application_id = member.user.email, application.id
        db.session.commit()
        db.session.remove()
    context.clock.install()
    origins: list[str] = []
    page.on("request", lambda request: origins.append(_origin(request.url)))
    _log_in(page, email, factories.PASSWORD, totp=factories.TOTP_SECRET)

    response = page.goto(f"/evaluation/applications/{application_id}/score")
    assert response is not None and response.status == 200, page.url
    page.locator("#scoring-form input[type=radio]").first.check()
    page.locator("#scoring-form textarea").first.press_sequentially(COMMENT)
    autosave = f"/applications/{application_id}/score/autosave"
    with page.expect_response(lambda r: r.url.endswith(autosave) and r.request.method == "POST") as saved:
        page.clock.run_for(SCORING_DEBOUNCE_MS)
    assert saved.value.status == 200, saved.value.text()
    _assert_not_stored(page, COMMENT, "Mērķa grupa", "Jēkabpil")
    _assert_first_party(origins, live_server)


def _log_in(page, email: str, password: str, totp: str | None = None) -> None:
    page.goto("/account/login")
    page.fill("[name=email]", email)
    page.fill("[name=password]", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    if totp:
        page.fill("[name=code]", pyotp.TOTP(totp).now())
        with page.expect_navigation():
            page.locator("main form[action='/account/login/totp'] button[type=submit]").last.click()
    assert "/account/login" not in page.url, page.locator("main").inner_text()[:500]


def _assert_not_stored(page, *typed: str) -> None:
    """Neither localStorage nor sessionStorage holds any of the typed text (keys or values)."""
    for area, items in page.evaluate(_STORAGE_JS).items():
        text = " ".join(f"{key} {value}" for key, value in items.items())
        for piece in typed:
            assert piece not in text, f"{area}Storage holds what was typed: {items}"


def _assert_first_party(origins: list[str], live_server) -> None:
    live = _origin(live_server.url)
    assert len(origins) > 10, origins  # the requests were seen: documents, styles, scripts, autosave
    assert not [o for o in origins if o != live], f"requests to other origins: {set(origins) - {live}}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
