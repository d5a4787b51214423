"""The plan's XLSX template and import (issue 8): a round trip, every bad file kind refused with
line-by-line problems and nothing changed, the activities CSV in UTF-8 with a BOM and Windows-1257."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from portal.core.audit import AuditEvent
from portal.plans import importer
from portal.plans.models import PlanActivity, PlanGoal, PlanIndicator
from tests.factories import contract_in, coordinator, municipality, prevention_plan, sample_pdf


@pytest.fixture()
def plan(db):
    return prevention_plan(municipality("0020000"))  # 2024–2027, goals 1.–3., activities 1.1.–3.1.


@pytest.fixture()
def coord(plan):
    return coordinator(plan.municipality)


def _contents(plan) -> tuple:
    from portal.extensions import db

    db.session.expire(plan)
    return (
        [(g.number, g.title) for g in plan.goals],
        [(a.id, a.number, a.title, a.year_from, a.year_to) for a in plan.activities],
        [(i.number, i.targets) for i in plan.indicators],
    )


def _workbook(plan, edit=None) -> bytes:
    wb = load_workbook(io.BytesIO(importer.template_xlsx(plan)))
    if edit:
        edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(plan, coord, data, filename="plans.xlsx"):
    with force_locale("en"):
        report = importer.import_plan(plan, data, filename, actor=coord)
        return report, [str(p) for p in report.problems]


def test_template_round_trip_replaces_the_contents_and_keeps_activity_identity(db, plan, coord):
    wb = load_workbook(io.BytesIO(importer.template_xlsx(plan)))
    assert wb.sheetnames == ["Norādījumi", "Mērķi", "Aktivitātes", "Rādītāji"]
    assert [c.value for c in wb["Rādītāji"][1]][-4:] == ["2024", "2025", "2026", "2027"]
    kept_id = plan.activities[0].id

    def edit(wb):
        ws = wb["Aktivitātes"]
        ws.delete_rows(4)  # drop 3.1.
        ws.append([2, "2.2.", "2.", "=Mentoru programma", "", "", 12, "Skolas", "", 2025, 2025, "Valsts"])
        ws["D4"].data_type = "s"  # typed as text ('=…), not a formula
        wb["Rādītāji"].append([3, "3.", "3.", "Atbalstīto skaits", "0", 2023, "Dati", "", "10", "", "20"])

    report, problems = _import(plan, coord, _workbook(plan, edit))
    assert problems == [] and report.ok
    assert (report.goals, report.activities, report.indicators) == (3, 3, 2)
    goals, activities, indicators = _contents(plan)
    assert [g[0] for g in goals] == ["1.", "2.", "3."]
    assert [(a[1], a[2]) for a in activities] == [
        ("1.1.", "Ārpusskolas aktivitātes PMP riska jauniešiem"),
        ("2.1.", "Pedagogu mācības"),
        ("2.2.", "=Mentoru programma"),  # text, never a formula
    ]
    assert activities[0][0] == kept_id
    assert ("3.", {"2025": "10", "2027": "20"}) in indicators
    new = db.session.scalar(sa.select(PlanActivity).where(PlanActivity.number == "2.2."))
    assert (new.target_value, new.year_from, new.goal.number) == (12, 2025, "2.")
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "plan.imported")) is not None


def _set(sheet, cell, value):
    def edit(wb):
        wb[sheet][cell] = value

    return edit


def _formula(wb):
    wb["Aktivitātes"]["G2"] = "=SUM(1,2)"  # a real formula cell


BAD_FILES = {
    "not a spreadsheet": (lambda plan: sample_pdf(), "neither an Excel workbook"),
    "empty": (lambda plan: b"", "The file is empty."),
    "too big": (lambda plan: b"a;b\n" * 600_000, "larger than 2 MB"),
    "csv as xlsx name": (lambda plan: b"a;b\n", "neither an Excel workbook"),
    "wrong headers": (
        lambda plan: _workbook(plan, _set("Mērķi", "C1", "Nosaukums")),
        "Mērķi, row 1: the column",
    ),
    "formula": (lambda plan: _workbook(plan, _formula), "Aktivitātes, row 2: a cell holds a formula"),
    "level 4": (
        lambda plan: _workbook(plan, _set("Mērķi", "A3", 4)),
        'Mērķi, row 3: level "4" must be 1, 2 or 3',
    ),
    "year outside": (
        lambda plan: _workbook(plan, _set("Aktivitātes", "K3", 2031)),
        "Aktivitātes, row 3: year 2031 is outside the plan's period 2024–2027",
    ),
    "unknown goal": (
        lambda plan: _workbook(plan, _set("Aktivitātes", "C2", "9.")),
        'Aktivitātes, row 2: goal number "9." does not exist',
    ),
    "duplicate number": (
        lambda plan: _workbook(plan, _set("Rādītāji", "B2", "")),
        "Rādītāji, row 2: Nr. is empty",
    ),
    "duplicate activity": (
        lambda plan: _workbook(plan, _set("Aktivitātes", "B4", "1.1.")),
        'Aktivitātes, row 4: number "1.1." is used again (first in row 2)',
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_is_refused_with_its_line_and_nothing_changes(db, plan, coord, kind):
    make, expected = BAD_FILES[kind]
    data = make(plan)
    before = _contents(plan)
    report, problems = _import(plan, coord, data)
    assert not report.ok
    assert any(expected in p for p in problems), problems
    assert _contents(plan) == before


def test_all_problems_are_listed_at_once(db, plan, coord):
    def edit(wb):
        wb["Mērķi"]["A2"] = 0
        wb["Aktivitātes"]["J3"] = 2023
        wb["Rādītāji"]["D2"] = None

    report, problems = _import(plan, coord, _workbook(plan, edit))
    assert problems == [
        'Mērķi, row 2: level "0" must be 1, 2 or 3.',
        "Aktivitātes, row 3: year 2023 is outside the plan's period 2024–2027.",
        "Rādītāji, row 2: Rādītājs is empty.",
    ]


CSV_HEADER = ";".join(c[0] for c in importer.ACTIVITY_COLUMNS)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1257"])
def test_the_activities_csv_in_utf8_with_bom_or_windows_1257(db, plan, coord, encoding):
    goals_before = _contents(plan)[0]
    text = "\r\n".join(
        [
            CSV_HEADER,
            "1;1.1.;1.;Ārpusskolas nodarbības ģimenēm;;;50;Izglītības pārvalde;;2024;2025;Pašvaldība",
            '2;2.5.;;"Pedagogu mācības; ņemot vērā";;;;Skolas;;;;',
        ]
    )
    report, problems = _import(plan, coord, text.encode(encoding), "aktivitates.csv")
    assert problems == [] and report.kind == "csv" and report.activities == 2
    goals, activities, _ = _contents(plan)
    assert goals == goals_before  # a CSV replaces the activities only
    assert [(a[1], a[2], a[3], a[4]) for a in activities] == [
        ("1.1.", "Ārpusskolas nodarbības ģimenēm", 2024, 2025),
        ("2.5.", "Pedagogu mācības; ņemot vērā", 2024, 2027),  # empty years: the whole period
    ]
    assert len(plan.indicators) == 1


def test_an_activity_named_by_an_application_must_stay_in_the_file(db):
    contract, ev = contract_in("draft")
    plan = prevention_plan(ev["call"].municipality)
    contract.application.plan_activity_id = plan.activities[2].id
    db.session.flush()
    before = _contents(plan)
    data = (CSV_HEADER + "\n1;1.1.;;Tikai viena;;;;;;;;\n").encode()
    report, problems = _import(plan, ev["coordinator"], data, "a.csv")
    assert problems == [
        'Aktivitātes: activity "3.1." is named by 1 application: keep it in the file (with its number).'
    ]
    assert _contents(plan) == before
    assert db.session.scalar(sa.select(PlanGoal.id).where(PlanGoal.plan_id == plan.id)) is not None
    assert (
        db.session.scalar(sa.select(sa.func.count(PlanIndicator.id)).where(PlanIndicator.plan_id == plan.id))
        == 1
    )


def test_an_empty_template_has_the_headers_only(db, plan, coord):
    wb = Workbook()
    wb.active.title = "Mērķi"
    for name in ("Aktivitātes", "Rādītāji"):
        wb.create_sheet(name)
    out = io.BytesIO()
    wb.save(out)
    report, problems = _import(plan, coord, out.getvalue())
    assert any("Mērķi, row 1: the column headers must be" in p for p in problems)
    blank = load_workbook(io.BytesIO(importer.template_xlsx()))
    assert blank["Aktivitātes"].max_row == 1
