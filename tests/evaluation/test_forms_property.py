"""Random input to the evaluation forms never causes a 500 and never stores what breaks a rule
(QUALITY D2): the check, the clarification request, the conflict statement, the scores (form and JSON
autosave), the committee invitation and the decision."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.evaluation.models import Clarification, EligibilityAnswer, Score
from portal.extensions import db
from tests import factories
from tests.helpers import csrf_token

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200)
ANY = st.one_of(
    TEXT, st.integers().map(str), st.sampled_from(["", "0", "1", "3", "4", "-1", "2.5", "yes", "no"])
)

_settings = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture()
def world(db):
    """A call in evaluation (for scoring) and a closed call with one submitted application (for checks)."""
    ev = factories.evaluation_call(applications=1)
    muni = db.session.get(factories.Municipality, ev["call"].municipality_id)
    closed = factories.open_call(muni, round=ev["call"].round)
    application, _ = factories.submitted_application(closed)
    factories.close_call(closed)
    factories.score(ev["committee"]["members"][1], ev["applications"][0], 2, submit=False)
    return {**ev, "closed_application": application}


@pytest.fixture()
def token(client, login_as):
    state: dict = {}

    def _get(user):
        if state.get("user") is not user:
            client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
            login_as(user)
            state.update(user=user, token=csrf_token(client, "/"))
        return state["token"]

    return _get


@_settings
@given(
    values=st.dictionaries(st.sampled_from(["passed_1", "reason_1", "passed_2", "reason_2", "action"]), ANY)
)
def test_random_input_to_the_check_form(client, world, token, values):
    application = world["closed_application"]
    criteria = [c.id for c in application.call.criteria if c.kind != "quality"][:2]
    data = {k.replace("_1", f"_{criteria[0]}").replace("_2", f"_{criteria[1]}"): v for k, v in values.items()}
    response = client.post(
        f"/evaluation/applications/{application.id}/check",
        data={**data, "csrf_token": token(world["coordinator"])},
    )
    assert response.status_code in (200, 302, 400, 409)
    for answer in db.session.scalars(sa.select(EligibilityAnswer)):
        assert answer.passed or (answer.reason or "").strip()


@_settings
@given(message=TEXT, days=ANY)
def test_random_input_to_the_clarification_form(client, world, token, message, days):
    application = world["closed_application"]
    response = client.post(
        f"/evaluation/applications/{application.id}/clarification",
        data={"message": message, "working_days": days, "csrf_token": token(world["coordinator"])},
    )
    assert response.status_code in (200, 302, 400, 409)
    for request in db.session.scalars(sa.select(Clarification)):
        assert 1 <= request.working_days <= 30 and request.message.strip()


@_settings
@given(values=st.dictionaries(st.sampled_from(["statement", "reason"]), ANY))
def test_random_input_to_the_conflict_form(client, world, token, values):
    member = world["committee"]["members"][2]
    application = world["applications"][0]
    response = client.post(
        f"/evaluation/applications/{application.id}/conflict",
        data={**values, "csrf_token": token(member.user)},
    )
    assert response.status_code in (200, 302, 400, 404, 409)


@_settings
@given(value=ANY, comment=TEXT, version=ANY)
def test_random_scores_through_the_form_and_the_autosave(client, world, token, value, comment, version):
    member = world["committee"]["members"][1]
    application = world["applications"][0]
    criterion = next(c for c in application.call.criteria if c.kind == "quality")
    csrf = token(member.user)
    form = client.post(
        f"/evaluation/applications/{application.id}/score",
        data={f"score_{criterion.id}": value, f"comment_{criterion.id}": comment, "csrf_token": csrf},
    )
    assert form.status_code in (200, 302, 400, 409)
    autosave = client.post(
        f"/evaluation/applications/{application.id}/score/autosave",
        json={"lock_version": version, "scores": {str(criterion.id): {"value": value, "comment": comment}}},
        headers={"X-CSRFToken": csrf},
    )
    assert autosave.status_code in (200, 400, 409, 422)
    for score in db.session.scalars(sa.select(Score)):
        assert score.value is None or 0 <= score.value <= 3


@_settings
@given(email=TEXT, role=ANY)
def test_random_input_to_the_invitation_form(client, world, token, email, role):
    call = world["call"]
    response = client.post(
        f"/evaluation/calls/{call.id}/committee/invite",
        data={"invite-email": email, "invite-role": role, "invite-csrf_token": token(world["coordinator"])},
    )
    assert response.status_code in (200, 302, 400, 409)


@_settings
@given(values=st.dictionaries(st.sampled_from(["number", "decided_on", "outcome_1", "reason_1"]), ANY))
def test_random_input_to_the_decision_form(client, world, token, values):
    call = world["call"]
    data = {k.replace("_1", f"_{world['applications'][0].id}"): v for k, v in values.items()}
    response = client.post(
        f"/evaluation/calls/{call.id}/decision", data={**data, "csrf_token": token(world["coordinator"])}
    )
    assert response.status_code in (200, 302, 400, 409)
