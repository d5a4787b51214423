"""Redistribution of unused quota at round close (DESIGN §3.4): exact cases and properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.programmes.quotas import QuotaError, Recipient, redistribute


def test_in_proportion_to_pupils_by_largest_remainder():
    # 5 over 2100:3900:52000 -> 0.18, 0.34, 4.48 -> floors 0,0,4 -> one left -> largest remainder C (0.48)
    extras, left = redistribute(5, [("A", 2100, 9), ("B", 3900, 9), ("C", 52000, 9)])
    assert extras == {"A": 0, "B": 0, "C": 5} and left == 0


def test_never_more_than_the_reserve_list_and_the_rest_goes_round_again():
    # C takes at most 2; the other 3 go round again among A and B (1:1 -> 1.5 each; tie on remainder and
    # pupils -> code order), then B is full and A's second pass takes what is left.
    extras, left = redistribute(5, [Recipient("B", 100, 1), Recipient("A", 100, 5), Recipient("C", 9000, 2)])
    assert extras == {"A": 2, "B": 1, "C": 2} and left == 0


def test_what_nobody_can_take_stays_unallocated():
    extras, left = redistribute(7, [("A", 10, 1), ("B", 20, 2)])
    assert extras == {"A": 1, "B": 2} and left == 4


def test_equal_remainders_more_pupils_then_code():
    # 1 over 30:30:40 -> 0.3, 0.3, 0.4 -> C; 2 over 30:30:40 -> 0.6, 0.6, 0.8 -> C then A (code)
    assert redistribute(1, [("B", 30, 5), ("A", 30, 5), ("C", 40, 5)]).extras == {"A": 0, "B": 0, "C": 1}
    assert redistribute(2, [("B", 30, 5), ("A", 30, 5), ("C", 40, 5)]).extras == {"A": 1, "B": 0, "C": 1}
    # 2 over 1:3 -> 0.5, 1.5 -> floors 0, 1 -> equal remainders: more pupils first (B, not the lower code A)
    assert redistribute(2, [("A", 1, 5), ("B", 3, 5)]).extras == {"A": 0, "B": 2}


def test_without_pupils_recipients_count_equally():
    assert redistribute(3, [("B", 0, 5), ("A", 0, 5)]).extras == {"A": 2, "B": 1}


def test_nothing_to_share_or_nobody_to_share_with():
    assert redistribute(0, [("A", 10, 3)]) == ({"A": 0}, 0)
    assert redistribute(4, []) == ({}, 4)
    assert redistribute(4, [("A", 10, 0)]) == ({"A": 0}, 4)


@pytest.mark.parametrize(
    ("pool", "recipients", "message"),
    [
        (-1, [("A", 1, 1)], "negative"),
        (1, [("A", -1, 1)], "negative"),
        (1, [("A", 1, -1)], "negative"),
        (1, [("A", 1, 1), ("A", 2, 1)], "more than once"),
    ],
)
def test_bad_inputs(pool, recipients, message):
    with pytest.raises(QuotaError, match=message):
        redistribute(pool, recipients)


recipient_lists = st.lists(
    st.tuples(st.integers(0, 60_000), st.integers(0, 12)), min_size=0, max_size=12
).map(lambda rows: [(f"{i:07d}", pupils, need) for i, (pupils, need) in enumerate(rows)])


@settings(max_examples=300, deadline=None)
@given(pool=st.integers(0, 150), recipients=recipient_lists, data=st.data())
def test_properties(pool, recipients, data):
    extras, left = redistribute(pool, recipients)
    need = {code: n for code, _pupils, n in recipients}
    assert set(extras) == set(need)
    assert all(0 <= extras[code] <= need[code] for code in need)  # never more than the reserve list
    assert sum(extras.values()) <= pool
    assert sum(extras.values()) == min(pool, sum(need.values()))  # nothing left while someone needs it
    assert left == pool - sum(extras.values())
    assert redistribute(pool, recipients) == (extras, left)  # deterministic
    shuffled = data.draw(st.permutations(recipients))
    assert redistribute(pool, shuffled) == (extras, left)  # independent of input order


@settings(max_examples=200, deadline=None)
@given(pool=st.integers(0, 150), recipients=recipient_lists)
def test_more_pupils_never_fewer_when_neither_is_capped(pool, recipients):
    extras, _left = redistribute(pool, recipients)
    for a_code, a_pupils, a_need in recipients:
        for b_code, b_pupils, b_need in recipients:
            if a_pupils > b_pupils and extras[a_code] < a_need and extras[b_code] < b_need:
                assert extras[a_code] >= extras[b_code]
