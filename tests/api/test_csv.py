"""The open-data CSV downloads (issue 6): UTF-8 with a BOM, `;` between values, a decimal comma, the same
rows as the JSON API, as an attachment, cacheable, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from portal.api import views
from portal.extensions import db as _db
from tests.api.support import AIZKRAUKLE, ROPAZI, api_fixture, published_call, world  # noqa: F401

API = "/api/v1"
BOM = "\ufeff".encode()


def _download(api, path):
    response = api.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    return response


def _rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(BOM), "no byte order mark: Excel would not read UTF-8"
    text = raw[len(BOM) :].decode("utf-8")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@pytest.mark.parametrize(
    ("path", "filename"),
    [
        ("projects.csv", "jip-funded-projects.csv"),
        ("calls.csv", "jip-calls.csv"),
        ("statistics.csv", "jip-statistics.csv"),
    ],
)
def test_each_download_is_a_utf8_bom_semicolon_attachment(api, db, path, filename):
    published_call("HDR")
    response = _download(api, f"{API}/{path}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    rows = _rows(response)
    assert len(rows[0]) > 5 and all(len(row) == len(rows[0]) for row in rows)
    assert api.get(f"{API}/{path}", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_projects_csv_has_one_row_per_funded_project_like_the_json(api, db):
    built = world(published=2)
    rows = _rows(_download(api, f"{API}/projects.csv"))
    header, body = rows[0], rows[1:]
    assert header == [
        "id",
        "title",
        "organisation",
        "municipality_code",
        "municipality",
        "call_id",
        "start_date",
        "end_date",
        "amount",
        "currency",
        "average",
        "rank",
        "status",
    ]
    listed = _download(api, f"{API}/projects?per_page=200").get_json()
    assert len(body) == listed["meta"]["total"] == 4
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    for item in listed["data"]:
        row = by_id[str(item["id"])]
        assert row["title"] == item["title"]
        assert row["organisation"] == item["organisation"]
        assert row["municipality_code"] == item["municipality"]["code"]
        assert row["municipality"] == item["municipality"]["name"]
        assert row["amount"] == "4600,00"  # decimal comma for Latvian spreadsheets
        assert row["average"] == item["average"].replace(".", ",")
        assert row["start_date"] == "2026-03-01"
    assert "Ropažu novads" in {row["municipality"] for row in by_id.values()}
    only = _rows(_download(api, f"{API}/projects.csv?municipality={ROPAZI}"))
    assert sorted(int(row[0]) for row in only[1:]) == sorted(a.id for a in built.published[1].funded)
    assert len(_rows(_download(api, f"{API}/projects.csv?municipality=0999999"))) == 1  # the header only


def test_calls_csv_has_one_row_per_published_call(api, db):
    built = world(published=2)
    rows = _rows(_download(api, f"{API}/calls.csv"))
    header = rows[0]
    assert header[:2] == ["id", "title"] and "decision_number" in header and "not_funded" in header
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert sorted(int(r["id"]) for r in records) == sorted(p.call.id for p in built.published)
    first = next(r for r in records if r["id"] == str(built.published[0].call.id))
    assert first["decision_number"] == "PUB0/2026"
    assert (first["received"], first["funded"], first["reserve"], first["not_funded"]) == ("5", "2", "1", "1")
    assert first["amount"] == "4600,00" and first["currency"] == "EUR"
    assert first["municipality_code"] == AIZKRAUKLE


def test_statistics_csv_has_a_row_per_municipality_and_the_national_totals(api, db):
    world(published=2)
    rows = _rows(_download(api, f"{API}/statistics.csv"))
    header, body = rows[0], rows[1:]
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert [r["municipality_code"] for r in records] == [AIZKRAUKLE, ROPAZI, "LV"]
    totals = records[-1]
    assert totals["municipality"] == "Latvija"
    assert (totals["calls"], totals["applications"], totals["funded"]) == ("2", "10", "4")
    assert totals["amount"] == "18400,00"
    assert totals["risk_share_planned"] == "10,00"


def test_small_risk_counts_are_lt5_in_the_csv_too(api, db):
    published = published_call("SMALLCSV", with_rejected=False)
    for application in published.funded:
        application.participants_risk = 2
    _db.session.flush()
    rows = _rows(_download(api, f"{API}/statistics.csv"))
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {r["participants_risk_planned"] for r in records} == {"<5"}
    assert {r["risk_share_planned"] for r in records} == {""}


def test_a_cell_that_looks_like_a_formula_is_defused(api, db):
    published = published_call("FORMULA")
    published.funded[0].organisation.name = '=HYPERLINK("https://evil.example","x")'
    published.funded[1].title = "+371 projekts"
    _db.session.flush()
    rows = _rows(_download(api, f"{API}/projects.csv"))
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("https://evil.example","x")' in cells
    assert "'+371 projekts" in cells
    assert not any(cell[:1] in ("=", "+", "@") for cell in cells)


def test_every_row_is_in_the_download_however_many_there_are(api, db, monkeypatch):
    """The downloads fetch the rows in chunks; a chunk of one row must still give them all."""
    world(published=2)
    whole = {path: _rows(_download(api, f"{API}/{path}")) for path in ("projects.csv", "calls.csv")}
    monkeypatch.setattr(views, "CSV_CHUNK", 1)
    for path, rows in whole.items():
        assert _rows(_download(api, f"{API}/{path}")) == rows
    assert len(whole["projects.csv"]) == 5 and len(whole["calls.csv"]) == 3
