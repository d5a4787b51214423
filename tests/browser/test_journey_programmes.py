"""Issue 3 as people do it in the browser: a national administrator sets up a programme, a round and
its quotas; a coordinator reads their municipality's quota and nothing else.

Latvian on a 360 px phone, English on a 1280 px desktop. The administrator logs in with the second
factor, starts a programme from PuMPuRS, fixes a wrong amount (0) in its rules, opens a round, uploads a
broken pupil-count file (the report names the lines) and then a good one (`;`-separated UTF-8 with a BOM,
as spreadsheets save it), computes the quotas, changes one by hand (the reason is required), and reads
the national dashboard: the table, the SVG chart and the CSV and XLSX downloads. The coordinator of
Aizkraukles novads then sees that quota, read-only, and gets 404 for another municipality's quota, the
round and the dashboard.

Every page seen passes `check_page` (<html lang>, no sideways scrolling, the axe gate), error states too.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest

from tests.browser.support import check_page

pytestmark = pytest.mark.browser

OUR_MUNICIPALITY = "Aizkraukles novads"  # 0020000: the coordinator's
OTHER_MUNICIPALITY = "Ropažu novads"  # 0044000
ROUND_PROJECTS = 10
# Line 2 names no municipality, line 3 has no number, line 4 repeats line 1's municipality.
BAD_CSV = "Aizkraukles novads;2100\nNekurienes novads;300\nRopažu novads;daudz\n0020000;50\n".encode()
# What a spreadsheet saves as "CSV UTF-8" with Latvian settings: a BOM, semicolons, a header line.
GOOD_CSV = "\ufeffpašvaldība;skolēni\nAizkraukles novads;2100\nRopažu novads;3900\n0054000;1500\n".encode()


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    totp_secret: str


def _people(live_server, language: str) -> tuple[Person, Person]:
    """Create a national administrator and a coordinator of Aizkraukles novads, both with their own TOTP
    secret (so no code is ever replayed), in the live server's database; make sure PuMPuRS exists (as
    `flask programmes seed` does on a real installation)."""
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.programmes.services import ensure_pumpurs_programme
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    admin = Person(f"admin.{tag}@example.lv", factories.PASSWORD, pyotp.random_base32())
    coordinator = Person(f"koordinators.{tag}@example.lv", factories.PASSWORD, pyotp.random_base32())
    with live_server.app.app_context():
        ensure_pumpurs_programme()
        factories.national_admin(
            email=admin.email,
            full_name="Ilze Ozola",
            locale=language,
            totp_secret=admin.totp_secret,
            totp_confirmed_at=utcnow(),
        )
        factories.coordinator(
            factories.municipality("0020000"),
            email=coordinator.email,
            full_name="Pēteris Kalniņš",
            locale=language,
            totp_secret=coordinator.totp_secret,
            totp_confirmed_at=utcnow(),
        )
        db.session.commit()
        db.session.remove()
    return admin, coordinator


def _submit(page, form: str = "main form") -> None:
    """Press the form's (last) submit button and wait for the page that answers."""
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").last.click()


def _follow(page, link) -> None:
    """Click a link and wait for the page it leads to."""
    with page.expect_navigation():
        link.click()


def _text(page, selector: str = "main") -> str:
    """The visible text, with the no-break and narrow spaces of Latvian numbers as plain spaces."""
    return page.locator(selector).inner_text().replace("\u00a0", " ").replace("\u202f", " ")


def _log_in(page, person: Person) -> None:
    page.goto("/account/login")
    page.fill("[name=email]", person.email)
    page.fill("[name=password]", person.password)
    _submit(page)
    assert urlsplit(page.url).path == "/account/login/totp", f"no second step: {page.url}"
    check_page(page, "two-step login")
    page.fill("[name=code]", pyotp.TOTP(person.totp_secret).now())
    _submit(page, "main form[action='/account/login/totp']")  # the other form cancels the login
    assert not urlsplit(page.url).path.startswith("/account/login"), f"still logging in: {page.url}"


def _log_out(page) -> None:
    _follow(page, page.locator("header form[action='/account/logout'] button[type=submit]"))
    assert page.locator("header a[href='/account/login']").count() == 1


def _flash(page, category: str = "success") -> str:
    flash = page.locator(f".flashes .flash-{category}")
    assert flash.count() >= 1, f"no {category} message on {page.url}: {_text(page)[:500]}"
    return flash.first.inner_text()


def _quota_row(page, municipality: str):
    return page.locator("table:has(#quotas-caption) tbody tr", has=page.locator("th", has_text=municipality))


