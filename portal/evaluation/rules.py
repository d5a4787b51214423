"""The evaluation arithmetic of DESIGN §4, as pure functions over plain values (no database).

- A member's weighted total is Σ weight × score (0–3) over the quality criteria.
- An application's result is the average of its members' weighted totals (two decimals, half up).
- It passes with an average of at least `pass_share` % of the maximum and no essential criterion whose
  average is 0.
- Ranking: average, then the higher PMP-risk share, then the averages of the tie-break criteria in their
  order, then the earlier submission (then the lower id, so the order is total and repeatable).
- Proposal: the best `capacity` passing applications are funded, the other passing ones go to the
  reserve list, the rest are not funded.
- Quorum: at least two thirds of the voting members, and never fewer than three, have scored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DISAGREEMENT_SPREAD = 2  # members' scores on one criterion this far apart are flagged for discussion
MIN_QUORUM = 3


@dataclass(frozen=True)
class Criterion:
    code: str
    weight: Decimal
    essential: bool = False
    tie_break_order: int | None = None


@dataclass
class Outcome:
    """One application's consolidated result before ranking."""

    application_id: int
    average: Decimal
    scorers: int
    passed: bool
    fail_reason: str | None
    criterion_averages: dict[str, Decimal]
    disagreements: list[str]
    risk_share: Decimal
    submitted_at: datetime
    rank: int | None = None
    proposal: str = "not_funded"
    tie_break_values: tuple = field(default=())


def quorum_needed(voting_members: int) -> int:
    """Return how many voting members must have scored: two thirds (rounded up), never fewer than 3."""
    return max(MIN_QUORUM, math.ceil(Decimal(2 * voting_members) / 3))


def max_total(criteria: Sequence[Criterion]) -> Decimal:
    """Return the highest weighted total a member can give (3 × Σ weights)."""
    return sum((3 * c.weight for c in criteria), Decimal("0"))


def weighted_total(values: Mapping[str, int], criteria: Sequence[Criterion]) -> Decimal:
    """Return Σ weight × score over the criteria (a missing score counts as nothing)."""
    return sum((c.weight * values.get(c.code, 0) for c in criteria), Decimal("0"))


def _average(numbers: Iterable[Decimal]) -> Decimal:
    numbers = list(numbers)
    if not numbers:
        return Decimal("0.00")
    return (sum(numbers, Decimal("0")) / len(numbers)).quantize(CENT, rounding=ROUND_HALF_UP)


def consolidate(
    application_id: int,
    sheets: Sequence[Mapping[str, int]],
    criteria: Sequence[Criterion],
    *,
    pass_share: Decimal,
    risk_share: Decimal,
    submitted_at: datetime,
) -> Outcome:
    """Return the application's average, pass/fail, per-criterion averages and disagreements."""
    totals = [weighted_total(sheet, criteria) for sheet in sheets]
    average = _average(totals)
    by_criterion = {c.code: [sheet.get(c.code, 0) for sheet in sheets] for c in criteria}
    criterion_averages = {code: _average(Decimal(v) for v in values) for code, values in by_criterion.items()}
    disagreements = [
        c.code
        for c in criteria
        if by_criterion[c.code]
        and max(by_criterion[c.code]) - min(by_criterion[c.code]) >= DISAGREEMENT_SPREAD
    ]
    threshold = max_total(criteria) * pass_share / 100
    fail_reason = None
    if any(c.essential and sheets and criterion_averages[c.code] == 0 for c in criteria):
        fail_reason = "essential"
    elif not sheets or average < threshold:
        fail_reason = "threshold"
    tie_codes = [c.code for c in sorted(criteria, key=lambda c: c.tie_break_order or 0) if c.tie_break_order]
    return Outcome(
        application_id=application_id,
        average=average,
        scorers=len(sheets),
        passed=fail_reason is None,
        fail_reason=fail_reason,
        criterion_averages=criterion_averages,
        disagreements=disagreements,
        risk_share=risk_share,
        submitted_at=submitted_at,
        tie_break_values=tuple(criterion_averages[code] for code in tie_codes),
    )


def _rank_key(outcome: Outcome):
    return (
        -outcome.average,
        -outcome.risk_share,
        tuple(-v for v in outcome.tie_break_values),
        outcome.submitted_at,
        outcome.application_id,
    )


def rank_and_propose(outcomes: Sequence[Outcome], capacity: int) -> list[Outcome]:
    """Rank the passing applications (1 = best) and propose: funded (the best `capacity`), reserve (the
    other passing ones), not funded (the failing ones). Returns every outcome, passing ones first."""
    passing = sorted((o for o in outcomes if o.passed), key=_rank_key)
    failing = sorted((o for o in outcomes if not o.passed), key=_rank_key)
    for position, outcome in enumerate(passing, start=1):
        outcome.rank = position
        outcome.proposal = "funded" if position <= capacity else "reserve"
    for outcome in failing:
        outcome.rank = None
        outcome.proposal = "not_funded"
    return passing + failing
