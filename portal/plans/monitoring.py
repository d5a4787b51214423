"""The monitoring table of a prevention plan (seed 001, table 4.4 "PMP prevencijas aktivitāšu rezultātu
uzskaite un analīze"; issue 8): per plan activity and year, the funding invested, the planned result and
the achieved value, computed from the funded projects that serve the activity and their approved final
reports; next to the figures, the municipality's own words (ActivityMonitoring); and the annual
monitoring report as XLSX and PDF.

Definitions (every figure is computed in SQL; the whole table is ONE statement whatever the number of
activities and projects, plus one small statement for the years that have data):

- **A project of an activity**: an application with ``plan_activity_id`` = the activity that has money
  on it in the payments ledger (portal/payments/ledger.py: awarded, or under a contract), i.e. exactly
  the ledger's project rows, so the money reconciles with the ledger by construction.
- **Year Y of a project**: the year of its contract's ``start_date``; while it has no contract yet
  (funded, contract being prepared) the year of the application's ``start_date``. A project is counted
  in one year only, the year it starts, even when it runs into the next one.
- **Funded projects**: the activity's projects whose application is funded or later (FUNDED_STATUSES:
  funded … closed); a terminated project is not counted here but its money is (see below).
- **Contracted (EUR)** and **paid (EUR)** — the "ieguldītais finansējums": the ledger's own measures of
  each project: *contracted* = the signed contract's amount (for a terminated contract only what was
  paid), *paid* = the payments with status *paid* (advance and final).
- **Planned result**: the activity's ``planned_result`` text, its ``result_indicator`` and
  ``target_value``, plus the participants the funded projects planned (sum of the applications'
  ``participants_total`` and ``participants_risk``).
- **Achieved value**: from the APPROVED final reports only (application status report_approved,
  forwarded or closed): the number of projects completed, the participants reached (sum of
  ``FinalReport.participants_total``), of them PMP-risk (sum of ``participants_risk``) and the activity
  hours (sum of ``activity_hours``). **Share of the target** = participants reached in the year ÷ the
  activity's ``target_value`` × 100 (table 4.4 is an annual report, so the year's achievement is set
  against the activity's planned result), one decimal; none when the activity has no numeric target.
- **The notes**: ``achieved_note``, ``impact_assessment`` (ietekmes novērtēšana) and
  ``factors_analysis`` (ietekmes faktoru analīze) per activity and year, written by the coordinators of
  the plan's municipality (`save_notes`, audited; no personal codes, QUALITY F2).

The table lists the activities planned for the year (``year_from`` ≤ Y ≤ ``year_to``) and any other
activity of the plan with projects in that year.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, ApplicationStatus
from portal.contracts.models import Contract
from portal.core import audit
from portal.core.db import ZERO
from portal.core.enums import Role
from portal.core.privacy import contains_personal_code
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.payments import ledger
from portal.plans.models import ActivityMonitoring, LevelScheme, PlanActivity, PlanGoal, PreventionPlan
from portal.reports.models import FinalReport

REPORTED_STATUSES = (
    ApplicationStatus.REPORT_APPROVED.value,
    ApplicationStatus.FORWARDED.value,
    ApplicationStatus.CLOSED.value,
)
FUNDED = tuple(sorted(s.value for s in FUNDED_STATUSES))
NOTE_FIELDS = ("achieved_note", "impact_assessment", "factors_analysis")
NOTE_MAX = 4000
COUNTS = ("projects", "planned_participants", "planned_risk", "completed", "reached", "reached_risk", "hours")
AMOUNTS = ("contracted", "paid")


# --- permissions -----------------------------------------------------------------------------------


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can_edit(user, plan: PreventionPlan) -> bool:
    """The coordinators of the plan's municipality write the notes."""
    return _authenticated(user) and user.has_role(Role.COORDINATOR, municipality_id=plan.municipality_id)


def can_see(user, plan: PreventionPlan) -> bool:
    """The plan's coordinators and the national administrator see the table and its report."""
    return can_edit(user, plan) or (_authenticated(user) and user.is_national_admin)


