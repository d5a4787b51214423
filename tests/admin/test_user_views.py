"""The users pages: search, roles and scopes, grant/revoke, disable/enable, terminate sessions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.models import Membership, UserSession
from portal.core.audit import AuditEvent
from portal.core.enums import Role
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    applicant,
    coordinator,
    evaluator,
    municipality,
    national_admin,
)
from tests.helpers import browser_client, count_queries, csrf_token, log_in


@pytest.fixture()
def admin(db):
    return national_admin(email="admin@example.lv", locale="en")  # the assertions read English


@pytest.fixture()
def admin_client(client, login_as, admin):
    login_as(admin)
    return client


def _events(db, action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_user", [applicant, evaluator, coordinator])
def test_only_national_admins_manage_users(client, login_as, db, make_user):
    target = UserFactory()
    membership = evaluator().memberships[0]
    login_as(make_user())
    assert client.get("/admin/users").status_code == 404
    assert client.get(f"/admin/users/{target.id}").status_code == 404
    token = csrf_token(client, "/account/")
    for path, data in [
        (f"/admin/users/{target.id}/roles", {"grant-role": "national_admin"}),
        (f"/admin/users/{membership.user_id}/memberships/{membership.id}/revoke", {"revoke-reason": "x"}),
        (f"/admin/users/{target.id}/disable", {"status-reason": "x"}),
        (f"/admin/users/{target.id}/enable", {"status-reason": "x"}),
        (f"/admin/users/{target.id}/sessions/terminate", {}),
    ]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    assert not target.is_disabled
    assert target.roles() == set()


def test_login_required(client, db):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/999999").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/{id}/roles",
        "/admin/users/{id}/disable",
        "/admin/users/{id}/enable",
        "/admin/users/{id}/sessions/terminate",
        "/admin/users/{id}/memberships/{mid}/revoke",
    ],
)
def test_every_post_needs_the_csrf_token(admin_client, db, path):
    target = coordinator()
    url = path.format(id=target.id, mid=target.memberships[0].id)
    data = {
        "grant-role": "national_admin",
        "status-reason": "x",
        f"revoke-{target.memberships[0].id}-reason": "x",
    }
    assert admin_client.post(url, data=data).status_code == 400
    assert not target.is_disabled
    assert target.roles() == {Role.COORDINATOR}


# --- list --------------------------------------------------------------------------------------------


def test_list_shows_roles_scopes_and_state_and_searches(admin_client, db):
    org = OrganisationFactory(name="Biedrība Saulīte")
    coordinator(municipality("0044000"), email="koordinators@example.lv", full_name="Ilze Kalniņa")
    applicant(org, email="pieteicejs@example.lv")
    UserFactory(email="atslegts@example.lv", disabled=True)

    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert "koordinators@example.lv" in html and "Ropažu novads" in html
    assert "Biedrība Saulīte" in html
    assert "Disabled" in html

    html = admin_client.get("/admin/users?q=KALNIŅA").get_data(as_text=True)  # name, any case
    assert "koordinators@example.lv" in html
    assert "pieteicejs@example.lv" not in html
    html = admin_client.get("/admin/users?q=pieteicejs@").get_data(as_text=True)
    assert "pieteicejs@example.lv" in html and "koordinators@example.lv" not in html
    assert "1 user found" in html
    html = admin_client.get("/admin/users?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert "0 users found" in html


def test_list_query_count_does_not_grow_with_users(admin_client, db):
    def add(n):
        for _ in range(n):
            coordinator(with_totp=False)

    add(5)
    admin_client.get("/admin/users")
    with count_queries(db.engine) as few:
        admin_client.get("/admin/users")
    add(40)
    with count_queries(db.engine) as many:
        html = admin_client.get("/admin/users").get_data(as_text=True)
    assert html.count("Aizkraukles novads") >= 45
    assert len(many) == len(few), many


# --- grant and revoke -------------------------------------------------------------------------------


def test_grant_coordinator_role(admin_client, admin, db, outbox):
    target = UserFactory(locale="en")
    ropazi = municipality("0044000")
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    response = admin_client.post(
        f"/admin/users/{target.id}/roles",
        data={"csrf_token": token, "grant-role": "coordinator", "grant-municipality": str(ropazi.id)},
    )
    assert response.status_code == 302
    assert target.has_role(Role.COORDINATOR, municipality_id=ropazi.id)
    [event] = _events(db, "role_granted")
    assert (event.actor_id, event.object_id, event.municipality_id) == (admin.id, target.id, ropazi.id)
    assert event.after_data() == {"role": "coordinator", "municipality": "0044000"}
    assert [m.recipients for m in outbox] == [[target.email]]
    assert "Ropažu novads" in outbox[0].body


def test_grant_municipal_role_without_municipality_is_an_error_by_the_field(admin_client, db):
    target = UserFactory()
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    response = admin_client.post(
        f"/admin/users/{target.id}/roles",
        data={"csrf_token": token, "grant-role": "evaluator", "grant-municipality": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="grant-municipality-error"' in html
    assert '<option selected value="evaluator">' in html  # the choice is kept
    assert target.roles() == set()


def test_grant_an_existing_role_again_is_refused(admin_client, db):
    target = coordinator()
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    response = admin_client.post(
        f"/admin/users/{target.id}/roles",
        data={"csrf_token": token, "grant-role": "coordinator", "grant-municipality": str(municipality().id)},
    )
    assert response.status_code == 422
    assert "already has this role" in response.get_data(as_text=True)
    assert len(target.memberships) == 1


def test_grant_national_admin_ignores_a_municipality(admin_client, db):
    target = UserFactory()
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    admin_client.post(
        f"/admin/users/{target.id}/roles",
        data={
            "csrf_token": token,
            "grant-role": "national_admin",
            "grant-municipality": str(municipality().id),
        },
    )
    [m] = target.memberships
    assert (m.role, m.municipality_id) == (Role.NATIONAL_ADMIN, None)


def test_grant_refuses_a_role_outside_the_list(admin_client, db):
    target = UserFactory()
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    response = admin_client.post(
        f"/admin/users/{target.id}/roles", data={"csrf_token": token, "grant-role": "applicant"}
    )
    assert response.status_code == 422
    assert target.roles() == set()


def test_revoke_needs_a_reason_and_is_audited(admin_client, admin, db, outbox):
    target = evaluator(municipality("0044000"))
    membership = target.memberships[0]
    url = f"/admin/users/{target.id}/memberships/{membership.id}/revoke"
    token = csrf_token(admin_client, f"/admin/users/{target.id}")

    response = admin_client.post(url, data={"csrf_token": token, f"revoke-{membership.id}-reason": "   "})
    assert response.status_code == 422
    assert f'id="revoke-{membership.id}-reason-error"' in response.get_data(as_text=True)
    assert target.roles() == {Role.EVALUATOR}

    response = admin_client.post(
        url, data={"csrf_token": token, f"revoke-{membership.id}-reason": "Interešu konflikts"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert target.roles() == set()
    [event] = _events(db, "role_revoked")
    assert event.reason == "Interešu konflikts"
    assert event.before_data() == {"role": "evaluator", "municipality": "0044000"}
    assert event.municipality_id == municipality("0044000").id
    assert [m.recipients for m in outbox] == [[target.email]]
    assert "Interešu konflikts" in outbox[0].body


def test_membership_of_another_user_is_404(admin_client, db):
    one, other = coordinator(), coordinator()
    token = csrf_token(admin_client, f"/admin/users/{one.id}")
    url = f"/admin/users/{one.id}/memberships/{other.memberships[0].id}/revoke"
    response = admin_client.post(
        url, data={"csrf_token": token, f"revoke-{other.memberships[0].id}-reason": "x"}
    )
    assert response.status_code == 404
    assert other.roles() == {Role.COORDINATOR}


def test_admin_cannot_revoke_their_own_admin_role(admin_client, admin, db):
    membership = admin.memberships[0]
    national_admin()  # not the last one either: the rule is about oneself
    html = admin_client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert f"/memberships/{membership.id}/revoke" not in html
    token = csrf_token(admin_client, f"/admin/users/{admin.id}")
    response = admin_client.post(
        f"/admin/users/{admin.id}/memberships/{membership.id}/revoke",
        data={"csrf_token": token, f"revoke-{membership.id}-reason": "tests"},
    )
    assert response.status_code == 422
    assert admin.roles() == {Role.NATIONAL_ADMIN}


# --- disable, enable, sessions -------------------------------------------------------------------------


def test_disable_needs_a_reason_ends_sessions_and_enable_restores(app, admin_client, admin, db):
    target = applicant()
    other_browser = browser_client(app)
    log_in(other_browser, target)
    assert other_browser.get("/account/").status_code == 200

    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    response = admin_client.post(
        f"/admin/users/{target.id}/disable", data={"csrf_token": token, "status-reason": ""}
    )
    assert response.status_code == 422
    assert 'id="status-reason-error"' in response.get_data(as_text=True)
    assert not target.is_disabled

    response = admin_client.post(
        f"/admin/users/{target.id}/disable",
        data={"csrf_token": token, "status-reason": "Aizdomas par uzlaušanu"},
    )
    assert response.status_code == 302
    assert target.is_disabled
    assert other_browser.get("/account/").status_code == 302  # logged out on the server
    [event] = _events(db, "user_disabled")
    assert (event.actor_id, event.reason) == (admin.id, "Aizdomas par uzlaušanu")

    response = admin_client.post(
        f"/admin/users/{target.id}/enable", data={"csrf_token": token, "status-reason": "Pārbaudīts"}
    )
    assert response.status_code == 302
    assert not target.is_disabled
    assert len(_events(db, "user_enabled")) == 1


def test_admin_cannot_disable_themselves(admin_client, admin, db):
    token = csrf_token(admin_client, f"/admin/users/{admin.id}")
    response = admin_client.post(
        f"/admin/users/{admin.id}/disable", data={"csrf_token": token, "status-reason": "x"}
    )
    assert response.status_code == 422
    assert not admin.is_disabled


def test_terminate_sessions_logs_the_user_out_everywhere(app, admin_client, admin, db):
    target = applicant()
    browsers = [browser_client(app), browser_client(app)]
    for browser in browsers:
        log_in(browser, target)
        assert browser.get("/account/").status_code == 200
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    response = admin_client.post(
        f"/admin/users/{target.id}/sessions/terminate",
        data={"csrf_token": token, "sessions-reason": "Pazaudēts dators"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "2 sessions have ended" in response.get_data(as_text=True)
    assert all(browser.get("/account/").status_code == 302 for browser in browsers)
    assert db.session.scalar(sa.select(sa.func.count()).where(UserSession.user_id == target.id)) == 0
    [event] = _events(db, "sessions_terminated")
    assert (event.actor_id, event.object_id, event.reason) == (admin.id, target.id, "Pazaudēts dators")
    assert admin_client.get("/admin/users").status_code == 200  # the administrator's own session lives on


def test_user_page_shows_memberships_and_history(admin_client, db):
    target = coordinator(municipality("0044000"))
    html = admin_client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "Ropažu novads" in html
    assert target.email in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) >= 2


def test_user_page_query_count_does_not_grow_with_memberships(admin_client, admin, db):
    from portal.admin.services import grant_role
    from portal.municipalities.models import Municipality

    target = UserFactory()
    towns = db.session.scalars(sa.select(Municipality).where(Municipality.valid_to.is_(None)).limit(12)).all()
    grant_role(target, Role.EVALUATOR, actor=admin, municipality=towns[0])
    db.session.flush()
    admin_client.get(f"/admin/users/{target.id}")
    with count_queries(db.engine) as few:
        admin_client.get(f"/admin/users/{target.id}")
    for town in towns[1:]:
        grant_role(target, Role.EVALUATOR, actor=admin, municipality=town)
    db.session.flush()
    with count_queries(db.engine) as many:
        html = admin_client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert all(town.name in html for town in towns)
    assert len(many) == len(few), many
