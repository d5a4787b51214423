"""The national dashboard's aggregation, sorting, chart layout and exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.municipalities.models import Municipality
from portal.programmes import dashboard as dash
from portal.programmes import services
from tests.factories import national_admin
from tests.helpers import count_queries

THREE = "municipality;pupils\nAizkraukles novads;2100\nRopažu novads;3900\nRīga;52000\n".encode()


@pytest.fixture()
def admin(db):
    return national_admin()


@pytest.fixture()
def programme(db):
    return services.ensure_pumpurs_programme()


def _round(programme, admin, number: int, data: bytes, projects: int):
    rnd = services.create_round(
        programme,
        actor=admin,
        number=number,
        projects=projects,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    assert services.import_pupil_counts(rnd, data, actor=admin).ok
    services.compute_round_quotas(rnd, actor=admin)
    return rnd


def _all_municipalities_csv(db) -> bytes:
    rows = db.session.execute(Municipality.valid_on(date(2026, 1, 1))).scalars().all()
    assert len(rows) == 43
    return ("\n".join(f"{m.code};{1000 + i * 37}" for i, m in enumerate(rows)) + "\n").encode()


@pytest.fixture()
def small(programme, admin):
    return _round(programme, admin, 1, THREE, 10)


@pytest.fixture()
def large(programme, admin, db):
    return _round(programme, admin, 2, _all_municipalities_csv(db), 100)


def test_rows_per_municipality(small, db):
    rows = dash.round_dashboard(small.id)
    assert [r.name for r in rows] == ["Aizkraukles novads", "Rīga", "Ropažu novads"]
    by_code = {r.code: r for r in rows}
    assert (by_code["0001000"].pupils, by_code["0001000"].quota, by_code["0001000"].reserved) == (
        52000,
        7,
        Decimal("32200.00"),
    )
    assert by_code["0020000"].remaining == 1
    assert not any(r.overridden for r in rows)
    sums = dash.totals(rows)
    assert (sums.municipalities, sums.pupils, sums.quota, sums.reserved) == (
        3,
        58000,
        10,
        Decimal("46000.00"),
    )


def test_rows_can_be_limited_to_municipalities(small, db):
    aizkraukle = db.session.scalar(sa.select(Municipality.id).where(Municipality.code == "0020000"))
    assert [r.code for r in dash.round_dashboard(small.id, {aizkraukle})] == ["0020000"]


def test_override_shows_in_rows(small, admin, db):
    quota = next(q for q in small.quotas if q.municipality.code == "0044000")
    services.override_quota(quota, 4, reason="Rezerves saraksts", actor=admin)
    row = next(r for r in dash.round_dashboard(small.id) if r.code == "0044000")
    assert (row.computed_quota, row.quota, row.overridden, row.reserved) == (2, 4, True, Decimal("18400.00"))


def test_round_without_counts_has_no_rows(programme, admin):
    rnd = services.create_round(
        programme,
        actor=admin,
        number=9,
        projects=50,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    assert dash.round_dashboard(rnd.id) == []
    assert dash.quota_chart([]) is None


def test_statements_do_not_grow_with_municipalities(small, large, db):
    """3 or 43 municipalities: the same number of SQL statements (no query per row)."""
    small_id, large_id = small.id, large.id
    db.session.flush()
    with count_queries(db.engine) as few:
        rows_few = dash.round_dashboard(small_id)
    with count_queries(db.engine) as many:
        rows_many = dash.round_dashboard(large_id)
    assert (len(rows_few), len(rows_many)) == (3, 43)
    assert len(few) == len(many) == 1


def test_dashboard_page_statements_do_not_grow(client, login_as, admin, small, large, db):
    login_as(admin)
    client.get(f"/programmes/dashboard?round={small.id}")  # warm up: the session's own queries
    with count_queries(db.engine) as few:
        assert client.get(f"/programmes/dashboard?round={small.id}").status_code == 200
    with count_queries(db.engine) as many:
        assert client.get(f"/programmes/dashboard?round={large.id}").status_code == 200
    assert len(few) == len(many)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ("name", False)),
        ("-pupils", ("pupils", True)),
        ("quota", ("quota", False)),
        ("", ("name", False)),
        ("-evil;drop", ("name", False)),
        (None, ("name", False)),
        ("--quota", ("quota", True)),
    ],
)
def test_parse_sort(sort, expected):
    assert dash.parse_sort(sort) == expected


def _row(name, pupils=None, quota=None, code="0"):
    return dash.DashboardRow(
        municipality_id=hash(name) % 1000, code=code, name=name, pupils=pupils, quota=quota
    )


def test_sort_rows_numbers_and_missing_values():
    rows = [
        _row("Cēsu novads", 10, 2),
        _row("Ādažu novads", 30, 2),
        _row("Balvu novads", None, None),
        _row("Alūksnes novads", 20, 1),
    ]
    assert [r.name for r in dash.sort_rows(rows, "pupils")] == [
        "Cēsu novads",
        "Alūksnes novads",
        "Ādažu novads",
        "Balvu novads",
    ]
    assert [r.name for r in dash.sort_rows(rows, "pupils", descending=True)] == [
        "Ādažu novads",
        "Alūksnes novads",
        "Cēsu novads",
        "Balvu novads",
    ]
    # Equal quotas keep the alphabetical order in both directions; no value comes last.
    assert [r.name for r in dash.sort_rows(rows, "quota", descending=True)] == [
        "Ādažu novads",
        "Cēsu novads",
        "Alūksnes novads",
        "Balvu novads",
    ]


def test_latvian_alphabetical_order():
    names = ["Ogre", "Ādaži", "Cēsis", "Čiekurkalns", "Zilupe", "Žagari", "Saldus", "Šķēde", "Aizpute"]
    assert sorted(names, key=dash.latvian_key) == [
        "Ādaži",
        "Aizpute",
        "Cēsis",
        "Čiekurkalns",
        "Ogre",
        "Saldus",
        "Šķēde",
        "Zilupe",
        "Žagari",
    ]


def test_carried_over_column_only_when_used():
    plain = [_row("A", 1, 1)]
    assert "carried_in" not in [c.key for c in dash.visible_columns(plain)]
    carried = [dash.DashboardRow(municipality_id=1, code="1", name="A", pupils=1, quota=1, carried_in=2)]
    assert "carried_in" in [c.key for c in dash.visible_columns(carried)]
    assert carried[0].total_quota == carried[0].remaining == 3


def test_chart_geometry(small):
    rows = dash.round_dashboard(small.id)
    chart = dash.quota_chart(rows)
    assert [b.row.name for b in chart.bars] == [r.name for r in rows]
    widest = max(chart.bars, key=lambda b: b.width)
    assert widest.row.code == "0001000" and widest.width <= chart.plot_width
    assert chart.ticks[0] == (0, 0)
    assert chart.ticks[-1][1] >= 7
    assert chart.height == chart.top + 3 * chart.row_height + 8


def test_csv_is_for_latvian_excel(small, app):
    with app.test_request_context():
        data = dash.to_csv(dash.round_dashboard(small.id), "lv")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == 4
    riga = next(line for line in lines if line[0] == "0001000")
    assert riga[1] == "Rīga" and riga[2] == "52000" and "32200,00" in riga
    with app.test_request_context():
        english = dash.to_csv(dash.round_dashboard(small.id), "en").decode("utf-8-sig")
    assert "32200.00" in english


def test_csv_cells_cannot_be_formulas():
    row = dash.DashboardRow(municipality_id=1, code="=cmd", name="@SUM(A1)", pupils=1, quota=1)
    text = dash.to_csv([row], "lv").decode("utf-8-sig")
    assert "'=cmd" in text and "'@SUM(A1)" in text


def test_xlsx_export(small, app):
    openpyxl = pytest.importorskip("openpyxl")
    with app.test_request_context():
        data = dash.to_xlsx(
            dash.round_dashboard(small.id), title="PuMPuRS — 1", sheet_name="Kvotas: 1/2", total_label="Kopā"
        )
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "Kvotas 12"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 5  # header, three municipalities, totals
    assert values[-1][1] == "Kopā"
    assert Decimal(str(values[-1][6])) == Decimal("46000.00")


def test_calls_applications_and_funded_are_counted_in_sql(db):
    from portal.applications.services import submit_application
    from portal.applications.workflow import ApplicationStatus
    from tests.factories import draft_application, open_call

    call = open_call()
    first, user = draft_application(call, complete=True)
    submit_application(first, actor=user)
    draft_application(call)  # a draft does not count as received
    third, user3 = draft_application(call, complete=True)
    submit_application(third, actor=user3)
    third.status = ApplicationStatus.FUNDED
    db.session.flush()
    row = next(r for r in dash.round_dashboard(call.round_id) if r.municipality_id == call.municipality_id)
    assert (row.calls, row.applications, row.funded) == (1, 2, 1)
    assert row.remaining == row.total_quota - 1
