"""The committee pages through the test client: the evaluation overview, the committee page (appoint,
invite, change a role, remove), the invitation link, the declaration, conflict statements, "My
committees" and starting the evaluation — each for the right person and 404 for everyone else."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.evaluation import queries
from portal.evaluation.models import CommitteeMember
from portal.evaluation.services import committee as svc
from portal.extensions import db
from tests.factories import (
    UserFactory,
    applicant,
    close_call,
    committee,
    coordinator,
    evaluation_call,
    evaluator,
    municipality,
    open_call,
    score,
    submitted_application,
)
from tests.helpers import Page, browser_client, csrf_token, log_in


@pytest.fixture()
def muni(db):
    return municipality("0020000")


@pytest.fixture()
def coord(muni):
    return coordinator(muni)


@pytest.fixture()
def closed_call(muni):
    call = open_call(muni)
    submitted_application(call)
    return close_call(call)


@pytest.fixture()
def as_user(app, db):
    """A fresh browser logged in as the user (several people in one test each get their own)."""

    def _as(user):
        client = browser_client(app)
        log_in(client, user)
        return client

    return _as


def post(client, url, data=None, *, prefix=None, **kwargs):
    """POST with the session's CSRF token under the form's (prefixed) field name."""
    key = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={**(data or {}), key: csrf_token(client, "/")}, **kwargs)


def audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def text(response) -> str:
    return response.get_data(as_text=True)


def outsiders() -> list:
    """A coordinator of another municipality, an applicant and an evaluator not on the committee."""
    return [coordinator(municipality("0044000")), applicant(), evaluator(municipality("0020000"))]


# --- the overview ---------------------------------------------------------------------------------------


def test_the_coordinator_sees_the_committee_quorum_and_the_start_button(closed_call, coord, as_user):
    committee(closed_call, voting=3, declared=False)
    page = as_user(coord).get(f"/evaluation/calls/{closed_call.id}")
    assert page.status_code == 200
    html = text(page)
    assert f'action="/evaluation/calls/{closed_call.id}/start"' in html
    assert f'href="/evaluation/calls/{closed_call.id}/committee"' in html
    assert f'href="/evaluation/calls/{closed_call.id}/checks"' in html
    assert "Quorum" in html
    assert f"/evaluation/calls/{closed_call.id}/protocol.pdf" not in html  # no decision yet


def test_the_overview_warns_when_the_committee_is_too_small(closed_call, coord, as_user):
    committee(closed_call, voting=2)
    html = text(as_user(coord).get(f"/evaluation/calls/{closed_call.id}"))
    assert "at least 3 voting members" in html


@pytest.mark.parametrize("who", [0, 1, 2])
def test_the_overview_is_404_for_outsiders(closed_call, as_user, who):
    committee(closed_call)
    user = outsiders()[who]
    assert as_user(user).get(f"/evaluation/calls/{closed_call.id}").status_code == 404


def test_a_member_without_the_declaration_is_asked_to_sign_it(closed_call, as_user):
    member = committee(closed_call, declared=False)["members"][1]
    html = text(as_user(member.user).get(f"/evaluation/calls/{closed_call.id}"))
    assert f'href="/evaluation/calls/{closed_call.id}/declaration"' in html
    assert f'action="/evaluation/calls/{closed_call.id}/start"' not in html  # not the coordinator's part


def test_a_member_sees_their_own_state_per_application_and_nobody_elses(as_user):
    setup = evaluation_call(applications=2)
    first, second = setup["committee"]["members"][:2]
    one, two = setup["applications"]
    svc.declare_conflict(first, one, recused=True, reason="Mans brālis", actor=first.user)
    score(first, two, 2)
    score(second, one, 3, submit=False)

    page = Page(text(as_user(second.user).get(f"/evaluation/calls/{setup['call'].id}")))
    cells = [card.text for card in page.find("li", class_="card")]
    assert len(cells) == 2
    assert one.organisation.name in cells[0] and "Draft scores" in cells[0]  # their own draft
    assert "Recused" not in cells[0]  # the first member's recusal is not theirs
    assert "State whether you have a conflict of interest" in cells[1]
    assert "Scores submitted" not in cells[1]  # the first member's submitted sheet is not shown

    html = text(as_user(first.user).get(f"/evaluation/calls/{setup['call'].id}"))
    assert "Recused" in html and "Scores submitted" in html
    assert f'href="/evaluation/applications/{two.id}/score"' in html


def test_the_secretary_gets_the_link_to_the_checks(as_user):
    setup = evaluation_call(applications=1)
    secretary = setup["committee"]["secretary"]
    html = text(as_user(secretary.user).get(f"/evaluation/calls/{setup['call'].id}"))
    assert f'href="/evaluation/calls/{setup["call"].id}/checks"' in html
    assert "Applications to score" not in html


# --- starting the evaluation ------------------------------------------------------------------------------


def test_the_coordinator_starts_the_evaluation(closed_call, coord, as_user):
    committee(closed_call, voting=3)
    client = as_user(coord)
    response = post(client, f"/evaluation/calls/{closed_call.id}/start")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evaluation/calls/{closed_call.id}")
    db.session.refresh(closed_call)
    assert closed_call.status == CallStatus.EVALUATION


def test_starting_with_too_small_a_committee_is_refused_with_a_message(closed_call, coord, as_user):
    committee(closed_call, voting=2)
    client = as_user(coord)
    response = post(client, f"/evaluation/calls/{closed_call.id}/start", follow_redirects=True)
    assert response.status_code == 200
    assert "at least 3 voting members who have accepted" in text(response)
    db.session.refresh(closed_call)
    assert closed_call.status == CallStatus.CLOSED


def test_starting_an_open_call_is_refused_with_a_message(muni, coord, as_user):
    call = open_call(muni)
    committee(call)
    response = post(as_user(coord), f"/evaluation/calls/{call.id}/start", follow_redirects=True)
    assert response.status_code == 200 and "only when the call has closed" in text(response)
    db.session.refresh(call)
    assert call.status == CallStatus.OPEN


def test_another_municipalitys_coordinator_cannot_start(closed_call, as_user):
    committee(closed_call)
    other = coordinator(municipality("0044000"))
    assert post(as_user(other), f"/evaluation/calls/{closed_call.id}/start").status_code == 404
    db.session.refresh(closed_call)
    assert closed_call.status == CallStatus.CLOSED


# --- the committee page -----------------------------------------------------------------------------------


def test_the_committee_page_lists_the_members_with_their_forms(closed_call, coord, as_user):
    board = committee(closed_call)
    html = text(as_user(coord).get(f"/evaluation/calls/{closed_call.id}/committee"))
    for member in board["members"]:
        assert member.user.full_name in html
        assert f'action="/evaluation/members/{member.id}/role"' in html
        assert f'action="/evaluation/members/{member.id}/remove"' in html
    assert 'name="appoint-user"' in html and 'name="invite-email"' in html


@pytest.mark.parametrize("who", [0, 1, 2])
def test_the_committee_page_is_404_for_outsiders(closed_call, as_user, who):
    committee(closed_call)
    assert as_user(outsiders()[who]).get(f"/evaluation/calls/{closed_call.id}/committee").status_code == 404


def test_after_the_decision_the_committee_page_is_read_only(closed_call, coord, as_user):
    member = committee(closed_call)["members"][1]
    closed_call.status = CallStatus.DECIDED
    db.session.flush()
    client = as_user(coord)
    html = text(client.get(f"/evaluation/calls/{closed_call.id}/committee"))
    assert "can no longer change" in html
    assert 'name="invite-email"' not in html and f"/evaluation/members/{member.id}/remove" not in html
    refused = post(client, f"/evaluation/members/{member.id}/remove", prefix=f"remove-{member.id}")
    assert refused.status_code == 200 and "can no longer change" in text(refused)
    db.session.expire_all()
    assert db.session.get(CommitteeMember, member.id) is not None


def test_a_member_cannot_open_the_committee_page(closed_call, as_user):
    member = committee(closed_call)["chair"]
    assert as_user(member.user).get(f"/evaluation/calls/{closed_call.id}/committee").status_code == 404


def test_the_coordinator_appoints_a_municipality_user(closed_call, coord, muni, as_user):
    user = evaluator(muni)
    client = as_user(coord)
    response = post(
        client,
        f"/evaluation/calls/{closed_call.id}/committee/appoint",
        {"appoint-user": str(user.id), "appoint-role": "chair"},
        prefix="appoint",
    )
    assert response.status_code == 302, text(response)
    member = queries.member_for(user, closed_call.id)
    assert member is not None and member.role == "chair"
    assert audited("committee.appointed")[0].actor_id == coord.id


def test_a_second_chair_is_refused_next_to_the_role(closed_call, coord, muni, as_user):
    committee(closed_call)
    user = evaluator(muni)
    response = post(
        as_user(coord),
        f"/evaluation/calls/{closed_call.id}/committee/appoint",
        {"appoint-user": str(user.id), "appoint-role": "chair"},
        prefix="appoint",
    )
    assert response.status_code == 200
    page = Page(text(response))
    error = page.by_id("appoint-role-error")
    assert error is not None and "already has a chair" in error.text
    assert queries.member_for(user, closed_call.id) is None


def test_an_outsider_cannot_be_chosen_for_appointment(closed_call, coord, as_user):
    outsider = evaluator(municipality("0044000"))
    response = post(
        as_user(coord),
        f"/evaluation/calls/{closed_call.id}/committee/appoint",
        {"appoint-user": str(outsider.id), "appoint-role": "member"},
        prefix="appoint",
    )
    assert response.status_code == 200
    assert Page(text(response)).by_id("appoint-user-error") is not None
    assert queries.member_for(outsider, closed_call.id) is None


def test_the_coordinator_changes_a_role(closed_call, coord, as_user):
    member = committee(closed_call)["members"][1]
    response = post(
        as_user(coord),
        f"/evaluation/members/{member.id}/role",
        {f"role-{member.id}-role": "secretary"},
        prefix=f"role-{member.id}",
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.role == "secretary"
    assert audited("committee.role_changed")[0].object_id == member.id


def test_a_role_change_refused_by_the_service_shows_next_to_the_field(closed_call, coord, as_user):
    member = committee(closed_call)["members"][1]
    response = post(
        as_user(coord),
        f"/evaluation/members/{member.id}/role",
        {f"role-{member.id}-role": "chair"},
        prefix=f"role-{member.id}",
    )
    assert response.status_code == 200
    error = Page(text(response)).by_id(f"role-{member.id}-role-error")
    assert error is not None and "already has a chair" in error.text
    db.session.refresh(member)
    assert member.role == "member"


def test_the_coordinator_removes_a_member_with_a_reason(closed_call, coord, as_user):
    member = committee(closed_call)["members"][1]
    member_id = member.id
    response = post(
        as_user(coord),
        f"/evaluation/members/{member_id}/remove",
        {f"remove-{member_id}-reason": "Atteicās"},
        prefix=f"remove-{member_id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CommitteeMember, member_id) is None
    assert audited("committee.removed")[0].reason == "Atteicās"


def test_a_member_who_submitted_scores_is_not_removed(as_user):
    setup = evaluation_call(applications=1)
    member = setup["committee"]["members"][1]
    score(member, setup["applications"][0], 2)
    response = post(
        as_user(setup["coordinator"]), f"/evaluation/members/{member.id}/remove", prefix=f"remove-{member.id}"
    )
    assert response.status_code == 200
    assert "cannot be removed" in text(response)
    db.session.expire_all()
    assert db.session.get(CommitteeMember, member.id) is not None


def test_another_coordinator_cannot_change_or_remove_a_member(closed_call, as_user):
    member = committee(closed_call)["members"][1]
    client = as_user(coordinator(municipality("0044000")))
    role = post(client, f"/evaluation/members/{member.id}/role", {f"role-{member.id}-role": "secretary"})
    remove = post(client, f"/evaluation/members/{member.id}/remove")
    assert role.status_code == 404 and remove.status_code == 404
    db.session.expire_all()
    assert db.session.get(CommitteeMember, member.id).role == "member"


# --- invitations ------------------------------------------------------------------------------------------


def _invite(client, call, email, role="member"):
    return post(
        client,
        f"/evaluation/calls/{call.id}/committee/invite",
        {"invite-email": email, "invite-role": role},
        prefix="invite",
    )


def _invitation_link(email: str) -> str:
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)).one()
    match = re.search(r"https?://[^\s]+(/evaluation/invitations/[A-Za-z0-9_-]+)", mail.body_text)
    assert match, mail.body_text
    return match.group(1)


def test_the_invitation_flow_end_to_end(app, closed_call, coord, as_user):
    response = _invite(as_user(coord), closed_call, "Jauna@Example.lv", "secretary")
    assert response.status_code == 302, text(response)
    link = _invitation_link("jauna@example.lv")

    anonymous = browser_client(app)
    redirect = anonymous.get(link)
    assert redirect.status_code == 302 and "/account/login" in redirect.headers["Location"]
    assert "next=" in redirect.headers["Location"]

    user = UserFactory(email="jauna@example.lv")
    client = as_user(user)
    page = client.get(link)
    assert page.status_code == 200
    assert closed_call.title in text(page) and "Secretary (non-voting)" in text(page)
    accepted = post(client, link)
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/evaluation/calls/{closed_call.id}")
    member = queries.member_for(user, closed_call.id)
    assert member is not None and member.role == "secretary"
    assert audited("committee.accepted")[0].actor_id == user.id
    assert client.get(link).status_code == 404  # the link works once


def test_an_invitation_opened_by_another_address_shows_the_services_message(closed_call, coord, as_user):
    _invite(as_user(coord), closed_call, "anna@example.lv")
    link = _invitation_link("anna@example.lv")
    other = UserFactory(email="peteris@example.lv")
    response = post(as_user(other), link)
    assert response.status_code == 200
    assert "sent to another e-mail address" in text(response)
    assert queries.member_for(other, closed_call.id) is None


def test_an_unknown_invitation_is_a_friendly_404(as_user, db):
    response = as_user(UserFactory()).get("/evaluation/invitations/no-such-token")
    assert response.status_code == 404
    assert "not valid, or it has already been used" in text(response)


def test_an_invalid_address_is_refused_next_to_the_field(closed_call, coord, as_user):
    response = _invite(as_user(coord), closed_call, "not-an-address")
    assert response.status_code == 200
    assert Page(text(response)).by_id("invite-email-error") is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# --- the declaration ----------------------------------------------------------------------------------------


def test_a_member_signs_the_declaration(closed_call, as_user):
    member = committee(closed_call, declared=False)["members"][1]
    client = as_user(member.user)
    page = text(client.get(f"/evaluation/calls/{closed_call.id}/declaration"))
    assert "impartially" in page and closed_call.title in page
    refused = post(client, f"/evaluation/calls/{closed_call.id}/declaration", {})
    assert refused.status_code == 200 and Page(text(refused)).by_id("agree-error") is not None
    assert member.declared_at is None
    signed = post(client, f"/evaluation/calls/{closed_call.id}/declaration", {"agree": "y"})
    assert signed.status_code == 302
    assert signed.headers["Location"].endswith(f"/evaluation/calls/{closed_call.id}")
    db.session.refresh(member)
    assert member.declared_at is not None
    assert audited("committee.declared")[0].actor_id == member.user_id


def test_the_declaration_cannot_be_signed_while_the_call_is_open(muni, as_user):
    call = open_call(muni)
    member = committee(call, declared=False)["members"][1]
    client = as_user(member.user)
    page = text(client.get(f"/evaluation/calls/{call.id}/declaration"))
    assert 'name="agree"' not in page
    post(client, f"/evaluation/calls/{call.id}/declaration", {"agree": "y"})
    db.session.refresh(member)
    assert member.declared_at is None


def test_the_declaration_page_is_404_for_the_coordinator_who_is_not_a_member(closed_call, coord, as_user):
    committee(closed_call, declared=False)
    assert as_user(coord).get(f"/evaluation/calls/{closed_call.id}/declaration").status_code == 404


# --- conflicts of interest ----------------------------------------------------------------------------------


def test_no_conflict_leads_to_the_scoring(as_user):
    setup = evaluation_call(applications=1)
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    client = as_user(member.user)
    page = text(client.get(f"/evaluation/applications/{application.id}/conflict"))
    assert application.organisation.name in page
    response = post(client, f"/evaluation/applications/{application.id}/conflict", {"statement": "none"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evaluation/applications/{application.id}/score")
    assert queries.conflict(member.id, application.id).recused is False
    assert audited("committee.no_conflict")


def test_a_recusal_without_a_reason_is_refused_next_to_the_field(as_user):
    setup = evaluation_call(applications=1)
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    response = post(
        as_user(member.user), f"/evaluation/applications/{application.id}/conflict", {"statement": "recuse"}
    )
    assert response.status_code == 200
    error = Page(text(response)).by_id("reason-error")
    assert error is not None and "recuse" in error.text
    assert queries.conflict(member.id, application.id) is None


def test_a_recusal_returns_to_the_overview_and_is_then_read_only(as_user):
    setup = evaluation_call(applications=1)
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    client = as_user(member.user)
    response = post(
        client,
        f"/evaluation/applications/{application.id}/conflict",
        {"statement": "recuse", "reason": "Vadītāja ir mana māsa"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evaluation/calls/{setup['call'].id}")
    assert audited("committee.recused")[0].reason == "Vadītāja ir mana māsa"
    page = text(client.get(f"/evaluation/applications/{application.id}/conflict"))
    assert "Vadītāja ir mana māsa" in page and 'name="statement"' not in page
    again = post(client, f"/evaluation/applications/{application.id}/conflict", {"statement": "none"})
    assert again.status_code == 200
    assert queries.conflict(member.id, application.id).recused is True


def test_no_conflict_can_become_a_recusal_before_submission(as_user):
    setup = evaluation_call(applications=1)
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    score(member, application, 2, submit=False)
    client = as_user(member.user)
    page = text(client.get(f"/evaluation/applications/{application.id}/conflict"))
    assert "Recuse yourself after all" in page
    response = post(
        client,
        f"/evaluation/applications/{application.id}/conflict",
        {"statement": "recuse", "reason": "Pamanīju saistību"},
    )
    assert response.status_code == 302
    assert queries.conflict(member.id, application.id).recused is True
    assert queries.sheet(member.id, application.id) is None


@pytest.mark.parametrize("who", ["coordinator", "secretary", "other_member", "applicant"])
def test_the_conflict_page_is_404_for_anyone_but_a_voting_member(as_user, who):
    setup = evaluation_call(applications=1)
    application = setup["applications"][0]
    if who == "coordinator":
        user = setup["coordinator"]
    elif who == "secretary":
        user = setup["committee"]["secretary"].user
    elif who == "other_member":
        user = evaluator(municipality("0020000"))
    else:
        user = setup["applicants"][0]
    client = as_user(user)
    assert client.get(f"/evaluation/applications/{application.id}/conflict").status_code == 404
    assert (
        post(client, f"/evaluation/applications/{application.id}/conflict", {"statement": "none"}).status_code
        == 404
    )


def test_a_member_without_the_declaration_gets_404_on_the_conflict_page(as_user):
    setup = evaluation_call(applications=1)
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    member.declared_at = None
    db.session.flush()
    assert as_user(member.user).get(f"/evaluation/applications/{application.id}/conflict").status_code == 404


# --- my committees and the navigation ---------------------------------------------------------------


def test_my_committees_lists_the_seats_with_links(muni, as_user):
    first, second = open_call(muni), open_call(muni, title="Otrais konkurss")
    member = committee(first)["members"][1]
    db.session.add(
        CommitteeMember(
            call_id=second.id,
            user_id=member.user_id,
            email=member.email,
            role="secretary",
            accepted_at=member.accepted_at,
        )
    )
    db.session.flush()
    client = as_user(member.user)
    home = text(client.get("/"))
    assert 'href="/evaluation/mine"' in home  # the navigation offers it to evaluators
    html = text(client.get("/evaluation/mine"))
    assert f'href="/evaluation/calls/{first.id}"' in html and f'href="/evaluation/calls/{second.id}"' in html
    assert "Secretary (non-voting)" in html and "Voting member" in html


def test_my_committees_is_empty_and_not_in_the_navigation_for_an_applicant(as_user, db):
    client = as_user(applicant())
    assert 'href="/evaluation/mine"' not in text(client.get("/"))
    html = text(client.get("/evaluation/mine"))
    assert "You are not on any evaluation committee" in html


def test_the_call_page_links_to_the_evaluation_once_published(closed_call, coord, as_user):
    html = text(as_user(coord).get(f"/calls/{closed_call.id}"))
    assert f'href="/evaluation/calls/{closed_call.id}"' in html