# --- the figures -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MonitoringRow:
    activity_id: int
    level: int
    number: str
    title: str
    goal_number: str
    goal_title: str
    planned_result: str
    result_indicator: str
    target_value: int | None
    projects: int = 0
    contracted: Decimal = ZERO
    paid: Decimal = ZERO
    planned_participants: int = 0
    planned_risk: int = 0
    completed: int = 0
    reached: int = 0
    reached_risk: int = 0
    hours: int = 0
    achieved_note: str = ""
    impact_assessment: str = ""
    factors_analysis: str = ""

    @property
    def share(self) -> Decimal | None:
        """Participants reached as a percentage of the target (one decimal), when there is a target."""
        if not self.target_value:
            return None
        return (Decimal(self.reached) * 100 / self.target_value).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True, kw_only=True)
class Totals:
    projects: int = 0
    contracted: Decimal = ZERO
    paid: Decimal = ZERO
    planned_participants: int = 0
    planned_risk: int = 0
    completed: int = 0
    reached: int = 0
    reached_risk: int = 0
    hours: int = 0


@dataclass(frozen=True)
class LevelGroup:
    level: int
    label: str
    rows: list[MonitoringRow]


@dataclass
class MonitoringTable:
    plan: PreventionPlan
    year: int
    years: list[int]  # the year selector: the plan's period and any other year with data
    rows: list[MonitoringRow] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return Totals(
            **{name: sum(getattr(r, name) for r in self.rows) for name in COUNTS},
            **{name: sum((getattr(r, name) for r in self.rows), ZERO) for name in AMOUNTS},
        )

    def groups(self) -> list[LevelGroup]:
        """The rows by prevention level, named as the plan names its levels."""
        scheme = LevelScheme(self.plan.level_scheme)
        result: list[LevelGroup] = []
        for row in self.rows:
            if not result or result[-1].level != row.level:
                result.append(LevelGroup(row.level, str(scheme.level_label(row.level)), []))
            result[-1].rows.append(row)
        return result


def _project_year():
    started = sa.func.coalesce(Contract.start_date, Application.start_date)
    return sa.cast(sa.extract("year", started), sa.Integer)


def _projects():
    """The ledger's per-project rows (portal/payments/ledger.py, the same definitions of contracted and
    paid) with the application's activity, status, year and planned participants added."""
    return ledger.project_rows(
        Application.id.label("application_id"),
        Application.plan_activity_id.label("activity_id"),
        Application.status.label("status"),
        Application.participants_total.label("planned_participants"),
        Application.participants_risk.label("planned_risk"),
        _project_year().label("year"),
        name="monitoring_projects",
    )


def _activity_ids(plan_id: int):
    return sa.select(PlanActivity.id).where(PlanActivity.plan_id == plan_id)


def years_with_data(plan: PreventionPlan) -> list[int]:
    """The years in which the plan's activities have projects (one statement)."""
    p = _projects()
    stmt = (
        sa.select(p.c.year)
        .where(p.c.activity_id.in_(_activity_ids(plan.id)), p.c.year.is_not(None))
        .distinct()
    )
    return sorted(int(y) for y in db.session.scalars(stmt))


def default_year(plan: PreventionPlan, with_data: list[int]) -> int:
    """The latest year with data within the plan's period, else this year brought within the period."""
    inside = [y for y in with_data if plan.period_start <= y <= plan.period_end]
    if inside:
        return inside[-1]
    this_year = to_riga(utcnow()).year
    return min(max(this_year, plan.period_start), plan.period_end)


def _count(value) -> int:
    return int(value or 0)


