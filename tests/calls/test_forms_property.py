"""Random input to the call forms never causes a 500 and never stores a call that breaks a rule
(QUALITY D2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.calls.models import Call
from portal.extensions import db as _db
from portal.programmes.models import Quota
from tests.calls.test_views import form_values
from tests.helpers import csrf_token

# Any text a browser can send: no surrogates (they cannot be encoded), everything else allowed.
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
DATETIME_TEXT = st.one_of(
    TEXT,
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.sampled_from(["2026-03-29T03:30", "2026-10-25T03:30", "9999-12-31T23:59", "0001-01-01T00:00"]),
)
PLAUSIBLE = form_values()

_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture()
def _logged_in_once(client, login_as, coord):
    state: dict = {}

    def _get():
        if "token" not in state:
            login_as(coord)
            state["token"] = csrf_token(client, "/calls/new")
        return state["token"]

    return _get


def _strategy():
    fields = {name: st.one_of(st.just(value), TEXT) for name, value in PLAUSIBLE.items()}
    fields["opens_at"] = st.one_of(st.just(PLAUSIBLE["opens_at"]), DATETIME_TEXT)
    fields["closes_at"] = st.one_of(st.just(PLAUSIBLE["closes_at"]), DATETIME_TEXT)
    fields["projects"] = st.one_of(st.just("1"), st.integers().map(str), TEXT)
    return st.fixed_dictionaries(fields)


@_settings
@given(values=_strategy(), use_round=st.booleans())
def test_random_input_to_the_new_call_form(client, rnd, muni, _logged_in_once, values, use_round):
    token = _logged_in_once()
    data = {**values, "round": f"{muni.id}-{rnd.id}" if use_round else "x", "csrf_token": token}
    response = client.post("/calls/new", data=data)
    assert response.status_code in (200, 302)
    quota = _db.session.scalar(sa.select(Quota).where(Quota.round_id == rnd.id))
    calls = _db.session.scalars(sa.select(Call).where(Call.round_id == rnd.id)).all()
    assert sum(c.projects for c in calls) <= quota.total
    for call in calls:
        assert call.closes_at - call.opens_at >= timedelta(days=30)
        assert "\x00" not in call.title and "\n" not in call.title


@_settings
@given(values=_strategy())
def test_random_input_to_the_edit_form_of_a_published_call(client, muni, _logged_in_once, values):
    from tests.factories import open_call

    call = _db.session.scalar(sa.select(Call).where(Call.title == "Publicēts"))
    call = call or open_call(muni, title="Publicēts")
    token = _logged_in_once()
    response = client.post(f"/calls/{call.id}/edit", data={**values, "csrf_token": token, "reason": "x"})
    assert response.status_code in (200, 302)


@_settings
@given(
    title=TEXT,
    weight=st.one_of(st.just("1,5"), st.decimals(allow_nan=True).map(str), TEXT),
    level=TEXT,
)
def test_random_input_to_the_criterion_form(client, rnd, muni, coord, _logged_in_once, title, weight, level):
    from portal.calls import services
    from tests.calls.conftest import call_data

    call = _db.session.scalar(sa.select(Call).where(Call.round_id == rnd.id))
    call = call or services.create_call(rnd, muni, call_data(), actor=coord)
    criterion = next(c for c in call.criteria if c.kind == "quality")
    token = _logged_in_once()
    data = {"csrf_token": token, "title_lv": title, "title_en": "Title", "weight": weight, "essential": "y"}
    data |= {f"level_{n}_{lang}": level for n in "0123" for lang in ("lv", "en")}
    response = client.post(f"/calls/{call.id}/criteria/{criterion.id}", data=data)
    assert response.status_code in (200, 302)
    assert criterion.weight >= 0
