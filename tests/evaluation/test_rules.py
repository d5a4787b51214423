"""The evaluation arithmetic of DESIGN §4 (portal/evaluation/rules.py): pure functions, no database.

Weighted totals, averages rounded half up to cents, pass/fail at the threshold and on essential criteria,
disagreements, every level of the ranking's tie-breaks, the proposal within the capacity, the quorum.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.evaluation.rules import (
    Criterion,
    Outcome,
    consolidate,
    max_total,
    quorum_needed,
    rank_and_propose,
    weighted_total,
)

D = Decimal
FIFTY = D("50.00")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# Like the PuMPuRS programme: the tie-break criteria are listed with order 2 before order 1, so a test
# passes only when the order field (not the list position) decides.
RELEVANCE = Criterion("relevance", D("2.00"), essential=True, tie_break_order=2)
YOUTH_LED = Criterion("youth_led", D("2.00"), essential=True, tie_break_order=1)
ACTIVITIES = Criterion("activities", D("2.00"))
BUDGET = Criterion("budget", D("1.00"))
CRITERIA = [RELEVANCE, YOUTH_LED, ACTIVITIES, BUDGET]  # max 3 × 7 = 21, pass at 10.50


def sheet(relevance=2, youth_led=2, activities=2, budget=2) -> dict[str, int]:
    return {"relevance": relevance, "youth_led": youth_led, "activities": activities, "budget": budget}


def outcome_of(application_id, sheets, *, criteria=CRITERIA, risk="0.25", at=T0, pass_share=FIFTY):
    return consolidate(
        application_id, sheets, criteria, pass_share=pass_share, risk_share=D(risk), submitted_at=at
    )


def ranked_ids(outcomes, capacity=10) -> list[int]:
    return [o.application_id for o in rank_and_propose(outcomes, capacity) if o.rank is not None]


def plain(application_id, average, *, passed=True, risk="0.20", ties=(), at=T0) -> Outcome:
    """An outcome as consolidate() would return it, built directly (for the proposal's own tests)."""
    return Outcome(
        application_id=application_id,
        average=D(average),
        scorers=3,
        passed=passed,
        fail_reason=None if passed else "threshold",
        criterion_averages={},
        disagreements=[],
        risk_share=D(risk),
        submitted_at=at,
        tie_break_values=tuple(D(v) for v in ties),
    )


# --- weighted totals --------------------------------------------------------------------------------


def test_weighted_total_is_the_sum_of_weight_times_score():
    assert weighted_total(sheet(3, 2, 1, 0), CRITERIA) == D("12.00")  # 2·3 + 2·2 + 2·1 + 1·0
    assert weighted_total(sheet(3, 3, 3, 3), CRITERIA) == max_total(CRITERIA) == D("21.00")
    assert weighted_total(sheet(0, 0, 0, 0), CRITERIA) == 0


def test_weighted_total_with_cents_in_the_weights_is_exact():
    criteria = [Criterion("a", D("1.35")), Criterion("b", D("0.10"))]
    assert weighted_total({"a": 3, "b": 1}, criteria) == D("4.15")  # 4.1499999… as floats
    assert isinstance(weighted_total({"a": 3, "b": 1}, criteria), Decimal)


def test_weighted_total_counts_a_missing_score_as_nothing_and_ignores_unknown_codes():
    assert weighted_total({"relevance": 3}, CRITERIA) == D("6.00")
    assert weighted_total({"relevance": 3, "not_a_criterion": 3}, CRITERIA) == D("6.00")


def test_max_total_is_three_times_the_sum_of_weights():
    assert max_total(CRITERIA) == D("21.00")
    assert max_total([]) == 0


# --- averages (two decimals, half up) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ([10, 10, 11], "10.33"),  # 10.333…
        ([10, 11, 11], "10.67"),  # 10.666…
        ([10, 11], "10.50"),
        ([12], "12.00"),
    ],
)
def test_average_of_the_weighted_totals_is_rounded_to_cents(totals, expected):
    criteria = [Criterion(f"c{i}", D("1.00")) for i in range(4)]  # a member's total is the sum of scores
    sheets = []
    for total in totals:  # fill the criteria in order up to the wanted total (e.g. 10 → 3, 3, 3, 1)
        values = {c.code: max(0, min(3, total - 3 * i)) for i, c in enumerate(criteria)}
        assert weighted_total(values, criteria) == total
        sheets.append(values)
    result = outcome_of(1, sheets, criteria=criteria)
    assert result.average == D(expected)
    assert result.average.as_tuple().exponent == -2  # always two decimals, also for 12.00


