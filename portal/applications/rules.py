"""The rules of DESIGN §2 checked on an application, whatever the browser sent.

`submission_problems()` returns every blocking problem as (field, message) so the form can show a
summary that links to each field. The rules come from the programme's data, never from constants.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.core.privacy import contains_personal_code
from portal.extensions import db
from portal.plans.models import PlanActivity, PreventionPlan

TEXT_FIELDS_REQUIRED = (
    ("title", _l("Give the project a title.")),
    ("places", _l("Say where in the municipality the project takes place.")),
    ("problem", _l("Describe the problem the project addresses.")),
    ("plan_link", _l("Say which activity of the municipality's PMP prevention plan the project serves.")),
    ("goal", _l("State the project's goal.")),
    ("objectives", _l("List the project's objectives.")),
    ("schools", _l("Name the schools the participants come from.")),
    ("youth_involvement", _l("Describe how young people proposed, plan and run the project.")),
    ("results", _l("Describe the expected results.")),
    ("indicators", _l("Give the indicators that will show the results.")),
    ("publicity", _l("Describe how the project will be made public.")),
    ("risks", _l("Describe the project's risks and how you will handle them.")),
)

FREE_TEXT_FIELDS = tuple(name for name, _ in TEXT_FIELDS_REQUIRED) + ("partners",)

DECLARATIONS = (
    ("declaration_truth", _l("Confirm that the information is true.")),
    ("declaration_no_double_funding", _l("Confirm that the costs are not funded from another source.")),
    ("declaration_participant_lists", _l("Confirm that participant lists are kept by the organisation.")),
)


@dataclass(frozen=True)
class Problem:
    field: str
    message: object  # a lazy translated string

    def __str__(self) -> str:
        return str(self.message)


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later (the last day of the month where it does not exist)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def duration_ok(start: date, end: date, min_months: int, max_months: int) -> tuple[bool, bool]:
    """Say whether a project from `start` to `end` (both days included) lasts at least `min_months`
    and at most `max_months`: 1 January–31 March is 3 months, 1 January–30 March is not."""
    one_day = timedelta(days=1)
    return end >= add_months(start, min_months) - one_day, end <= add_months(start, max_months) - one_day


def risk_share_ok(risk: int, total: int, minimum_percent: Decimal) -> bool:
    """Say whether risk / total reaches the minimum share, in exact arithmetic (9.99 % < 10 %)."""
    return total > 0 and Decimal(risk) * 100 >= minimum_percent * Decimal(total)


def plan_activity_problem(application):
    """When the call's municipality has a prevention plan in force, the application must name the
    activity of that plan it serves (DESIGN §5); without a plan the free-text link is enough."""
    plan_id = db.session.scalar(
        sa.select(PreventionPlan.id).where(
            PreventionPlan.municipality_id == application.call.municipality_id,
            PreventionPlan.is_active.is_(True),
        )
    )
    if plan_id is None:
        return None
    if application.plan_activity_id is None:
        return _l("Choose the activity of the municipality's prevention plan that the project serves.")
    activity = db.session.get(PlanActivity, application.plan_activity_id)
    if activity is None or activity.plan_id != plan_id:
        return _l("The chosen activity is not in the municipality's prevention plan in force: choose again.")
    return None


def submission_problems(application, *, now=None, window: bool = True) -> list[Problem]:
    """Return every reason the application cannot be submitted now (empty when it can).

    `window=False` leaves out the call's deadline: a clarification answer comes after it."""
    call = application.call
    programme = call.programme
    problems: list[Problem] = []
    add = lambda field, message: problems.append(Problem(field, message))  # noqa: E731

    if window and not call.is_accepting(now):
        add(
            "call",
            _l("The call is not accepting applications now: the deadline has passed or it has not opened."),
        )
    org = application.organisation
    if org.legal_form.value not in (programme.eligible_legal_forms or []):
        add("organisation", _l("This kind of organisation cannot apply in this programme."))

    for name, message in TEXT_FIELDS_REQUIRED:
        if not (getattr(application, name) or "").strip():
            add(name, message)
    plan_problem = plan_activity_problem(application)
    if plan_problem is not None:
        add("plan_activity_id", plan_problem)
    for name in FREE_TEXT_FIELDS:
        if contains_personal_code(getattr(application, name)):
            add(name, _l("Remove the personal identity code: the portal must not store personal codes."))

    start, end = application.start_date, application.end_date
    if start is None:
        add("start_date", _l("Give the start date."))
    if end is None:
        add("end_date", _l("Give the end date."))
    if start and end:
        if end < start:
            add("end_date", _l("The project cannot end before it starts."))
        else:
            long_enough, short_enough = duration_ok(start, end, programme.min_months, programme.max_months)
            if not long_enough:
                add("end_date", _l("The project must last at least %(n)d months.", n=programme.min_months))
            if not short_enough:
                add("end_date", _l("The project may last at most %(n)d months.", n=programme.max_months))
        if start < programme.period_start:
            add("start_date", _l("The project cannot start before the programme does."))
        if end > programme.period_end:
            add(
                "end_date",
                _l(
                    "The whole project must end within the programme, by %(day)s.",
                    day=programme.period_end.isoformat(),
                ),
            )

    total, risk = application.participants_total, application.participants_risk
    if not total:
        add("participants_total", _l("Give the number of planned participants."))
    if risk is None:
        add("participants_risk", _l("Give the number of participants at risk of early school leaving."))
    if total and risk is not None:
        if risk > total:
            add("participants_risk", _l("Participants at risk cannot outnumber all participants."))
        elif not risk_share_ok(risk, total, programme.min_risk_share):
            add(
                "participants_risk",
                _l(
                    "At least %(share)s %% of participants must be at risk of early school leaving.",
                    share=f"{programme.min_risk_share.normalize():f}",
                ),
            )
    bands = (
        application.participants_grades_5_9,
        application.participants_grades_10_12,
        application.participants_vocational,
    )
    if total and sum(b or 0 for b in bands) != total:
        add(
            "participants_grades_5_9",
            _l(
                "Participants by grade (5–9, 10–12, vocational 1–4) must add up to all "
                "planned participants: the target group is grades 5–12 and vocational "
                "courses 1–4."
            ),
        )
    categories = {c["code"] for c in programme.risk_categories or []}
    by_category = application.risk_by_category or {}
    if risk:
        if not any(by_category.get(code) for code in categories):
            add("risk_by_category", _l("Say in which risk categories the participants at risk are."))
        if any((by_category.get(code) or 0) > risk for code in categories):
            add("risk_by_category", _l("A risk category cannot count more participants than are at risk."))

    if not any((a.activity or "").strip() for a in application.activities):
        add("activities", _l("Add at least one activity to the activity plan."))

    budget = application.budget_total
    if programme.funding_mode == "fixed" and budget != programme.amount:
        add(
            "budget",
            _l(
                "The breakdown must add up to exactly %(amount)s; it adds up to %(total)s.",
                amount=f"{programme.amount:.2f}",
                total=f"{budget:.2f}",
            ),
        )
    elif programme.funding_mode == "cap" and budget > programme.amount:
        add(
            "budget",
            _l(
                "The breakdown may not exceed %(amount)s; it adds up to %(total)s.",
                amount=f"{programme.amount:.2f}",
                total=f"{budget:.2f}",
            ),
        )
    if any(line.amount < 0 for line in application.budget_lines):
        add("budget", _l("Amounts cannot be negative."))

    for name, message in DECLARATIONS:
        if not getattr(application, name):
            add(name, message)
    return problems
