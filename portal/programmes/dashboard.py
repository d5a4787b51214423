"""The national dashboard: per municipality and round, what was allotted and what is left (issue 3).

`round_dashboard()` is ONE SQL statement however many municipalities take part: each measure is an
aggregate subquery grouped by municipality, outer-joined to the municipalities. The money of contracts and
payments comes the same way: the ledger's measures grouped by municipality
(`portal.payments.ledger.measures_by`, whose docstring defines them) are one more subquery of the same
statement, giving the contracted, paid and to-be-paid columns. `reserved` stays the quota money set
aside for the municipality (quota × amount, DESIGN §3); the ledger calls the money of funded projects
not yet under a signed contract "awarded".
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, RECEIVED_EXCLUDED
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.core.db import ZERO
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.payments import ledger
from portal.programmes.models import PupilCount, Quota


@dataclass(frozen=True)
class DashboardRow:
    """One municipality in one round. Measures that do not exist yet are simply not fields."""

    municipality_id: int
    code: str
    name: str
    pupils: int | None = None
    quota_id: int | None = None
    computed_quota: int | None = None
    quota: int | None = None
    carried_in: int = 0
    redistributed_in: int = 0
    reserved: Decimal = ZERO
    overrides: int = 0
    calls: int = 0  # published calls of the round
    applications: int = 0  # submitted (whatever happened to them after)
    funded: int = 0  # funded and everything after: projects that use the quota
    contracted: Decimal = ZERO  # signed contracts (a terminated one: what was paid on it)
    paid: Decimal = ZERO
    to_be_paid: Decimal = ZERO  # signed contracts: amount − paid − reductions, never negative

    @property
    def total_quota(self) -> int | None:
        """Projects the municipality may fund in the round: its quota plus quota carried in or given to it
        at round close (the same sum as `Quota.total`)."""
        return None if self.quota is None else self.quota + self.carried_in + self.redistributed_in

    @property
    def remaining(self) -> int | None:
        """Projects of the quota not used by a funded application."""
        return None if self.total_quota is None else self.total_quota - self.funded

    @property
    def overridden(self) -> bool:
        return self.overrides > 0


def round_dashboard(round_id: int, municipality_ids: set[int] | None = None) -> list[DashboardRow]:
    """Return one row per municipality taking part in the round (it has pupils or a quota), by name."""
    pupils = (
        sa.select(
            PupilCount.municipality_id.label("municipality_id"),
            sa.func.sum(PupilCount.pupils).label("pupils"),
        )
        .where(PupilCount.round_id == round_id)
        .group_by(PupilCount.municipality_id)
        .subquery("pupils")
    )
    quotas = (
        sa.select(
            Quota.municipality_id.label("municipality_id"),
            sa.func.min(Quota.id).label("quota_id"),
            sa.func.sum(Quota.computed_quota).label("computed_quota"),
            sa.func.sum(Quota.quota).label("quota"),
            sa.func.sum(Quota.carried_in).label("carried_in"),
            sa.func.sum(Quota.redistributed_in).label("redistributed_in"),
            sa.func.sum(Quota.reserved).label("reserved"),
            sa.func.count(Quota.override_reason).label("overrides"),
        )
        .where(Quota.round_id == round_id)
        .group_by(Quota.municipality_id)
        .subquery("quotas")
    )
    received = Application.status.not_in([s.value for s in RECEIVED_EXCLUDED])
    funded = Application.status.in_([s.value for s in FUNDED_STATUSES])
    calls = (
        sa.select(
            Call.municipality_id.label("municipality_id"),
            sa.func.count(sa.distinct(Call.id)).label("calls"),
            sa.func.coalesce(sa.func.sum(sa.case((received, 1), else_=0)), 0).label("applications"),
            sa.func.coalesce(sa.func.sum(sa.case((funded, 1), else_=0)), 0).label("funded"),
        )
        .outerjoin(Application, Application.call_id == Call.id)
        .where(Call.round_id == round_id, Call.status != CallStatus.DRAFT)
        .group_by(Call.municipality_id)
        .subquery("calls")
    )
    money = ledger.measures_by("municipality_id", round_id=round_id, name="money")
    stmt = (
        sa.select(
            Municipality.id.label("municipality_id"),
            Municipality.code,
            Municipality.name,
            pupils.c.pupils,
            quotas.c.quota_id,
            quotas.c.computed_quota,
            quotas.c.quota,
            sa.func.coalesce(quotas.c.carried_in, 0).label("carried_in"),
            sa.func.coalesce(quotas.c.redistributed_in, 0).label("redistributed_in"),
            quotas.c.reserved,
            sa.func.coalesce(quotas.c.overrides, 0).label("overrides"),
            sa.func.coalesce(calls.c.calls, 0).label("calls"),
            sa.func.coalesce(calls.c.applications, 0).label("applications"),
            sa.func.coalesce(calls.c.funded, 0).label("funded"),
            money.c.contracted,
            money.c.paid,
            money.c.to_be_paid,
        )
        .select_from(Municipality)
        .outerjoin(pupils, pupils.c.municipality_id == Municipality.id)
        .outerjoin(quotas, quotas.c.municipality_id == Municipality.id)
        .outerjoin(calls, calls.c.municipality_id == Municipality.id)
        .outerjoin(money, money.c.municipality_id == Municipality.id)
        .where(sa.or_(pupils.c.municipality_id.is_not(None), quotas.c.municipality_id.is_not(None)))
    )
    if municipality_ids is not None:
        stmt = stmt.where(Municipality.id.in_(municipality_ids))
    rows = []
    for r in db.session.execute(stmt).mappings():
        values = dict(r)
        for key in ("reserved", "contracted", "paid", "to_be_paid"):
            values[key] = _money(values[key])
        rows.append(DashboardRow(**values))
    return sorted(rows, key=lambda row: latvian_key(row.name))


_money = ledger.money  # SQLite sums NUMERIC as REAL; quantizing gives back exact cents


@dataclass(frozen=True)
class Totals:
    municipalities: int
    pupils: int
    computed_quota: int
    quota: int
    carried_in: int
    reserved: Decimal
    remaining: int
    redistributed_in: int = 0
    calls: int = 0
    applications: int = 0
    funded: int = 0
    contracted: Decimal = ZERO
    paid: Decimal = ZERO
    to_be_paid: Decimal = ZERO

    @property
    def total_quota(self) -> int:
        return self.quota + self.carried_in + self.redistributed_in


def totals(rows: list[DashboardRow]) -> Totals:
    """Add the rows up (the table's footer and the export's last line)."""
    return Totals(
        municipalities=len(rows),
        pupils=sum(r.pupils or 0 for r in rows),
        computed_quota=sum(r.computed_quota or 0 for r in rows),
        quota=sum(r.quota or 0 for r in rows),
        carried_in=sum(r.carried_in for r in rows),
        redistributed_in=sum(r.redistributed_in for r in rows),
        reserved=sum((r.reserved for r in rows), ZERO),
        remaining=sum(r.remaining or 0 for r in rows),
        calls=sum(r.calls for r in rows),
        applications=sum(r.applications for r in rows),
        funded=sum(r.funded for r in rows),
        contracted=sum((r.contracted for r in rows), ZERO),
        paid=sum((r.paid for r in rows), ZERO),
        to_be_paid=sum((r.to_be_paid for r in rows), ZERO),
    )


# --- columns and sorting -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy translated string
    kind: str  # "text", "int" or "money"
    optional: bool = False  # shown only when some row has a value other than 0


COLUMNS = [
    Column("name", _l("Municipality"), "text"),
    Column("pupils", _l("Pupils"), "int"),
    Column("quota", _l("Quota (projects)"), "int"),
    Column("carried_in", _l("Carried over"), "int", optional=True),
    Column("redistributed_in", _l("Redistributed"), "int", optional=True),
    Column("reserved", _l("Reserved amount"), "money"),
    Column("calls", _l("Calls opened"), "int"),
    Column("applications", _l("Applications"), "int"),
    Column("funded", _l("Funded"), "int"),
    Column("remaining", _l("Remaining quota"), "int"),
    Column("contracted", _l("Contracted"), "money"),
    Column("paid", _l("Paid"), "money"),
    Column("to_be_paid", _l("To be paid"), "money"),
]
EXPORT_COLUMNS = [
    Column("code", _l("Code"), "text"),
    Column("name", _l("Municipality"), "text"),
    Column("pupils", _l("Pupils"), "int"),
    Column("computed_quota", _l("Computed quota"), "int"),
    Column("quota", _l("Quota (projects)"), "int"),
    Column("carried_in", _l("Carried over"), "int"),
    Column("reserved", _l("Reserved amount"), "money"),
    Column("redistributed_in", _l("Redistributed"), "int"),
    Column("remaining", _l("Remaining quota"), "int"),
    Column("calls", _l("Calls opened"), "int"),
    Column("applications", _l("Applications"), "int"),
    Column("funded", _l("Funded"), "int"),
    Column("contracted", _l("Contracted"), "money"),
    Column("paid", _l("Paid"), "money"),
    Column("to_be_paid", _l("To be paid"), "money"),
]
SORT_KEYS = {c.key for c in COLUMNS} | {"code"}
DEFAULT_SORT = "name"


def visible_columns(rows: list[DashboardRow]) -> list[Column]:
    """Return the screen's columns; an optional one only when some municipality has a value in it."""
    return [c for c in COLUMNS if not c.optional or any(getattr(r, c.key) for r in rows)]


