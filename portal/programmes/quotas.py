"""Quota computation (DESIGN §3): one project per municipality, the rest by largest remainder.

Pure functions, no database: the CLI, the web and the tests all call `compute_quotas`.
Arithmetic is exact (fractions and decimals), so the result never depends on float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import NamedTuple

METHOD = "1 + largest remainder (Hamilton); ties: more pupils, then code"
REDISTRIBUTION_METHOD = "largest remainder (Hamilton) by pupils, capped at reserve-list size"


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


# --- Round close: unused quota shared among municipalities with reserve-list projects (DESIGN §3.4) --


@dataclass(frozen=True)
class Recipient:
    code: str
    pupils: int
    need: int  # reserve-list projects it could still fund: it never gets more than this


class Redistribution(NamedTuple):
    extras: dict[str, int]  # code → extra projects, one entry per recipient (0 included)
    unallocated: int  # what nobody could take: more quota than reserve-list projects


def redistribute(pool: int, recipients: Sequence[Recipient | tuple[str, int, int]]) -> Redistribution:
    """Share `pool` projects among the recipients by largest remainder, in proportion to pupils.

    Nobody gets more than its `need`; what a capped recipient cannot take is shared again among the
    others by the same method, until the pool is used up or everybody's need is met. Equal remainders
    go to more pupils first, then the lower code (as `compute_quotas`). When the recipients still in
    the running have no pupils at all, they count equally. The result does not depend on input order.
    """
    people = [r if isinstance(r, Recipient) else Recipient(*r) for r in recipients]
    codes = [r.code for r in people]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise QuotaError(f"Municipality listed more than once: {', '.join(duplicates)}.")
    if pool < 0:
        raise QuotaError("The unused quota must not be negative.")
    if any(r.pupils < 0 or r.need < 0 for r in people):
        raise QuotaError("Pupil counts and reserve-list sizes must not be negative.")

    extras = {r.code: 0 for r in people}
    left = pool
    running = [r for r in people if r.need > 0]
    while left and running:
        weights = {r.code: r.pupils for r in running}
        if not sum(weights.values()):
            weights = dict.fromkeys(weights, 1)
        total = sum(weights.values())
        shares = {code: Fraction(left * w, total) for code, w in weights.items()}
        given = {code: int(share) for code, share in shares.items()}
        spare = left - sum(given.values())
        by_remainder = sorted(running, key=lambda r: (-(shares[r.code] - given[r.code]), -r.pupils, r.code))
        for r in by_remainder[:spare]:
            given[r.code] += 1
        # Cap at what each still needs; the excess goes round again among those not yet full.
        for r in running:
            taken = min(given[r.code], r.need - extras[r.code])
            extras[r.code] += taken
            left -= taken
        running = [r for r in running if extras[r.code] < r.need]
    return Redistribution(extras, left)
