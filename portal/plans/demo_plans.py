"""The demo prevention plans (issue 8): the Ropaži plan 2023–2028 of seed 004 (its action plan, by
primary / secondary / tertiary prevention) and an Aizkraukle plan 2024–2027 shaped like the IKVD
template of seed 001 (goals with expected results, indicators with baseline and targets, activities).

The plans are data (portal/plans/data/*.json, each with notes on how the source was read); this
module only loads them through the models, once: loading again changes nothing.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from portal.core import audit
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.plans.models import PlanActivity, PlanGoal, PlanIndicator, PreventionPlan

DATA_DIR = Path(__file__).parent / "data"
PLAN_FILES = ("ropazi_2023_2028.json", "aizkraukle_2024_2027.json", "riga_2025_2028.json")

# The plan activity the demo youth initiative projects serve, per municipality code (ATVK).
YOUTH_ACTIVITY = {"0044000": "1.14", "0020000": "2.1", "0001000": "1.1"}


def plan_data(filename: str) -> dict:
    """Return one demo plan file as loaded from JSON."""
    return json.loads((DATA_DIR / filename).read_text(encoding="utf-8"))


def load_demo_plans(users: dict) -> None:
    """Create the demo plans that are not there yet (matched by municipality and title); flushes.

    `users` maps the demo e-mail addresses to users: the municipality's coordinator is the actor of
    the "plan.imported" audit event."""
    for filename in PLAN_FILES:
        _load(plan_data(filename), users)


def youth_activity(municipality_code: str) -> PlanActivity | None:
    """Return the activity of the municipality's active plan that the demo youth projects serve."""
    number = YOUTH_ACTIVITY.get(municipality_code)
    if number is None:
        return None
    return db.session.scalar(
        sa.select(PlanActivity)
        .join(PreventionPlan, PreventionPlan.id == PlanActivity.plan_id)
        .join(Municipality, Municipality.id == PreventionPlan.municipality_id)
        .where(
            Municipality.code == municipality_code,
            PreventionPlan.is_active.is_(True),
            PlanActivity.number == number,
        )
    )


def _load(data: dict, users: dict) -> PreventionPlan | None:
    municipality = db.session.scalar(
        sa.select(Municipality).where(Municipality.code == data["municipality_code"])
    )
    if municipality is None:
        return None
    head = data["plan"]
    existing = db.session.scalar(
        sa.select(PreventionPlan).where(
            PreventionPlan.municipality_id == municipality.id, PreventionPlan.title == head["title"]
        )
    )
    if existing is not None:
        return existing
    # One plan in force per municipality: a plan someone already keeps there stays the active one.
    has_active = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PreventionPlan)
        .where(PreventionPlan.municipality_id == municipality.id, PreventionPlan.is_active.is_(True))
    )
    actor = users.get(data["coordinator"])
    plan = PreventionPlan(
        municipality_id=municipality.id,
        title=head["title"],
        period_start=head["period_start"],
        period_end=head["period_end"],
        level_scheme=head["level_scheme"],
        approved_on=date.fromisoformat(head["approved_on"]) if head.get("approved_on") else None,
        approval_reference=head.get("approval_reference"),
        is_active=not has_active,
        updated_by_id=getattr(actor, "id", None),
    )
    db.session.add(plan)
    db.session.flush()

    goals: dict[str, PlanGoal] = {}
    by_level: dict[int, list[PlanGoal]] = {}
    for position, row in enumerate(data["goals"], start=1):
        goal = PlanGoal(
            plan_id=plan.id,
            level=row["level"],
            position=position,
            number=row["number"],
            title=row["title"],
            expected_results=row.get("expected_results", ""),
        )
        db.session.add(goal)
        goals[row["number"]] = goal
        by_level.setdefault(row["level"], []).append(goal)
    db.session.flush()

    def goal_of(row: dict) -> PlanGoal | None:
        if row.get("goal"):
            return goals[row["goal"]]
        same_level = by_level.get(row["level"], [])
        return same_level[0] if "goal" not in row and len(same_level) == 1 else None

    for position, row in enumerate(data["activities"], start=1):
        goal = goal_of(row)
        db.session.add(
            PlanActivity(
                plan_id=plan.id,
                goal_id=goal.id if goal else None,
                level=row["level"],
                position=position,
                number=row["number"],
                title=row["title"],
                planned_result=row.get("planned_result", ""),
                result_indicator=row.get("result_indicator", ""),
                target_value=row.get("target_value"),
                responsible=row.get("responsible", ""),
                involved=row.get("involved", ""),
                year_from=row["year_from"],
                year_to=row["year_to"],
                funding_sources=row.get("funding_sources", ""),
            )
        )
    for position, row in enumerate(data["indicators"], start=1):
        goal = goal_of(row)
        db.session.add(
            PlanIndicator(
                plan_id=plan.id,
                goal_id=goal.id if goal else None,
                level=row["level"],
                position=position,
                number=row["number"],
                title=row["title"],
                baseline=row.get("baseline", ""),
                baseline_year=row.get("baseline_year"),
                targets=dict(row.get("targets") or {}),
                data_source=row.get("data_source", ""),
            )
        )
    db.session.flush()
    audit.record(
        "plan.imported",
        actor=actor,
        obj=plan,
        municipality_id=municipality.id,
        after={
            "title": plan.title,
            "source": "demo",
            "goals": len(data["goals"]),
            "activities": len(data["activities"]),
            "indicators": len(data["indicators"]),
        },
    )
    return plan
