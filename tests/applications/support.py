"""Helpers for the application form tests: the form-encoded values of each step, posting a step."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.applications.models import Application
from portal.extensions import db

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_LOCK = re.compile(r'name="lock_version"[^>]*value="([^"]*)"')

# What a person types into each step to fill the application completely (tests.factories.complete_values).
STEP_DATA = {
    "applicant": {"partners": "Aizkraukles novada vidusskola", "group_members": ""},
    "project": {
        "title": "Skolas sols: jaunieši jauniešiem",
        "start_date": "2026-03-01",
        "end_date": "30.11.2026",
        "places": "Aizkraukle, Koknese",
    },
    "plan": {
        "problem": "Kavējumi aug.",
        "plan_link": "Plāna 2.3. aktivitāte",
        "goal": "Mazināt kavējumus",
        "objectives": "1) …; 2) …",
    },
    "target-group": {
        "participants_total": "40",
        "participants_risk": "4",
        "participants_grades_5_9": "25",
        "participants_grades_10_12": "10",
        "participants_vocational": "5",
        "risk_learning": "3",
        "risk_social": "",
        "risk_economic": "",
        "risk_family": "2",
        "schools": "Aizkraukles vidusskola",
    },
    "activities": {
        "youth_involvement": "Jaunieši paši plāno",
        "activities-0-activity": "Darbnīcas",
        "activities-0-method": "Neformālā izglītība",
        "activities-0-months": "3–11",
        "activities-0-participants": "40",
        "activities-0-responsible": "Jauniešu grupa",
    },
    "results": {
        "results": "30 dalībnieki pabeidz",
        "indicators": "Kavējumu skaits",
        "publicity": "Sociālie tīkli",
        "risks": "Slimības — rezerves datumi",
    },
    "budget": {
        "budget_trainers": "1 500,00",
        "budget_catering": "900",
        "budget_transport": "700.00",
        "budget_accommodation": "",
        "budget_materials": "600,00",
        "budget_venue": "300",
        "budget_equipment": "200",
        "budget_publicity": "150",
        "budget_coordination": "250,00 €",
    },
    "review": {
        "declaration_truth": "y",
        "declaration_no_double_funding": "y",
        "declaration_participant_lists": "y",
    },
}

STEP_SLUGS = tuple(STEP_DATA)


def empty_data(step: str) -> dict:
    """The step posted with every field left empty (and every box unticked)."""
    return {name: "" for name in STEP_DATA[step] if not name.startswith("declaration_")}


def page_tokens(client, path: str) -> tuple[str, str]:
    """GET a page and return its (csrf token, lock version)."""
    html = client.get(path).get_data(as_text=True)
    csrf = _CSRF.search(html)
    lock = _LOCK.search(html)
    assert csrf and lock, f"no form tokens on {path}"
    return csrf.group(1), lock.group(1)


def lock_version(application_id: int) -> int:
    return db.session.scalar(sa.select(Application.lock_version).where(Application.id == application_id))


def post_step(
    client,
    application_id: int,
    step: str,
    data: dict,
    *,
    action: str = "save",
    url: str | None = None,
    lock: str | int | None = None,
):
    """Open the step like a browser, then post it with `data`."""
    path = f"/applications/{application_id}/edit/{step}"
    csrf, page_lock = page_tokens(client, path)
    form = {"csrf_token": csrf, "lock_version": page_lock if lock is None else lock, **data}
    if action:
        form["action"] = action
    return client.post(url or path, data=form)


def fill_everything(client, application_id: int) -> None:
    """Type the complete application into every step."""
    for step in STEP_SLUGS:
        response = post_step(client, application_id, step, STEP_DATA[step])
        assert response.status_code == 302, (step, response.status_code)


def reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


def csrf_for(client, path: str) -> str:
    return page_tokens(client, path)[0]
