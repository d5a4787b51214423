"""The prevention plan's spreadsheet template and its import (issue 8), all or nothing.

XLSX (the portal's template): sheets "Mērķi", "Aktivitātes" and "Rādītāji" after an instructions sheet;
an import REPLACES the plan's goals, activities and indicators with the file's rows. CSV: only the
activities table (the "Aktivitātes" columns; `;` or `,`, UTF-8 with or without a BOM or Windows-1257,
read with the pupil-count import's helpers); it replaces the activities and keeps the goals and indicators.

Activities are matched by their number: an activity kept in the file keeps its identity, so the
applications that name it and its monitoring notes stay linked; an activity that applications name may
not be left out. Every row is checked first and the problems are listed per sheet and row; if there is
any problem nothing is changed. Cells are values, never formulas: a real formula is refused, and text
that merely starts with "=", "+", "-" or "@" is kept as text and never evaluated.

The sheet names and column headers are the file format and stay Latvian in every interface language.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.core import audit
from portal.extensions import db
from portal.plans import services
from portal.plans.models import LEVELS, PlanActivity, PlanGoal, PlanIndicator, PreventionPlan
from portal.programmes.forms import _clean
from portal.programmes.pupil_counts import _decode, _delimiter

MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_BYTES = 40 * 1024 * 1024  # a zip bomb is refused before openpyxl reads it
MAX_ROWS = 1000  # per sheet; a plan has tens of rows
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SHEET_INSTRUCTIONS = "Norādījumi"
SHEET_GOALS = "Mērķi"
SHEET_ACTIVITIES = "Aktivitātes"
SHEET_INDICATORS = "Rādītāji"

# (header, attribute, kind) — kind: level | text | int | year | goal
GOAL_COLUMNS = (
    ("Līmenis", "level", "level"),
    ("Nr.", "number", "number"),
    ("Mērķis", "title", "title"),
    ("Sagaidāmie rezultāti", "expected_results", "text"),
)
ACTIVITY_COLUMNS = (
    ("Līmenis", "level", "level"),
    ("Nr.", "number", "number"),
    ("Mērķa Nr.", "goal", "goal"),
    ("Aktivitāte", "title", "title"),
    ("Plānotais rezultāts", "planned_result", "text"),
    ("Rezultatīvais rādītājs", "result_indicator", "text"),
    ("Mērķa vērtība", "target_value", "count"),
    ("Atbildīgais", "responsible", "text"),
    ("Iesaistītie", "involved", "text"),
    ("No gada", "year_from", "year"),
    ("Līdz gadam", "year_to", "year"),
    ("Finansējuma avoti", "funding_sources", "text"),
)
INDICATOR_COLUMNS = (
    ("Līmenis", "level", "level"),
    ("Nr.", "number", "number"),
    ("Mērķa Nr.", "goal", "goal"),
    ("Rādītājs", "title", "title"),
    ("Bāzes vērtība", "baseline", "short"),
    ("Bāzes gads", "baseline_year", "any_year"),
    ("Datu avots", "data_source", "source"),
)  # then one column per year of the period, headed by the year: the targets

INSTRUCTIONS = (
    "PMP prevencijas plāna imports",
    "",
    "Aizpildiet lapas “Mērķi”, “Aktivitātes” un “Rādītāji”. Nemainiet virsrakstu rindas.",
    "Līmenis: 1, 2 vai 3 (universālā / selektīvā / indicētā jeb primārā / sekundārā / terciārā prevencija).",
    "Nr.: katram mērķim, aktivitātei un rādītājam savs numurs, piemēram, 1.1. Numuri neatkārtojas.",
    "Mērķa Nr.: mērķa numurs no lapas “Mērķi” (var atstāt tukšu).",
    "No gada / Līdz gadam: gadi plāna periodā (tukšs = perioda sākums / beigas).",
    "Mērķa vērtība: vesels skaitlis (piemēram, plānotais dalībnieku skaits) vai tukšs.",
    "Rādītāji: vērtības pa gadiem ierakstiet kolonnās, kuru virsraksts ir gads, kā tekstu (72%, < 1%).",
    "Formulas netiek pieņemtas: ierakstiet vērtības.",
    "Imports aizstāj visus plāna mērķus, aktivitātes un rādītājus. Ja kādā rindā ir kļūda, netiek "
    "importēts nekas, un portāls parāda kļūdas pa rindām.",
    "CSV failā var importēt tikai aktivitātes (lapas “Aktivitātes” kolonnas, atdalītas ar ; vai ,).",
    "",
    "Piemērs (lapa “Aktivitātes”):",
    "1 | 1.1. | 1. | Ārpusskolas aktivitātes jauniešiem | 100 jaunieši iesaistīti | Iesaistīto jauniešu "
    "skaits | 100 | Izglītības pārvalde | Skolas | 2024 | 2027 | Pašvaldība, ESF",
)


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int  # 1-based spreadsheet row (the header is row 1); 0 for the whole file or sheet
    message: str

    def __str__(self) -> str:
        if self.row and self.sheet:
            return _(
                "%(sheet)s, row %(row)d: %(message)s", sheet=self.sheet, row=self.row, message=self.message
            )
        if self.sheet:
            return _("%(sheet)s: %(message)s", sheet=self.sheet, message=self.message)
        return str(self.message)


@dataclass
class ImportReport:
    problems: list[Problem] = field(default_factory=list)
    goals: int = 0
    activities: int = 0
    indicators: int = 0
    kind: str = "xlsx"  # or "csv" (activities only)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Sheet:
    """The rows of one sheet (or of the CSV file): a header and (row number, cells) pairs."""

    def __init__(self, name: str, header: list, rows: list[tuple[int, list]]):
        self.name, self.header, self.rows = name, header, rows


# --- the template -----------------------------------------------------------------------------------


def _text_cell(ws, row: int, column: int, value) -> None:
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # "=…" stays text in the file, never a formula


def template_xlsx(plan: PreventionPlan | None = None) -> bytes:
    """The import template; with a plan, filled with the plan's current goals, activities and
    indicators and with one target column per year of its period (export → edit → import)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.properties.creator = "JIP portāls"
    wb.properties.title = (plan.title if plan else "PMP prevencijas plāns")[:250]
    info = wb.active
    info.title = SHEET_INSTRUCTIONS
    lines = list(INSTRUCTIONS)
    if plan is not None:
        lines[1] = f"{plan.title} ({plan.period_start}–{plan.period_end})"
    for index, line in enumerate(lines, start=1):
        _text_cell(info, index, 1, line)
    info["A1"].font = Font(bold=True)
    info.column_dimensions["A"].width = 120

    years = plan.years if plan is not None else []
    goal_numbers = {g.id: g.number for g in plan.goals} if plan is not None else {}
    sheets = (
        (SHEET_GOALS, [c[0] for c in GOAL_COLUMNS], plan.goals if plan else []),
        (SHEET_ACTIVITIES, [c[0] for c in ACTIVITY_COLUMNS], plan.activities if plan else []),
        (
            SHEET_INDICATORS,
            [c[0] for c in INDICATOR_COLUMNS] + [str(y) for y in years],
            plan.indicators if plan else [],
        ),
    )
    for name, header, items in sheets:
        ws = wb.create_sheet(name)
        for column, text in enumerate(header, start=1):
            _text_cell(ws, 1, column, text)
            ws.cell(row=1, column=column).font = Font(bold=True)
            ws.cell(row=1, column=column).alignment = Alignment(wrap_text=True)
            ws.column_dimensions[ws.cell(row=1, column=column).column_letter].width = (
                10 if column <= 2 else 24
            )
        ws.freeze_panes = "A2"
        for row, item in enumerate(items, start=2):
            if name == SHEET_GOALS:
                values = [item.level, item.number, item.title, item.expected_results]
            elif name == SHEET_ACTIVITIES:
                values = [
                    item.level,
                    item.number,
                    goal_numbers.get(item.goal_id, ""),
                    item.title,
                    item.planned_result,
                    item.result_indicator,
                    item.target_value,
                    item.responsible,
                    item.involved,
                    item.year_from,
                    item.year_to,
                    item.funding_sources,
                ]
            else:
                targets = item.targets or {}
                values = [
                    item.level,
                    item.number,
                    goal_numbers.get(item.goal_id, ""),
                    item.title,
                    item.baseline,
                    item.baseline_year,
                    item.data_source,
                ] + [targets.get(str(y), "") for y in years]
            for column, value in enumerate(values, start=1):
                _text_cell(ws, row, column, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading the file -------------------------------------------------------------------------------


def _read_xlsx(data: bytes, report: ImportReport) -> dict[str, _Sheet] | None:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            report.problems.append(Problem("", 0, _("The workbook is too large when unpacked.")))
            return None
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        report.problems.append(
            Problem("", 0, _("The file is not an Excel workbook (.xlsx) the portal can read."))
        )
        return None
    sheets = {}
    try:
        for name in (SHEET_GOALS, SHEET_ACTIVITIES, SHEET_INDICATORS):
            if name not in wb.sheetnames:
                report.problems.append(
                    Problem(
                        "",
                        0,
                        _('The workbook has no sheet "%(name)s". Use the portal\'s template.', name=name),
                    )
                )
                continue
            header, rows = None, []
            for number, cells in enumerate(wb[name].iter_rows(), start=1):
                if number > MAX_ROWS + 1:
                    report.problems.append(
                        Problem(name, 0, _("The sheet has more than %(n)d rows.", n=MAX_ROWS))
                    )
                    break
                values = []
                for cell in cells:
                    if getattr(cell, "data_type", None) == "f":
                        report.problems.append(
                            Problem(
                                name,
                                number,
                                _(
                                    "a cell holds a formula (%(formula)s); type the value instead.",
                                    formula=str(cell.value)[:40],
                                ),
                            )
                        )
                        values.append(None)
                    else:
                        values.append(cell.value)
                if header is None:
                    header = values
                else:
                    rows.append((number, values))
            sheets[name] = _Sheet(name, header or [], rows)
    finally:
        wb.close()
    return sheets


def _read_csv(data: bytes, report: ImportReport) -> _Sheet | None:
    text = _decode(data)
    if text is None:
        report.problems.append(Problem("", 0, _not_a_spreadsheet()))
        return None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        report.problems.append(Problem("", 0, _("The file is empty.")))
        return None
    delimiter = _delimiter(first) or ";"
    header, rows = None, []
    for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if number > MAX_ROWS + 1:
            report.problems.append(
                Problem(SHEET_ACTIVITIES, 0, _("The sheet has more than %(n)d rows.", n=MAX_ROWS))
            )
            break
        if header is None:
            if not any(c.strip() for c in cells):
                continue
            header = cells
        else:
            rows.append((number, cells))
    return _Sheet(SHEET_ACTIVITIES, header or [], rows)


# --- checking the rows ------------------------------------------------------------------------------


def _normal(value) -> str:
    """A cell as text: whole numbers without ".0", dates as ISO, control characters dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return _clean(str(value))


def _header_matches(sheet: _Sheet, expected: list[str], report: ImportReport) -> bool:
    found = [_normal(v).casefold() for v in sheet.header[: len(expected)]]
    if found != [h.casefold() for h in expected]:
        report.problems.append(
            Problem(
                sheet.name,
                1,
                _(
                    "the column headers must be: %(headers)s. Use the portal's template.",
                    headers="; ".join(expected),
                ),
            )
        )
        return False
    return True


class _RowChecker:
    def __init__(self, plan: PreventionPlan, report: ImportReport, sheet: str, row: int):
        self.plan, self.report, self.sheet, self.row = plan, report, sheet, row
        self.failed = False

    def problem(self, message: str) -> None:
        self.failed = True
        self.report.problems.append(Problem(self.sheet, self.row, message))

    def value(self, kind: str, raw: str, header: str):
        plan = self.plan
        if kind == "level":
            if raw not in {str(level) for level in LEVELS}:
                self.problem(_('level "%(value)s" must be 1, 2 or 3.', value=raw))
                return None
            return int(raw)
        if kind in ("number", "goal"):
            if len(raw) > 20:
                self.problem(_("%(column)s is at most 20 characters.", column=header))
            return raw
        if kind == "title":
            if not raw:
                self.problem(_("%(column)s is empty.", column=header))
            return raw
        if kind in ("short", "source"):
            limit = services.TARGET_MAX if kind == "short" else 300
            if len(raw) > limit:
                self.problem(_("%(column)s is at most %(n)d characters.", column=header, n=limit))
            return raw
        if kind == "count":
            if not raw:
                return None
            if not raw.isdigit():
                self.problem(
                    _(
                        '%(column)s "%(value)s" must be a whole number, not negative.',
                        column=header,
                        value=raw,
                    )
                )
                return None
            return int(raw)
        if kind in ("year", "any_year"):
            if not raw:
                return None
            if not (raw.isdigit() and len(raw) == 4):
                self.problem(_('%(column)s "%(value)s" is not a year.', column=header, value=raw))
                return None
            year = int(raw)
            if kind == "year" and not plan.period_start <= year <= plan.period_end:
                self.problem(
                    _(
                        "year %(year)d is outside the plan's period %(start)d–%(end)d.",
                        year=year,
                        start=plan.period_start,
                        end=plan.period_end,
                    )
                )
                return None
            return year
        return raw  # text


def _rows(sheet: _Sheet, columns, plan, report, extra=0):
    """Yield (checker, values dict, raw cells) for every non-empty data row."""
    for number, cells in sheet.rows:
        cells = [_normal(c) for c in cells]
        if not any(cells):
            continue
        cells += [""] * (len(columns) + extra - len(cells))
        checker = _RowChecker(plan, report, sheet.name, number)
        values = {}
        for index, (header, attribute, kind) in enumerate(columns):
            values[attribute] = checker.value(kind, cells[index], header)
        yield checker, values, cells


def _unique(checker: _RowChecker, number: str, seen: dict[str, int], what: str) -> None:
    if not number:
        checker.problem(_("Nr. is empty: every %(what)s needs a number.", what=what))
    elif number in seen:
        checker.problem(
            _(
                'number "%(number)s" is used again (first in row %(first)d).',
                number=number,
                first=seen[number],
            )
        )
    else:
        seen[number] = checker.row


def _check_goal_ref(checker: _RowChecker, values: dict, goal_numbers: set[str]) -> None:
    if values.get("goal") and values["goal"] not in goal_numbers:
        checker.problem(_('goal number "%(number)s" does not exist.', number=values["goal"]))


def _parse_goals(sheet, plan, report) -> list[dict]:
    if not _header_matches(sheet, [c[0] for c in GOAL_COLUMNS], report):
        return []
    goals, seen = [], {}
    for checker, values, _cells in _rows(sheet, GOAL_COLUMNS, plan, report):
        _unique(checker, values["number"], seen, _("goal"))
        goals.append(values)
    return goals


def _parse_activities(sheet, plan, report, goal_numbers: set[str]) -> list[dict]:
    if not _header_matches(sheet, [c[0] for c in ACTIVITY_COLUMNS], report):
        return []
    activities, seen = [], {}
    for checker, values, _cells in _rows(sheet, ACTIVITY_COLUMNS, plan, report):
        _unique(checker, values["number"], seen, _("activity"))
        _check_goal_ref(checker, values, goal_numbers)
        if values["year_from"] is None:
            values["year_from"] = plan.period_start
        if values["year_to"] is None:
            values["year_to"] = plan.period_end
        if values["year_to"] < values["year_from"]:
            checker.problem(_("the last year is before the first."))
        activities.append(values)
    return activities


def _parse_indicators(sheet, plan, report, goal_numbers: set[str]) -> list[dict]:
    fixed = [c[0] for c in INDICATOR_COLUMNS]
    if not _header_matches(sheet, fixed, report):
        return []
    years: list[int | None] = []
    for raw in sheet.header[len(fixed) :]:
        text = _normal(raw)
        if not text:
            years.append(None)
            continue
        if not (text.isdigit() and len(text) == 4):
            report.problems.append(
                Problem(sheet.name, 1, _('the column "%(header)s" must be headed by a year.', header=text))
            )
            years.append(None)
        elif not plan.period_start <= int(text) <= plan.period_end:
            report.problems.append(
                Problem(
                    sheet.name,
                    1,
                    _(
                        "year %(year)d is outside the plan's period %(start)d–%(end)d.",
                        year=int(text),
                        start=plan.period_start,
                        end=plan.period_end,
                    ),
                )
            )
            years.append(None)
        else:
            years.append(int(text))
    indicators, seen = [], {}
    for checker, values, cells in _rows(sheet, INDICATOR_COLUMNS, plan, report, extra=len(years)):
        _unique(checker, values["number"], seen, _("indicator"))
        _check_goal_ref(checker, values, goal_numbers)
        targets = {}
        for year, raw in zip(years, cells[len(fixed) :], strict=False):
            if year is None or not raw:
                continue
            if len(raw) > services.TARGET_MAX:
                checker.problem(
                    _(
                        "the target for %(year)d is at most %(n)d characters.",
                        year=year,
                        n=services.TARGET_MAX,
                    )
                )
            targets[str(year)] = raw
        values["targets"] = targets
        indicators.append(values)
    return indicators


# --- the import -------------------------------------------------------------------------------------


def _not_a_spreadsheet() -> str:
    return _(
        "The file is neither an Excel workbook (.xlsx) nor a CSV text file in UTF-8 or "
        "Windows-1257. Use the portal's template."
    )


def _looks_like_csv(data: bytes, filename: str) -> bool:
    """A .csv (or .txt) file name and text without control characters (a PDF or an image is not)."""
    if not (filename or "").lower().endswith((".csv", ".txt")):
        return False
    text = _decode(data)
    return text is not None and not any(ch < " " and ch not in "\t\r\n" for ch in text)


def _is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def import_plan(plan: PreventionPlan, data: bytes, filename: str, *, actor) -> ImportReport:
    """Check every row, then (only if there is no problem) replace the plan's contents. The caller
    commits; on problems nothing has been changed."""
    services._require_editor(actor, plan.municipality_id)
    report = ImportReport()
    if not data:
        report.problems.append(Problem("", 0, _("The file is empty.")))
        return report
    if len(data) > MAX_BYTES:
        report.problems.append(Problem("", 0, _("The file is larger than 2 MB.")))
        return report
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        report.problems.append(
            Problem(
                "", 0, _('Old Excel files (.xls) are not read: save the file as "Excel Workbook (.xlsx)".')
            )
        )
        return report

    if _is_xlsx(data):
        sheets = _read_xlsx(data, report)
        if sheets is None or len(sheets) < 3:
            return report
        goals = _parse_goals(sheets[SHEET_GOALS], plan, report)
        goal_numbers = {g["number"] for g in goals if g["number"]}
        activities = _parse_activities(sheets[SHEET_ACTIVITIES], plan, report, goal_numbers)
        indicators = _parse_indicators(sheets[SHEET_INDICATORS], plan, report, goal_numbers)
        if not report.problems and not (goals or activities or indicators):
            report.problems.append(Problem("", 0, _("The file has no rows to import.")))
    elif not _looks_like_csv(data, filename):
        report.problems.append(Problem("", 0, _not_a_spreadsheet()))
        return report
    else:
        report.kind = "csv"
        sheet = _read_csv(data, report)
        if sheet is None:
            return report
        goal_numbers = {g.number for g in plan.goals if g.number}
        goals, indicators = None, None
        activities = _parse_activities(sheet, plan, report, goal_numbers)
        if not report.problems and not activities:
            report.problems.append(Problem("", 0, _("The file has no rows to import.")))

    numbers = {a["number"] for a in activities}
    linked = services.linked_projects(a.id for a in plan.activities)
    for activity in plan.activities:
        if linked.get(activity.id) and activity.number not in numbers:
            report.problems.append(
                Problem(
                    SHEET_ACTIVITIES,
                    0,
                    ngettext(
                        'activity "%(number)s" is named by %(num)d application: keep it in the file '
                        "(with its number).",
                        'activity "%(number)s" is named by %(num)d applications: keep it in the file '
                        "(with its number).",
                        linked[activity.id],
                        number=activity.number or activity.title[:40],
                    ),
                )
            )
    if report.problems:
        return report

    _replace(plan, goals, activities, indicators)
    report.goals = len(plan.goals)
    report.activities = len(activities)
    report.indicators = len(plan.indicators)
    audit.record(
        "plan.imported",
        actor=actor,
        obj=plan,
        municipality_id=plan.municipality_id,
        after={
            "file": filename[:200],
            "kind": report.kind,
            "goals": report.goals,
            "activities": report.activities,
            "indicators": report.indicators,
        },
    )
    return report


def _replace(plan: PreventionPlan, goals, activities, indicators) -> None:
    """Replace the contents (goals and indicators only when the file has them); activities with the same
    number are updated in place."""
    if goals is not None:
        for indicator in list(plan.indicators):
            db.session.delete(indicator)
        for activity in plan.activities:
            activity.goal_id = None
        for goal in list(plan.goals):
            db.session.delete(goal)
        db.session.flush()
        positions: dict[int, int] = {}
        for values in goals:
            positions[values["level"]] = positions.get(values["level"], 0) + 1
            db.session.add(PlanGoal(plan_id=plan.id, position=positions[values["level"]], **values))
        db.session.flush()
    db.session.expire(plan, ["goals", "activities", "indicators"])
    goal_ids = {g.number: g.id for g in plan.goals if g.number}

    existing = {a.number: a for a in plan.activities if a.number}
    keep = set()
    positions = {}
    for values in activities:
        values = dict(values)
        values["goal_id"] = goal_ids.get(values.pop("goal"))
        positions[values["level"]] = positions.get(values["level"], 0) + 1
        activity = existing.get(values["number"])
        if activity is None:
            activity = PlanActivity(plan_id=plan.id)
            db.session.add(activity)
        else:
            keep.add(activity.id)
        for name, value in values.items():
            setattr(activity, name, value)
        activity.position = positions[values["level"]]
    for activity in list(plan.activities):
        if activity.id not in keep:
            db.session.delete(activity)
    db.session.flush()

    if indicators is not None:
        positions = {}
        for values in indicators:
            values = dict(values)
            values["goal_id"] = goal_ids.get(values.pop("goal"))
            positions[values["level"]] = positions.get(values["level"], 0) + 1
            db.session.add(PlanIndicator(plan_id=plan.id, position=positions[values["level"]], **values))
        db.session.flush()
    db.session.expire(plan, ["goals", "activities", "indicators"])
