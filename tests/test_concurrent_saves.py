"""QUALITY H2 under real concurrency: 50 autosaves from 50 browsers (each its own client, its own login
session and its own database transaction) carrying the same lock version reach the server at once; on
PostgreSQL exactly one is saved (200) and the other 49 are told 409, whatever their timing (the version
check in Python or the database's version counter: the UPDATE that finds the version moved matches no
row). The stored value is the winner's. The same for the evaluator's score sheet and the final report.

The data must be committed for the threads' own transactions to see it, so these tests do not use the
rolled-back `db` fixture: they remove every row they added afterwards (as tests/payments/test_concurrency.py
does)."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading

import pytest
import sqlalchemy as sa

from portal.accounts.models import UserSession
from portal.accounts.sessions import SESSION_KEY
from portal.applications.models import Application
from portal.evaluation import queries
from portal.evaluation.models import Score, ScoreSheet
from portal.evaluation.services import scoring
from portal.extensions import db as _db
from portal.reports.models import FinalReport
from portal.reports.services import form as reports
from tests import factories
from tests.helpers import browser_client, csrf_token, removing_added_rows, run_in_threads

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="concurrent transactions need PostgreSQL (SQLite serialises writers by locking the file)",
)

SAVERS = 50
JSON = {"Accept": "application/json"}


@pytest.fixture()
def committed(app):
    """Run `build()` in an app context and commit; afterwards delete every row the test added."""

    def build(make):
        with app.app_context():
            ids = make()
            _db.session.commit()
            return ids

    with removing_added_rows(app):
        yield build


def _logged_in_client(app, user_id: int):
    """A browser of its own with a login session of its own: the server-side session row a login makes
    (portal.accounts.sessions.start_session) and the cookie that carries its token. Made directly: 50
    argon2 password checks would cost seconds and prove nothing here (logging in has its own tests)."""
    token = secrets.token_urlsafe(32)
    _db.session.add(
        UserSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id, ip="127.0.0.1")
    )
    _db.session.commit()
    client = browser_client(app)
    with client.session_transaction() as session:
        session[SESSION_KEY] = token
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session.permanent = True
    return client


def _json_token(url: str):
    """The CSRF token as the autosave script gets it: GET <autosave url> (JSON)."""

    def token(client) -> str:
        response = client.get(url, headers=JSON)
        assert response.status_code == 200, response.status_code
        return response.get_json()["csrf_token"]

    return token


def _free_connections() -> int:
    """How many more connections the server accepts (minus a few for the superuser and the app)."""
    limit = int(_db.session.scalar(sa.text("SHOW max_connections")))
    reserved = int(_db.session.scalar(sa.text("SHOW superuser_reserved_connections")))
    in_use = _db.session.scalar(sa.text("SELECT count(*) FROM pg_stat_activity"))
    return limit - reserved - in_use - 3


def _race(app, user_id: int, token_of, post) -> tuple[list[tuple[int, int, dict]], list[BaseException]]:
    """SAVERS threads: each logs in, opens its page (`token_of(client)` → its CSRF token), waits at the
    barrier, then calls `post(client, token, index)`. Returns [(index, status, json)] and the unexpected
    errors."""
    barrier = threading.Barrier(SAVERS, timeout=120)
    results: list[tuple[int, int, dict]] = []
    errors: list[BaseException] = []

    def run(index: int):
        try:
            with app.app_context():  # this thread's own session and transaction per request
                client = _logged_in_client(app, user_id)
                token = token_of(client)
                _db.session.remove()
                barrier.wait()
                response = post(client, token, index)
                results.append((index, response.status_code, response.get_json(silent=True) or {}))
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
            barrier.abort()

    # One connection per thread as far as the server allows (the throwaway cluster of scripts/with-postgres
    # takes 100 clients in all); a thread without a connection waits for one, and then finds it has lost.
    run_in_threads(run, SAVERS, pool_size=min(SAVERS, _free_connections()), timeout=180, pool_timeout=120)
    return results, errors


def _one_winner(results, errors) -> int:
    """Exactly one 200, every other a 409 that says it is a conflict; return the winner's index."""
    assert not errors, errors
    codes = sorted(code for _i, code, _b in results)
    assert len(results) == SAVERS, results
    assert codes == [200] + [409] * (SAVERS - 1), codes
    assert all(body.get("conflict") is not None for _i, code, body in results if code == 409), results
    return next(index for index, code, _b in results if code == 200)