def parse_sort(value: str | None) -> tuple[str, bool]:
    """Read `?sort=key` or `?sort=-key` (descending); anything unknown sorts by name."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in SORT_KEYS:
        return DEFAULT_SORT, False
    return key, descending


def sort_rows(rows: list[DashboardRow], key: str, descending: bool = False) -> list[DashboardRow]:
    """Sort by one column; municipalities without a value come last either way, ties by name."""
    by_name = sorted(rows, key=lambda r: latvian_key(r.name))
    if key == "name":
        return list(reversed(by_name)) if descending else by_name
    present = [r for r in by_name if getattr(r, key) is not None]
    missing = [r for r in by_name if getattr(r, key) is None]
    # Sorting is stable (reverse=True too), so equal values keep the name order in both directions.
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + missing


_LV_LETTERS = {"č": "c", "ģ": "g", "ķ": "k", "ļ": "l", "ņ": "n", "š": "s", "ž": "z"}


def latvian_key(text: str) -> tuple[str, str]:
    """Sort key in Latvian alphabetical order: č after c, š after s ...; ā, ē, ī, ū as a, e, i, u."""
    primary = []
    for ch in text.casefold():
        if ch in _LV_LETTERS:
            primary.append(_LV_LETTERS[ch] + "~")  # "~" sorts after every letter: "cz" < "č" < "d"
        else:
            primary.append(unicodedata.normalize("NFD", ch)[0])
    return "".join(primary), text.casefold()


# --- the bar chart (server-rendered SVG: geometry here, drawing in the template) -----------------


@dataclass(frozen=True)
class ChartBar:
    row: DashboardRow
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    """Bars and axis ticks in SVG user units; the template draws them with these constants."""

    bars: list[ChartBar]
    ticks: list[tuple[float, int]]  # (x, value)
    height: int
    # Narrow on purpose: each name sits above its bar, so on a phone the drawing shrinks little and
    # its text stays readable (the stylesheet scales an SVG down to the screen's width).
    width: int = 400
    plot_width: int = 260  # the longest bar; the rest of the width holds the bar's numbers
    row_height: int = 40  # a name line, then the bar
    bar_offset: int = 20  # from a row's top to its bar
    bar_height: int = 14
    top: int = 28  # the axis labels


def quota_chart(rows: list[DashboardRow]) -> Chart | None:
    """Lay out a horizontal bar per municipality, its length proportional to the quota."""
    charted = [r for r in rows if r.quota is not None]
    if not charted:
        return None
    layout = Chart(bars=[], ticks=[], height=0)
    highest = max(max(r.quota for r in charted), 1)
    step = _tick_step(highest)
    top_value = -(-highest // step) * step
    scale = layout.plot_width / top_value
    bars = [
        ChartBar(row=r, y=layout.top + i * layout.row_height, width=round(r.quota * scale, 1))
        for i, r in enumerate(charted)
    ]
    ticks = [(round(v * scale, 1), v) for v in range(0, top_value + 1, step)]
    return Chart(bars=bars, ticks=ticks, height=layout.top + len(bars) * layout.row_height + 8)


def _tick_step(highest: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if highest / step <= 5:
            return step
    return 10 ** len(str(highest))


# --- exports -------------------------------------------------------------------------------------


def spreadsheet_safe(value: str) -> str:
    """Keep a spreadsheet from reading a text cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cell(row, column: Column, language: str):
    value = getattr(row, column.key, None)
    if value is None:
        return ""
    if column.kind == "money":
        text = f"{value:.2f}"
        return text.replace(".", ",") if language == "lv" else text
    if column.kind == "text":
        return spreadsheet_safe(str(value))
    return str(value)