def test_average_at_half_a_cent_rounds_up_not_to_even():
    criteria = [Criterion("a", D("2.01"))]
    # totals 2.01 and 0.00 → 1.005: half up gives 1.01 (banker's rounding would give 1.00)
    assert outcome_of(1, [{"a": 1}, {"a": 0}], criteria=criteria).average == D("1.01")
    # totals 5.35 and 0.00 → 2.675: a float would make this 2.67
    criteria = [Criterion("a", D("5.35"))]
    assert outcome_of(2, [{"a": 1}, {"a": 0}], criteria=criteria).average == D("2.68")


def test_criterion_averages_are_rounded_half_up_too():
    result = outcome_of(1, [sheet(relevance=3), sheet(relevance=2), sheet(relevance=2)])
    assert result.criterion_averages["relevance"] == D("2.33")
    result = outcome_of(1, [sheet(budget=3), sheet(budget=3), sheet(budget=2)])
    assert result.criterion_averages["budget"] == D("2.67")
    assert result.scorers == 3


# --- pass / fail ------------------------------------------------------------------------------------

# weights 1.01 and 0.99: maximum 6.00, the pass mark at 50 % is 3.00
EDGE = [Criterion("a", D("1.01")), Criterion("b", D("0.99"))]


def test_exactly_half_of_the_maximum_passes():
    # totals 3.01 (a=2, b=1) and 2.99 (a=1, b=2) average exactly 3.00
    result = outcome_of(1, [{"a": 2, "b": 1}, {"a": 1, "b": 2}], criteria=EDGE)
    assert result.average == D("3.00")
    assert (result.passed, result.fail_reason) == (True, None)


def test_one_cent_below_half_of_the_maximum_fails():
    result = outcome_of(1, [{"a": 1, "b": 2}], criteria=EDGE)
    assert result.average == D("2.99")
    assert (result.passed, result.fail_reason) == (False, "threshold")


def test_one_cent_above_passes():
    result = outcome_of(1, [{"a": 2, "b": 1}], criteria=EDGE)
    assert result.average == D("3.01")
    assert result.passed


def test_pass_mark_of_the_programme_criteria():
    # max 21, pass at 10.50: totals 10 and 11 average 10.50 (passes), 10, 10, 11 average 10.33 (fails)
    ten, eleven = sheet(2, 2, 1, 0), sheet(2, 2, 1, 1)
    assert (weighted_total(ten, CRITERIA), weighted_total(eleven, CRITERIA)) == (10, 11)
    assert outcome_of(1, [ten, eleven]).passed
    assert not outcome_of(2, [ten, ten, eleven]).passed


def test_pass_is_decided_on_the_average_as_shown():
    # totals 3.01, 2.99, 2.99 average 2.9966… shown as 3.00: the shown average and the verdict agree
    result = outcome_of(1, [{"a": 2, "b": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 2}], criteria=EDGE)
    assert result.average == D("3.00")
    assert result.passed


def test_another_pass_share_moves_the_mark():
    result = outcome_of(1, [{"a": 2, "b": 1}], criteria=EDGE, pass_share=D("60.00"))  # mark 3.60
    assert (result.passed, result.fail_reason) == (False, "threshold")


def test_essential_criterion_averaging_zero_fails_despite_a_high_total():
    sheets = [sheet(relevance=0, youth_led=3, activities=3, budget=3)] * 3  # total 15 of 21
    result = outcome_of(1, sheets)
    assert result.average == D("15.00")
    assert result.criterion_averages["relevance"] == 0
    assert (result.passed, result.fail_reason) == (False, "essential")


def test_essential_zero_wins_over_the_threshold_as_the_reason():
    result = outcome_of(1, [sheet(0, 0, 0, 0)])
    assert (result.passed, result.fail_reason) == (False, "essential")


