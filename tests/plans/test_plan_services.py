"""Prevention plan services (issue 8): periods, one plan in force, years/levels/goals of activities,
indicator targets, the optimistic lock, who may change a plan."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from portal.core.audit import AuditEvent
from portal.core.workflow import WorkflowError
from portal.plans import services
from portal.plans.models import PlanActivity, PreventionPlan
from tests.factories import coordinator, municipality, prevention_plan


@pytest.fixture()
def muni(db):
    return municipality("0020000")


@pytest.fixture()
def coord(muni):
    return coordinator(muni)


def _create(muni, coord, start=2024, end=2027, **kwargs):
    return services.create_plan(
        muni.id,
        title="PMP plāns",
        period_start=start,
        period_end=end,
        level_scheme="universal",
        actor=coord,
        **kwargs,
    )


def test_the_period_is_one_to_ten_years(muni, coord):
    assert _create(muni, coord, 2025, 2025).years == [2025]
    assert _create(muni, coord, 2025, 2034).years == list(range(2025, 2035))
    with force_locale("en"):
        with pytest.raises(WorkflowError, match="at most 10 years"):
            _create(muni, coord, 2025, 2035)
        with pytest.raises(WorkflowError, match="must not end before it starts") as refused:
            _create(muni, coord, 2025, 2024)
    assert refused.value.field == "period_end"


def test_a_new_plan_in_force_takes_the_old_one_out_of_force(db, muni, coord):
    old = _create(muni, coord, 2020, 2023)
    new = _create(muni, coord, 2024, 2027)
    db.session.refresh(old)
    assert (old.is_active, new.is_active) == (False, True)
    assert services.active_plan(muni.id) is new
    assert [p.id for p in services.plans_of(muni.id)] == [new.id, old.id]
    actions = set(
        db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id.in_([old.id, new.id])))
    )
    assert {"plan.created", "plan.deactivated"} <= actions


def test_the_database_refuses_two_plans_in_force(db, muni):
    prevention_plan(muni)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            PreventionPlan(municipality_id=muni.id, title="Otrs", period_start=2024, period_end=2025)
        )
        db.session.flush()


def test_activity_years_at_the_period_edges_are_accepted_one_outside_refused(muni, coord):
    plan = _create(muni, coord, 2024, 2027)
    goal = services.add_goal(plan, level=1, number="1.", title="Mērķis", actor=coord)
    activity = services.add_activity(
        plan,
        level=1,
        goal_id=goal.id,
        number="1.1.",
        title="Pulciņi",
        year_from=2024,
        year_to=2027,
        actor=coord,
    )
    assert (activity.year_from, activity.year_to, activity.goal_id) == (2024, 2027, goal.id)
    with force_locale("en"):
        with pytest.raises(WorkflowError, match="2028 is outside the plan's period 2024–2027") as refused:
            services.update_activity(activity, year_to=2028, actor=coord)
        assert refused.value.field == "year_to"
        with pytest.raises(WorkflowError, match="2023 is outside"):
            services.add_activity(plan, level=1, title="Agrāk", year_from=2023, year_to=2024, actor=coord)
        with pytest.raises(WorkflowError, match="level must be 1, 2 or 3"):
            services.add_activity(plan, level=4, title="Ceturtais", actor=coord)
        with pytest.raises(WorkflowError, match="already used"):
            services.add_activity(plan, level=2, number="1.1.", title="Tas pats nr.", actor=coord)
    assert [a.title for a in plan.activities] == ["Pulciņi"]


def test_an_activity_takes_only_a_goal_of_its_own_plan(muni, coord):
    other = prevention_plan(municipality("0044000"))
    plan = _create(muni, coord)
    with force_locale("en"), pytest.raises(WorkflowError, match="goal of this plan"):
        services.add_activity(plan, level=1, goal_id=other.goals[0].id, title="Svešs mērķis", actor=coord)


def test_indicator_targets_are_text_for_years_in_the_period(muni, coord):
    plan = _create(muni, coord, 2024, 2027)
    indicator = services.add_indicator(
        plan,
        level=1,
        title="Īpatsvars",
        baseline="57%",
        baseline_year=2023,
        targets={"2024": "60%", "2027": " < 1% ", "2025": ""},
        actor=coord,
    )
    assert indicator.targets == {"2024": "60%", "2027": "< 1%"}
    with force_locale("en"), pytest.raises(WorkflowError, match="2028 is outside"):
        services.update_indicator(indicator, targets={"2028": "70%"}, actor=coord)


def test_update_plan_refuses_a_stale_version_and_a_period_that_drops_an_activity(db, muni, coord):
    plan = prevention_plan(muni)  # activities 2024–2027
    version = plan.lock_version
    services.update_plan(plan, title="Jauns nosaukums", expected_version=version, actor=coord)
    assert plan.lock_version == version + 1
    with force_locale("en"):
        with pytest.raises(WorkflowError, match="changed this plan meanwhile"):
            services.update_plan(plan, title="Vecā forma", expected_version=version, actor=coord)
        with pytest.raises(WorkflowError, match="outside the new period"):
            services.update_plan(plan, period_end=2026, expected_version=plan.lock_version, actor=coord)
    assert (plan.title, plan.period_end) == ("Jauns nosaukums", 2027)


def test_only_the_municipality_coordinators_change_its_plan(muni):
    plan = prevention_plan(muni)
    stranger = coordinator(municipality("0044000"))
    with force_locale("en"):
        with pytest.raises(WorkflowError, match="Only the municipality's coordinators"):
            services.add_goal(plan, level=1, title="Svešs", actor=stranger)
        with pytest.raises(WorkflowError, match="Only the municipality's coordinators"):
            _create(muni, stranger)
    assert services.can_read(stranger, plan) and not services.can_edit(stranger, muni.id)


def test_an_activity_named_by_an_application_is_not_deleted(db):
    from tests.factories import contract_in

    contract, ev = contract_in("draft")
    plan = prevention_plan(ev["call"].municipality)
    activity = plan.activities[0]
    contract.application.plan_activity_id = activity.id
    db.session.flush()
    with force_locale("en"), pytest.raises(WorkflowError, match="1 application names this activity"):
        services.delete_activity(activity, actor=ev["coordinator"])
    assert db.session.get(PlanActivity, activity.id) is not None
