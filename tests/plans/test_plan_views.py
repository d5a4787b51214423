"""The prevention plan pages (issue 8): creating and editing in the browser, the import page, who may
see and change what, the funded projects under each activity in a constant number of statements, and
markup printed as text."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.applications.workflow import ApplicationStatus
from portal.extensions import db as _db
from portal.plans.models import PlanActivity, PreventionPlan
from tests.factories import (
    applicant,
    contract_in,
    coordinator,
    municipality,
    national_admin,
    prevention_plan,
)
from tests.helpers import Page, browser_client, count_queries, csrf_token, log_in


def test_coordinator_creates_a_plan_and_adds_an_activity(client, login_as, db):
    muni = municipality("0020000")
    old = prevention_plan(muni, start=2020, end=2023)
    login_as(coordinator(muni))
    token = csrf_token(client, "/plans/new")
    response = client.post(
        "/plans/new",
        data={
            "csrf_token": token,
            "title": "PMP plāns 2024.–2027.",
            "period_start": "2024",
            "period_end": "2027",
            "level_scheme": "primary",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(PreventionPlan).where(PreventionPlan.title == "PMP plāns 2024.–2027."))
    assert plan.is_active and plan.level_scheme == "primary"
    db.session.refresh(old)
    assert not old.is_active

    url = f"/plans/{plan.id}/activities/new"
    data = {
        "csrf_token": csrf_token(client, url),
        "level": "2",
        "goal_id": "0",
        "number": "2.1.",
        "title": "Mācības",
    }
    response = client.post(url, data=data | {"year_from": "2026", "year_to": "2025"})
    assert response.status_code == 200
    assert "The last year must not be before the first." in response.get_data(as_text=True)
    response = client.post(url, data=data | {"year_from": "2027", "year_to": "2027"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The activity was saved." in html and "Secondary prevention" in html
    activity = db.session.scalar(sa.select(PlanActivity).where(PlanActivity.plan_id == plan.id))
    assert (activity.level, activity.year_from, activity.year_to) == (2, 2027, 2027)


def test_a_stale_plan_form_is_refused_calmly(client, login_as, db):
    plan = prevention_plan(municipality("0020000"))
    login_as(coordinator(plan.municipality))
    token = csrf_token(client, f"/plans/{plan.id}/edit")
    data = {"csrf_token": token, "title": "Mans", "period_start": "2024", "period_end": "2027"}
    data |= {"level_scheme": "universal", "is_active": "y", "lock_version": str(plan.lock_version - 1)}
    response = client.post(f"/plans/{plan.id}/edit", data=data)
    assert response.status_code == 200
    assert "Someone else changed this plan meanwhile" in response.get_data(as_text=True)
    db.session.refresh(plan)
    assert plan.title != "Mans"


def test_others_read_the_plan_but_cannot_change_it(client, login_as, db):
    plan = prevention_plan(municipality("0020000"))
    goal, activity, indicator = plan.goals[0], plan.activities[0], plan.indicators[0]
    login_as(coordinator(municipality("0044000")))
    assert client.get(f"/plans/{plan.id}").status_code == 200
    token = csrf_token(client, "/plans/")
    for url in (
        f"/plans/{plan.id}/edit",
        f"/plans/{plan.id}/import",
        f"/plans/{plan.id}/goals/new",
        f"/plans/goals/{goal.id}/edit",
        f"/plans/activities/{activity.id}/edit",
        f"/plans/indicators/{indicator.id}/edit",
        f"/plans/new?municipality={plan.municipality_id}",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/plans/activities/{activity.id}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    assert _db.session.get(PlanActivity, activity.id) is not None

    other = browser_client(client.application)
    log_in(other, applicant())
    page = other.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "Ārpusskolas aktivitātes" in page and f"/plans/activities/{activity.id}/edit" not in page
    assert other.get(f"/plans/activities/{activity.id}/edit").status_code == 404
    assert other.get(f"/plans/{plan.id}/edit").status_code == 404


def test_the_plan_page_lists_funded_projects_under_their_activity_in_constant_statements(
    client, login_as, db
):
    contract, ev = contract_in("signed")
    plan = prevention_plan(ev["call"].municipality)
    first, second = plan.activities[0], plan.activities[1]
    application = contract.application
    application.plan_activity_id = first.id
    unfunded = ev["applications"][1]
    unfunded.plan_activity_id = first.id
    assert unfunded.status not in {ApplicationStatus.CONTRACT_SIGNED}
    db.session.flush()
    login_as(ev["coordinator"])
    db.session.expire_all()
    with count_queries(db.engine) as one:
        html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    page = Page(html)
    row = page.by_id(f"project-{application.id}")
    assert row is not None and page.by_id(f"project-{unfunded.id}") is None
    assert application.organisation.name in row.text
    article = page.by_id(f"activity-{first.id}")
    assert article is not None and "projects-" in html

    # More activities and projects: the same number of statements.
    second_ev_contract, second_ev = contract_in("signed")
    second_ev_contract.application.plan_activity_id = second.id
    db.session.flush()
    db.session.expire_all()
    with count_queries(db.engine) as two:
        html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert Page(html).by_id(f"project-{second_ev_contract.application_id}") is not None
    assert len(one) == len(two)
    assert len([s for s in two if "FROM applications" in s]) == 1

    # The coordinator cannot delete an activity that a project serves.
    url = f"/plans/activities/{first.id}/edit"
    response = client.post(
        f"/plans/activities/{first.id}/delete",
        data={"csrf_token": csrf_token(client, url)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "2 applications name this activity" in html  # funded or not
    assert db.session.get(PlanActivity, first.id) is not None


def test_the_import_page_lists_problems_and_imports_nothing_then_imports(client, login_as, db):
    plan = prevention_plan(municipality("0020000"))
    login_as(coordinator(plan.municipality))
    url = f"/plans/{plan.id}/import"
    template = client.get(f"/plans/{plan.id}/template")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(template.data))
    wb["Aktivitātes"]["K2"] = 2031
    bad = io.BytesIO()
    wb.save(bad)
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(bad.getvalue()), "plans.xlsx")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aktivitātes, row 2: year 2031 is outside the plan&#39;s period 2024–2027." in html
    assert "Nothing was imported." in html
    indicator = plan.indicators[0]
    edit_page = Page(client.get(f"/plans/indicators/{indicator.id}/edit").get_data(as_text=True))
    assert edit_page.by_id("target_2027").get("value") == "62%"
    assert client.get(f"/plans/goals/{plan.goals[0].id}/edit").status_code == 200

    wb["Aktivitātes"]["K2"] = 2026
    wb["Aktivitātes"]["D2"] = "Jauns nosaukums"
    good = io.BytesIO()
    wb.save(good)
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(good.getvalue()), "plans.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Imported 3 goals, 3 activities and 1 indicators." in response.get_data(as_text=True)
    db.session.expire_all()
    assert [a.title for a in plan.activities][0] == "Jauns nosaukums"


def test_the_national_admin_sees_every_municipality_and_its_plan_in_force(client, login_as, db):
    plan = prevention_plan(municipality("0044000"))
    login_as(national_admin())
    with count_queries(db.engine) as statements:
        page = Page(client.get("/plans/").get_data(as_text=True))
    ropazi = page.by_id(f"overview-{plan.municipality_id}")
    assert ropazi is not None and plan.title in ropazi.text
    aizkraukle = page.by_id(f"overview-{municipality('0020000').id}")
    assert "No plan in force" in aizkraukle.text
    assert len([s for s in statements if "prevention_plans" in s]) == 1


def test_markup_in_titles_is_printed_as_text(client, login_as, db):
    plan = prevention_plan(municipality("0020000"))
    plan.title = "<script>alert(1)</script>"
    plan.goals[0].title = "<b>mērķis</b>"
    plan.activities[0].title = '<img src="https://example.com/x">'
    plan.indicators[0].targets = {"2025": "<i>74%</i>"}
    db.session.flush()
    login_as(applicant())
    html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>mērķis</b>" not in html and '<img src="https://example.com' not in html
    assert "&lt;i&gt;74%&lt;/i&gt;" in html