def test_non_essential_criterion_at_zero_does_not_fail():
    sheets = [sheet(relevance=3, youth_led=3, activities=0, budget=0)] * 2  # total 12 of 21
    result = outcome_of(1, sheets)
    assert result.criterion_averages["activities"] == 0
    assert (result.passed, result.fail_reason) == (True, None)


def test_essential_criterion_with_one_zero_but_a_positive_average_does_not_fail_for_it():
    result = outcome_of(1, [sheet(relevance=0, youth_led=3), sheet(relevance=1, youth_led=3)])
    assert result.criterion_averages["relevance"] == D("0.50")
    assert result.fail_reason != "essential"
    assert result.passed  # totals 12 and 14 → 13.00 ≥ 10.50


def test_no_sheets_fails_on_the_threshold():
    result = outcome_of(1, [])
    assert (result.average, result.scorers, result.passed, result.fail_reason) == (0, 0, False, "threshold")


# --- disagreements ----------------------------------------------------------------------------------


def test_spread_of_two_on_a_criterion_is_flagged():
    result = outcome_of(1, [sheet(activities=0), sheet(activities=2)])
    assert result.disagreements == ["activities"]


def test_spread_of_one_is_not_flagged():
    result = outcome_of(1, [sheet(activities=1), sheet(activities=2), sheet(activities=1)])
    assert result.disagreements == []


def test_spread_is_max_minus_min_over_all_members_and_every_criterion_is_checked():
    result = outcome_of(
        1,
        [sheet(relevance=3, budget=0), sheet(relevance=2, budget=1), sheet(relevance=1, budget=3)],
    )
    assert result.disagreements == ["relevance", "budget"]  # in the criteria's order


def test_a_single_member_never_disagrees():
    assert outcome_of(1, [sheet(0, 3, 0, 3)]).disagreements == []


# --- ranking: every tie-break level, each with the previous levels equal -----------------------------


def test_higher_average_ranks_first_whatever_the_tie_breaks():
    # the lower one has more risk, higher tie-break scores, an earlier submission and a lower id
    low = outcome_of(1, [sheet(3, 3, 2, 1)], risk="0.90", at=T0 - timedelta(days=5))  # 17
    high = outcome_of(2, [sheet(2, 2, 3, 3), sheet(2, 3, 3, 3)], risk="0.10", at=T0)  # 17, 19 → 18
    assert (low.average, high.average) == (D("17.00"), D("18.00"))
    assert low.tie_break_values > high.tie_break_values
    assert ranked_ids([low, high]) == [2, 1]


def test_equal_averages_higher_risk_share_first():
    # the lower-risk one is better on every later level: earlier, higher tie-break scores, lower id
    less_risk = outcome_of(1, [sheet(3, 2, 1, 1)], risk="0.25", at=T0 - timedelta(days=3))
    more_risk = outcome_of(2, [sheet(1, 1, 3, 3)], risk="0.26", at=T0)
    assert less_risk.average == more_risk.average == D("13.00")
    assert ranked_ids([less_risk, more_risk]) == [2, 1]


def test_equal_risk_share_the_tie_break_criterion_of_order_1_decides():
    # order 1 is youth_led; the other one is better on order 2 (relevance), earlier and has a lower id
    better_on_2 = outcome_of(1, [sheet(relevance=3, youth_led=1)], at=T0 - timedelta(days=3))
    better_on_1 = outcome_of(2, [sheet(relevance=1, youth_led=3)], at=T0)
    assert better_on_1.average == better_on_2.average
    assert better_on_1.risk_share == better_on_2.risk_share
    assert ranked_ids([better_on_2, better_on_1]) == [2, 1]


def test_tie_break_uses_the_criterion_averages_over_members():
    # youth_led 3, 1 → 2.00 against 2, 2, 3 → 2.33; both average 15.00 and relevance is 2 everywhere
    a = outcome_of(1, [sheet(youth_led=3), sheet(youth_led=1, activities=3)], at=T0)
    b = outcome_of(
        2,
        [sheet(activities=3), sheet(activities=2, budget=1), sheet(youth_led=3)],
        at=T0 + timedelta(hours=1),
    )
    assert a.average == b.average == D("15.00")
    assert (a.criterion_averages["youth_led"], b.criterion_averages["youth_led"]) == (D("2.00"), D("2.33"))
    assert ranked_ids([a, b]) == [2, 1]