def rows_for(plan: PreventionPlan, year: int) -> list[MonitoringRow]:
    """The table for one year: ONE statement (aggregates per activity outer-joined to the activities,
    their goals and the notes)."""
    p = _projects()
    funded = p.c.status.in_(FUNDED)
    reported = p.c.status.in_(REPORTED_STATUSES)

    def if_(condition, value):
        return sa.func.sum(sa.case((condition, sa.func.coalesce(value, 0)), else_=0))

    figures = (
        sa.select(
            p.c.activity_id.label("activity_id"),
            sa.func.sum(sa.case((funded, 1), else_=0)).label("projects"),
            sa.func.sum(p.c.contracted).label("contracted"),
            sa.func.sum(p.c.paid).label("paid"),
            if_(funded, p.c.planned_participants).label("planned_participants"),
            if_(funded, p.c.planned_risk).label("planned_risk"),
            sa.func.sum(sa.case((reported, 1), else_=0)).label("completed"),
            if_(reported, FinalReport.participants_total).label("reached"),
            if_(reported, FinalReport.participants_risk).label("reached_risk"),
            if_(reported, FinalReport.activity_hours).label("hours"),
        )
        .select_from(p)
        .outerjoin(FinalReport, FinalReport.application_id == p.c.application_id)
        .where(p.c.activity_id.in_(_activity_ids(plan.id)), p.c.year == year)
        .group_by(p.c.activity_id)
        .subquery("monitoring_figures")
    )
    stmt = (
        sa.select(
            PlanActivity.id.label("activity_id"),
            PlanActivity.level,
            PlanActivity.number,
            PlanActivity.title,
            PlanActivity.planned_result,
            PlanActivity.result_indicator,
            PlanActivity.target_value,
            PlanGoal.number.label("goal_number"),
            PlanGoal.title.label("goal_title"),
            *(figures.c[name] for name in (*COUNTS, *AMOUNTS)),
            *(getattr(ActivityMonitoring, name) for name in NOTE_FIELDS),
        )
        .select_from(PlanActivity)
        .outerjoin(PlanGoal, PlanGoal.id == PlanActivity.goal_id)
        .outerjoin(figures, figures.c.activity_id == PlanActivity.id)
        .outerjoin(
            ActivityMonitoring,
            sa.and_(ActivityMonitoring.activity_id == PlanActivity.id, ActivityMonitoring.year == year),
        )
        .where(
            PlanActivity.plan_id == plan.id,
            sa.or_(
                sa.and_(PlanActivity.year_from <= year, PlanActivity.year_to >= year),
                figures.c.activity_id.is_not(None),
            ),
        )
        .order_by(PlanActivity.level, PlanActivity.position, PlanActivity.id)
    )
    return [
        MonitoringRow(
            activity_id=r["activity_id"],
            level=r["level"],
            number=r["number"] or "",
            title=r["title"],
            goal_number=r["goal_number"] or "",
            goal_title=r["goal_title"] or "",
            planned_result=r["planned_result"] or "",
            result_indicator=r["result_indicator"] or "",
            target_value=r["target_value"],
            **{name: _count(r[name]) for name in COUNTS},
            **{name: ledger.money(r[name]) for name in AMOUNTS},
            **{name: r[name] or "" for name in NOTE_FIELDS},
        )
        for r in db.session.execute(stmt).mappings()
    ]


def monitoring_table(plan: PreventionPlan, year: int | None = None) -> MonitoringTable:
    """The table for `year` (default: `default_year`). A year outside the plan's period without data is
    refused with ValueError (the page answers 404)."""
    with_data = years_with_data(plan)
    years = sorted(set(plan.years) | set(with_data))
    if year is None:
        year = default_year(plan, with_data)
    elif year not in years:
        raise ValueError(f"year {year} is not in the plan's period")
    return MonitoringTable(plan=plan, year=year, years=years, rows=rows_for(plan, year))


# --- the notes ---------------------------------------------------------------------------------------


def notes_of(activity: PlanActivity, year: int) -> ActivityMonitoring | None:
    return db.session.scalars(
        sa.select(ActivityMonitoring).where(
            ActivityMonitoring.activity_id == activity.id, ActivityMonitoring.year == year
        )
    ).first()


def save_notes(
    activity: PlanActivity,
    year: int,
    *,
    achieved_note: str | None,
    impact_assessment: str | None,
    factors_analysis: str | None,
    actor,
) -> ActivityMonitoring:
    """Record the municipality's assessment of one activity in one year (coordinators of the plan's
    municipality; a year of the plan's period; no personal codes); audited. Flushes, the view commits."""
    plan = activity.plan
    if not can_edit(actor, plan):
        raise TransitionDenied("only a coordinator of the plan's municipality writes the monitoring notes")
    if year not in plan.years:
        raise WorkflowError(
            _(
                "The year must be within the plan's period (%(start)d–%(end)d).",
                start=plan.period_start,
                end=plan.period_end,
            )
        )
    values = {
        "achieved_note": (achieved_note or "").strip(),
        "impact_assessment": (impact_assessment or "").strip(),
        "factors_analysis": (factors_analysis or "").strip(),
    }
    for name, value in values.items():
        if len(value) > NOTE_MAX:
            raise WorkflowError(_("Write at most %(max)d characters.", max=NOTE_MAX), field=name)
        if contains_personal_code(value):
            raise WorkflowError(
                _("Do not enter a person's identity code here: the portal stores no personal codes."),
                field=name,
            )
    notes = notes_of(activity, year)
    before = {name: getattr(notes, name) for name in NOTE_FIELDS} if notes is not None else None
    if notes is None:
        notes = ActivityMonitoring(activity_id=activity.id, year=year)
        db.session.add(notes)
    for name, value in values.items():
        setattr(notes, name, value)
    notes.updated_by_id = actor.id
    db.session.flush()
    audit.record(
        "plan_monitoring_saved",
        actor=actor,
        obj=notes,
        municipality_id=plan.municipality_id,
        before=before,
        after=values | {"activity_id": activity.id, "year": year},
    )
    return notes


