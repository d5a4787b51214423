"""Applications pick the activity of the municipality's prevention plan they serve (issue 8, DESIGN §5):
the plan step's select, its refusal of other municipalities' activities, the submission rule and the
frozen version (data and PDF)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from portal.applications import services
from portal.applications.rules import submission_problems
from portal.core import pdf
from portal.core.workflow import WorkflowError
from tests.applications.support import STEP_DATA, lock_version, page_tokens, post_step, reload
from tests.factories import draft_application, municipality, prevention_plan, sample_pdf
from tests.helpers import Page


@pytest.fixture()
def plans(db):
    """The call's municipality's plan in force, an old plan of its own and another municipality's plan."""
    own = prevention_plan(municipality("0020000"))
    old = prevention_plan(municipality("0020000"), active=False, start=2019, end=2023)
    other = prevention_plan(municipality("0044000"))
    return own, old, other


def _choose(application, user, activity_id):
    return services.save_draft(
        application, {"plan_activity_id": activity_id}, actor=user, expected_version=application.lock_version
    )


def _problem_fields(application):
    return {p.field for p in submission_problems(application)}


def test_the_select_lists_only_the_own_active_plan_by_level(client, login_as, plans):
    own, old, other = plans
    application, user = draft_application()
    login_as(user)
    html = client.get(f"/applications/{application.id}/edit/plan").get_data(as_text=True)
    page = Page(html)
    select = page.by_id("plan_activity_id")
    assert select is not None and select.tag == "select" and select.get("name") == "plan_activity_id"
    values = {o.get("value") for o in page.find("option") if o.get("value")}
    assert values == {str(a.id) for a in own.activities}
    assert {str(a.id) for a in old.activities + other.activities}.isdisjoint(values)
    groups = [g.get("label") for g in page.find("optgroup")]
    assert groups == ["Universal prevention", "Targeted prevention", "Tailored prevention"]
    assert "1.1. Ārpusskolas aktivitātes PMP riska jauniešiem" in html


def test_without_a_plan_the_step_has_no_select_and_says_why(client, login_as, db):
    application, user = draft_application()
    login_as(user)
    html = client.get(f"/applications/{application.id}/edit/plan").get_data(as_text=True)
    assert Page(html).by_id("plan_activity_id") is None
    assert "has not entered a PMP prevention plan" in html
    assert Page(html).by_id("plan_link") is not None


def test_the_step_stores_the_choice_and_refuses_a_forged_id(client, login_as, plans):
    own, _old, other = plans
    application, user = draft_application()
    login_as(user)
    forged = {**STEP_DATA["plan"], "plan_activity_id": str(other.activities[0].id)}
    response = post_step(client, application.id, "plan", forged)
    assert response.status_code == 200
    assert "Choose an activity of your municipality" in response.get_data(as_text=True)
    saved = reload(application)
    assert saved.plan_activity_id is None and saved.problem == STEP_DATA["plan"]["problem"]

    chosen = {**STEP_DATA["plan"], "plan_activity_id": str(own.activities[1].id)}
    assert post_step(client, application.id, "plan", chosen).status_code == 302
    assert reload(application).plan_activity_id == own.activities[1].id


def test_autosave_accepts_the_activity_and_refuses_another_municipalitys(client, login_as, plans):
    own, _old, other = plans
    application, user = draft_application()
    login_as(user)
    csrf, _lock = page_tokens(client, f"/applications/{application.id}/edit/plan")

    def autosave(value):
        return client.post(
            f"/applications/{application.id}/autosave",
            json={"lock_version": lock_version(application.id), "step": "plan", "values": value},
            headers={"Accept": "application/json", "X-CSRFToken": csrf},
        )

    response = autosave({"plan_activity_id": str(other.activities[0].id)})
    assert response.status_code == 422 and "plan_activity_id" in response.get_json()["errors"]
    assert reload(application).plan_activity_id is None
    for garbage in ("1 OR 1=1", "-1", "１"):
        assert autosave({"plan_activity_id": garbage}).status_code == 422
    response = autosave({"plan_activity_id": str(own.activities[0].id)})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    assert reload(application).plan_activity_id == own.activities[0].id
    assert autosave({"plan_activity_id": ""}).status_code == 200
    assert reload(application).plan_activity_id is None


def test_the_service_never_stores_an_activity_outside_the_plan_in_force(plans):
    own, old, other = plans
    application, user = draft_application()
    for foreign in (other.activities[0].id, old.activities[0].id, 10**8):
        with pytest.raises(WorkflowError) as refused:
            _choose(application, user, foreign)
        assert refused.value.field == "plan_activity_id"
        assert application.plan_activity_id is None
    _choose(application, user, own.activities[2].id)
    assert application.plan_activity_id == own.activities[2].id


def test_submission_requires_the_activity_only_when_a_plan_is_in_force(db):
    application, user = draft_application(complete=True)
    assert submission_problems(application) == []  # no plan: the free-text link is enough
    plan = prevention_plan(application.call.municipality)
    with force_locale("en"):
        problems = [p for p in submission_problems(application) if p.field == "plan_activity_id"]
        assert [str(p) for p in problems] == [
            "Choose the activity of the municipality's prevention plan that the project serves."
        ]
    _choose(application, user, plan.activities[0].id)
    assert _problem_fields(application) == set()
    plan.is_active = False  # the plan was replaced: the old choice no longer counts
    replacement = prevention_plan(application.call.municipality, start=2028, end=2031)
    db.session.flush()
    assert _problem_fields(application) == {"plan_activity_id"}
    _choose(application, user, replacement.activities[0].id)
    assert _problem_fields(application) == set()


def test_the_frozen_version_and_its_pdf_show_the_activity(app, monkeypatch, db):
    application, user = draft_application(complete=True)
    plan = prevention_plan(application.call.municipality)
    _choose(application, user, plan.activities[0].id)
    rendered = []

    def fake_pdf(html):
        rendered.append(html)
        return sample_pdf()

    monkeypatch.setattr(pdf, "html_to_pdf", fake_pdf)
    with app.test_request_context():
        version = services.submit_application(application, actor=user)
    assert version.data["plan_activity"] == {
        "id": plan.activities[0].id,
        "number": "1.1.",
        "title": "Ārpusskolas aktivitātes PMP riska jauniešiem",
        "level": 1,
    }
    assert version.data["plan_activity_id"] == plan.activities[0].id
    assert "1.1. Ārpusskolas aktivitātes PMP riska jauniešiem" in rendered[0]
    # The frozen words stay when the plan is edited later.
    plan.activities[0].title = "Pārdēvēta"
    db.session.flush()
    assert services.frozen_values(version.data)["plan_activity"]["title"].startswith("Ārpusskolas")
