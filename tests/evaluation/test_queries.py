"""Evaluation queries that pages lean on for speed (issue 9): a seat, declaration or sheet asked for
again in the same session comes from what the session holds, but never stale; the quorum's count of
members who are done is one aggregate that agrees with the progress matrix."""

from __future__ import annotations

import pytest

from portal.evaluation import queries
from portal.evaluation.models import CommitteeMember
from portal.evaluation.services import decisions, scoring
from portal.extensions import db
from tests import factories
from tests.helpers import count_queries


@pytest.fixture()
def ev(db):
    return factories.evaluation_call(applications=2)


def test_a_seat_asked_for_again_costs_no_query(ev):
    member = ev["committee"]["chair"]
    user, call_id = member.user, ev["call"].id
    assert queries.member_for(user, call_id) is member
    with count_queries(db.engine) as statements:
        assert queries.member_for(user, call_id) is member
        assert queries.member_for(user, call_id) is member
    assert statements == []


def test_a_deleted_seat_is_not_remembered(ev):
    member = ev["committee"]["members"][1]
    user, call_id = member.user, ev["call"].id
    assert queries.member_for(user, call_id) is member
    db.session.delete(member)
    db.session.flush()
    assert queries.member_for(user, call_id) is None
    # A new seat for the same person is found, not the remembered one.
    seat = CommitteeMember(
        call_id=call_id, user_id=user.id, email=user.email, role="member", accepted_at=member.accepted_at
    )
    db.session.add(seat)
    db.session.commit()  # expires everything the session holds
    assert queries.member_for(user, call_id).id == seat.id


def test_a_reassigned_seat_no_longer_answers_for_its_old_user(ev):
    member, other = ev["committee"]["members"][1], factories.evaluator(ev["call"].municipality)
    user, call_id = member.user, ev["call"].id
    assert queries.member_for(user, call_id) is member
    member.user_id = other.id
    db.session.flush()
    assert queries.member_for(user, call_id) is None
    assert queries.member_for(other, call_id) is member


def test_none_found_is_asked_again(ev):
    member, application = ev["committee"]["chair"], ev["applications"][0]
    assert queries.sheet(member.id, application.id) is None
    assert queries.conflict(member.id, application.id) is None
    declaration = factories.declare(member, application)
    sheet = scoring.open_sheet(application, actor=member.user)
    assert queries.conflict(member.id, application.id) is declaration
    assert queries.sheet(member.id, application.id) is sheet


def test_a_declaration_changed_in_the_session_is_seen_as_changed(ev):
    member, application = ev["committee"]["chair"], ev["applications"][0]
    declaration = factories.declare(member, application)
    assert not queries.conflict(member.id, application.id).recused
    declaration.recused, declaration.reason = True, "Radinieks"
    db.session.commit()
    assert queries.conflict(member.id, application.id).recused


def test_finished_counts_agree_with_the_progress_matrix(ev):
    first, second = ev["applications"]
    chair, member, third = ev["committee"]["members"]
    criteria = scoring.quality_criteria(ev["call"])
    full = {c.id: (2, "Labi pamatots") for c in criteria}
    for application in (first, second):
        factories.declare(chair, application)
        sheet = scoring.open_sheet(application, actor=chair.user)
        scoring.save_scores(sheet, full, actor=chair.user)
        scoring.submit_scores(sheet, actor=chair.user)
    factories.declare(member, first, recused=True)  # recused on one, a draft on the other
    factories.declare(member, second)
    scoring.open_sheet(second, actor=member.user)
    factories.declare(third, first)  # declared, nothing scored
    ids = [first.id, second.id]
    cells = queries.progress(ev["call"].id)
    by_matrix = {
        m.id: sum(1 for a in ids if cells.get((m.id, a)) in ("submitted", "recused"))
        for m in (chair, member, third)
    }
    assert by_matrix == {chair.id: 2, member.id: 1, third.id: 0}
    assert queries.finished_counts(ev["call"].id, ids) == {chair.id: 2, member.id: 1}
    assert queries.finished_counts(ev["call"].id, []) == {}
    quorum = decisions.quorum(ev["call"])
    assert (quorum.voting, quorum.scored) == (3, 1)
