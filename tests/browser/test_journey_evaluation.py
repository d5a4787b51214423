"""Issue 5 as the committee and the coordinator do it in the browser: declare, recuse, score, consolidate,
decide, and read the protocol.

English on a 1280 px desktop, Latvian on a 360 px phone. A call in evaluation (two admitted applications,
a declared committee of three voting members and a secretary, a quota of one project) is made directly;
the third member has scored both applications beforehand, so that the quorum can be reached.

- Evaluator A goes from "My committees" to the call, states "no conflict" on application 1 and scores it
  with the keyboard only (Tab, Space and the arrow keys on the 0–3 radio groups), sees the autosave say
  "Saved at …", first submits an incomplete sheet (a 1 without its comment, a criterion unscored: each
  error is shown next to its field), completes and submits it; then does the same for application 2.
- Evaluator B recuses from application 2 with a reason, states no conflict on application 1, does not see
  the others' scores before submitting, scores and submits; then sees A's scores; application 2's scoring
  page is a 404 for B.
- The coordinator reads the progress matrix (the recusal shows), consolidates (application 1 funded,
  application 2 on the reserve list), records the council decision (a missing number is refused first),
  sees the call decided and downloads the protocol: its text holds the Latvian letters of the names and the
  title, the recusal and the averages shown on the results page.

Every page seen passes `check_page` (<html lang>, no sideways scrolling, the axe gate), error states too.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.support import check_page
from tests.browser.test_journey_programmes import Person, _flash, _follow, _log_in, _log_out, _submit, _text

pytestmark = pytest.mark.browser

# A's sheets (levels 0–3 per quality criterion, in order), B's for application 1, C's (made beforehand).
# PuMPuRS weights (maximum 30, passing at 15): A gives 23 and 16.5, B 24, C 20 and 20.
WEIGHTS = (
    Decimal("2"),
    Decimal("2"),
    Decimal("2"),
    Decimal("1.5"),
    Decimal("1"),
    Decimal("1"),
    Decimal("0.5"),
)
A_FIRST = [3, 3, 2, 1, 2, 2, 3]
A_SECOND = [2, 2, 1, 1, 2, 2, 2]
B_FIRST = [3, 2, 3, 2, 2, 2, 2]
C_LEVEL = 2
AVERAGES = (Decimal("22.33"), Decimal("18.25"))  # (23 + 24 + 20) / 3 and (16.5 + 20) / 2
SAVED = re.compile(r"^(Saved at|Saglabāts) \d{1,2}:\d{2}$")  # the autosave's own message, not the page's
RECUSAL = "Esmu biedrības valdes locekļa māsa; interešu konflikts."
DECISION_NUMBER = "Nr. 7/2026"


@dataclass(frozen=True)
class Seed:
    call_id: int
    call_title: str
    applications: tuple[int, int]
    titles: tuple[str, str]
    criteria: tuple[int, ...]  # the call's quality criteria ids, in order
    a: Person
    b: Person
    coordinator: Person
    names: dict[str, str]  # a, b, c: full names with Latvian letters


def _seed(live_server, language: str) -> Seed:
    """A call in evaluation in the live server's database; every person with their own TOTP secret (no
    code is ever replayed) and Latvian letters in their names; member C has scored both applications."""
    from portal.core.timeutil import utcnow
    from portal.evaluation.services.scoring import quality_criteria
    from portal.extensions import db
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    names = {"a": "Ārija Ķēniņa", "b": "Ģirts Šļūkums", "c": "Žanete Čīma", "coordinator": "Pēteris Kalniņš"}
    with live_server.app.app_context():
        data = factories.evaluation_call(applications=2, voting=3, projects=1, quota=1)
        call = data["call"]
        call.title = f"Jauniešu iniciatīvas čaklām rokām {tag}"
        titles = (f"Ūdens pārgājiens ar skolēniem {tag}", f"Ģitāras darbnīca jauniešiem {tag}")
        for application, title, org in zip(
            data["applications"], titles, ("Biedrība Ziemeļblāzma", "Biedrība Dzērvenīte"), strict=True
        ):
            application.title = title
            application.organisation.name = f"{org} {tag}"
            for version in application.versions:
                version.data = {**version.data, "title": title}
        people = {}
        a, b, c = data["committee"]["members"]
        for key, user in (("a", a.user), ("b", b.user), ("c", c.user), ("coordinator", data["coordinator"])):
            person = Person(f"{key}.{tag}@example.lv", factories.PASSWORD, pyotp.random_base32())
            user.email, user.full_name, user.locale = person.email, names[key], language
            user.totp_secret, user.totp_confirmed_at = person.totp_secret, utcnow()
            people[key] = person
        for member in (a, b, c):
            member.email = member.user.email
        db.session.flush()
        for application in data["applications"]:
            factories.score(c, application, C_LEVEL)
        seed = Seed(
            call_id=call.id,
            call_title=call.title,
            applications=tuple(app.id for app in data["applications"]),
            titles=titles,
            criteria=tuple(criterion.id for criterion in quality_criteria(call)),
            a=people["a"],
            b=people["b"],
            coordinator=people["coordinator"],
            names=names,
        )
        db.session.commit()
        db.session.remove()
    assert len(seed.criteria) == len(A_FIRST), "PuMPuRS has seven quality criteria"
    return seed


def _sheet(live_server, email: str, application_id: int) -> tuple[str, list[int | None]] | None:
    """(status, levels in criterion order) of the member's sheet, read from the live server's database."""
    from portal.accounts.models import User
    from portal.applications.models import Application
    from portal.evaluation import queries
    from portal.extensions import db

    with live_server.app.app_context():
        try:
            user = db.session.query(User).filter_by(email=email).one()
            call_id = db.session.get(Application, application_id).call_id
            sheet = queries.sheet(queries.member_for(user, call_id).id, application_id)
            if sheet is None:
                return None
            scores = sorted(sheet.scores, key=lambda s: s.criterion.position)
            return str(sheet.status), [s.value for s in scores]
        finally:
            db.session.remove()


def _check(page, language: str, label: str) -> None:
    """`check_page`, and the page is in the person's language."""
    lang = page.locator("html").get_attribute("lang")
    assert lang == language, f"{label}: in {lang!r}, not {language!r}: {page.url}"
    check_page(page, label)