def test_fifty_simultaneous_application_autosaves_save_once(app, committed):
    def make():
        application, user = factories.draft_application()
        return {"id": application.id, "user_id": user.id, "version": application.lock_version}

    ids = committed(make)
    url = f"/applications/{ids['id']}/autosave"

    def post(client, token, index):
        payload = {
            "lock_version": ids["version"],
            "step": "project",
            "values": {"title": f"Saglabātājs {index}"},
        }
        return client.post(url, json=payload, headers={**JSON, "X-CSRFToken": token})

    results, errors = _race(app, ids["user_id"], _json_token(url), post)
    winner = _one_winner(results, errors)
    with app.app_context():
        application = _db.session.get(Application, ids["id"])
        assert application.title == f"Saglabātājs {winner}"
        assert application.lock_version == ids["version"] + 1
    losers = [body for _i, code, body in results if code == 409]
    assert {body["lock_version"] for body in losers if "lock_version" in body} <= {ids["version"] + 1}


def test_fifty_simultaneous_score_autosaves_save_once(app, committed):
    def make():
        ev = factories.evaluation_call(applications=1, voting=1)
        application, member = ev["applications"][0], ev["committee"]["chair"]
        if queries.conflict(member.id, application.id) is None:
            factories.declare(member, application)
        sheet = scoring.open_sheet(application, actor=member.user)
        criterion = scoring.quality_criteria(application.call)[0]
        return {
            "id": application.id,
            "user_id": member.user_id,
            "sheet_id": sheet.id,
            "criterion": criterion.id,
            "version": sheet.lock_version,
        }

    ids = committed(make)
    url = f"/evaluation/applications/{ids['id']}/score/autosave"
    page = f"/evaluation/applications/{ids['id']}/score"

    def post(client, token, index):
        scores = {str(ids["criterion"]): {"value": index % 4, "comment": f"Vērtētājs {index}"}}
        return client.post(
            url,
            json={"lock_version": ids["version"], "scores": scores},
            headers={**JSON, "X-CSRFToken": token},
        )

    results, errors = _race(app, ids["user_id"], lambda client: csrf_token(client, page), post)
    winner = _one_winner(results, errors)
    with app.app_context():
        sheet = _db.session.get(ScoreSheet, ids["sheet_id"])
        assert sheet.lock_version == ids["version"] + 1
        score = _db.session.scalar(
            sa.select(Score).where(Score.sheet_id == sheet.id, Score.criterion_id == ids["criterion"])
        )
        assert (score.value, score.comment) == (winner % 4, f"Vērtētājs {winner}")


def test_fifty_simultaneous_report_autosaves_save_once(app, committed):
    def make():
        contract, ev = factories.project_in_progress()
        representative = ev["applicants"][0]
        report = reports.start_report(contract.application, actor=representative)
        _db.session.flush()
        return {"id": report.id, "user_id": representative.id, "version": report.lock_version}

    ids = committed(make)
    url = f"/reports/{ids['id']}/autosave"

    def post(client, token, index):
        values = {"lessons": f"Mācība {index}"}
        return client.post(
            url,
            json={"lock_version": ids["version"], "values": values},
            headers={**JSON, "X-CSRFToken": token},
        )

    results, errors = _race(app, ids["user_id"], _json_token(url), post)
    winner = _one_winner(results, errors)
    with app.app_context():
        report = _db.session.get(FinalReport, ids["id"])
        assert report.lock_version == ids["version"] + 1
        assert report.data["lessons"] == f"Mācība {winner}"