@pytest.mark.parametrize(("device", "language"), [("phone", "lv"), ("desktop", "en")])
def test_programme_round_quotas_dashboard_and_coordinator(page, page_errors, live_server, language):
    admin, coordinator = _people(live_server, language)
    tag = admin.email.split(".")[1].split("@")[0]
    name_lv, name_en = f"Jauniešu iniciatīvas {tag}", f"Youth initiatives {tag}"
    our_name = name_lv if language == "lv" else name_en

    # The administrator logs in (an English speaker switches the language first) with the second factor.
    page.goto("/account/login")
    if language == "en":
        with page.expect_navigation():
            page.locator("header form.lang-switch button[value=en]").click()
    assert page.locator("html").get_attribute("lang") == language
    check_page(page, "login")
    _log_in(page, admin)
    assert page.locator("html").get_attribute("lang") == language

    # The programme list, from the main menu; PuMPuRS is there.
    _follow(page, page.locator("nav.main-nav a[href='/programmes/']"))
    check_page(page, "programmes")
    pumpurs = page.locator("main table tbody tr", has=page.locator("code", has_text="pumpurs-jip"))
    assert pumpurs.count() == 1
    _follow(page, pumpurs.locator("a").first)
    check_page(page, "PuMPuRS")
    assert page.locator("table:has(#criteria-caption) tbody tr").count() >= 5, "PuMPuRS has its criteria"

    # A new programme based on PuMPuRS: its rules are filled in from it; the code and names are new.
    _follow(page, page.locator("main a[href*='/programmes/new?from=']"))
    check_page(page, "new programme")
    page.fill("[name=code]", f"jip-{tag}")
    page.fill("[name=name_lv]", name_lv)
    page.fill("[name=name_en]", name_en)
    _submit(page)
    assert re.fullmatch(r"/programmes/\d+", urlsplit(page.url).path), f"not on the programme: {page.url}"
    _flash(page)
    assert page.locator("h1").inner_text() == our_name
    check_page(page, "new programme created")

    # Edit the rules: an amount of 0 is refused next to the field, the typed value kept; then saved.
    _follow(page, page.locator("main a[href$='/edit']").first)
    check_page(page, "edit the rules")
    page.fill("[name=amount]", "0")
    _submit(page)
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#error-summary a[href='#amount']").count() == 1
    assert page.locator("#amount").get_attribute("aria-invalid") == "true"
    assert page.locator("#amount").input_value() == "0"
    check_page(page, "edit the rules with errors")
    page.fill("[name=amount]", "5 000,00" if language == "lv" else "5000.00")
    _submit(page)
    assert re.fullmatch(r"/programmes/\d+", urlsplit(page.url).path), f"not saved: {page.url}"
    _flash(page)
    assert ("5 000,00 €" if language == "lv" else "€5,000.00") in _text(page), _text(page)[:800]
    check_page(page, "rules saved")

    # A new round of 10 projects (its number is offered: 1).
    _follow(page, page.locator("main a[href$='/rounds/new']"))
    check_page(page, "new round")
    assert page.locator("[name=number]").input_value() == "1"
    page.check("[name=target][value=projects]")
    page.fill("[name=projects]", str(ROUND_PROJECTS))
    page.fill("[name=period_start]", "2026-09-01")
    page.fill("[name=period_end]", "2027-06-30")
    _submit(page)
    match = re.fullmatch(r"/programmes/rounds/(\d+)", urlsplit(page.url).path)
    assert match, f"not on the round: {page.url}"
    round_id = match.group(1)
    _flash(page)
    check_page(page, "round")
    assert page.locator("main form[action$='/quotas/compute']").count() == 0, "nothing to compute from yet"

    # Pupil counts: a broken file is refused with a report line by line, and nothing is stored.
    _follow(page, page.locator(f"main a[href='/programmes/rounds/{round_id}/pupil-counts']"))
    check_page(page, "upload pupil counts")
    page.set_input_files("[name=file]", {"name": "skoleni.csv", "mimeType": "text/csv", "buffer": BAD_CSV})
    _submit(page)
    assert urlsplit(page.url).path == f"/programmes/rounds/{round_id}/pupil-counts"
    report = page.locator("#error-summary")
    assert report.is_visible()
    lines = report.locator("li").all_inner_texts()
    assert len(lines) == 3, lines
    for number, words in ((2, "Nekurienes novads"), (3, "daudz"), (4, "0020000")):
        line = next((line for line in lines if words in line), "")
        assert re.search(rf"\b{number}\b", line.split(":")[0]), f"line {number} ({words}) not named: {lines}"
    check_page(page, "upload pupil counts with errors")

    # The good file: semicolons, UTF-8 with a BOM, a header line, a name with ž and an ATVK code.
    page.set_input_files("[name=file]", {"name": "skoleni.csv", "mimeType": "text/csv", "buffer": GOOD_CSV})
    _submit(page)
    assert urlsplit(page.url).path == f"/programmes/rounds/{round_id}", f"not imported: {page.url}"
    _flash(page)
    counts = page.locator("table:has(#counts-caption) tbody tr")
    assert counts.count() == 3
    assert OTHER_MUNICIPALITY in _text(page, "table:has(#counts-caption)")
    check_page(page, "pupil counts imported")

    # Compute the quotas: one project each, the rest by pupils; together the round's 10 projects.
    _follow(page, page.locator("main form[action$='/quotas/compute'] button[type=submit]"))
    _flash(page)
    rows = page.locator("table:has(#quotas-caption) tbody tr")
    assert rows.count() == 3
    quotas = [int(v) for v in rows.locator("td:nth-child(4)").all_inner_texts()]
    assert sum(quotas) == ROUND_PROJECTS and min(quotas) >= 1, quotas
    check_page(page, "quotas computed")
    ours = _quota_row(page, OUR_MUNICIPALITY)
    computed = int(ours.locator("td:nth-child(4)").inner_text())
    other_quota_path = _quota_row(page, OTHER_MUNICIPALITY).locator("a").get_attribute("href")

    # Change one quota by hand: without a reason it is refused, the new number kept; then it is saved.
    _follow(page, ours.locator("a"))
    check_page(page, "quota")
    new_quota = computed + 1
    page.fill("[name=quota]", str(new_quota))
    _submit(page)
    assert page.locator("#error-summary a[href='#reason']").count() == 1
    assert page.locator("#reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#quota").input_value() == str(new_quota)
    check_page(page, "quota change without a reason")
    reason = "Papildu projekts pēc novada lūguma" if language == "lv" else "One more project on request"
    page.fill("[name=reason]", reason)
    _submit(page)
    assert urlsplit(page.url).path == f"/programmes/rounds/{round_id}", f"not changed: {page.url}"
    _flash(page)
    ours = _quota_row(page, OUR_MUNICIPALITY)
    assert ours.locator("td:nth-child(4) strong").inner_text() == str(new_quota)
    assert ours.locator("td:nth-child(3)").inner_text() == str(computed), "the computed quota stays"
    assert reason in ours.inner_text()
    check_page(page, "quota changed")

    # The national dashboard: choose the round, read the table and the chart, download CSV and XLSX.
    _follow(page, page.locator("nav.main-nav a[href='/programmes/dashboard']"))
    check_page(page, "national dashboard")
    page.select_option("select[name=round]", round_id)
    _submit(page, "main form.filters")
    assert f"round={round_id}" in page.url
    assert our_name in page.locator("main h2").first.inner_text()
    table = page.locator("main table[data-sortable] tbody tr")
    assert table.count() == 3
    assert str(new_quota) in table.filter(has=page.locator("th", has_text=OUR_MUNICIPALITY)).inner_text()
    chart = page.locator("figure.chart svg[role=img]")
    assert chart.is_visible()
    assert chart.locator("rect").count() == 3
    assert chart.locator("title").text_content().strip()
    check_page(page, "national dashboard for the round")

    with page.expect_download() as csv_download:
        page.locator(f"main a[href^='/programmes/dashboard/{round_id}.csv']").click()
    csv_text = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    assert csv_download.value.suggested_filename.endswith(".csv")
    assert OUR_MUNICIPALITY in csv_text and OTHER_MUNICIPALITY in csv_text, csv_text
    with page.expect_download() as xlsx_download:
        page.locator(f"main a[href^='/programmes/dashboard/{round_id}.xlsx']").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    assert Path(xlsx_download.value.path()).read_bytes()[:2] == b"PK", "an XLSX file is a ZIP package"

    _log_out(page)
    check_page(page, "logged out")

    # The coordinator: their municipality's quota, from the main menu, read-only.
    _log_in(page, coordinator)
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("nav.main-nav a[href='/programmes/']").count() == 0
    assert page.locator("nav.main-nav a[href='/programmes/dashboard']").count() == 0
    _follow(page, page.locator("nav.main-nav a[href='/programmes/my-quota']"))
    check_page(page, "my municipality's quota")
    mine = page.locator("main table tbody tr", has=page.locator("th", has_text=our_name))
    assert mine.count() == 1, _text(page)[:800]
    assert OUR_MUNICIPALITY in mine.inner_text()
    assert mine.locator("td:nth-child(5)").inner_text() == str(new_quota)
    assert OTHER_MUNICIPALITY not in _text(page)
    assert page.locator("main form, main input, main select, main textarea, main button").count() == 0

    _follow(page, mine.locator("a"))
    check_page(page, "quota details for the coordinator")
    assert reason in _text(page)
    assert page.locator("main form, main input, main select, main textarea, main button").count() == 0

    # Nobody else's quota, and none of the administrator's pages: 404, as if they did not exist.
    for path in (other_quota_path, f"/programmes/rounds/{round_id}", "/programmes/dashboard"):
        response = page.goto(path)
        assert response is not None and response.status == 404, f"{path}: {response and response.status}"
    check_page(page, "not found")
    # Chromium reports each 404 it was shown in the console; those three were expected.
    page_errors[:] = [e for e in page_errors if "404" not in e]