def _path(page) -> str:
    return urlsplit(page.url).path


def _to_overview(page, language: str, seed: Seed) -> None:
    """From the main menu's "My committees" to the call's evaluation overview."""
    _follow(page, page.locator("nav.main-nav a[href='/evaluation/mine']"))
    _check(page, language, "my committees")
    _follow(page, page.locator("main table a", has_text=seed.call_title))
    assert _path(page) == f"/evaluation/calls/{seed.call_id}", page.url
    _check(page, language, "evaluation overview (member)")


def _state(page, language: str, application_id: int, statement: str, reason: str = "") -> None:
    """From the overview: the application's conflict-of-interest page, then the statement saved."""
    _follow(page, page.locator(f"main a[href='/evaluation/applications/{application_id}/conflict']"))
    _check(page, language, "conflict of interest")
    page.check(f"main [name=statement][value={statement}]")
    if reason:
        page.fill("#reason", reason)
    _submit(page)
    _flash(page)


def _press_submit(page) -> None:
    """Press "Submit the scores"; its confirmation prompt is accepted by the dialog handler."""
    _submit(page, "#scoring-form")  # the last submit button of the sheet is "Submit the scores"


def _click_levels(page, criteria, levels, comments: dict[int, str]) -> None:
    for position, (criterion, level) in enumerate(zip(criteria, levels, strict=True)):
        page.check(f"#score_{criterion}-{level}")
        if position in comments:
            page.fill(f"#comment_{criterion}", comments[position])


def _others(page) -> str:
    section = page.locator("main section.scoring-others")
    return section.inner_text() if section.count() else ""


