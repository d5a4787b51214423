"""Issue 6 as a visitor sees it in the browser: from the published results of a call to a funded
project's page, the register of funded projects, the statistics and the embeddable view.

Latvian on a 360 px phone, English on a 1280 px desktop (switched with the header's language button).
An anonymous visitor goes from the home page to the list of published results through the main menu,
filters it by the municipality, opens the call's results (decision number and date, applications
received, the funded projects with their amounts in the page's language and average scores, the reserve
list, the not-funded count, the snippet to embed the results), follows a funded project to its page
(summary, period, amount, and a PMP-risk count of 4 shown as "<5"), finds it in the register, reads the
statistics (the municipality's row and an SVG chart with a title) and opens the embedded view directly.
A call that is decided but not published answers 404 and its title appears on no list.

The calls are built through the real evaluation path (tests/public/support.py `results_call`) in the live
server's database. Every page seen passes `check_page` (<html lang>, no sideways scrolling, the axe gate).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.browser.support import check_page

pytestmark = pytest.mark.browser

# Each run publishes in its own municipality, so the filter and the statistics row are its own.
MUNICIPALITY_CODES = {"lv": "0044000", "en": "0020000"}


@dataclass(frozen=True)
class Expected:
    """What the pages must show, computed in the live server's app with the page's locale."""

    call_id: int
    call_title: str
    municipality_code: str
    municipality: str
    decision_number: str
    decision_date: str
    received: int
    not_funded: int
    funded: list[dict]  # id, title, organisation, amount, average, period
    reserve: list[dict]  # title, organisation
    hidden_call_id: int
    hidden_title: str
    hidden_tag: str  # in the hidden call's title, its projects' titles and organisations' names
    hidden_project_ids: list[int]


def _published_and_hidden(live_server, language: str) -> Expected:
    """Create a published call (two funded, one reserve, one not funded, one rejected; each project plans
    40 participants, 4 of them at risk) and a decided but unpublished call in the same municipality."""
    from flask_babel import force_locale

    from portal.evaluation import queries
    from portal.extensions import db
    from portal.public import data
    from tests.public.support import results_call

    tag = uuid.uuid4().hex[:6].upper()
    code = MUNICIPALITY_CODES[language]
    app = live_server.app
    with app.app_context():
        published = results_call(f"P{tag}", muni_code=code)
        hidden = results_call(f"H{tag}", muni_code=code, publish=False, with_rejected=False)
        db.session.commit()
        call = published.call
        decision = data.decision_of(call)
        assert len(published.funded) == 2 and len(published.reserve) == 1 and len(published.not_funded) == 1
        for application in published.funded:
            assert application.participants_total == 40 and application.participants_risk == 4
        with app.test_request_context(), force_locale(language):
            from portal.core import i18n

            fmt = {"money": i18n.money, "number": i18n.number, "date": i18n.local_date}

            def row(application) -> dict:
                result = queries.result_for(application.id)
                return {
                    "id": application.id,
                    "title": application.title,
                    "organisation": application.organisation.name,
                    "amount": _plain(fmt["money"](call.amount)),
                    "average": _plain(fmt["number"](result.average)),
                    "start": _plain(fmt["date"](application.start_date)),
                    "end": _plain(fmt["date"](application.end_date)),
                }

            expected = Expected(
                call_id=call.id,
                call_title=call.title,
                municipality_code=code,
                municipality=call.municipality.name,
                decision_number=decision.number,
                decision_date=_plain(fmt["date"](decision.decided_on, "long")),
                received=len(published.applications),
                not_funded=len(published.not_funded),
                funded=[row(a) for a in published.funded],
                reserve=[{"title": a.title, "organisation": a.organisation.name} for a in published.reserve],
                hidden_call_id=hidden.call.id,
                hidden_title=hidden.call.title,
                hidden_tag=f"H{tag}",
                hidden_project_ids=[a.id for a in hidden.applications],
            )
        db.session.remove()
    return expected


def _plain(text: str) -> str:
    """The no-break and narrow spaces of Latvian numbers and dates as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _text(page, selector: str = "main") -> str:
    return _plain(page.locator(selector).inner_text())


