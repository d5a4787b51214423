"""Quota computation (DESIGN §3): one project per municipality, the rest by largest remainder.

Pure functions, no database: the CLI, the web and the tests all call `compute_quotas`.
Arithmetic is exact (fractions and decimals), so the result never depends on float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

METHOD = "1 + largest remainder (Hamilton); ties: more pupils, then code"


class QuotaError(ValueError):
    """The inputs cannot give a quota; the message says why, in plain words."""


@dataclass(frozen=True)
class QuotaInput:
    code: str
    pupils: int


@dataclass(frozen=True)
class QuotaResult:
    code: str
    pupils: int
    quota: int
    amount: Decimal  # reserved = quota × amount per project


def projects_from_budget(budget: Decimal, amount: Decimal) -> int:
    """Return how many whole projects the budget pays for: floor(B / amount)."""
    if amount <= 0:
        raise QuotaError("The amount per project must be greater than zero.")
    if budget < 0:
        raise QuotaError("The budget must not be negative.")
    return int((budget / amount).to_integral_value(rounding=ROUND_FLOOR))


def compute_quotas(projects: int, counts: Sequence[QuotaInput], amount: Decimal) -> list[QuotaResult]:
    """Share `projects` among the municipalities: 1 each, the rest in proportion to pupils.

    Returns one result per input, in input order. Raises QuotaError for fewer projects than
    municipalities, duplicate codes, negative counts, or no pupils at all when there is a rest to share.
    """
    if not counts:
        raise QuotaError("No municipalities were given.")
    codes = [c.code for c in counts]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise QuotaError(f"Municipality listed more than once: {', '.join(duplicates)}.")
    if any(c.pupils < 0 for c in counts):
        raise QuotaError("Pupil counts must not be negative.")
    municipalities = len(counts)
    if projects < municipalities:
        raise QuotaError(
            f"There are fewer projects ({projects}) than municipalities ({municipalities}): "
            "every municipality must get at least one."
        )
    rest = projects - municipalities
    total = sum(c.pupils for c in counts)
    if rest and total == 0:
        raise QuotaError("The pupil counts add up to zero, so the remaining projects cannot be shared.")

    shares = {c.code: Fraction(rest * c.pupils, total) if rest else Fraction(0) for c in counts}
    quotas = {code: 1 + int(share) for code, share in shares.items()}  # int() floors a non-negative Fraction
    left = projects - sum(quotas.values())
    by_remainder = sorted(counts, key=lambda c: (-(shares[c.code] - int(shares[c.code])), -c.pupils, c.code))
    for c in by_remainder[:left]:
        quotas[c.code] += 1
    return [
        QuotaResult(c.code, c.pupils, quotas[c.code], (amount * quotas[c.code]).quantize(Decimal("0.01")))
        for c in counts
    ]
