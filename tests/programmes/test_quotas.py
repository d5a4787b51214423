"""Quota computation (DESIGN §3): exact cases and properties."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.programmes.quotas import QuotaError, QuotaInput, compute_quotas, projects_from_budget

AMOUNT = Decimal("4600.00")


def quotas(projects, counts):
    return {r.code: r.quota for r in compute_quotas(projects, [QuotaInput(c, n) for c, n in counts], AMOUNT)}


def test_one_each_then_largest_remainder():
    # rest 7 shared 2100:3900:52000 -> 0.253, 0.470, 6.276 -> floors 0,0,6 -> one left -> remainder 0.470
    assert quotas(10, [("A", 2100), ("B", 3900), ("C", 52000)]) == {"A": 1, "B": 2, "C": 7}


def test_projects_equal_municipalities_gives_one_each_even_without_pupils():
    assert quotas(3, [("A", 0), ("B", 0), ("C", 0)]) == {"A": 1, "B": 1, "C": 1}


def test_equal_remainders_go_to_more_pupils_first():
    # rest 1, shares 0.5 and 0.5 is impossible with different pupils; use 3 municipalities:
    # rest 2 over 1:1:2 -> 0.5, 0.5, 1.0 -> floors 0,0,1 -> one left, A and B tie on remainder and pupils
    assert quotas(5, [("B", 1), ("A", 1), ("C", 2)]) == {"A": 2, "B": 1, "C": 2}


def test_equal_remainders_prefer_larger_count_before_code():
    # rest 1 over 30:10:20 -> 0.5, 0.1667, 0.333 -> A gets it; rest 3 over 1:1:1 -> 1 each exactly
    assert quotas(4, [("A", 30), ("B", 10), ("C", 20)]) == {"A": 2, "B": 1, "C": 1}
    # rest 2 over 3:3:2 (sum 8) -> 0.75, 0.75, 0.5 -> tie A/B on remainder and pupils -> code order
    assert quotas(5, [("B", 3), ("A", 3), ("C", 2)]) == {"A": 2, "B": 2, "C": 1}


def test_fewer_projects_than_municipalities_is_an_error():
    with pytest.raises(QuotaError, match="fewer projects"):
        quotas(2, [("A", 1), ("B", 1), ("C", 1)])


@pytest.mark.parametrize(
    "counts, message",
    [
        ([], "No municipalities"),
        ([("A", 1), ("A", 2)], "more than once"),
        ([("A", -1)], "negative"),
        ([("A", 0), ("B", 0)], "zero"),
    ],
)
def test_bad_inputs(counts, message):
    with pytest.raises(QuotaError, match=message):
        quotas(5, counts)


def test_reserved_amount_is_quota_times_amount():
    result = compute_quotas(3, [QuotaInput("A", 10), QuotaInput("B", 30)], AMOUNT)
    assert [r.amount for r in result] == [Decimal("4600.00"), Decimal("9200.00")]


def test_budget_gives_whole_projects():
    assert projects_from_budget(Decimal("46000"), AMOUNT) == 10
    assert projects_from_budget(Decimal("45999.99"), AMOUNT) == 9
    with pytest.raises(QuotaError):
        projects_from_budget(Decimal("1"), Decimal("0"))


def test_43_municipalities_quickly():
    import time

    counts = [QuotaInput(f"{i:07d}", 500 + 37 * i) for i in range(43)]
    start = time.perf_counter()
    compute_quotas(150, counts, AMOUNT)
    assert time.perf_counter() - start < 0.05


municipality_counts = st.lists(
    st.tuples(st.text("0123456789", min_size=7, max_size=7), st.integers(0, 100_000)),
    min_size=1,
    max_size=43,
    unique_by=lambda t: t[0],
).filter(lambda xs: sum(n for _, n in xs) > 0)


@settings(max_examples=200, deadline=None)
@given(counts=municipality_counts, extra=st.integers(0, 300), data=st.data())
def test_properties(counts, extra, data):
    projects = len(counts) + extra
    result = quotas(projects, counts)
    assert sum(result.values()) == projects
    assert all(q >= 1 for q in result.values())
    pupils = dict(counts)
    for a in result:
        for b in result:
            if pupils[a] > pupils[b]:
                assert result[a] >= result[b]
    shuffled = data.draw(st.permutations(counts))
    assert quotas(projects, shuffled) == result
    assert quotas(projects, counts) == result
