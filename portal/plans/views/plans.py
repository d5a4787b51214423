"""The prevention plan pages (issue 8): the plans list, a plan with its goals, activities (and the funded
projects under each), indicators and their targets per year; the coordinator's forms for the plan, its
goals, activities and indicators; the XLSX template and the import.

Reading: any logged-in user (a plan is the municipality's public policy document). Changing: the
municipality's coordinators; anyone else gets 404 (services.can_edit).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.core.access import get_or_404, require
from portal.core.forms import committed, save_failed
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.plans import forms, importer, services
from portal.plans.models import LEVELS, LevelScheme, PlanActivity, PlanGoal, PlanIndicator, PreventionPlan
from portal.plans.views import bp

AREA = "plans"


# --- loading and permissions ------------------------------------------------------------------------


def _readable(plan_id: int) -> PreventionPlan:
    return get_or_404(PreventionPlan, plan_id, services.can_read, area=AREA)


def _editable(plan_id: int) -> PreventionPlan:
    return get_or_404(
        PreventionPlan, plan_id, lambda user, plan: services.can_edit(user, plan.municipality_id), area=AREA
    )


def _editable_item(model, item_id: int):
    return get_or_404(
        model, item_id, lambda user, item: services.can_edit(user, item.plan.municipality_id), area=AREA
    )


def _show_url(plan, anchor: str | None = None) -> str:
    return url_for("plans.show", plan_id=plan.id, _anchor=anchor)


@bp.app_template_global("plan_level_label")
def plan_level_label(plan, level: int) -> str:
    return str(LevelScheme(plan.level_scheme).level_label(level))


# --- the list ---------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """Coordinators: their municipalities' plans. Everyone else (national administrators first of all):
    every municipality and whether it has a plan in force, in one query."""
    coordinated = sorted(current_user.coordinated_municipality_ids())
    own = []
    if coordinated:
        municipalities = db.session.scalars(
            sa.select(Municipality).where(Municipality.id.in_(coordinated)).order_by(Municipality.name)
        ).all()
        plans = db.session.scalars(
            sa.select(PreventionPlan)
            .where(PreventionPlan.municipality_id.in_(coordinated))
            .order_by(
                PreventionPlan.is_active.desc(), PreventionPlan.period_start.desc(), PreventionPlan.id.desc()
            )
        ).all()
        own = [(m, [p for p in plans if p.municipality_id == m.id]) for m in municipalities]
    overview = None
    if current_user.is_national_admin or not coordinated:
        overview = db.session.execute(
            sa.select(
                Municipality.id,
                Municipality.name,
                PreventionPlan.id.label("plan_id"),
                PreventionPlan.title,
                PreventionPlan.period_start,
                PreventionPlan.period_end,
            )
            .outerjoin(
                PreventionPlan,
                sa.and_(
                    PreventionPlan.municipality_id == Municipality.id, PreventionPlan.is_active.is_(True)
                ),
            )
            .where(Municipality.valid_to.is_(None))
            .order_by(Municipality.name)
        ).all()
    return render_template("plans/index.html", own=own, overview=overview)


# --- one plan ---------------------------------------------------------------------------------------


@bp.get("/<int:plan_id>")
@login_required
def show(plan_id: int):
    plan = _readable(plan_id)
    goals = {g.id: g for g in plan.goals}
    by_level = {
        level: {
            "goals": [g for g in plan.goals if g.level == level],
            "activities": [a for a in plan.activities if a.level == level],
            "indicators": [i for i in plan.indicators if i.level == level],
        }
        for level in LEVELS
    }
    return render_template(
        "plans/show.html",
        plan=plan,
        goals=goals,
        by_level=by_level,
        projects=services.funded_projects(plan),
        can_edit=services.can_edit(current_user, plan.municipality_id),
        delete_form=forms.ActionForm(),
    )


def _plan_form_page(form, template: str, **context):
    return render_template(template, form=form, **context)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    coordinated = current_user.coordinated_municipality_ids()
    municipality_id = request.args.get("municipality", type=int)
    if municipality_id is None and len(coordinated) == 1:
        municipality_id = next(iter(coordinated))
    require(municipality_id is not None and municipality_id in coordinated, area=AREA)
    municipality = db.session.get(Municipality, municipality_id)
    form = forms.PlanForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            plan = services.create_plan(
                municipality_id, **form.plan_values(), active=form.is_active.data, actor=current_user
            )
        if saved:
            flash(
                _(
                    "The prevention plan was created. "
                    "Add its goals, activities and indicators or import them."
                ),
                "success",
            )
            return redirect(_show_url(plan))
    return render_template("plans/new.html", form=form, municipality=municipality)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit(plan_id: int):
    plan = _editable(plan_id)
    form = forms.PlanForm(obj=plan)
    if request.method == "GET":
        form.lock_version.data = plan.lock_version
    if form.validate_on_submit():
        try:
            expected = int(form.lock_version.data or 0)
        except ValueError:
            expected = 0
        with committed(form) as saved:
            services.update_plan(
                plan,
                **form.plan_values(),
                is_active=form.is_active.data,
                expected_version=expected,
                actor=current_user,
            )
        if saved:
            flash(_("The plan was saved."), "success")
            return redirect(_show_url(plan))
    return render_template("plans/edit.html", form=form, plan=plan)


# --- goals, activities, indicators ------------------------------------------------------------------

_KINDS = {
    "goal": (PlanGoal, "plans/edit_goal.html", "goals"),
    "activity": (PlanActivity, "plans/edit_activity.html", "activities"),
    "indicator": (PlanIndicator, "plans/edit_indicator.html", "indicators"),
}


def _item_form(kind: str, plan, item=None):
    if kind == "indicator":
        data = {f"target_{y}": (item.targets or {}).get(str(y), "") for y in plan.years} if item else {}
        form = forms.indicator_form(plan, obj=item, data=data) if item else forms.indicator_form(plan)
    elif kind == "goal":
        form = forms.GoalForm(obj=item, plan=plan)
    else:
        form = forms.ActivityForm(obj=item, plan=plan)
    if item is not None and request.method == "GET" and hasattr(form, "goal_id"):
        form.goal_id.data = item.goal_id or 0
    return form


_ADD = {"goal": services.add_goal, "activity": services.add_activity, "indicator": services.add_indicator}
_UPDATE = {
    "goal": services.update_goal,
    "activity": services.update_activity,
    "indicator": services.update_indicator,
}
_DELETE = {
    "goal": services.delete_goal,
    "activity": services.delete_activity,
    "indicator": services.delete_indicator,
}
_SAVED = {
    "goal": (lambda: _("The goal was saved.")),
    "activity": (lambda: _("The activity was saved.")),
    "indicator": (lambda: _("The indicator was saved.")),
}
_DELETED = {
    "goal": (lambda: _("The goal was deleted.")),
    "activity": (lambda: _("The activity was deleted.")),
    "indicator": (lambda: _("The indicator was deleted.")),
}


def _new_item(kind: str, plan_id: int):
    plan = _editable(plan_id)
    form = _item_form(kind, plan)
    if form.validate_on_submit():
        with committed(form) as saved:
            item = _ADD[kind](plan, **form.values(), actor=current_user)
        if saved:
            flash(_SAVED[kind](), "success")
            return redirect(_show_url(plan, f"{kind}-{item.id}"))
    return render_template(_KINDS[kind][1], form=form, plan=plan, item=None, delete_form=None)


def _edit_item(kind: str, item_id: int):
    item = _editable_item(_KINDS[kind][0], item_id)
    plan = item.plan
    form = _item_form(kind, plan, item)
    if form.validate_on_submit():
        with committed(form) as saved:
            _UPDATE[kind](item, **form.values(), actor=current_user)
        if saved:
            flash(_SAVED[kind](), "success")
            return redirect(_show_url(plan, f"{kind}-{item.id}"))
    return render_template(_KINDS[kind][1], form=form, plan=plan, item=item, delete_form=forms.ActionForm())


def _delete_item(kind: str, item_id: int):
    item = _editable_item(_KINDS[kind][0], item_id)
    plan = item.plan
    form = forms.ActionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Try again."), "error")
        return redirect(_show_url(plan))
    try:
        _DELETE[kind](item, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(f"plans.edit_{kind}", **{f"{kind}_id": item_id}))
    except (IntegrityError, DataError, StaleDataError):
        db.session.rollback()
        flash(
            _(
                "The item could not be deleted: another change conflicts with it. "
                "Reload the page and try again."
            ),
            "error",
        )
        return redirect(_show_url(db.session.get(PreventionPlan, plan.id) or plan))
    flash(_DELETED[kind](), "success")
    return redirect(_show_url(plan))


@bp.route("/<int:plan_id>/goals/new", methods=["GET", "POST"])
@login_required
def new_goal(plan_id: int):
    return _new_item("goal", plan_id)


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_goal(goal_id: int):
    return _edit_item("goal", goal_id)


@bp.post("/goals/<int:goal_id>/delete")
@login_required
def delete_goal(goal_id: int):
    return _delete_item("goal", goal_id)


@bp.route("/<int:plan_id>/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(plan_id: int):
    return _new_item("activity", plan_id)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(activity_id: int):
    return _edit_item("activity", activity_id)


@bp.post("/activities/<int:activity_id>/delete")
@login_required
def delete_activity(activity_id: int):
    return _delete_item("activity", activity_id)


@bp.route("/<int:plan_id>/indicators/new", methods=["GET", "POST"])
@login_required
def new_indicator(plan_id: int):
    return _new_item("indicator", plan_id)


@bp.route("/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit_indicator(indicator_id: int):
    return _edit_item("indicator", indicator_id)


@bp.post("/indicators/<int:indicator_id>/delete")
@login_required
def delete_indicator(indicator_id: int):
    return _delete_item("indicator", indicator_id)


# --- template and import ----------------------------------------------------------------------------


@bp.get("/<int:plan_id>/template")
@login_required
def template(plan_id: int):
    """The import template filled with the plan's current contents (any reader may download it)."""
    import io

    plan = _readable(plan_id)
    return send_file(
        io.BytesIO(importer.template_xlsx(plan)),
        mimetype=importer.XLSX_CONTENT_TYPE,
        as_attachment=True,
        download_name=f"pmp-plans-{plan.id}.xlsx",
    )


@bp.route("/<int:plan_id>/import", methods=["GET", "POST"])
@login_required
def import_plan(plan_id: int):
    plan = _editable(plan_id)
    form = forms.ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.MAX_BYTES + 1)
        try:
            report = importer.import_plan(plan, data, upload.filename or "", actor=current_user)
            if report.ok:
                db.session.commit()
        except (IntegrityError, DataError, StaleDataError):
            save_failed(form)
            report = None
        if report is not None and report.ok:
            if report.kind == "csv":
                flash(_("Imported %(activities)d activities.", activities=report.activities), "success")
            else:
                flash(
                    _(
                        "Imported %(goals)d goals, %(activities)d activities and %(indicators)d indicators.",
                        goals=report.goals,
                        activities=report.activities,
                        indicators=report.indicators,
                    ),
                    "success",
                )
            return redirect(_show_url(plan))
        if report is not None:
            db.session.rollback()
            problems = [str(p) for p in report.problems]
    return render_template("plans/import_plan.html", form=form, plan=plan, problems=problems)