def _follow(page, link) -> None:
    """Click a link and wait for the page it leads to."""
    with page.expect_navigation():
        link.click()


def _submit(page, form: str = "main form") -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").last.click()


def _facts(page) -> list[str]:
    """The values of the results summary (#results-facts), in order: municipality, programme, decision,
    received, funded, reserve, not funded, rejected."""
    return [_plain(t).strip() for t in page.locator("#results-facts dd").all_inner_texts()]


def _check_results(page, expected: Expected, language: str) -> None:
    """The call's results page: the decision, the counts, the funded projects, the reserve list."""
    assert urlsplit(page.url).path == f"/results/{expected.call_id}", page.url
    assert page.locator("main h1").inner_text() == expected.call_title
    facts = _facts(page)
    assert facts[0] == expected.municipality, facts
    assert expected.decision_number in facts[2] and expected.decision_date in facts[2], facts
    assert facts[3] == str(expected.received), facts
    assert facts[4] == str(len(expected.funded)), facts
    assert facts[5] == str(len(expected.reserve)), facts
    assert facts[6] == str(expected.not_funded), facts

    funded = page.locator("table:has(#funded-caption) tbody tr")
    assert funded.count() == len(expected.funded)
    for project in expected.funded:
        row = funded.filter(has=page.locator(f"a[href='/projects/{project['id']}']"))
        assert row.count() == 1, f"{project['title']} is not linked from the funded table"
        cells = [_plain(c).strip() for c in row.locator("td").all_inner_texts()]
        assert cells[0] == project["organisation"] and cells[1] == project["title"], cells
        assert cells[2] == expected.municipality, cells
        assert project["start"] in cells[3] and project["end"] in cells[3], cells
        assert cells[4] == project["amount"], cells
        assert cells[5] == project["average"], cells
    assert expected.funded[0]["amount"] == ("4 600,00 €" if language == "lv" else "€4,600.00")
    total = _text(page, "table:has(#funded-caption) tfoot")
    assert ("9 200,00 €" if language == "lv" else "€9,200.00") in total, total

    reserve = _text(page, "table:has(#reserve-caption) tbody")
    for project in expected.reserve:
        assert project["title"] in reserve and project["organisation"] in reserve, reserve
    for project in expected.funded:
        assert project["title"] not in reserve

    snippet = page.locator("textarea#embed-code")
    assert snippet.get_attribute("readonly") is not None
    assert page.locator("label[for=embed-code]").count() == 1
    code = snippet.input_value()
    match = re.search(r'<iframe src="([^"]+)"', code)
    assert match, code
    assert (
        match.group(1) == f"{page.url.split('/results/')[0]}/results/{expected.call_id}/embed?lang={language}"
    )


