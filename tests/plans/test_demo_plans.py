"""The demo prevention plans (issue 8): the Ropaži plan of seed 004 and the Aizkraukle plan shaped like
the IKVD template (seed 001), loaded once through the models and audited."""

from __future__ import annotations

import sqlalchemy as sa

from portal.core.audit import AuditEvent
from portal.extensions import db
from portal.plans.demo_plans import YOUTH_ACTIVITY, load_demo_plans, youth_activity
from portal.plans.models import PlanActivity, PreventionPlan
from tests.factories import coordinator, municipality, prevention_plan

ROPAZI, AIZKRAUKLE, RIGA = "0044000", "0020000", "0001000"


def _users():
    return {
        "koordinators@ropazi.demo.jip.lv": coordinator(municipality(ROPAZI)),
        "koordinators@aizkraukle.demo.jip.lv": coordinator(municipality(AIZKRAUKLE)),
        "koordinators@riga.demo.jip.lv": coordinator(municipality(RIGA)),
    }


def _plans(code):
    return list(
        db.session.scalars(
            sa.select(PreventionPlan).where(PreventionPlan.municipality_id == municipality(code).id)
        )
    )


def _activity(plan, number) -> PlanActivity:
    return next(a for a in plan.activities if a.number == number)


def test_loading_twice_creates_each_plan_once_and_audits_it_once(db):
    users = _users()
    load_demo_plans(users)
    load_demo_plans(users)
    assert [len(_plans(ROPAZI)), len(_plans(AIZKRAUKLE)), len(_plans(RIGA))] == [1, 1, 1]
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "plan.imported")).all()
    assert sorted(e.actor_id for e in events) == sorted(u.id for u in users.values())
    assert all(plan.is_active for plan in _plans(ROPAZI) + _plans(AIZKRAUKLE))


def test_the_ropazi_plan_has_the_action_plan_rows_of_seed_004(db):
    load_demo_plans(_users())
    (plan,) = _plans(ROPAZI)
    assert (plan.period_start, plan.period_end, plan.level_scheme) == (2023, 2028, "primary")
    by_level = {level: [a for a in plan.activities if a.level == level] for level in (1, 2, 3)}
    assert [len(by_level[level]) for level in (1, 2, 3)] == [22, 7, 4]
    assert [g.title for g in plan.goals] == [
        "Riska faktoru prevencija",
        "Agrīna diagnostika un PMP prevencija",
        "Krīzes intervence",
    ]
    assert (
        _activity(plan, "1.3").title
        == "Radīt iespēju novada administratīvajā teritorijā saņemt psihiatra pakalpojumu."
    )
    assert _activity(plan, "2.7").title == (
        "Paplašināt interešu izglītības piedāvājumu, popularizēt jēgpilnu brīvā laika pavadīšanu."
    )
    last = _activity(plan, "3.4")
    assert last.title.startswith("Pielāgot sociālo pakalpojumu nodrošinājumu")
    assert (last.responsible, last.year_from, last.year_to, last.funding_sources) == (
        "IJKS, SD",
        2024,
        2028,
        "Pašvaldības, ESF",
    )
    assert (_activity(plan, "1.2").year_from, _activity(plan, "1.15").year_to) == (2025, 2025)
    assert _activity(plan, "1.4").funding_sources == "Pašvaldības"
    assert all(a.goal is not None and a.goal.level == a.level for a in plan.activities)
    youth = youth_activity(ROPAZI)
    assert youth.number == YOUTH_ACTIVITY[ROPAZI] and "jauniešu domes" in youth.title


def test_the_aizkraukle_plan_has_goals_indicators_with_targets_and_activities(db):
    load_demo_plans(_users())
    (plan,) = _plans(AIZKRAUKLE)
    assert (plan.period_start, plan.period_end, plan.level_scheme) == (2024, 2027, "universal")
    assert "09.11.2023" in plan.approval_reference
    assert [(g.level, g.title) for g in plan.goals][:2] == [
        (1, "Vecāku kompetences stiprināšana audzināšanas jautājumos"),
        (1, "Jauniešu kopienas stiprināšana"),
    ]
    assert len(plan.goals) == 6 and len(plan.activities) == 12 and len(plan.indicators) == 12
    satisfaction = next(i for i in plan.indicators if i.number == "2.")
    assert (satisfaction.baseline, satisfaction.baseline_year, satisfaction.targets) == (
        "72%",
        2022,
        {"2025": "74%", "2027": "75%"},
    )
    goal_numbers = {g.id: g.number for g in plan.goals}
    assert satisfaction.data_source == "aptauja" and goal_numbers[satisfaction.goal_id] == "3."
    bea = _activity(plan, "1.1")
    assert (bea.target_value, bea.responsible, bea.planned_result) == (
        500,
        "Izglītības pārvalde",
        "500 programmas absolventi",
    )
    youth = youth_activity(AIZKRAUKLE)
    assert youth.title == "Neformālās izglītības pasākumi jauniešiem"
    assert youth.goal.title == "Jauniešu kopienas stiprināšana" and youth.target_value == 8


def test_a_plan_the_municipality_already_keeps_stays_the_one_in_force(db):
    own = prevention_plan(municipality(ROPAZI))
    load_demo_plans(_users())
    demo = next(p for p in _plans(ROPAZI) if p.id != own.id)
    assert own.is_active and not demo.is_active
    assert youth_activity(ROPAZI) is None  # the youth activity is looked up in the plan in force