@pytest.mark.parametrize(("device", "language"), [("desktop", "en"), ("phone", "lv")])
def test_declare_recuse_score_consolidate_decide_and_protocol(page, page_errors, live_server, language):
    started = time.monotonic()
    seed = _seed(live_server, language)
    first, second = seed.applications
    dialogs: list[str] = []

    def _dialog(dialog):
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", _dialog)

    # --- Evaluator A: no conflict on application 1, scores it with the keyboard ----------------------
    _log_in(page, seed.a)
    _check(page, language, "A logged in")
    _to_overview(page, language, seed)
    _state(page, language, first, "none")
    assert _path(page) == f"/evaluation/applications/{first}/score", page.url
    assert seed.titles[0] in _text(page, "main h1")
    _check(page, language, "scoring screen")

    # Keyboard only: from the score sheet's region, Tab reaches each 0–3 group, Space picks 0, the arrow
    # keys move up the levels; Tab goes on to the criterion's comment. A's fourth score (1) gets no comment
    # yet and the last criterion stays unscored: the sheet is incomplete.
    status = page.locator("#scoring-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    page.focus("#sheet-pane")
    active = "() => document.activeElement.id"
    with page.expect_response(
        lambda r: r.url.endswith(f"/applications/{first}/score/autosave") and r.request.method == "POST",
        timeout=20_000,
    ) as autosave:
        for criterion, level in zip(seed.criteria[:-1], A_FIRST[:-1], strict=True):
            page.keyboard.press("Tab")
            assert page.evaluate(active) == f"score_{criterion}-0", "Tab reaches the group's first level"
            page.keyboard.press("Space")
            for _ in range(level):
                page.keyboard.press("ArrowDown")
            assert page.evaluate(active) == f"score_{criterion}-{level}"
            assert page.is_checked(f"#score_{criterion}-{level}")
            page.keyboard.press("Tab")
            assert page.evaluate(active) == f"comment_{criterion}", "Tab goes on to the comment"
    assert autosave.value.status == 200, autosave.value.text()
    expect(status).to_have_text(SAVED, timeout=10_000)
    total = sum(w * level for w, level in zip(WEIGHTS, A_FIRST[:-1], strict=False))  # 21.5 so far
    shown = _text(page, "#scoring-total").replace(" ", "")
    assert Decimal(shown.replace(",", ".")) == total, f"running total {shown}"
    assert _sheet(live_server, seed.a.email, first) == ("draft", [*A_FIRST[:-1], None])
    _check(page, language, "scoring autosaved")

    # Submitting the incomplete sheet: each problem next to its field, in the summary as links.
    _press_submit(page)
    missing_comment, unscored = seed.criteria[3], seed.criteria[-1]
    summary = page.locator("#error-summary")
    assert summary.is_visible(), _text(page)[:1500]
    hrefs = summary.locator("a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert sorted(hrefs) == sorted([f"#comment_{missing_comment}", f"#score_{unscored}-0"]), hrefs
    assert page.locator(f"#comment_{missing_comment}-error").is_visible()
    assert page.locator(f"#comment_{missing_comment}").get_attribute("aria-invalid") == "true"
    assert page.locator(f"#score_{unscored}-error").is_visible()
    assert page.is_checked(f"#score_{seed.criteria[0]}-3"), "the chosen levels are kept"
    assert _sheet(live_server, seed.a.email, first)[0] == "draft", "nothing submitted"
    _check(page, language, "scoring: incomplete sheet refused")

    # Complete it (the comment typed, the last level chosen with the keyboard), wait for the autosave, submit.
    page.focus(f"#comment_{missing_comment}")
    page.keyboard.type("Riska jauniešu piesaiste aprakstīta tikai vispārīgi.")
    page.keyboard.press("Tab")
    after = seed.criteria[4]
    assert page.evaluate(active) == f"score_{after}-{A_FIRST[4]}", "Tab reaches a scored group at its level"
    page.keyboard.press("Tab")  # its comment
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the next criterion's group and comment
    page.keyboard.press("Tab")
    assert page.evaluate(active) == f"score_{unscored}-0"
    page.keyboard.press("Space")
    for _ in range(A_FIRST[-1]):
        page.keyboard.press("ArrowDown")
    expect(status).to_have_text(SAVED, timeout=10_000)
    _check(page, language, "scoring complete and autosaved")
    _press_submit(page)
    assert _path(page) == f"/evaluation/applications/{first}/score", page.url
    _flash(page)
    assert page.locator("#scoring-form").count() == 0, "the submitted sheet is locked"
    assert _sheet(live_server, seed.a.email, first) == ("submitted", A_FIRST)
    others = _others(page)
    assert seed.names["c"] in others, "C has submitted: A now sees C's scores"
    assert seed.names["b"] not in others
    _check(page, language, "scores submitted")

    # Application 2: no conflict, scored with the mouse, submitted.
    _follow(page, page.locator(f"nav.breadcrumbs a[href='/evaluation/calls/{seed.call_id}']"))
    _check(page, language, "overview after scoring application 1")
    _state(page, language, second, "none")
    _check(page, language, "scoring screen, application 2")
    _click_levels(page, seed.criteria, A_SECOND, {2: "Aktivitātes vāji saistītas ar mērķi.", 3: "Vispārīgi."})
    _press_submit(page)
    _flash(page)
    assert _sheet(live_server, seed.a.email, second) == ("submitted", A_SECOND)
    _check(page, language, "application 2 submitted")
    _log_out(page)

    # --- Evaluator B: recuses from application 2, scores application 1 ---------------------------------
    _log_in(page, seed.b)
    _to_overview(page, language, seed)
    _state(page, language, second, "recuse", RECUSAL)
    assert _path(page) == f"/evaluation/calls/{seed.call_id}", page.url
    assert page.locator(f"main a[href='/evaluation/applications/{second}/score']").count() == 0
    assert page.locator(f"main a[href='/evaluation/applications/{second}/conflict']").count() == 1
    _check(page, language, "overview after the recusal")

    _state(page, language, first, "none")
    assert _path(page) == f"/evaluation/applications/{first}/score", page.url
    main = _text(page)
    assert page.locator("main section.scoring-others").count() == 0, "no scores of others before submitting"
    assert seed.names["a"] not in main and seed.names["c"] not in main
    _check(page, language, "B's scoring screen")
    _click_levels(page, seed.criteria, B_FIRST, {})
    _press_submit(page)
    _flash(page)
    assert _sheet(live_server, seed.b.email, first) == ("submitted", B_FIRST)
    others = _others(page)
    assert seed.names["a"] in others and seed.names["c"] in others, others[:800]
    table = page.locator("main section.scoring-others table")
    headers = table.locator("thead th").all_inner_texts()
    a_column = headers.index(seed.names["a"])
    first_row = table.locator("tbody tr").first.locator(":scope > *")
    assert first_row.nth(a_column).inner_text().strip() == str(A_FIRST[0]), "A's score on criterion 1"
    assert "Riska jauniešu piesaiste aprakstīta tikai vispārīgi." in others, "A's comment"
    _check(page, language, "B sees the others' scores")

    # The application B recused from: its scoring page does not exist for B.
    response = page.goto(f"/evaluation/applications/{second}/score")
    assert response is not None and response.status == 404, response and response.status
    assert seed.titles[1] not in _text(page)
    _check(page, language, "404 for the recused member")
    page_errors[:] = [e for e in page_errors if "404" not in e]  # Chromium logs the 404 it was shown
    page.goto("/")
    _log_out(page)

    # --- The coordinator: progress, consolidation, decision, protocol ----------------------------------
    _log_in(page, seed.coordinator)
    _follow(page, page.locator("nav.main-nav a[href='/calls/manage']"))
    _check(page, language, "my calls")
    _follow(page, page.locator(f"main a[href='/calls/{seed.call_id}']"))
    _check(page, language, "the call")
    _follow(page, page.locator(f"main a[href='/evaluation/calls/{seed.call_id}']"))
    _check(page, language, "evaluation overview (coordinator)")

    _follow(page, page.locator(f"main a[href='/evaluation/calls/{seed.call_id}/progress']"))
    matrix = page.locator("main table.progress-matrix")
    headers = matrix.locator("thead th").all_inner_texts()
    row = matrix.locator("tbody tr", has=page.locator("th", has_text=seed.titles[1]))
    cells = row.locator(":scope > *")
    assert "progress-recused" in cells.nth(headers.index(seed.names["b"])).get_attribute("class")
    assert "progress-submitted" in cells.nth(headers.index(seed.names["a"])).get_attribute("class")
    assert row.locator("td.progress-recused").count() == 1
    first_row = matrix.locator("tbody tr", has=page.locator("th", has_text=seed.titles[0]))
    assert first_row.locator("td.progress-submitted").count() == 3
    _check(page, language, "progress matrix")

    _follow(page, page.locator(f"nav.breadcrumbs a[href='/evaluation/calls/{seed.call_id}']"))
    _follow(page, page.locator(f"main a[href='/evaluation/calls/{seed.call_id}/results']"))
    assert page.locator("main table.results-table").count() == 0, "nothing consolidated yet"
    assert page.locator("main .notice-warning").count() == 0, _text(page)[:1500]  # nothing in the way
    _check(page, language, "results before consolidation")
    _submit(page, f"main form[action='/evaluation/calls/{seed.call_id}/consolidate']")
    _flash(page)
    averages = []
    for application_id, rank, proposal in ((first, "1", "funded"), (second, "2", "reserve")):
        result = page.locator(f"#result-{application_id}")
        assert result.locator("td").nth(0).inner_text().strip() == rank
        assert result.locator(f".badge-{proposal}").count() == 1, result.inner_text()
        averages.append(result.locator("td").nth(1).inner_text().replace("\u00a0", " ").split()[0])
    assert [Decimal(a.replace(",", ".")) for a in averages] == list(AVERAGES), averages
    _check(page, language, "results after consolidation")

    # The decision: without a number it is refused next to the field; then recorded as proposed.
    _follow(page, page.locator(f"main a[href='/evaluation/calls/{seed.call_id}/decision']"))
    assert page.locator(f"#outcome_{first}").input_value() == "funded"
    assert page.locator(f"#outcome_{second}").input_value() == "reserve"
    _check(page, language, "decision form")
    today = datetime.now(ZoneInfo("Europe/Riga")).date().isoformat()
    decision_pdf = {"name": "lemums.pdf", "mimeType": "application/pdf", "buffer": _sample_pdf()}
    page.fill("#decided_on", today)
    page.set_input_files("#file", decision_pdf)
    _submit(page)
    assert page.locator("#error-summary a[href='#number']").count() == 1, _text(page)[:1500]
    assert page.locator("#number").get_attribute("aria-invalid") == "true"
    assert page.locator("#decided_on").input_value() == today, "the date is kept"
    _check(page, language, "decision form with an error")
    page.fill("#number", DECISION_NUMBER)
    page.set_input_files("#file", decision_pdf)  # a browser does not keep a chosen file
    _submit(page)
    assert _path(page) == f"/evaluation/calls/{seed.call_id}/results", f"not recorded: {_text(page)[:1500]}"
    _flash(page)
    assert DECISION_NUMBER.removeprefix("Nr. ") in _text(page)
    for application_id, outcome in ((first, "funded"), (second, "reserve")):
        cells = page.locator(f"#result-{application_id} td")
        for column in (6, 7, 8):  # the proposal, the decision, the application's status now
            assert cells.nth(column).locator(f".badge-{outcome}").count() == 1, cells.nth(column).inner_text()
    _check(page, language, "results after the decision")

    # The protocol: stored with its hash; its text has the names, the title, the recusal and the averages.
    with page.expect_download() as download:
        page.locator(f"main a[href='/evaluation/calls/{seed.call_id}/protocol.pdf']").click()
    data = download.value.path().read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    assert hashlib.sha256(data).hexdigest() in _text(page), "the hash shown is the file's"
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)
    members = (seed.names["a"], seed.names["b"], seed.names["c"])
    for expected in (seed.call_title, *members, *seed.titles):
        assert expected in text, f"{expected!r} not in the protocol:\n{text[:3000]}"
    assert RECUSAL in text, text[:3000]
    assert DECISION_NUMBER.removeprefix("Nr. ") in text, text[:3000]
    for average in averages:  # the protocol is in Latvian: 20,33
        latvian = average.replace(".", ",") if language == "en" else average
        assert latvian in text, f"average {latvian} not in the protocol:\n{text[:3000]}"

    # The overview now says the call is decided.
    _follow(page, page.locator(f"nav.breadcrumbs a[href='/evaluation/calls/{seed.call_id}']"))
    assert page.locator("main .lead .badge-decided").count() == 1, _text(page)[:800]
    _check(page, language, "the call decided")

    assert "beforeunload" not in dialogs, "a page was left with unsaved scores"
    assert dialogs.count("confirm") == 4, dialogs  # each "Submit the scores" asked first
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"the journey took {elapsed:.0f} s"


def _sample_pdf() -> bytes:
    from tests.factories import sample_pdf

    return sample_pdf()
