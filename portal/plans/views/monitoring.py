"""The monitoring table of a prevention plan (seed 001 table 4.4; issue 8): the figures per activity and
year with the municipality's notes, the page to write the notes, and the annual monitoring report as
XLSX and PDF. The plan's coordinators and the national administrator see the table; only the
coordinators write the notes; everyone else gets 404.

Every view: load or 404 → permission (404) → form → one service call inside `committed(form)` → flash
and redirect (STYLE "Service layer")."""

from __future__ import annotations

import logging

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from portal.core import pdf, uploads
from portal.core.access import get_or_404
from portal.core.forms import committed
from portal.core.pdf import PdfError
from portal.core.timeutil import utcnow
from portal.plans import monitoring
from portal.plans.models import PlanActivity, PreventionPlan
from portal.plans.views import bp
from portal.programmes.forms import _clean

AREA = "plans"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
log = logging.getLogger(__name__)


class NotesForm(FlaskForm):
    achieved_note = TextAreaField(
        _l("Achieved value (comment)"),
        filters=[_clean],
        validators=[Length(max=monitoring.NOTE_MAX)],
        description=_l(
            "What the figures do not say: results that are not counts, activities not funded here."
        ),
    )
    impact_assessment = TextAreaField(
        _l("Impact assessment"),
        filters=[_clean],
        validators=[Length(max=monitoring.NOTE_MAX)],
        description=_l("How the activity changed the situation of the young people it reached."),
    )
    factors_analysis = TextAreaField(
        _l("Analysis of the factors of influence"),
        filters=[_clean],
        validators=[Length(max=monitoring.NOTE_MAX)],
        description=_l("The circumstances that helped or hindered reaching the result."),
    )


# --- loading and permissions -----------------------------------------------------------------------


def _plan(plan_id: int) -> PreventionPlan:
    return get_or_404(PreventionPlan, plan_id, monitoring.can_see, area=AREA)


def _table(plan: PreventionPlan, year: int | None) -> monitoring.MonitoringTable:
    try:
        return monitoring.monitoring_table(plan, year)
    except ValueError:
        abort(404)


def _year_arg() -> int | None:
    raw = request.args.get("year")
    if raw in (None, ""):
        return None
    if not raw.isdigit():
        abort(404)
    return int(raw)


def _filename(table: monitoring.MonitoringTable, extension: str) -> str:
    return f"pmp-monitorings-{table.plan.municipality.code}-{table.year}.{extension}"


# --- pages -----------------------------------------------------------------------------------------


@bp.route("/<int:plan_id>/monitoring", methods=["GET"], endpoint="monitoring")
@login_required
def monitoring_table(plan_id: int):
    plan = _plan(plan_id)
    table = _table(plan, _year_arg())
    return render_template(
        "plans/monitoring.html",
        plan=plan,
        table=table,
        can_edit=monitoring.can_edit(current_user, plan),
    )


@bp.route("/activities/<int:activity_id>/monitoring/<int:year>", methods=["GET", "POST"])
@login_required
def monitoring_notes(activity_id: int, year: int):
    activity = get_or_404(
        PlanActivity, activity_id, lambda user, a: monitoring.can_edit(user, a.plan), area=AREA
    )
    plan = activity.plan
    if year not in plan.years:
        abort(404)
    notes = monitoring.notes_of(activity, year)
    form = NotesForm(obj=notes)
    if form.validate_on_submit():
        with committed(form) as saved:
            monitoring.save_notes(
                activity,
                year,
                achieved_note=form.achieved_note.data,
                impact_assessment=form.impact_assessment.data,
                factors_analysis=form.factors_analysis.data,
                actor=current_user,
            )
        if saved:
            flash(_("The assessment for %(year)d is saved.", year=year), "success")
            anchor = f"#activity-{activity.id}"
            return redirect(url_for("plans.monitoring", plan_id=plan.id, year=year) + anchor)
    row = next((r for r in monitoring.rows_for(plan, year) if r.activity_id == activity.id), None)
    return render_template(
        "plans/monitoring_notes.html", plan=plan, activity=activity, year=year, form=form, row=row
    )


@bp.route("/<int:plan_id>/monitoring/<int:year>.xlsx", methods=["GET"])
@login_required
def monitoring_xlsx(plan_id: int, year: int):
    plan = _plan(plan_id)
    table = _table(plan, year)
    # The annual report is the municipality's document: in Latvian, whatever the interface language.
    with force_locale("lv"):
        body = monitoring.to_xlsx(table)
    return Response(
        body,
        mimetype=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(table, "xlsx")}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/<int:plan_id>/monitoring/<int:year>.pdf", methods=["GET"])
@login_required
def monitoring_pdf(plan_id: int, year: int):
    plan = _plan(plan_id)
    table = _table(plan, year)
    try:
        with force_locale("lv"):
            data = pdf.render_pdf(
                "plans/pdf/monitoring.html",
                locale="lv",
                table=table,
                plan=plan,
                title=monitoring.report_title(table.year),
                generated_at=utcnow(),
            )
    except PdfError:
        log.exception("monitoring report of plan %s for %s failed", plan.id, year)
        flash(_("The report could not be generated just now. Try again in a minute."), "danger")
        return redirect(url_for("plans.monitoring", plan_id=plan.id, year=year))
    return uploads.download_response(data, _filename(table, "pdf"))
