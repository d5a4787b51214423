"""The municipality's PMP prevention plan (DESIGN §5; issue 8): plans, their goals, activities and
indicators. Every change checks the actor (the municipality's coordinator) and the rules, is audited
("plan.…") and flushed; the view commits.

Reading: a plan is a public policy document, so any logged-in user may read any plan (`can_read`);
only the coordinators of its municipality change it (`can_edit`). National administrators read all.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.core import audit
from portal.core.enums import Role
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.plans.models import LEVELS, LevelScheme, PlanActivity, PlanGoal, PlanIndicator, PreventionPlan

MIN_YEARS = 1  # a plan covers at least one calendar year (period_start == period_end)...
MAX_YEARS = 10  # ...and at most ten
YEAR_RANGE = (2000, 2100)
TARGET_MAX = 100  # characters of one indicator value ("72%", "< 1%", "tiks noteikta 2023. gadā")

PLAN_FIELDS = ("title", "period_start", "period_end", "level_scheme", "approved_on", "approval_reference")
GOAL_FIELDS = ("level", "number", "title", "expected_results")
ACTIVITY_FIELDS = (
    "goal_id",
    "level",
    "number",
    "title",
    "planned_result",
    "result_indicator",
    "target_value",
    "responsible",
    "involved",
    "year_from",
    "year_to",
    "funding_sources",
)
INDICATOR_FIELDS = (
    "goal_id",
    "level",
    "number",
    "title",
    "baseline",
    "baseline_year",
    "targets",
    "data_source",
)


# --- permissions ------------------------------------------------------------------------------------


def can_edit(user, municipality_id: int) -> bool:
    """The municipality's coordinators keep its plan."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.has_role(Role.COORDINATOR, municipality_id=municipality_id)
    )


def can_read(user, plan: PreventionPlan | None = None) -> bool:
    """Any logged-in user: the plan is the municipality's public policy document."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _require_editor(actor, municipality_id: int) -> None:
    if not can_edit(actor, municipality_id):
        raise WorkflowError(_("Only the municipality's coordinators may change its prevention plan."))


# --- reading ----------------------------------------------------------------------------------------


def active_plan(municipality_id: int) -> PreventionPlan | None:
    return db.session.scalar(
        sa.select(PreventionPlan).where(
            PreventionPlan.municipality_id == municipality_id, PreventionPlan.is_active.is_(True)
        )
    )


def plans_of(municipality_id: int) -> list[PreventionPlan]:
    """The municipality's plans, the active one first, then the newest periods."""
    return list(
        db.session.scalars(
            sa.select(PreventionPlan)
            .where(PreventionPlan.municipality_id == municipality_id)
            .order_by(
                PreventionPlan.is_active.desc(), PreventionPlan.period_start.desc(), PreventionPlan.id.desc()
            )
        )
    )


# --- checks -----------------------------------------------------------------------------------------


def check_period(period_start: int, period_end: int) -> None:
    low, high = YEAR_RANGE
    if not (low <= period_start <= high and low <= period_end <= high):
        raise WorkflowError(
            _("Give the years between %(low)d and %(high)d.", low=low, high=high), field="period_start"
        )
    if period_end < period_start:
        raise WorkflowError(_("The period must not end before it starts."), field="period_end")
    if period_end - period_start + 1 > MAX_YEARS:
        raise WorkflowError(_("A plan covers at most %(years)d years.", years=MAX_YEARS), field="period_end")


def _check_scheme(level_scheme: str) -> str:
    try:
        return LevelScheme(level_scheme).value
    except ValueError:
        raise WorkflowError(
            _("Choose how the plan names its prevention levels."), field="level_scheme"
        ) from None


def _check_level(level) -> None:
    if level not in LEVELS:
        raise WorkflowError(_("The prevention level must be 1, 2 or 3."), field="level")


def _check_title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise WorkflowError(_("Give a title."), field="title")
    return title


def _check_year_in_period(plan: PreventionPlan, year: int, field: str) -> None:
    if not plan.period_start <= year <= plan.period_end:
        raise WorkflowError(
            _(
                "The year %(year)d is outside the plan's period %(start)d–%(end)d.",
                year=year,
                start=plan.period_start,
                end=plan.period_end,
            ),
            field=field,
        )


def _check_goal(plan: PreventionPlan, goal_id: int | None) -> None:
    if goal_id is None:
        return
    goal = db.session.get(PlanGoal, goal_id)
    if goal is None or goal.plan_id != plan.id:
        raise WorkflowError(_("Choose a goal of this plan."), field="goal_id")