def test_equal_on_tie_break_1_the_tie_break_criterion_of_order_2_decides():
    # youth_led (order 1) equal; relevance (order 2) decides against earlier submission and lower id
    lower_2 = outcome_of(1, [sheet(relevance=2, youth_led=2, activities=3)], at=T0 - timedelta(days=3))
    higher_2 = outcome_of(2, [sheet(relevance=3, youth_led=2, activities=2)], at=T0)
    assert lower_2.average == higher_2.average
    assert lower_2.criterion_averages["youth_led"] == higher_2.criterion_averages["youth_led"]
    assert ranked_ids([lower_2, higher_2]) == [2, 1]


def test_non_tie_break_criteria_do_not_break_ties():
    # equal on average, risk and both tie-break criteria; activities vs budget differ: submission decides
    a = outcome_of(1, [sheet(activities=3, budget=1)], at=T0 + timedelta(minutes=1))
    b = outcome_of(2, [sheet(activities=2, budget=3)], at=T0)
    assert a.average == b.average
    assert a.tie_break_values == b.tie_break_values
    assert ranked_ids([a, b]) == [2, 1]


def test_tie_break_values_follow_the_tie_break_order_not_the_list_order():
    result = outcome_of(1, [sheet(relevance=1, youth_led=3)])
    assert result.tie_break_values == (D("3.00"), D("1.00"))  # youth_led (1), then relevance (2)


def test_equal_on_every_criterion_the_earlier_submission_first():
    later = outcome_of(1, [sheet()], at=T0 + timedelta(seconds=1))
    earlier = outcome_of(2, [sheet()], at=T0)
    assert ranked_ids([later, earlier]) == [2, 1]


def test_equal_submission_time_the_lower_id_first():
    outcomes = [outcome_of(i, [sheet()], at=T0) for i in (7, 3, 5)]
    assert ranked_ids(outcomes) == [3, 5, 7]


def test_ranking_is_independent_of_the_input_order():
    outcomes = [
        outcome_of(1, [sheet(3, 3, 3, 3)]),
        outcome_of(2, [sheet()], risk="0.30"),
        outcome_of(3, [sheet()], risk="0.30", at=T0 - timedelta(hours=1)),
        outcome_of(4, [sheet(relevance=3, youth_led=1)], risk="0.30"),
    ]
    expected = [1, 3, 2, 4]
    assert ranked_ids(outcomes) == expected
    assert ranked_ids(list(reversed(outcomes))) == expected


# --- the proposal -------------------------------------------------------------------------------------


def five():
    """Four passing (averages 18, 17, 16, 15), one failing."""
    return [
        plain(10, "15.00"),
        plain(11, "18.00"),
        plain(12, "9.00", passed=False),
        plain(13, "16.00"),
        plain(14, "17.00"),
    ]


def proposal_of(outcomes, capacity):
    return {o.application_id: (o.rank, o.proposal) for o in rank_and_propose(outcomes, capacity)}


def test_capacity_zero_puts_every_passing_application_on_the_reserve_list():
    assert proposal_of(five(), 0) == {
        11: (1, "reserve"),
        14: (2, "reserve"),
        13: (3, "reserve"),
        10: (4, "reserve"),
        12: (None, "not_funded"),
    }


def test_capacity_one_funds_the_best_only():
    assert proposal_of(five(), 1) == {
        11: (1, "funded"),
        14: (2, "reserve"),
        13: (3, "reserve"),
        10: (4, "reserve"),
        12: (None, "not_funded"),
    }


def test_capacity_cuts_at_the_rank():
    proposal = proposal_of(five(), 3)
    assert [a for a, (_rank, p) in proposal.items() if p == "funded"] == [11, 14, 13]
    assert proposal[10] == (4, "reserve")


@pytest.mark.parametrize("capacity", [4, 5, 99])
def test_capacity_beyond_the_passing_ones_funds_all_of_them_and_never_a_failing_one(capacity):
    assert proposal_of(five(), capacity) == {
        11: (1, "funded"),
        14: (2, "funded"),
        13: (3, "funded"),
        10: (4, "funded"),
        12: (None, "not_funded"),
    }