def to_csv(rows: list[DashboardRow], language: str) -> bytes:
    """CSV for Latvian Excel: UTF-8 with a BOM, `;` between values, decimal comma in Latvian."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(c.label) for c in EXPORT_COLUMNS])
    for row in rows:
        writer.writerow([_cell(row, c, language) for c in EXPORT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[DashboardRow], *, title: str, sheet_name: str, total_label: str) -> bytes:
    """An Excel workbook with the same columns as the CSV and a totals line (needs openpyxl)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "".join(ch for ch in sheet_name if ch not in "[]:*?/\\")[:31] or "Sheet1"
    wb.properties.title = title[:250]
    wb.properties.creator = "JIP portāls"
    ws.append([str(c.label) for c in EXPORT_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = []
        for c in EXPORT_COLUMNS:
            value = getattr(row, c.key, None)
            values.append(spreadsheet_safe(value) if isinstance(value, str) else value)
        ws.append(values)
    sums = totals(rows)
    footer = {"code": "", "name": total_label} | {
        c.key: getattr(sums, c.key) for c in EXPORT_COLUMNS if c.kind != "text"
    }
    ws.append([footer[c.key] for c in EXPORT_COLUMNS])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        letter = get_column_letter(index)
        if column.kind == "money":
            for cell in ws[letter][1:]:
                cell.number_format = "#,##0.00"
        ws.column_dimensions[letter].width = 28 if column.key == "name" else 16
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{len(rows) + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
