"""The "Close the round" form on the round page: preview, confirmation, errors by the form, permissions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.workflow import ApplicationStatus as S
from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.programmes import services
from portal.programmes.models import Quota, Round
from tests.factories import applicant, coordinator, municipality, national_admin
from tests.helpers import Page, csrf_token
from tests.programmes.test_close_round import AIZKRAUKLE, RIGA, ROPAZI, decided_call, make_round, quota_of


@pytest.fixture(autouse=True)
def _english(app):
    with force_locale("en"):
        yield


@pytest.fixture()
def admin(db):
    return national_admin()


@pytest.fixture()
def programme(db):
    return services.ensure_pumpurs_programme()


def post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def _state(db) -> tuple:
    db.session.expire_all()
    return (
        sorted(tuple(r) for r in db.session.execute(sa.select(Round.id, Round.status, Round.closed_at))),
        sorted(
            tuple(r)
            for r in db.session.execute(
                sa.select(Quota.id, Quota.round_id, Quota.quota, Quota.carried_in, Quota.redistributed_in)
            )
        ),
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "round.closed")
        ),
    )


@pytest.fixture()
def rounds(programme, admin):
    first = make_round(programme, admin)
    second = make_round(programme, admin, number=2, compute=False)
    decided_call(first, RIGA, S.FUNDED, S.FUNDED)
    return first, second


def test_admin_sees_the_preview_and_closes_the_round(client, login_as, db, admin, rounds):
    first, second = rounds
    login_as(admin)
    page = Page(client.get(f"/programmes/rounds/{first.id}").get_data(as_text=True))
    section = page.by_id("close")
    assert section is not None
    html = client.get(f"/programmes/rounds/{first.id}").get_data(as_text=True)
    assert "Carried over to round 2" in html and f"/programmes/rounds/{first.id}/close" in html
    assert (
        db.session.scalar(sa.select(Round.status).where(Round.id == first.id)) == "open"
    )  # GET wrote nothing

    # Without the tick: the error is by the box, nothing changes.
    before = _state(db)
    response = post(client, f"/programmes/rounds/{first.id}/close")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = Page(html).by_id("confirm-error")
    assert error is not None and "Tick the box" in error.text
    assert 'id="error-summary"' in html
    assert _state(db) == before

    response = post(client, f"/programmes/rounds/{first.id}/close", {"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert first.status == "closed" and first.closed_at is not None
    assert [quota_of(second, c).carried_in for c in (AIZKRAUKLE, ROPAZI, RIGA)] == [1, 2, 5]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "8 unused projects are carried over to round 2" in page
    assert f"/programmes/rounds/{first.id}/close" not in page  # no form on a closed round

    # The next round shows the carried-over column; the coordinator sees it read-only.
    assert "Carried over" in client.get(f"/programmes/rounds/{second.id}").get_data(as_text=True)


def test_errors_of_the_service_are_shown_by_the_form(client, login_as, db, admin, rounds):
    first, _second = rounds
    decided_call(first, ROPAZI, call_status=CallStatus.EVALUATION)
    login_as(admin)
    html = client.get(f"/programmes/rounds/{first.id}").get_data(as_text=True)
    assert "has no funding decision yet" in html
    assert f"/programmes/rounds/{first.id}/close" not in html  # nothing to press while calls are pending
    before = _state(db)
    response = post(client, f"/programmes/rounds/{first.id}/close", {"confirm": "y"})
    assert response.status_code == 200
    summary = Page(response.get_data(as_text=True)).by_id("error-summary")
    assert summary is not None and "has no funding decision yet" in summary.text
    assert _state(db) == before


def test_closing_again_is_refused_with_a_message(client, login_as, db, admin, rounds):
    first, _second = rounds
    login_as(admin)
    assert post(client, f"/programmes/rounds/{first.id}/close", {"confirm": "y"}).status_code == 302
    before = _state(db)
    response = post(client, f"/programmes/rounds/{first.id}/close", {"confirm": "y"})
    assert response.status_code == 200 and "already closed" in response.get_data(as_text=True)
    assert _state(db) == before


def test_redistribution_preview_and_columns(client, login_as, db, admin, programme):
    rnd = make_round(programme, admin, policy="redistribute")
    decided_call(rnd, AIZKRAUKLE, S.FUNDED, S.RESERVE, S.RESERVE)
    login_as(admin)
    html = client.get(f"/programmes/rounds/{rnd.id}").get_data(as_text=True)
    assert "Redistributed to it" in html and ">Redistributed<" not in html
    assert post(client, f"/programmes/rounds/{rnd.id}/close", {"confirm": "y"}).status_code == 302
    html = client.get(f"/programmes/rounds/{rnd.id}").get_data(as_text=True)
    assert ">Redistributed<" in html


@pytest.mark.parametrize("role", ["coordinator", "applicant"])
def test_others_get_404_and_nothing_changes(client, login_as, db, rounds, role):
    first, _second = rounds
    user = coordinator(municipality(RIGA)) if role == "coordinator" else applicant()
    login_as(user)
    before = _state(db)
    response = post(client, f"/programmes/rounds/{first.id}/close", {"confirm": "y"})
    assert response.status_code == 404
    assert _state(db) == before


def test_coordinator_sees_carried_and_redistributed_read_only(client, login_as, db, admin, programme):
    rnd = make_round(programme, admin, policy="redistribute")
    decided_call(rnd, AIZKRAUKLE, S.FUNDED, S.RESERVE, S.RESERVE)
    services.close_round(rnd, actor=admin)
    login_as(coordinator(municipality(AIZKRAUKLE)))
    html = client.get("/programmes/my-quota").get_data(as_text=True)
    assert ">Redistributed<" in html and "Carried over" not in html
    quota = quota_of(rnd, AIZKRAUKLE)
    detail = client.get(f"/programmes/quotas/{quota.id}").get_data(as_text=True)
    assert "Redistributed at round close" in detail and "/close" not in detail


def test_round_page_markup_with_the_close_form_and_its_error(client, login_as, db, admin, rounds, app):
    from tests.test_accessibility_markup import _statement_url, markup_problems

    first, _second = rounds
    login_as(admin)
    statement = _statement_url(app)
    html = client.get(f"/programmes/rounds/{first.id}").get_data(as_text=True)
    assert markup_problems(html, lang="en", statement_url=statement) == []
    html = post(client, f"/programmes/rounds/{first.id}/close").get_data(as_text=True)
    assert markup_problems(html, lang="en", statement_url=statement) == []
    field = Page(html).by_id("confirm")
    assert field.get("aria-invalid") == "true" and "confirm-error" in field.get("aria-describedby")