# --- the annual monitoring report ------------------------------------------------------------------


# The name of seed 001's table 4.4: the report is the municipality's official document, in Latvian.
REPORT_TITLE = "PMP prevencijas aktivitāšu rezultātu uzskaite un analīze"


def report_title(year: int) -> str:
    """The annual report's title: table 4.4's own (Latvian) name and the year."""
    return f"{REPORT_TITLE} {year}"


def xlsx_columns() -> list[tuple[str, str]]:
    """(key, header) of the report's columns, in the order of table 4.4 plus the computed figures."""
    return [
        ("level_label", _("Prevention level")),
        ("goal", _("Goal")),
        ("activity", _("Activity")),
        ("result_indicator", _("Result indicator")),
        ("planned_result", _("Planned result")),
        ("target_value", _("Target value")),
        ("projects", _("Funded projects")),
        ("contracted", _("Contracted (EUR)")),
        ("paid", _("Funding invested: paid (EUR)")),
        ("planned_participants", _("Participants planned")),
        ("planned_risk", _("Of them at PMP risk, planned")),
        ("completed", _("Projects completed")),
        ("reached", _("Participants reached")),
        ("reached_risk", _("Of them at PMP risk, reached")),
        ("hours", _("Activity hours")),
        ("share", _("Share of the target achieved (%)")),
        ("achieved_note", _("Achieved value (comment)")),
        ("impact_assessment", _("Impact assessment")),
        ("factors_analysis", _("Analysis of the factors of influence")),
    ]


def _joined(number: str, title: str) -> str:
    return f"{number} {title}".strip()


def to_xlsx(table: MonitoringTable) -> bytes:
    """The annual report as a workbook: a title block, the table with numbers as numbers (money with two
    decimals) and every text cell made formula-safe, and a totals line."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from portal.programmes.dashboard import spreadsheet_safe

    def text(value: str) -> str:
        return spreadsheet_safe(value or "")

    plan = table.plan
    title = report_title(table.year)
    wb = Workbook()
    ws = wb.active
    ws.title = str(table.year)
    wb.properties.title = title[:250]
    wb.properties.creator = "JIP portāls"
    ws.append([text(title)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_("Municipality"), text(plan.municipality.name)])
    ws.append([_("Prevention plan"), text(plan.title)])
    ws.append([_("Year"), table.year])
    ws.append([])
    columns = xlsx_columns()
    ws.append([header for _key, header in columns])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    scheme = LevelScheme(plan.level_scheme)
    for r in table.rows:
        values = {
            "level_label": str(scheme.level_label(r.level)),
            "goal": _joined(r.goal_number, r.goal_title),
            "activity": _joined(r.number, r.title),
            "result_indicator": r.result_indicator,
            "planned_result": r.planned_result,
            "target_value": r.target_value,
            "share": float(r.share) if r.share is not None else None,
        }
        row = []
        for key, _header in columns:
            value = values[key] if key in values else getattr(r, key)
            if isinstance(value, str):
                value = text(value)
            elif isinstance(value, Decimal):
                value = float(value)
            row.append(value)
        ws.append(row)
    sums = table.totals
    footer = []
    for key, _header in columns:
        if key == "level_label":
            footer.append(_("Total"))
        elif key in COUNTS:
            footer.append(getattr(sums, key))
        elif key in AMOUNTS:
            footer.append(float(getattr(sums, key)))
        else:
            footer.append(None)
    ws.append(footer)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for index, (key, _header) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if key in AMOUNTS:
            for cell in ws[letter][header_row:]:
                cell.number_format = "#,##0.00"
        elif key == "share":
            for cell in ws[letter][header_row:]:
                cell.number_format = "0.0"
        ws.column_dimensions[letter].width = 40 if key in (*NOTE_FIELDS, "goal", "activity") else 16
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
