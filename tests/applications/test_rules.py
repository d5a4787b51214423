"""Every rule of DESIGN §2 at its boundary, checked by the server whatever the browser sent."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from portal.applications import rules
from portal.applications.services import save_draft
from portal.core.timeutil import riga_instant
from tests.factories import draft_application, open_call


def problems_for(application):
    return {p.field: str(p) for p in rules.submission_problems(application)}


def change(application, user, **values):
    save_draft(application, values, actor=user, expected_version=application.lock_version)
    return problems_for(application)


@pytest.fixture()
def filled(db):
    return draft_application(complete=True)


def test_complete_application_has_no_problems(filled):
    application, _ = filled
    assert problems_for(application) == {}


def test_empty_draft_lists_every_field(db):
    application, _ = draft_application()
    fields = set(problems_for(application))
    assert {
        "title",
        "start_date",
        "end_date",
        "participants_total",
        "participants_risk",
        "activities",
        "budget",
        "declaration_truth",
        "plan_link",
    } <= fields


@pytest.mark.parametrize(
    "start, end, ok",
    [
        (date(2026, 1, 1), date(2026, 3, 30), False),  # 2 months 30 days
        (date(2026, 1, 1), date(2026, 3, 31), True),  # 3 months
        (date(2026, 1, 1), date(2027, 6, 30), True),  # 18 months
        (date(2026, 1, 1), date(2027, 7, 1), False),  # 18 months and a day
    ],
)
def test_duration_boundaries(filled, start, end, ok):
    application, user = filled
    assert ("end_date" not in change(application, user, start_date=start, end_date=end)) is ok


def test_project_must_end_within_the_programme(filled):
    application, user = filled
    programme = application.call.programme
    end = programme.period_end + timedelta(days=1)
    problems = change(application, user, start_date=end - timedelta(days=120), end_date=end)
    assert "end_date" in problems


@pytest.mark.parametrize(
    "risk, total, ok", [(999, 10000, False), (1000, 10000, True), (4, 40, True), (3, 40, False)]
)
def test_risk_share_boundary_is_exact(filled, risk, total, ok):
    application, user = filled
    problems = change(
        application,
        user,
        participants_total=total,
        participants_risk=risk,
        participants_grades_5_9=total,
        participants_grades_10_12=0,
        participants_vocational=0,
        risk_by_category={"learning": min(risk, 5)},
    )
    assert ("participants_risk" not in problems) is ok


def test_grade_bands_must_cover_all_participants(filled):
    application, user = filled
    assert "participants_grades_5_9" in change(application, user, participants_grades_5_9=24)


def test_risk_categories_required_and_bounded(filled):
    application, user = filled
    assert "risk_by_category" in change(application, user, risk_by_category={})
    assert "risk_by_category" in change(application, user, risk_by_category={"learning": 5})


@pytest.mark.parametrize("trainers, ok", [("1499.99", False), ("1500.01", False), ("1500.00", True)])
def test_fixed_amount_exactly(filled, trainers, ok):
    application, user = filled
    budget = {line.category: line.amount for line in application.budget_lines}
    budget["trainers"] = Decimal(trainers)
    assert ("budget" not in change(application, user, budget=budget)) is ok


def test_cap_mode_allows_less(filled):
    application, user = filled
    application.call.programme.funding_mode = "cap"
    budget = {line.category: line.amount for line in application.budget_lines}
    budget["trainers"] = Decimal("1000.00")
    assert "budget" not in change(application, user, budget=budget)
    budget["trainers"] = Decimal("1500.01")
    assert "budget" in change(application, user, budget=budget)


def test_personal_code_in_free_text_refused(filled):
    application, user = filled
    assert "problem" in change(application, user, problem="Dalībnieks 010101-12345 kavē")


def test_declarations_required(filled):
    application, user = filled
    assert "declaration_truth" in change(application, user, declaration_truth=False)


def test_ineligible_legal_form(filled):
    application, _ = filled
    application.call.programme.eligible_legal_forms = ["youth_organisation"]
    assert "organisation" in problems_for(application)


@pytest.mark.parametrize("day", [date(2026, 3, 31), date(2026, 3, 29), date(2026, 10, 25)])
def test_deadline_last_second_riga(db, day):
    deadline = riga_instant(day)
    with time_machine.travel(deadline - timedelta(days=5), tick=False):
        call = open_call()
        call.closes_at = deadline
        application, _ = draft_application(call, complete=True)
    with time_machine.travel(deadline, tick=False):
        assert "call" not in problems_for(application)
    with time_machine.travel(deadline + timedelta(seconds=1), tick=False):
        assert "call" in problems_for(application)


def test_add_months_clamps_to_month_end():
    assert rules.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rules.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