def test_failing_applications_get_no_rank_and_come_last():
    outcomes = [plain(1, "20.00", passed=False), plain(2, "11.00"), plain(3, "5.00", passed=False)]
    ranked = rank_and_propose(outcomes, 5)
    assert [o.application_id for o in ranked] == [2, 1, 3]  # passing first, then failing by average
    assert [(o.rank, o.proposal) for o in ranked] == [
        (1, "funded"),
        (None, "not_funded"),
        (None, "not_funded"),
    ]


def test_rank_and_propose_overwrites_an_earlier_proposal():
    outcomes = five()
    rank_and_propose(outcomes, 4)
    assert proposal_of(outcomes, 1)[14] == (2, "reserve")  # consolidated again after a change


def test_nothing_to_rank():
    assert rank_and_propose([], 3) == []


# --- quorum -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voting", "needed"), [(1, 3), (2, 3), (3, 3), (4, 3), (5, 4), (6, 4), (7, 5), (8, 6), (9, 6)]
)
def test_quorum_is_two_thirds_rounded_up_and_never_fewer_than_three(voting, needed):
    assert quorum_needed(voting) == needed


# --- properties ---------------------------------------------------------------------------------------

outcome_rows = st.lists(
    st.tuples(
        st.integers(0, 2100),  # average in cents (0–21.00)
        st.booleans(),  # passed
        st.integers(0, 100),  # risk share in %
        st.integers(0, 300),  # tie-break 1 in cents
        st.integers(0, 300),  # tie-break 2 in cents
        st.integers(0, 5),  # submitted, minutes after T0 (small range: many ties)
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(rows=outcome_rows, capacity=st.integers(0, 15))
def test_proposal_properties(rows, capacity):
    outcomes = [
        Outcome(
            application_id=index + 1,
            average=D(avg) / 100,
            scorers=3,
            passed=passed,
            fail_reason=None if passed else "threshold",
            criterion_averages={},
            disagreements=[],
            risk_share=D(risk) / 100,
            submitted_at=T0 + timedelta(minutes=minutes),
            tie_break_values=(D(t1) / 100, D(t2) / 100),
        )
        for index, (avg, passed, risk, t1, t2, minutes) in enumerate(rows)
    ]
    result = rank_and_propose(outcomes, capacity)
    passing = [o for o in result if o.passed]
    funded = [o for o in result if o.proposal == "funded"]

    assert sorted(o.application_id for o in result) == list(range(1, len(rows) + 1))
    assert len(funded) <= capacity
    assert len(funded) == min(capacity, len(passing))
    assert all(o.proposal in ("funded", "reserve") for o in passing)
    assert all(o.proposal == "not_funded" and o.rank is None for o in result if not o.passed)
    assert sorted(o.rank for o in passing) == list(range(1, len(passing) + 1))
    # every funded one ranks above every reserve one, and the ranks follow the averages
    assert all(f.rank < r.rank for f in funded for r in passing if r.proposal == "reserve")
    by_rank = sorted(passing, key=lambda o: o.rank)
    assert all(a.average >= b.average for a, b in zip(by_rank, by_rank[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(
    sheets=st.lists(
        st.fixed_dictionaries({c.code: st.integers(0, 3) for c in CRITERIA}), min_size=1, max_size=7
    )
)
def test_consolidate_properties(sheets):
    result = outcome_of(1, sheets)
    totals = [weighted_total(s, CRITERIA) for s in sheets]
    assert min(totals) <= result.average <= max(totals)
    assert abs(result.average - sum(totals) / len(totals)) <= D("0.005")
    essential_zero = any(result.criterion_averages[c.code] == 0 for c in CRITERIA if c.essential)
    below = result.average < max_total(CRITERIA) / 2
    assert result.passed == (not essential_zero and not below)
    assert result.fail_reason == ("essential" if essential_zero else "threshold" if below else None)
    for c in CRITERIA:
        values = [s[c.code] for s in sheets]
        assert (c.code in result.disagreements) == (max(values) - min(values) >= 2)
