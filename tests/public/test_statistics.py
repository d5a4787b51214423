"""Public statistics (issue 6): per municipality and national totals of published results, an inline SVG
bar chart with the same numbers as the table, filters, and small counts shown as "<5"."""

from __future__ import annotations

import pytest

from portal.extensions import db as _db
from portal.public.statistics import bar_chart
from tests.helpers import Page, browser_client
from tests.public.support import SECRETS, results_call

LIGHT = {"with_rejected": False, "scores": ([3, 3, 3], [2, 2, 2])}  # two funded projects, nothing else


@pytest.fixture()
def client(app, db):
    return browser_client(app)


def text(response) -> str:
    return response.get_data(as_text=True)


def table_rows(page: Page) -> dict[str, list[str]]:
    """The statistics table: {row header: [cells]} (the national totals under "Latvia in total")."""
    table = page.by_id("statistics-caption").parent
    rows = {}
    for tr in page.find("tr"):
        if table not in tr.parents():
            continue
        header = [e for e in page.find("th") if e.parent is tr and e.get("scope") == "row"]
        if header:
            rows[header[0].text.strip()] = [e.text.strip() for e in page.find("td") if e.parent is tr]
    return rows


def test_statistics_per_municipality_and_national_totals(client, db):
    results_call("ALFA")  # 5 received, 2 funded
    results_call("GAMMA", muni_code="0044000", **LIGHT)  # 2 received, 2 funded
    results_call("BETA", publish=False, muni_code="0044000", **LIGHT)  # decided, not published
    response = client.get("/statistics")
    assert response.status_code == 200
    html = text(response)
    page = Page(html)
    rows = table_rows(page)
    # calls, applications, funded, amount, planned participants, at risk, share
    assert rows["Aizkraukles novads"] == ["1", "5", "2", "€9,200.00", "80", "8", "10%"]
    assert rows["Ropažu novads"] == ["1", "2", "2", "€9,200.00", "80", "8", "10%"]
    assert rows["Latvia in total"] == ["2", "7", "4", "€18,400.00", "160", "16", "10%"]
    assert "Shown after the final reports are approved" in html  # actual participants come later
    for secret in [*SECRETS, "BETA"]:
        assert secret not in html


def test_the_chart_is_an_accessible_inline_svg_with_the_tables_numbers(client, db):
    results_call("ALFA")
    results_call("GAMMA", muni_code="0044000", **LIGHT)
    html = text(client.get("/statistics"))
    page = Page(html)
    svgs = page.find("svg")
    assert len(svgs) == 2
    for svg in svgs:
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
        assert page.by_id(title_id).tag == "title" and page.by_id(title_id).text.strip()
        assert page.by_id(desc_id).tag == "desc" and "table" in page.by_id(desc_id).text
        bars = [e for e in page.find("rect") if svg in e.parents()]
        assert len(bars) == 2  # one bar per municipality in the table
        labels = [e.text for e in page.find("text") if svg in e.parents()]
        assert "Aizkraukles novads" in labels and "Ropažu novads" in labels
        assert all(e.get("fill") == "#1d4f91" for e in bars)  # 8.1:1 on white
    amounts = [e.text for e in page.find("text") if svgs[0] in e.parents()]
    assert amounts.count("€9,200.00") == 2
    main = html.split("<main", 1)[1]
    assert "<script" not in main and " style=" not in main  # no script or inline style (strict CSP)


def test_statistics_filter_by_round_and_programme(client, db):
    alfa = results_call("ALFA")
    results_call("GAMMA", muni_code="0044000", **LIGHT)
    rows = table_rows(Page(text(client.get(f"/statistics?round={alfa.call.round.number}"))))
    assert set(rows) == {"Aizkraukles novads", "Latvia in total"}
    rows = table_rows(Page(text(client.get(f"/statistics?programme={alfa.call.programme.code}"))))
    assert set(rows) == {"Aizkraukles novads", "Ropažu novads", "Latvia in total"}
    rows = table_rows(Page(text(client.get("/statistics?round=99"))))  # not on offer: ignored
    assert set(rows) == {"Aizkraukles novads", "Ropažu novads", "Latvia in total"}


def test_small_counts_of_participants_at_risk_are_shown_as_fewer_than_five(client, db):
    gamma = results_call("GAMMA", muni_code="0044000", **LIGHT)
    gamma.funded[0].participants_risk, gamma.funded[1].participants_risk = 1, 2
    _db.session.flush()
    rows = table_rows(Page(text(client.get("/statistics"))))
    assert rows["Ropažu novads"][5:] == ["<5", "not shown"]
    assert rows["Latvia in total"][5:] == ["<5", "not shown"]


def test_statistics_without_published_results(client, db):
    results_call("BETA", publish=False, **LIGHT)
    html = text(client.get("/statistics"))
    assert "No municipality has published results yet." in html
    assert "<svg" not in html and "BETA" not in html


def test_bar_lengths_are_proportional_to_the_values():
    rows = [
        {"municipality": "A", "funded": 4},
        {"municipality": "B", "funded": 1},
        {"municipality": "C", "funded": 0},
    ]
    chart = bar_chart("funded", rows, "funded")
    assert [b.width for b in chart.bars] == [200.0, 50.0, 0.0]
    assert [b.label for b in chart.bars] == ["A", "B", "C"]
    assert chart.height > chart.bars[-1].y
    assert bar_chart("funded", [], "funded") is None
    assert bar_chart("funded", [{"municipality": "A", "funded": 0}], "funded").bars[0].width == 0.0
