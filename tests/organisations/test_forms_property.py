"""Random input to the organisation forms never causes a 500 and never creates a bad organisation
(QUALITY D2)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db as _db
from portal.organisations.models import Organisation
from portal.organisations.validators import validate_iban, validate_reg_number
from tests.factories import UserFactory, valid_reg_number
from tests.helpers import csrf_token

# Any text a browser can send: no surrogates (they cannot be encoded), everything else allowed,
# control characters and NUL included.
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400)
# A plausible value per field: mixing them with random text lets most fields pass, so the random one
# reaches deeper validation (and, when all are plausible, the service).
PLAUSIBLE = {
    "legal_form": "association",
    "name": "Biedrība Saule",
    "reg_number": valid_reg_number(8000),
    "municipality": "0020000",
    "address": "Skolas iela 1",
    "email": "saule@example.lv",
    "phone": "+371 20000000",
    "website": "saule.example.lv",
    "bank_name": "Banka",
    "iban": "LV80BANK0000435195001",
}


_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_settings
@given(values=st.fixed_dictionaries({name: st.one_of(st.just(v), TEXT) for name, v in PLAUSIBLE.items()}))
def test_random_text_to_the_registration_form(client, login_as, values, _logged_in_once):
    token = _logged_in_once()
    response = client.post("/organisations/new", data={**values, "csrf_token": token})
    assert response.status_code in (200, 302)
    for org in _db.session.scalars(sa.select(Organisation)):
        # Whatever got through is valid and normalised.
        if org.reg_number:
            assert validate_reg_number(org.reg_number) == org.reg_number
        if org.iban:
            assert validate_iban(org.iban) == org.iban
        assert "\x00" not in org.name


@_settings
@given(
    name=st.one_of(st.just("Grupa"), TEXT),
    count=st.one_of(st.integers().map(str), TEXT),
    email=st.one_of(st.just("g@example.lv"), TEXT),
    municipality=st.one_of(st.just("0020000"), TEXT),
)
def test_random_text_to_the_group_form(
    client, org, member, _logged_in_once, name, count, email, municipality
):
    token = _logged_in_once(member)
    response = client.post(
        f"/organisations/{org.id}/groups/new",
        data={
            "csrf_token": token,
            "name": name,
            "members_count": count,
            "email": email,
            "municipality": municipality,
        },
    )
    assert response.status_code in (200, 302)


@pytest.fixture()
def _logged_in_once(client, login_as):
    """Log in on the first example only, then reuse the session's CSRF token."""
    state: dict = {}

    def _get(user=None):
        if "token" not in state:
            login_as(user or UserFactory())
            state["token"] = csrf_token(client, "/organisations/new")
        return state["token"]

    return _get
