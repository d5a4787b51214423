"""Amounts in Latvian words, as contracts write them next to the figures (issue 7):
4600.00 → "četri tūkstoši seši simti euro, 00 centi"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONES = ["nulle", "viens", "divi", "trīs", "četri", "pieci", "seši", "septiņi", "astoņi", "deviņi"]
TEENS = [
    "desmit",
    "vienpadsmit",
    "divpadsmit",
    "trīspadsmit",
    "četrpadsmit",
    "piecpadsmit",
    "sešpadsmit",
    "septiņpadsmit",
    "astoņpadsmit",
    "deviņpadsmit",
]
TENS = {2: "divdesmit", 3: "trīsdesmit", 4: "četrdesmit", 5: "piecdesmit", 6: "sešdesmit"}
TENS |= {7: "septiņdesmit", 8: "astoņdesmit", 9: "deviņdesmit"}
# (size, singular, plural): the singular follows a number ending in 1 but not in 11 (21 tūkstotis).
SCALES = [(10**9, "miljards", "miljardi"), (10**6, "miljons", "miljoni"), (10**3, "tūkstotis", "tūkstoši")]


def _below_thousand(n: int) -> list[str]:
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        words.append("simts")
    elif hundreds > 1:
        words += [ONES[hundreds], "simti"]
    if 10 <= rest < 20:
        words.append(TEENS[rest - 10])
    else:
        tens, ones = divmod(rest, 10)
        if tens:
            words.append(TENS[tens])
        if ones:
            words.append(ONES[ones])
    return words


def number_in_words(n: int) -> str:
    """Return a whole number from 0 up to 999 999 999 999 in Latvian words (nominative)."""
    if n < 0 or n >= 10**12:
        raise ValueError("out of range")
    if n == 0:
        return ONES[0]
    words = []
    for size, singular, plural in SCALES:
        count, n = divmod(n, size)
        if count:
            singular_form = count % 10 == 1 and count % 100 != 11
            words += _below_thousand(count) + [singular if singular_form else plural]
    words += _below_thousand(n)
    return " ".join(words)


def amount_in_words(amount: Decimal) -> str:
    """Return a euro amount as a contract writes it: "četri tūkstoši seši simti euro, 00 centi"."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("a negative amount has no words")
    euros, cents = divmod(int(amount * 100), 100)
    return f"{number_in_words(euros)} euro, {cents:02d} centi"
