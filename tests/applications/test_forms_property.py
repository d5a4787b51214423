"""Random input to every step of the application form never causes a 500, and whatever is stored is
sound: counts are whole numbers ≥ 0, at-risk ≤ participants, end ≥ start, amounts ≥ 0 (QUALITY D2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.applications.forms import parse_amount
from portal.extensions import db as _db
from tests.applications.support import STEP_DATA, STEP_SLUGS, lock_version, reload
from tests.factories import draft_application
from tests.helpers import csrf_token

# Any text a browser can send (no surrogates: they cannot be encoded), control characters and NUL too.
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
OVERSIZED = st.integers(min_value=10_001, max_value=40_000).map(lambda n: "ž" * n)
NUMBERISH = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
VALUE = st.one_of(TEXT, NUMBERISH, OVERSIZED)

_settings = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture()
def session(db, client, login_as):
    application, user = draft_application()
    login_as(user)
    token = csrf_token(client, f"/applications/{application.id}/edit/project")
    return application, token


def _sound(application) -> None:
    saved = reload(application)
    counts = [
        saved.participants_total,
        saved.participants_risk,
        saved.participants_grades_5_9,
        saved.participants_grades_10_12,
        saved.participants_vocational,
        saved.group_members,
        *[a.participants for a in saved.activities],
        *saved.risk_by_category.values(),
    ]
    for count in counts:
        assert count is None or (type(count) is int and count >= 0)
    if saved.participants_total is not None and saved.participants_risk is not None:
        assert saved.participants_risk <= saved.participants_total
    if saved.start_date and saved.end_date:
        assert saved.end_date >= saved.start_date
    assert all(line.amount >= 0 for line in saved.budget_lines)
    for name in ("title", "problem", "places", "partners", "schools"):
        value = getattr(saved, name)
        assert value is None or ("\x00" not in value and len(value) <= 10_000)


def _step_strategy(step):
    return st.fixed_dictionaries(
        {name: st.one_of(st.just(value), VALUE) for name, value in STEP_DATA[step].items()}
    )


@pytest.mark.parametrize("step", STEP_SLUGS)
def test_random_values_posted_to_a_step(client, session, step):
    application, token = session

    @_settings
    @given(
        values=_step_strategy(step),
        lock=st.one_of(st.none(), TEXT),
        action=st.sampled_from(["save", "next", "back", "add_row", "", "x"]),
    )
    def run(values, lock, action):
        data = {
            **values,
            "csrf_token": token,
            "action": action,
            "lock_version": str(lock_version(application.id)) if lock is None else lock,
        }
        response = client.post(f"/applications/{application.id}/edit/{step}", data=data)
        assert response.status_code in (200, 302, 409), response.status_code
        _sound(application)

    run()


@pytest.mark.parametrize("step", ["project", "target-group", "activities", "budget", "review"])
def test_random_json_autosaved(client, session, step):
    application, token = session
    json_value = st.one_of(
        VALUE,
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.lists(TEXT, max_size=3),
        st.dictionaries(TEXT, TEXT, max_size=2),
    )

    @_settings
    @given(
        values=st.dictionaries(
            st.one_of(st.sampled_from(sorted(STEP_DATA[step])), TEXT), json_value, max_size=12
        )
    )
    def run(values):
        response = client.post(
            f"/applications/{application.id}/autosave",
            json={"lock_version": lock_version(application.id), "step": step, "values": values},
            headers={"Accept": "application/json", "X-CSRFToken": token},
        )
        assert response.status_code in (200, 422), response.status_code
        assert response.is_json
        _sound(application)

    run()


@given(text=st.one_of(TEXT, NUMBERISH))
@settings(max_examples=300, deadline=None)
def test_parse_amount_returns_a_non_negative_cent_amount_or_refuses(text):
    try:
        amount = parse_amount(text)
    except ValueError:
        return
    assert amount is None or (
        isinstance(amount, Decimal) and amount >= 0 and amount == amount.quantize(Decimal("0.01"))
    )


@given(cents=st.integers(min_value=0, max_value=100_000_000), locale=st.sampled_from(["lv", "en"]))
@settings(max_examples=200, deadline=None)
def test_amounts_written_by_the_portal_read_back_the_same(app, cents, locale):
    from portal.applications.forms import format_amount

    amount = Decimal(cents) / 100
    assert parse_amount(format_amount(amount, locale)) == amount


def test_the_database_stays_usable(session):
    # A NUL or an oversized value must not have left the session in a failed transaction.
    application, _ = session
    assert _db.session.get(type(application), application.id) is not None
