"""Autosave (QUALITY H1, H2, D6): JSON in, JSON out; partial values; conflicts; a lost session or CSRF
token answered in JSON so the script can recover without losing input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from portal.applications.workflow import ApplicationStatus
from portal.core.timeutil import utcnow
from tests.applications.support import STEP_DATA, lock_version, page_tokens, reload
from tests.factories import draft_application
from tests.helpers import browser_client, count_queries, log_in

JSON = {"Accept": "application/json"}


@pytest.fixture()
def editing(db, client, login_as):
    """A logged-in member with the draft's project step open: (application, csrf token)."""
    application, user = draft_application()
    login_as(user)
    csrf, _lock = page_tokens(client, f"/applications/{application.id}/edit/project")
    return application, csrf


def autosave(client, application, csrf, values, *, step="project", version=None, headers=None):
    payload = {
        "lock_version": lock_version(application.id) if version is None else version,
        "step": step,
        "values": values,
    }
    return client.post(
        f"/applications/{application.id}/autosave",
        json=payload,
        headers={**JSON, "X-CSRFToken": csrf, **(headers or {})},
    )


def test_autosave_stores_the_values_and_returns_the_new_version(client, editing):
    application, csrf = editing
    before = lock_version(application.id)
    response = autosave(client, application, csrf, {"title": "Melnraksts", "start_date": "01.03.2026"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True
    assert body["lock_version"] == before + 1 == lock_version(application.id)
    assert body["saved_at"] and body["message"]
    saved = reload(application)
    assert saved.title == "Melnraksts" and saved.start_date.isoformat() == "2026-03-01"


def test_only_the_fields_sent_are_changed(client, editing):
    application, csrf = editing
    autosave(client, application, csrf, STEP_DATA["project"])
    response = autosave(client, application, csrf, {"places": "Koknese"})
    assert response.status_code == 200
    saved = reload(application)
    assert saved.places == "Koknese" and saved.title == STEP_DATA["project"]["title"]


def test_risk_categories_sent_one_by_one_are_merged(client, editing):
    application, csrf = editing
    autosave(client, application, csrf, {"risk_learning": "3"}, step="target-group")
    autosave(client, application, csrf, {"risk_family": "2"}, step="target-group")
    assert reload(application).risk_by_category == {"learning": 3, "family": 2}


def test_bad_values_are_reported_and_the_rest_is_stored(client, editing):
    application, csrf = editing
    values = {"budget_trainers": "-5", "budget_catering": "1 000,50", "budget_venue": "abc"}
    response = autosave(client, application, csrf, values, step="budget")
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["errors"]) == {"budget_trainers", "budget_venue"}
    assert body["lock_version"] == lock_version(application.id)  # what parsed was stored
    lines = {line.category: line.amount for line in reload(application).budget_lines}
    assert lines["catering"] == Decimal("1000.50") and lines["trainers"] == Decimal("0.00")


def test_activity_rows_and_checkboxes_from_json(client, editing):
    application, csrf = editing
    values = {
        "activities-0-activity": "Darbnīca",
        "activities-0-participants": 12,
        "activities-3-activity": "Nometne",
        "activities-3-participants": "",
    }
    assert autosave(client, application, csrf, values, step="activities").status_code == 200
    assert [(a.activity, a.participants) for a in reload(application).activities] == [
        ("Darbnīca", 12),
        ("Nometne", None),
    ]
    assert autosave(client, application, csrf, {"declaration_truth": True}, step="review").status_code == 200
    assert reload(application).declaration_truth is True
    assert autosave(client, application, csrf, {"declaration_truth": ""}, step="review").status_code == 200
    assert reload(application).declaration_truth is False


def test_a_stale_version_is_a_conflict_and_nothing_is_overwritten(client, editing):
    application, csrf = editing
    old = lock_version(application.id)
    assert autosave(client, application, csrf, {"title": "Pirmais"}, version=old).status_code == 200
    response = autosave(client, application, csrf, {"title": "Otrais"}, version=old)
    assert response.status_code == 409
    body = response.get_json()
    assert body["conflict"] == {"title": "Pirmais"}
    assert body["lock_version"] == old + 1
    assert body["fields"][0]["value"] == "Pirmais"
    assert reload(application).title == "Pirmais"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"values": {}},
        {"lock_version": "1", "step": "project", "values": {}},
        {"lock_version": True, "step": "project", "values": {}},
        {"lock_version": 1, "step": "x", "values": {}},
        {"lock_version": 1, "step": "project", "values": []},
    ],
)
def test_a_malformed_request_is_422(client, editing, payload):
    application, csrf = editing
    before = lock_version(application.id)
    response = client.post(
        f"/applications/{application.id}/autosave", json=payload, headers={**JSON, "X-CSRFToken": csrf}
    )
    assert response.status_code == 422
    assert "errors" in response.get_json()
    assert lock_version(application.id) == before


def test_without_the_csrf_token_the_answer_is_json_400(client, editing):
    application, _csrf = editing
    response = autosave(client, application, "", {"title": "x"})
    assert response.status_code == 400
    assert response.is_json
    assert reload(application).title is None


