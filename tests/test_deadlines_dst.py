"""QUALITY H4 for the other deadline an applicant meets: the answer to a clarification request (issue 5).

tests/applications/test_views.py proves the call's deadline at the second (submission at 23:59:59 Riga
accepted, at 00:00:00 refused, on the DST days too, client-sent times ignored). The clarification's deadline
is also a Riga day's last second (`working_day_deadline`), and the server's clock alone decides whether the
applicant may still edit (the autosave) and answer: the same edges, the same days, through the pages.
Runs on both engines (the deadline is compared as a UTC instant in SQL and in Python)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.applications.workflow import ApplicationStatus
from portal.core.timeutil import riga_instant
from portal.evaluation.models import Clarification
from portal.evaluation.services import checks
from portal.extensions import db as _db
from tests.factories import failed_check
from tests.helpers import browser_client, csrf_token, log_in, savepoint_db, scene_connection

JSON = {"Accept": "application/json"}


def _request_clarification() -> dict:
    """A submitted application whose completeness check failed and whose clarification is requested."""
    checked = failed_check()
    application = checked["application"]
    request = checks.request_clarification(
        application, "Pievienojiet pielikumu.", 1, actor=checked["coordinator"]
    )
    _db.session.flush()
    return {"application": application.id, "user": checked["applicant"].id, "request": request.id}


@pytest.fixture(scope="module")
def built(app):
    """The clarification requested once for the module, in an outer transaction rolled back after its last
    test (every test of the module uses it, so no other test waits on this connection's rows)."""
    with scene_connection(app, _request_clarification) as scene:
        yield scene


@pytest.fixture()
def db(built):
    """The built clarification, in a savepoint rolled back after the test (overrides conftest's `db`):
    an answer or autosave of one test is gone before the next."""
    connection, _ids = built
    with savepoint_db(connection) as database:
        yield database


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 3, 31), date(2026, 10, 25)])
@pytest.mark.parametrize("last_second", [True, False], ids=["23:59:59", "00:00:00"])
def test_the_clarification_deadline_at_the_second(app, built, db, day, last_second):
    from portal.accounts.models import User
    from portal.applications.models import Application

    ids = built[1]
    application = db.session.get(Application, ids["application"])
    user = db.session.get(User, ids["user"])
    request = db.session.get(Clarification, ids["request"])
    assert application.status == ApplicationStatus.CLARIFICATION_REQUESTED and request.answered_at is None
    request.due_at = riga_instant(day)  # 23:59:59 Riga on the day
    _db.session.flush()
    moment = request.due_at if last_second else riga_instant(day + timedelta(days=1), time(0, 0, 0))
    assert moment - request.due_at == (timedelta(0) if last_second else timedelta(seconds=1))

    with time_machine.travel(moment, tick=False):
        client = browser_client(app)
        log_in(client, user)
        url = f"/applications/{application.id}/clarification/answer"
        token = csrf_token(client, f"/applications/{application.id}")
        autosave = client.post(
            f"/applications/{application.id}/autosave",
            json={
                "lock_version": application.lock_version,
                "step": "project",
                "values": {"places": "Koknese"},
            },
            headers={**JSON, "X-CSRFToken": token},
        )
        # A client-sent time is never read.
        response = client.post(
            url,
            data={
                "csrf_token": token,
                "answer": "Pielikums pievienots.",
                "answered_at": "2026-01-01T00:00:00",
                "now": "2026-01-01T00:00:00",
            },
        )
    _db.session.expire_all()
    stored = _db.session.scalar(
        sa.select(Clarification).where(Clarification.application_id == application.id)
    )
    if last_second:
        assert autosave.status_code == 200, autosave.get_json()
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert application.status == ApplicationStatus.SUBMITTED
        assert stored.answered_at == moment
        assert application.places == "Koknese"
    else:
        assert autosave.status_code == 409
        assert response.status_code == 409
        assert application.status == ApplicationStatus.CLARIFICATION_REQUESTED
        assert stored.answered_at is None and stored.answer is None
        assert application.places != "Koknese"
