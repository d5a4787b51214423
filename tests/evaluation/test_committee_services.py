"""The committee services: appointing and inviting members, roles, removal, the call's declaration,
per-application conflict statements and starting the evaluation (issue 5)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.core.enums import Role
from portal.core.mail import OutboxMessage
from portal.core.workflow import WorkflowError
from portal.evaluation import queries, services
from portal.evaluation.models import CommitteeMember, ConflictDeclaration, ScoreSheet
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
)


@pytest.fixture()
def muni(db):
    return municipality("0020000")


@pytest.fixture()
def call(muni):
    return open_call(muni)


@pytest.fixture()
def coord(muni):
    return coordinator(muni)


def audit_actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --- appoint ----------------------------------------------------------------------------------------


def test_appointing_a_municipality_user_seats_them_and_tells_them(call, coord, muni):
    user = evaluator(muni)
    member = svc.appoint_member(call, user, "member", actor=coord)
    assert member.user_id == user.id and member.accepted_at is not None and member.role == "member"
    assert queries.member_for(user, call.id) is member
    assert audit_actions("committee.appointed")[0].object_id == member.id
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == user.email)).one()
    assert mail.template == "committee_appointed"
    assert f"/evaluation/calls/{call.id}" in mail.body_text


def test_a_coordinator_appointed_receives_the_evaluator_role(call, coord, muni):
    other = coordinator(muni)
    assert not other.has_role(Role.EVALUATOR, municipality_id=muni.id)
    svc.appoint_member(call, other, "chair", actor=coord)
    assert other.has_role(Role.EVALUATOR, municipality_id=muni.id)


def test_someone_who_is_not_a_municipality_user_cannot_be_appointed(call, coord):
    outsider = applicant()
    with pytest.raises(WorkflowError) as refused:
        svc.appoint_member(call, outsider, "member", actor=coord)
    assert refused.value.field == "user"
    assert queries.member_for(outsider, call.id) is None


def test_an_evaluator_of_another_municipality_cannot_be_appointed(call, coord):
    stranger = evaluator(municipality("0044000"))
    with pytest.raises(WorkflowError):
        svc.appoint_member(call, stranger, "member", actor=coord)


def test_the_same_person_cannot_be_appointed_twice(call, coord, muni):
    user = evaluator(muni)
    svc.appoint_member(call, user, "member", actor=coord)
    with pytest.raises(WorkflowError) as refused:
        svc.appoint_member(call, user, "secretary", actor=coord)
    assert refused.value.field == "user"


def test_a_committee_has_one_chair(call, coord, muni):
    svc.appoint_member(call, evaluator(muni), "chair", actor=coord)
    with pytest.raises(WorkflowError) as refused:
        svc.appoint_member(call, evaluator(muni), "chair", actor=coord)
    assert refused.value.field == "role"


def test_an_unknown_role_is_refused(call, coord, muni):
    with pytest.raises(WorkflowError) as refused:
        svc.appoint_member(call, evaluator(muni), "president", actor=coord)
    assert refused.value.field == "role"


# --- invite -----------------------------------------------------------------------------------------


def test_an_invitation_is_accepted_once_by_its_address(call, coord, muni):
    member, token = svc.invite_member(call, "Jauna.Vertetaja@Example.lv", "member", actor=coord)
    assert member.email == "jauna.vertetaja@example.lv" and member.user_id is None
    assert token not in (member.token_hash or "")
    assert svc.find_invitation(token) is member
    user = UserFactory(email="jauna.vertetaja@example.lv")
    svc.accept_invitation(user, member)
    assert member.user_id == user.id and member.accepted_at is not None
    assert user.has_role(Role.EVALUATOR, municipality_id=muni.id)
    assert svc.find_invitation(token) is None  # the link works once
    with pytest.raises(WorkflowError):
        svc.accept_invitation(user, member)


def test_an_invitation_matches_the_address_case_insensitively(call, coord):
    member, _token = svc.invite_member(call, "anna@example.lv", "member", actor=coord)
    user = UserFactory(email="Anna@Example.LV")
    svc.accept_invitation(user, member)
    assert member.user_id == user.id


def test_an_invitation_is_refused_to_another_address(call, coord):
    member, _token = svc.invite_member(call, "anna@example.lv", "member", actor=coord)
    other = UserFactory(email="peteris@example.lv")
    with pytest.raises(WorkflowError) as refused:
        svc.accept_invitation(other, member)
    assert "another e-mail address" in refused.value.message
    assert member.user_id is None


def test_an_invitation_queues_the_link(call, coord):
    _member, token = svc.invite_member(call, "anna@example.lv", "secretary", actor=coord)
    mail = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "anna@example.lv")
    ).one()
    assert mail.template == "committee_invitation"
    assert f"/evaluation/invitations/{token}" in mail.body_text


def test_an_address_already_invited_is_refused(call, coord):
    svc.invite_member(call, "anna@example.lv", "member", actor=coord)
    with pytest.raises(WorkflowError) as refused:
        svc.invite_member(call, "ANNA@example.lv", "member", actor=coord)
    assert refused.value.field == "email"


def test_an_unknown_token_finds_nothing(db):
    assert svc.find_invitation("not-a-token") is None
    assert svc.find_invitation("") is None


# --- roles and removal --------------------------------------------------------------------------------


def test_the_role_changes_and_is_audited(call, coord, muni):
    member = svc.appoint_member(call, evaluator(muni), "member", actor=coord)
    svc.change_role(member, "secretary", actor=coord)
    assert member.role == "secretary" and not member.votes
    event = audit_actions("committee.role_changed")[0]
    assert event.before_data() == {"role": "member"} and event.after_data() == {"role": "secretary"}


def test_a_second_chair_is_refused_on_a_role_change(call, coord, muni):
    svc.appoint_member(call, evaluator(muni), "chair", actor=coord)
    member = svc.appoint_member(call, evaluator(muni), "member", actor=coord)
    with pytest.raises(WorkflowError):
        svc.change_role(member, "chair", actor=coord)


def test_a_member_is_removed_with_a_reason(call, coord, muni):
    member = svc.appoint_member(call, evaluator(muni), "member", actor=coord)
    member_id = member.id
    svc.remove_member(member, actor=coord, reason="Slimības dēļ")
    assert db.session.get(CommitteeMember, member_id) is None
    assert audit_actions("committee.removed")[0].reason == "Slimības dēļ"


def test_a_member_with_submitted_scores_cannot_be_removed(db):
    setup = evaluation_call(applications=1)
    member = setup["committee"]["members"][1]
    score(member, setup["applications"][0], 2)
    with pytest.raises(WorkflowError):
        svc.remove_member(member, actor=setup["coordinator"])
    assert db.session.get(CommitteeMember, member.id) is not None


def test_a_member_with_only_a_draft_can_be_removed(db):
    setup = evaluation_call(applications=1)
    member = setup["committee"]["members"][1]
    score(member, setup["applications"][0], 2, submit=False)
    svc.remove_member(member, actor=setup["coordinator"])
    assert db.session.get(CommitteeMember, member.id) is None


# --- the call's declaration ---------------------------------------------------------------------------


def test_the_declaration_is_signed_once_the_call_closed(call):
    board = committee(call, declared=False)
    member = board["members"][1]
    with pytest.raises(WorkflowError):
        svc.sign_declaration(member, actor=member.user)  # the call is still open
    assert member.declared_at is None
    close_call(call)
    svc.sign_declaration(member, actor=member.user)
    assert member.declared_at is not None and call.title in member.declaration_text
    with pytest.raises(WorkflowError):
        svc.sign_declaration(member, actor=member.user)
    assert len(audit_actions("committee.declared")) == 1


def test_the_declaration_is_in_the_members_language(call):
    text_lv = svc.declaration_text(call, "lv")
    text_en = svc.declaration_text(call, "en")
    assert call.title in text_en and "impartially" in text_en
    assert call.title in text_lv


# --- conflicts of interest ------------------------------------------------------------------------------


@pytest.fixture()
def setup(db):
    return evaluation_call(applications=2)


def test_no_conflict_is_recorded(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    declaration = svc.declare_conflict(member, application, recused=False, reason=None, actor=member.user)
    assert declaration.recused is False
    assert audit_actions("committee.no_conflict")[0].object_id == application.id


def test_a_recusal_needs_a_reason(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    with pytest.raises(WorkflowError) as refused:
        svc.declare_conflict(member, application, recused=True, reason="  ", actor=member.user)
    assert refused.value.field == "reason"
    assert queries.conflict(member.id, application.id) is None


def test_a_recusal_is_final(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    svc.declare_conflict(member, application, recused=True, reason="Mana māsa", actor=member.user)
    with pytest.raises(WorkflowError):
        svc.declare_conflict(member, application, recused=False, reason=None, actor=member.user)
    assert queries.conflict(member.id, application.id).recused is True


def test_no_conflict_can_become_a_recusal_before_submission_and_the_draft_goes(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    sheet = score(member, application, 2, submit=False)
    sheet_id = sheet.id
    svc.declare_conflict(member, application, recused=True, reason="Atklāju saistību", actor=member.user)
    declaration = queries.conflict(member.id, application.id)
    assert declaration.recused and declaration.reason == "Atklāju saistību"
    assert db.session.get(ScoreSheet, sheet_id) is None


def test_no_conflict_cannot_become_a_recusal_after_submission(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    score(member, application, 2)
    with pytest.raises(WorkflowError):
        svc.declare_conflict(member, application, recused=True, reason="Par vēlu", actor=member.user)
    assert queries.conflict(member.id, application.id).recused is False


def test_no_conflict_is_stated_only_once(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    svc.declare_conflict(member, application, recused=False, reason=None, actor=member.user)
    with pytest.raises(WorkflowError):
        svc.declare_conflict(member, application, recused=False, reason=None, actor=member.user)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConflictDeclaration)) == 1


def test_a_member_without_the_declaration_cannot_state_conflicts(setup):
    member, application = setup["committee"]["members"][1], setup["applications"][0]
    member.declared_at = None
    with pytest.raises(WorkflowError) as refused:
        svc.declare_conflict(member, application, recused=False, reason=None, actor=member.user)
    assert "declaration" in refused.value.message


def test_the_secretary_states_no_conflicts(setup):
    secretary, application = setup["committee"]["secretary"], setup["applications"][0]
    with pytest.raises(WorkflowError):
        svc.declare_conflict(secretary, application, recused=False, reason=None, actor=secretary.user)


# --- starting the evaluation ------------------------------------------------------------------------------


def test_the_evaluation_needs_three_voting_members(call, coord):
    close_call(call)
    committee(call, voting=2)
    with pytest.raises(WorkflowError) as refused:
        services.start_evaluation(call, actor=coord)
    assert "at least 3" in refused.value.message
    assert call.status == CallStatus.CLOSED


def test_invited_members_do_not_count_for_the_start(call, coord):
    close_call(call)
    committee(call, voting=2)
    svc.invite_member(call, "anna@example.lv", "member", actor=coord)
    with pytest.raises(WorkflowError):
        services.start_evaluation(call, actor=coord)


def test_the_evaluation_starts_with_three_voting_members(call, coord):
    close_call(call)
    committee(call, voting=3, secretary=False)
    services.start_evaluation(call, actor=coord)
    assert call.status == CallStatus.EVALUATION