def test_an_expired_session_gets_json_401_not_a_redirect(app, db):
    application, user = draft_application()
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        client = browser_client(app)
        log_in(client, user)
        csrf, _ = page_tokens(client, f"/applications/{application.id}/edit/project")
        traveller.shift(timedelta(minutes=31))
        response = autosave(client, application, csrf, {"title": "x"})
        assert response.status_code == 401
        assert response.is_json
        assert client.get(f"/applications/{application.id}/autosave", headers=JSON).status_code == 401
    assert reload(application).title is None


def test_after_logging_in_again_a_fresh_token_lets_the_kept_input_be_saved(app, db):
    application, user = draft_application()
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        page = browser_client(app)
        log_in(page, user)
        csrf, _ = page_tokens(page, f"/applications/{application.id}/edit/project")
        traveller.shift(timedelta(minutes=31))
        assert autosave(page, application, csrf, {"title": "Ievadītais"}).status_code == 401
        # The person logs in again in another tab of the same browser (same cookies).
        traveller.shift(timedelta(seconds=31))
        log_in(page, user)
        stale = autosave(page, application, csrf, {"title": "Ievadītais"})
        assert stale.status_code == 400 and stale.is_json  # the session (and its CSRF secret) is new
        fresh = page.get(f"/applications/{application.id}/autosave", headers=JSON).get_json()
        assert fresh["lock_version"] == lock_version(application.id)
        response = autosave(page, application, fresh["csrf_token"], {"title": "Ievadītais"})
        assert response.status_code == 200
    assert reload(application).title == "Ievadītais"


def test_ninety_minutes_of_autosaves_then_the_form_still_submits(app, db, outbox):
    """QUALITY D6: the form's CSRF token outlives a long session of autosaves."""
    application, user = draft_application(complete=True)
    application.call.closes_at = utcnow() + timedelta(days=3)
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        client = browser_client(app)
        log_in(client, user)
        csrf, _ = page_tokens(client, f"/applications/{application.id}/edit/review")
        for minute in range(0, 91, 5):
            traveller.shift(timedelta(minutes=5))
            response = autosave(
                client, application, csrf, {"risks": f"Riski pēc {minute} min"}, step="results"
            )
            assert response.status_code == 200, minute
        response = client.post(
            f"/applications/{application.id}/submit",
            data={
                "csrf_token": csrf,
                "lock_version": str(lock_version(application.id)),
                **STEP_DATA["review"],
            },
        )
    assert response.status_code == 302
    assert reload(application).status == ApplicationStatus.SUBMITTED


def test_the_status_endpoint_gives_a_token_and_the_version(client, editing):
    application, _csrf = editing
    body = client.get(f"/applications/{application.id}/autosave", headers=JSON).get_json()
    assert body["lock_version"] == lock_version(application.id)
    assert body["status"] == "draft" and body["csrf_token"]


def test_lowering_the_total_below_the_stored_at_risk_count_is_refused(client, editing):
    application, csrf = editing
    values = {"participants_total": "40", "participants_risk": "4"}
    assert autosave(client, application, csrf, values, step="target-group").status_code == 200
    response = autosave(client, application, csrf, {"participants_total": "3"}, step="target-group")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"participants_total"}
    saved = reload(application)
    assert (saved.participants_total, saved.participants_risk) == (40, 4)


def test_a_save_that_loses_the_race_in_the_database_is_a_conflict(client, editing, monkeypatch):
    """The version check passed in Python, but another save committed first: the UPDATE matches no row."""
    import sqlalchemy as sa
    from sqlalchemy.orm.attributes import set_committed_value

    from portal.applications.models import Application
    from portal.extensions import db as _db

    application, csrf = editing
    version = lock_version(application.id)
    _db.session.execute(
        sa.update(Application)
        .where(Application.id == application.id)
        .values(lock_version=version + 1, title="Cits")
        .execution_options(synchronize_session=False)
    )
    _db.session.commit()  # the other save has committed
    # ... while the request still holds the copy it loaded before (same identity map in tests).
    stale = _db.session.get(Application, application.id)
    set_committed_value(stale, "lock_version", version)
    set_committed_value(stale, "title", None)
    from portal.applications import views

    raced = []
    original = views._changed_since
    monkeypatch.setattr(views, "_changed_since", lambda *a: raced.append(1) or original(*a))
    response = autosave(client, application, csrf, {"title": "Mans"}, version=version)
    assert response.status_code == 409
    assert raced, "the database's version check (StaleDataError) caught it"
    assert response.get_json()["conflict"] == {"title": "Cits"}
    assert reload(application).title == "Cits"


def test_an_autosave_costs_few_sql_statements(client, editing, db):
    """The autosave runs every few seconds in every open form: it reads the session, the user with
    their roles and the draft once, writes once, and reloads nothing after the commit."""
    application, csrf = editing
    version = lock_version(application.id)
    db.session.expunge_all()  # as in production: the request starts with an empty session
    with count_queries(db.engine) as statements:
        response = autosave(client, application, csrf, {"title": "Skaitīts"}, version=version)
    assert response.status_code == 200 and response.get_json()["lock_version"] == version + 1
    # The session row with the user and their roles (one statement), the draft, its activities, its
    # budget lines, the UPDATE and the test's savepoint release: was 11 (roles loaded lazily, the draft
    # and the user reloaded after the commit).
    assert len(statements) <= 6, statements
    kinds = [statement.split(None, 1)[0].upper() for statement in statements]
    assert "SELECT" not in kinds[kinds.index("UPDATE") :], statements  # nothing reloaded after the write
