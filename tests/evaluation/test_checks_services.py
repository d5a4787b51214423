"""The administrative and eligibility check as services: what the portal suggests by itself, recording
the checker's answers, admitting and rejecting (issue 5, DESIGN §4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.workflow import ApplicationStatus
from portal.core.enums import LegalForm
from portal.core.mail import OutboxMessage
from portal.core.timeutil import utcnow
from portal.core.workflow import TransitionDenied, WorkflowError, history
from portal.evaluation import queries
from portal.evaluation.services import checks
from portal.extensions import db
from tests.factories import (
    OrganisationFactory,
    close_call,
    committee,
    coordinator,
    municipality,
    open_call,
    submitted_application,
)


@pytest.fixture()
def setup(db):
    muni = municipality()
    call = open_call(muni)
    return {"call": call, "coordinator": coordinator(muni), "muni": muni}


def _submitted(setup, *, at=None, organisation=None, **values):
    application, user = submitted_application(setup["call"], organisation, at=at, **values)
    return application, user


def _by_code(application) -> dict[str, bool | None]:
    """The portal's suggestions keyed by the criterion's code (readable in the assertions)."""
    codes = {c.id: c.code for c in checks.check_criteria(application.call)}
    return {codes[cid]: value for cid, value in checks.suggestions(application).items()}


def _criterion(application, code):
    return next(c for c in checks.check_criteria(application.call) if c.code == code)


def _all_met(application) -> dict:
    return {c.id: (True, None) for c in checks.check_criteria(application.call)}


# --- what the portal decides by itself -------------------------------------------------------------


def test_a_complete_application_on_time_meets_every_auto_check_and_leaves_the_rest_to_people(setup):
    application, _ = _submitted(setup)
    close_call(setup["call"])
    suggested = _by_code(application)
    assert suggested["on_time"] is True
    assert suggested["amount"] is True
    assert suggested["applicant_type"] is True
    assert suggested["duration"] is True
    assert suggested["risk_share"] is True
    assert suggested["target_group"] is True  # the "grades" auto check
    # Criteria without an auto check: a person decides.
    assert suggested["complete"] is None and suggested["signed"] is None


def test_on_time_is_false_for_a_submission_after_the_deadline(setup):
    application, _ = _submitted(setup)
    close_call(setup["call"])  # closes 30 minutes ago
    application.submitted_at = utcnow() - timedelta(minutes=10)
    assert _by_code(application)["on_time"] is False
    application.submitted_at = setup["call"].closes_at
    assert _by_code(application)["on_time"] is True


def test_amount_is_false_when_the_budget_differs_from_the_fixed_amount(setup):
    application, _ = _submitted(setup)
    close_call(setup["call"])
    line = next(b for b in application.budget_lines if b.category == "trainers")
    line.amount += Decimal("0.01")
    assert _by_code(application)["amount"] is False
    line.amount -= Decimal("0.02")
    assert _by_code(application)["amount"] is False
    line.amount += Decimal("0.01")
    assert _by_code(application)["amount"] is True


def test_applicant_type_refuses_an_ineligible_form_and_an_initiative_group_without_representative(setup):
    parent = OrganisationFactory()
    group = OrganisationFactory(
        legal_form=LegalForm.INITIATIVE_GROUP, reg_number=None, representative_organisation=parent
    )
    application, _ = _submitted(setup, organisation=group)
    other, _ = _submitted(setup)
    close_call(setup["call"])
    assert _by_code(application)["applicant_type"] is True
    with db.session.no_autoflush:  # the database itself refuses such a group: only the check sees it
        group.representative_organisation_id = None
        group.representative_organisation = None
        assert _by_code(application)["applicant_type"] is False
    db.session.expire(group)

    assert _by_code(other)["applicant_type"] is True
    programme = setup["call"].programme
    programme.eligible_legal_forms = [f for f in programme.eligible_legal_forms if f != "association"]
    assert _by_code(other)["applicant_type"] is False


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 1), date(2026, 11, 30), True),
        (date(2026, 3, 1), date(2026, 5, 31), True),  # exactly 3 months
        (date(2026, 3, 1), date(2026, 5, 30), False),  # a day short of 3 months
        (date(2026, 1, 1), date(2027, 6, 30), True),  # exactly 18 months
        (date(2026, 1, 1), date(2027, 7, 1), False),  # more than 18 months
        (date(2026, 6, 1), date(2026, 3, 1), False),  # ends before it starts
    ],
)
def test_duration_is_checked_against_the_programme(setup, start, end, expected):
    application, _ = _submitted(setup, start_date=start, end_date=end)
    close_call(setup["call"])
    assert _by_code(application)["duration"] is expected


def test_risk_share_of_9_99_percent_fails_and_10_percent_passes(setup):
    application, _ = _submitted(
        setup,
        participants_total=10000,
        participants_risk=999,
        participants_grades_5_9=10000,
        participants_grades_10_12=0,
        participants_vocational=0,
    )
    close_call(setup["call"])
    assert application.risk_share == Decimal("9.99")
    assert _by_code(application)["risk_share"] is False
    application.participants_risk = 1000
    assert _by_code(application)["risk_share"] is True


def test_grades_must_add_up_to_the_participants(setup):
    application, _ = _submitted(setup)
    close_call(setup["call"])
    assert _by_code(application)["target_group"] is True
    application.participants_vocational = 4  # 25 + 10 + 4 = 39 of 40
    assert _by_code(application)["target_group"] is False


# --- recording the check ---------------------------------------------------------------------------


def test_record_check_needs_a_reason_for_no_and_stores_the_suggestion(setup):
    application, _ = _submitted(setup)
    close_call(setup["call"])
    on_time = _criterion(application, "on_time")
    with pytest.raises(WorkflowError) as refused:
        checks.record_check(application, {on_time.id: (False, "  ")}, actor=setup["coordinator"])
    assert refused.value.field == f"reason_{on_time.id}"
    assert queries.eligibility_answers(application.id) == {}

    checks.record_check(application, {on_time.id: (False, "Iesniegts par vēlu")}, actor=setup["coordinator"])
    answer = queries.eligibility_answers(application.id)[on_time.id]
    assert answer.passed is False and answer.reason == "Iesniegts par vēlu"
    assert answer.suggested is True  # the portal said "met"; the checker overrode it
    assert answer.checked_by_id == setup["coordinator"].id


def test_only_coordinators_of_the_municipality_and_the_secretary_check(setup):
    application, applicant_user = _submitted(setup)
    close_call(setup["call"])
    board = committee(setup["call"])
    answers = _all_met(application)
    for outsider in (applicant_user, board["chair"].user, coordinator(municipality("0044000"))):
        with pytest.raises(TransitionDenied):
            checks.record_check(application, answers, actor=outsider)
    checks.record_check(application, answers, actor=board["secretary"].user)
    assert len(queries.eligibility_answers(application.id)) == len(answers)


def test_admit_is_refused_with_an_unanswered_or_a_failed_criterion(setup):
    application, _ = _submitted(setup)
    close_call(setup["call"])
    actor = setup["coordinator"]
    answers = _all_met(application)
    first = next(iter(answers))
    del answers[first]
    checks.record_check(application, answers, actor=actor)
    with force_locale("en"), pytest.raises(WorkflowError, match="every criterion"):
        checks.admit(application, actor=actor)

    checks.record_check(application, {first: (False, "Trūkst pielikuma")}, actor=actor)
    with force_locale("en"), pytest.raises(WorkflowError, match="not met"):
        checks.admit(application, actor=actor)
    assert application.status == ApplicationStatus.SUBMITTED

    checks.record_check(application, {first: (True, None)}, actor=actor)
    checks.admit(application, actor=actor)
    assert application.status == ApplicationStatus.ADMISSIBLE


def test_reject_records_the_reason_and_emails_the_applicant(setup):
    application, user = _submitted(setup)
    close_call(setup["call"])
    actor = setup["coordinator"]
    amount = _criterion(application, "amount")
    checks.record_check(application, {amount.id: (False, "Summa nav 4600 EUR")}, actor=actor)
    checks.reject(application, "Pieprasītā summa neatbilst nolikumam.", actor=actor)
    assert application.status == ApplicationStatus.REJECTED
    change = list(history(checks.WORKFLOW, application))[-1]
    assert change.reason == "Pieprasītā summa neatbilst nolikumam."
    mail = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.recipient == user.email, OutboxMessage.template == "application_rejected"
        )
    ).one()
    assert "Pieprasītā summa neatbilst nolikumam." in mail.body_text
    assert "Summa nav 4600 EUR" in mail.body_text