@pytest.mark.parametrize(("device", "language"), [("phone", "lv"), ("desktop", "en")])
def test_results_to_project_register_statistics_and_embed(page, page_errors, live_server, language):
    expected = _published_and_hidden(live_server, language)

    # Home, in Latvian (no cookie yet); an English speaker switches with the header's button.
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "lv"
    check_page(page, "home")
    if language == "en":
        with page.expect_navigation():
            page.locator("header form.lang-switch button[value=en]").click()
        assert urlsplit(page.url).path == "/"
        assert page.locator("html").get_attribute("lang") == "en"
        check_page(page, "home in English")

    # The list of published results, from the main menu; the unpublished call is not on it.
    _follow(page, page.locator("nav.main-nav a[href='/results/']"))
    assert page.locator("html").get_attribute("lang") == language
    check_page(page, "published results")
    assert expected.call_title in _text(page)
    assert expected.hidden_title not in page.content()

    # Filter by the municipality: only its calls, ours among them, the hidden one still absent.
    page.select_option("#filter-municipality", expected.municipality_code)
    _submit(page, "main form.filters")
    assert f"municipality={expected.municipality_code}" in page.url
    check_page(page, "published results of the municipality")
    cards = page.locator("main .card-list > li")
    assert cards.count() >= 1
    for card in cards.all():
        assert expected.municipality in card.inner_text()
    assert expected.hidden_tag not in page.content()
    link = page.locator("main .card-list a", has_text=expected.call_title)
    assert link.count() == 1
    assert link.get_attribute("href") == f"/results/{expected.call_id}"

    # The call's results.
    _follow(page, link)
    check_page(page, "call results")
    _check_results(page, expected, language)
    embed_url = re.search(r'<iframe src="([^"]+)"', page.locator("#embed-code").input_value()).group(1)

    # A funded project's page: summary, period, amount, and 4 at-risk participants shown as "<5".
    project = expected.funded[0]
    _follow(page, page.locator(f"table:has(#funded-caption) a[href='/projects/{project['id']}']"))
    assert urlsplit(page.url).path == f"/projects/{project['id']}"
    check_page(page, "funded project")
    assert page.locator("main h1").inner_text() == project["title"]
    summary = _text(page, "main dl.summary-list >> nth=0")
    for value in (project["organisation"], expected.municipality, expected.call_title, project["amount"]):
        assert value in summary, (value, summary)
    assert project["start"] in summary and project["end"] in summary, summary
    assert project["average"] in summary, summary
    plan = page.locator("main dl.summary-list").nth(1)
    assert plan.locator("dd").nth(2).inner_text().strip() == "40"
    risk = plan.locator("dd").nth(3)
    assert risk.inner_text().strip() == "<5"
    assert risk.locator("abbr[title]").count() == 1
    assert "10" not in plan.locator("dd").nth(4).inner_text(), "the share would give the count away"
    assert page.locator(f"main a[href='/results/{expected.call_id}']").count() == 1

    # The register of funded projects lists it.
    _follow(page, page.locator("nav.main-nav a[href='/projects/']"))
    check_page(page, "register of funded projects")
    listed = page.locator(
        "table:has(#projects-caption) tbody tr", has=page.locator(f"a[href='/projects/{project['id']}']")
    )
    assert listed.count() == 1
    assert project["organisation"] in listed.inner_text()
    assert project["amount"] in _plain(listed.inner_text())
    for hidden_id in expected.hidden_project_ids:
        assert page.locator(f"main a[href='/projects/{hidden_id}']").count() == 0
    assert expected.hidden_tag not in page.content()

    # The statistics: the municipality's row and a chart a person can read (an SVG image with a title).
    _follow(page, page.locator("nav.main-nav a[href='/statistics']"))
    check_page(page, "statistics")
    row = page.locator(
        "table:has(#statistics-caption) tbody tr", has=page.locator("th", has_text=expected.municipality)
    )
    assert row.count() == 1
    cells = [_plain(c).strip() for c in row.locator("td").all_inner_texts()]
    assert int(cells[0]) >= 1 and int(cells[2]) >= len(expected.funded), cells
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() >= 1
    chart = charts.first
    assert chart.is_visible()
    assert chart.locator("title").text_content().strip()
    assert chart.get_attribute("aria-labelledby")
    assert expected.municipality in chart.text_content()

    # The embeddable view, opened directly as a municipality's website frames it.
    response = page.goto(embed_url)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == language
    check_page(page, "embedded results")
    assert page.locator("header, nav, footer").count() == 0, "no portal chrome in the embedded view"
    assert expected.call_title in page.locator("main h1").inner_text()
    assert _facts(page)[3] == str(expected.received)
    embedded = page.locator("table:has(#funded-caption) tbody")
    assert project["amount"] in _plain(embedded.inner_text())
    assert embedded.locator(f"a[target=_blank][href$='/projects/{project['id']}']").count() == 1

    # A decided but unpublished call: its results (and embed, and projects) are not found.
    for path in (
        f"/results/{expected.hidden_call_id}",
        f"/results/{expected.hidden_call_id}/embed",
        f"/projects/{expected.hidden_project_ids[0]}",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, f"{path}: {response and response.status}"
        assert expected.hidden_title not in page.content()
    page.goto(f"/results/{expected.hidden_call_id}")
    assert page.locator("html").get_attribute("lang") == language
    check_page(page, "unpublished results: not found")
    # Chromium reports each 404 it was shown in the console; those were expected.
    page_errors[:] = [e for e in page_errors if "404" not in e]
