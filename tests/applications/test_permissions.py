"""Who sees and changes an application: members; staff only after the call closes (DESIGN §6–7)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.applications import permissions
from portal.applications.workflow import ApplicationStatus
from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.core.timeutil import utcnow
from portal.extensions import db as _db
from tests.applications.support import STEP_DATA, lock_version, reload
from tests.factories import (
    OrganisationFactory,
    applicant,
    coordinator,
    draft_application,
    municipality,
    national_admin,
    open_call,
)
from tests.helpers import count_queries, csrf_token

JSON = {"Accept": "application/json"}


def _submitted(call=None, organisation=None, title="Projekts"):
    """A submitted application, made directly (no PDF): enough for the pages that list and show it."""
    application, user = draft_application(call, organisation, complete=True)
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = utcnow()
    application.title = title
    _db.session.flush()
    return application, user


def _close(call):
    call.status = CallStatus.CLOSED
    call.closed_at = utcnow()
    _db.session.flush()


def _viewed_events(application) -> int:
    return _db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "application.viewed", AuditEvent.object_id == application.id)
    )


def _snapshot(application) -> tuple:
    saved = reload(application)
    return (saved.status, saved.title, saved.lock_version, saved.withdrawn_at, len(saved.versions))


# --- another organisation's member -------------------------------------------------------------------


def test_another_organisations_member_gets_404_everywhere(client, db, login_as):
    application, _owner = draft_application(complete=True)
    stranger = applicant(OrganisationFactory())
    login_as(stranger)
    before = _snapshot(application)
    token = csrf_token(client, "/applications/")
    base = f"/applications/{application.id}"
    gets = [
        base,
        f"{base}/edit/project",
        f"{base}/edit/review",
        f"{base}/autosave",
        f"{base}/submitted",
        f"{base}/versions/1.pdf",
    ]
    for path in gets:
        response = client.get(path)
        assert response.status_code == 404, path
        assert application.title not in response.get_data(as_text=True)
    posts = {
        f"{base}/edit/project": {**STEP_DATA["project"], "lock_version": str(lock_version(application.id))},
        f"{base}/submit": {**STEP_DATA["review"], "lock_version": str(lock_version(application.id))},
        f"{base}/withdraw": {"reason": "x"},
    }
    for path, data in posts.items():
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, path
    response = client.post(
        f"{base}/autosave",
        json={"lock_version": lock_version(application.id), "step": "project", "values": {"title": "x"}},
        headers={**JSON, "X-CSRFToken": token},
    )
    assert response.status_code == 404 and response.is_json
    assert _snapshot(application) == before


def test_a_member_of_the_applying_organisation_may_edit(client, db, login_as):
    application, _owner = draft_application()
    colleague = applicant(application.organisation)
    login_as(colleague)
    assert client.get(f"/applications/{application.id}/edit/project").status_code == 200


# --- staff: sealed until the call closes --------------------------------------------------------------


@pytest.fixture()
def submitted(db):
    return _submitted(open_call())


def test_staff_before_the_call_closes_get_404_and_no_audit_row(client, login_as, submitted):
    application, _ = submitted
    login_as(coordinator(municipality()))
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert _viewed_events(application) == 0
    # The list shows the count only.
    response = client.get(f"/applications/call/{application.call_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert application.title not in page and application.organisation.name not in page
    assert "1 application submitted" in page


def test_the_coordinator_after_closing_sees_it_and_one_audit_row_is_written(client, login_as, submitted):
    application, _ = submitted
    _close(application.call)
    user = coordinator(municipality())
    login_as(user)
    response = client.get(f"/applications/{application.id}")
    assert response.status_code == 200
    assert application.title in response.get_data(as_text=True)
    assert _viewed_events(application) == 1
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "application.viewed"))
    assert event.actor_id == user.id and event.municipality_id == application.call.municipality_id
    # Staff cannot change it.
    token = csrf_token(client, "/applications/")
    response = client.post(f"/applications/{application.id}/withdraw", data={"csrf_token": token})
    assert response.status_code == 404
    assert reload(application).status == ApplicationStatus.SUBMITTED


def test_a_national_admin_after_closing_sees_it(client, login_as, submitted):
    application, _ = submitted
    _close(application.call)
    login_as(national_admin())
    assert client.get(f"/applications/{application.id}").status_code == 200
    assert _viewed_events(application) == 1


def test_a_coordinator_of_another_municipality_gets_404(client, login_as, submitted):
    application, _ = submitted
    _close(application.call)
    login_as(coordinator(municipality("0044000")))
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert client.get(f"/applications/call/{application.call_id}").status_code == 404
    assert _viewed_events(application) == 0


def test_drafts_stay_invisible_to_staff_after_closing(client, db, login_as):
    call = open_call()
    application, _ = draft_application(call)
    _close(call)
    login_as(coordinator(municipality()))
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert application.title is None or application.title not in client.get(
        f"/applications/call/{call.id}"
    ).get_data(as_text=True)


def test_applicants_cannot_list_a_calls_applications(client, db, login_as):
    application, owner = _submitted(open_call())
    _close(application.call)
    login_as(owner)
    assert client.get(f"/applications/call/{application.call_id}").status_code == 404


def test_the_list_after_closing_costs_the_same_queries_for_2_and_20(app, client, db, login_as):
    from tests.factories import round_with_quota

    user = coordinator(municipality())
    login_as(user)
    counts = []
    for size in (2, 20):
        call = open_call(round=round_with_quota(municipality()))
        for n in range(size):
            _submitted(call, title=f"Projekts {n}")
        _close(call)
        client.get(f"/applications/call/{call.id}")  # warm up (lazy loads of the user, the session)
        _db.session.expire_all()
        with count_queries(_db.engine) as statements:
            response = client.get(f"/applications/call/{call.id}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("Projekts ") == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


# --- the predicates --------------------------------------------------------------------------------------


def test_predicates(db):
    application, owner = _submitted(open_call())
    staff = coordinator(municipality())
    assert permissions.is_member(owner, application)
    assert not permissions.can_edit_application(owner, application)
    assert permissions.can_withdraw_application(owner, application)
    assert not permissions.can_review_application(staff, application)
    assert not permissions.can_withdraw_application(staff, application)
    _close(application.call)
    assert permissions.can_review_application(staff, application)
    assert permissions.can_view_application(staff, application)
    assert not permissions.can_view_application(applicant(OrganisationFactory()), application)
    assert permissions.can_list_applications(staff, application.call)
    assert not permissions.can_list_applications(owner, application.call)
