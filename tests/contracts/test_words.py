"""Amounts in Latvian words for contracts (issue 7)."""

from decimal import Decimal

import pytest

from portal.contracts.words import amount_in_words, number_in_words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "nulle"),
        (1, "viens"),
        (10, "desmit"),
        (11, "vienpadsmit"),
        (19, "deviņpadsmit"),
        (20, "divdesmit"),
        (21, "divdesmit viens"),
        (99, "deviņdesmit deviņi"),
        (100, "simts"),
        (101, "simts viens"),
        (200, "divi simti"),
        (999, "deviņi simti deviņdesmit deviņi"),
        (1000, "viens tūkstotis"),
        (1001, "viens tūkstotis viens"),
        (2000, "divi tūkstoši"),
        (4600, "četri tūkstoši seši simti"),
        (11000, "vienpadsmit tūkstoši"),
        (21000, "divdesmit viens tūkstotis"),
        (111000, "simts vienpadsmit tūkstoši"),
        (101000, "simts viens tūkstotis"),
        (1_000_000, "viens miljons"),
        (2_300_000, "divi miljoni trīs simti tūkstoši"),
        (11_000_000, "vienpadsmit miljoni"),
    ],
)
def test_numbers_in_words(number, words):
    assert number_in_words(number) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (Decimal("4600.00"), "četri tūkstoši seši simti euro, 00 centi"),
        (Decimal("3680.00"), "trīs tūkstoši seši simti astoņdesmit euro, 00 centi"),
        (Decimal("920.00"), "deviņi simti divdesmit euro, 00 centi"),
        (Decimal("0.5"), "nulle euro, 50 centi"),
        (Decimal("1.01"), "viens euro, 01 centi"),
        (Decimal("4599.995"), "četri tūkstoši seši simti euro, 00 centi"),
    ],
)
def test_amounts_in_words(amount, words):
    assert amount_in_words(amount) == words


def test_out_of_range_is_refused():
    with pytest.raises(ValueError):
        number_in_words(-1)
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-0.01"))