def _check_number_free(model, plan: PreventionPlan, number: str, own_id: int | None) -> None:
    if not number:
        return
    query = sa.select(model.id).where(model.plan_id == plan.id, model.number == number)
    if own_id is not None:
        query = query.where(model.id != own_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise WorkflowError(
            _("The number %(number)s is already used in this plan.", number=number), field="number"
        )


def _check_targets(plan: PreventionPlan, targets: dict) -> dict:
    clean = {}
    for key, value in (targets or {}).items():
        try:
            year = int(key)
        except (TypeError, ValueError):
            raise WorkflowError(_("A target's year must be a year."), field="targets") from None
        _check_year_in_period(plan, year, "targets")
        text = str(value if value is not None else "").strip()
        if len(text) > TARGET_MAX:
            raise WorkflowError(
                _("A target value is at most %(n)d characters.", n=TARGET_MAX), field="targets"
            )
        if text:
            clean[str(year)] = text
    return dict(sorted(clean.items()))


def _snapshot(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


def _next_position(model, plan: PreventionPlan, level: int) -> int:
    highest = db.session.scalar(
        sa.select(sa.func.max(model.position)).where(model.plan_id == plan.id, model.level == level)
    )
    return (highest or 0) + 1


def _audit(action: str, actor, obj, plan: PreventionPlan, before=None, after=None) -> None:
    audit.record(
        action, actor=actor, obj=obj, before=before, after=after, municipality_id=plan.municipality_id
    )


# --- plans ------------------------------------------------------------------------------------------


def _deactivate_others(municipality_id: int, keep_id: int | None, actor) -> None:
    """Take the municipality's plan in force out of force (flushed first, so the partial unique index
    never sees two active plans)."""
    query = sa.select(PreventionPlan).where(
        PreventionPlan.municipality_id == municipality_id, PreventionPlan.is_active.is_(True)
    )
    if keep_id is not None:
        query = query.where(PreventionPlan.id != keep_id)
    for other in db.session.scalars(query):
        other.is_active = False
        audit.record(
            "plan.deactivated",
            actor=actor,
            obj=other,
            before={"is_active": True},
            after={"is_active": False},
            municipality_id=municipality_id,
        )
    db.session.flush()


def create_plan(
    municipality_id: int,
    *,
    title: str,
    period_start: int,
    period_end: int,
    level_scheme: str,
    approved_on: date | None = None,
    approval_reference: str | None = None,
    active: bool = True,
    actor,
) -> PreventionPlan:
    """A new plan; a new plan in force takes the previous one out of force in the same transaction."""
    _require_editor(actor, municipality_id)
    title = _check_title(title)
    check_period(period_start, period_end)
    level_scheme = _check_scheme(level_scheme)
    if active:
        _deactivate_others(municipality_id, None, actor)
    plan = PreventionPlan(
        municipality_id=municipality_id,
        title=title,
        period_start=period_start,
        period_end=period_end,
        level_scheme=level_scheme,
        approved_on=approved_on,
        approval_reference=(approval_reference or "").strip() or None,
        is_active=active,
        updated_by_id=actor.id,
    )
    db.session.add(plan)
    db.session.flush()
    _audit("plan.created", actor, plan, plan, after=_snapshot(plan, (*PLAN_FIELDS, "is_active")))
    return plan


def update_plan(plan: PreventionPlan, *, expected_version: int, actor, **values) -> PreventionPlan:
    """Change the plan's facts (PLAN_FIELDS and `is_active`). `expected_version` is the lock_version the
    user's form was built from: a change made meanwhile by someone else is refused, not overwritten."""
    _require_editor(actor, plan.municipality_id)
    if expected_version != plan.lock_version:
        raise WorkflowError(
            _("Someone else changed this plan meanwhile. Reload the page and make your change again.")
        )
    unknown = set(values) - {*PLAN_FIELDS, "is_active"}
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    if "title" in values:
        values["title"] = _check_title(values["title"])
    if "level_scheme" in values:
        values["level_scheme"] = _check_scheme(values["level_scheme"])
    if "approval_reference" in values:
        values["approval_reference"] = (values["approval_reference"] or "").strip() or None
    start = values.get("period_start", plan.period_start)
    end = values.get("period_end", plan.period_end)
    check_period(start, end)
    if (start, end) != (plan.period_start, plan.period_end):
        _check_contents_fit(plan, start, end)
    before = _snapshot(plan, (*PLAN_FIELDS, "is_active"))
    if values.get("is_active") and not plan.is_active:
        _deactivate_others(plan.municipality_id, plan.id, actor)
    for name, value in values.items():
        setattr(plan, name, value)
    plan.updated_by_id = actor.id
    db.session.flush()
    _audit(
        "plan.updated", actor, plan, plan, before=before, after=_snapshot(plan, (*PLAN_FIELDS, "is_active"))
    )
    return plan


def _check_contents_fit(plan: PreventionPlan, start: int, end: int) -> None:
    """A shorter period must still hold every activity's years and every indicator's targets."""
    for activity in plan.activities:
        if activity.year_from < start or activity.year_to > end:
            raise WorkflowError(
                _(
                    "Activity %(number)s runs in %(start)d–%(end)d, outside the new period. "
                    "Change the activity first.",
                    number=activity.number or activity.title[:40],
                    start=activity.year_from,
                    end=activity.year_to,
                ),
                field="period_start",
            )
    for indicator in plan.indicators:
        for key in indicator.targets or {}:
            if not start <= int(key) <= end:
                raise WorkflowError(
                    _(
                        "Indicator %(number)s has a target for %(year)s, outside the new period. "
                        "Change the indicator first.",
                        number=indicator.number or indicator.title[:40],
                        year=key,
                    ),
                    field="period_start",
                )


# --- goals ------------------------------------------------------------------------------------------


def _add_item(model, fields, check, plan: PreventionPlan, values: dict, *, actor, kind: str):
    """Add a goal, activity or indicator at the end of its level (checked by `check`), audited."""
    _require_editor(actor, plan.municipality_id)
    values = check(plan, {name: values.get(name) for name in fields}, None)
    item = model(plan_id=plan.id, position=_next_position(model, plan, values["level"]), **values)
    db.session.add(item)
    db.session.flush()
    _audit(f"plan.{kind}_added", actor, item, plan, after=_snapshot(item, fields))
    return item


def _update_item(item, fields, check, values: dict, *, actor, kind: str):
    """Change a goal, activity or indicator (moving to the end of a new level), audited."""
    plan = item.plan
    _require_editor(actor, plan.municipality_id)
    before = _snapshot(item, fields)
    values = check(plan, {**before, **values}, item.id)
    if values["level"] != item.level:
        item.position = _next_position(type(item), plan, values["level"])
    for name, value in values.items():
        setattr(item, name, value)
    db.session.flush()
    _audit(f"plan.{kind}_updated", actor, item, plan, before=before, after=_snapshot(item, fields))
    return item


def _goal_values(plan: PreventionPlan, values: dict, own_id: int | None) -> dict:
    _check_level(values.get("level"))
    values["title"] = _check_title(values.get("title"))
    values["number"] = (values.get("number") or "").strip()
    values["expected_results"] = (values.get("expected_results") or "").strip()
    _check_number_free(PlanGoal, plan, values["number"], own_id)
    return values


def add_goal(plan: PreventionPlan, *, level, title, number="", expected_results="", actor) -> PlanGoal:
    values = {"level": level, "title": title, "number": number, "expected_results": expected_results}
    return _add_item(PlanGoal, GOAL_FIELDS, _goal_values, plan, values, actor=actor, kind="goal")


def update_goal(goal: PlanGoal, *, actor, **values) -> PlanGoal:
    return _update_item(goal, GOAL_FIELDS, _goal_values, values, actor=actor, kind="goal")


def delete_goal(goal: PlanGoal, *, actor) -> None:
    """The goal's activities and indicators stay (their goal becomes empty)."""
    plan = goal.plan
    _require_editor(actor, plan.municipality_id)
    before = _snapshot(goal, GOAL_FIELDS)
    for item in (*plan.activities, *plan.indicators):
        if item.goal_id == goal.id:
            item.goal_id = None
    _audit("plan.goal_deleted", actor, goal, plan, before=before)
    db.session.delete(goal)
    db.session.flush()
    db.session.expire(plan, ["goals"])


# --- activities -------------------------------------------------------------------------------------


def _activity_values(plan: PreventionPlan, values: dict, own_id: int | None) -> dict:
    _check_level(values.get("level"))
    values["title"] = _check_title(values.get("title"))
    _check_goal(plan, values.get("goal_id"))
    year_from, year_to = values.get("year_from"), values.get("year_to")
    if year_from is None:
        year_from = plan.period_start
    if year_to is None:
        year_to = plan.period_end
    _check_year_in_period(plan, year_from, "year_from")
    _check_year_in_period(plan, year_to, "year_to")
    if year_to < year_from:
        raise WorkflowError(_("The last year must not be before the first."), field="year_to")
    values["year_from"], values["year_to"] = year_from, year_to
    target = values.get("target_value")
    if target is not None and target < 0:
        raise WorkflowError(_("The target must not be negative."), field="target_value")
    for name in (
        "number",
        "planned_result",
        "result_indicator",
        "responsible",
        "involved",
        "funding_sources",
    ):
        values[name] = (values.get(name) or "").strip()
    _check_number_free(PlanActivity, plan, values["number"], own_id)
    return values


def add_activity(plan: PreventionPlan, *, actor, **values) -> PlanActivity:
    return _add_item(
        PlanActivity, ACTIVITY_FIELDS, _activity_values, plan, values, actor=actor, kind="activity"
    )


def update_activity(activity: PlanActivity, *, actor, **values) -> PlanActivity:
    return _update_item(activity, ACTIVITY_FIELDS, _activity_values, values, actor=actor, kind="activity")


def linked_projects(activity_ids) -> dict[int, int]:
    """How many applications name each activity as the one they serve."""
    from portal.applications.models import Application

    ids = list(activity_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Application.plan_activity_id, sa.func.count())
        .where(Application.plan_activity_id.in_(ids))
        .group_by(Application.plan_activity_id)
    )
    return dict(rows.all())


def delete_activity(activity: PlanActivity, *, actor) -> None:
    """Refused while applications name the activity: their link would silently disappear."""
    plan = activity.plan
    _require_editor(actor, plan.municipality_id)
    count = linked_projects([activity.id]).get(activity.id, 0)
    if count:
        raise WorkflowError(
            ngettext(
                "%(num)d application names this activity as the one it serves; the activity cannot be "
                "deleted. Change its text instead.",
                "%(num)d applications name this activity as the one they serve; the activity cannot be "
                "deleted. Change its text instead.",
                count,
            )
        )
    _audit("plan.activity_deleted", actor, activity, plan, before=_snapshot(activity, ACTIVITY_FIELDS))
    db.session.delete(activity)
    db.session.flush()
    db.session.expire(plan, ["activities"])


# --- indicators -------------------------------------------------------------------------------------


def _indicator_values(plan: PreventionPlan, values: dict, own_id: int | None) -> dict:
    _check_level(values.get("level"))
    values["title"] = _check_title(values.get("title"))
    _check_goal(plan, values.get("goal_id"))
    values["targets"] = _check_targets(plan, values.get("targets") or {})
    for name in ("number", "baseline", "data_source"):
        values[name] = (values.get(name) or "").strip()
    if len(values["baseline"]) > TARGET_MAX:
        raise WorkflowError(_("The baseline is at most %(n)d characters.", n=TARGET_MAX), field="baseline")
    year = values.get("baseline_year")
    if year is not None and not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise WorkflowError(
            _("Give the years between %(low)d and %(high)d.", low=YEAR_RANGE[0], high=YEAR_RANGE[1]),
            field="baseline_year",
        )
    _check_number_free(PlanIndicator, plan, values["number"], own_id)
    return values


def add_indicator(plan: PreventionPlan, *, actor, **values) -> PlanIndicator:
    return _add_item(
        PlanIndicator, INDICATOR_FIELDS, _indicator_values, plan, values, actor=actor, kind="indicator"
    )


def update_indicator(indicator: PlanIndicator, *, actor, **values) -> PlanIndicator:
    return _update_item(indicator, INDICATOR_FIELDS, _indicator_values, values, actor=actor, kind="indicator")


def delete_indicator(indicator: PlanIndicator, *, actor) -> None:
    plan = indicator.plan
    _require_editor(actor, plan.municipality_id)
    _audit("plan.indicator_deleted", actor, indicator, plan, before=_snapshot(indicator, INDICATOR_FIELDS))
    db.session.delete(indicator)
    db.session.flush()
    db.session.expire(plan, ["indicators"])


# --- the plan page ----------------------------------------------------------------------------------


def funded_projects(plan: PreventionPlan) -> dict[int, list]:
    """The funded projects under each of the plan's activities, in ONE query: {activity_id: [row]} with
    row.application_id, .title, .organisation, .status, .amount (the contract's amount, or the
    application's budget before a contract exists)."""
    from portal.applications.models import Application, BudgetLine
    from portal.applications.workflow import FUNDED_STATUSES
    from portal.contracts.models import Contract
    from portal.organisations.models import Organisation

    budget = (
        sa.select(sa.func.sum(BudgetLine.amount))
        .where(BudgetLine.application_id == Application.id)
        .correlate(Application)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            Application.plan_activity_id.label("activity_id"),
            Application.id.label("application_id"),
            Application.title,
            Application.status,
            Organisation.name.label("organisation"),
            sa.func.coalesce(Contract.amount, budget).label("amount"),
        )
        .join(PlanActivity, PlanActivity.id == Application.plan_activity_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(Contract, Contract.application_id == Application.id)
        .where(
            PlanActivity.plan_id == plan.id,
            Application.status.in_([str(s) for s in FUNDED_STATUSES]),
        )
        .order_by(Application.plan_activity_id, Organisation.name, Application.id)
    )
    projects: dict[int, list] = {}
    for row in rows:
        projects.setdefault(row.activity_id, []).append(row)
    return projects
