"""Consolidation, the quota cut, the quorum, the council's decision and the reserve list
(portal.evaluation.services.decisions, DESIGN §3–§4, issue 5)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.services import withdraw_application
from portal.applications.workflow import ApplicationStatus
from portal.calls.workflow import CallStatus
from portal.core import storage
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.pdf import sha256
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.evaluation import queries, rules
from portal.evaluation.models import ConflictDeclaration, Decision, EvaluationResult
from portal.evaluation.services import decisions
from portal.evaluation.services.scoring import quality_criteria
from portal.extensions import db
from portal.programmes.models import Quota
from tests.factories import (
    coordinator,
    evaluation_call,
    municipality,
    open_call,
    sample_pdf,
    sample_png,
    score,
    submitted_application,
)


@pytest.fixture(autouse=True)
def _english(app):
    """The services' messages in English, whatever locale an earlier test left behind."""
    with force_locale("en"):
        yield


# --- helpers ---------------------------------------------------------------------------------------


def values(call, default: int = 2, **by_code) -> list[int]:
    """One score per quality criterion of the call, in order: `default` unless named by code."""
    return [by_code.get(c.code, default) for c in quality_criteria(call)]


def score_all(ev, per_application) -> None:
    """Every voting member scores every application: `per_application[i]` is an int, a list of scores
    per criterion (the same from every member), or a list of such lists (one per member)."""
    members = ev["committee"]["members"]
    for application, given in zip(ev["applications"], per_application, strict=True):
        for i, member in enumerate(members):
            value = given[i] if isinstance(given, list) and isinstance(given[0], list) else given
            score(member, application, value, comment=f"Komentārs {application.id}")


def consolidate(ev):
    decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    return {r.application_id: r for r in queries.results(ev["call"].id)}


def today():
    return to_riga(utcnow()).date()


def decide(ev, outcomes=None, **kwargs):
    arguments = {
        "number": "Nr. 12",
        "decided_on": today(),
        "file_data": sample_pdf(),
        "filename": "lēmums.pdf",
        "outcomes": outcomes or {},
        "actor": ev["coordinator"],
    } | kwargs
    return decisions.record_decision(ev["call"], **arguments)


def result_mails():
    return list(
        db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "evaluation_result"))
    )


# --- the average and the ranking -------------------------------------------------------------------


def test_the_average_is_of_the_members_weighted_totals_rounded_half_up(db):
    ev = evaluation_call(1)
    call = ev["call"]
    full = values(call, 3)  # 30 points
    less = values(call, 3, capacity=2)  # 29.5: capacity weighs 0.5
    score_all(ev, [[full, less, less]])
    result = consolidate(ev)[ev["applications"][0].id]
    assert rules.max_total(decisions._criteria(call)) == Decimal("30")
    assert result.average == Decimal("29.67")  # (30 + 29.5 + 29.5) / 3 = 29.666…
    assert result.scorers == 3 and result.passed and result.rank == 1
    assert result.criterion_averages["capacity"] == "2.33"
    assert result.criterion_averages["relevance"] == "3.00"


def test_equal_averages_are_ranked_by_the_higher_pmp_risk_share(db):
    ev = evaluation_call(2)
    early, late = ev["applications"]
    late.participants_risk = 8  # 20 % against 10 %
    db.session.flush()
    score_all(ev, [2, 2])
    results = consolidate(ev)
    assert results[early.id].average == results[late.id].average
    assert results[late.id].rank == 1 and results[early.id].rank == 2


def test_then_by_the_tie_break_criteria_in_their_order(db):
    # youth_led breaks ties first, relevance second (both weigh 2, as does activities).
    ev = evaluation_call(3, projects=3)
    call = ev["call"]
    first, second, third = ev["applications"]  # submitted in this order
    score_all(
        ev,
        [
            values(call, relevance=2, youth_led=2, activities=3),
            values(call, relevance=3, youth_led=2, activities=2),
            values(call, relevance=2, youth_led=3, activities=2),
        ],
    )
    results = consolidate(ev)
    assert len({r.average for r in results.values()}) == 1
    # the latest submitted wins on youth_led; of the others the higher relevance (a tie-break criterion)
    # wins over the higher activities (not one), although submitted later
    assert [results[a.id].rank for a in (third, second, first)] == [1, 2, 3]


def test_then_by_the_earlier_submission(db):
    ev = evaluation_call(3, projects=3)
    score_all(ev, [2, 2, 2])
    results = consolidate(ev)
    assert [results[a.id].rank for a in ev["applications"]] == [1, 2, 3]


def test_failing_applications_are_not_ranked_and_say_why(db):
    ev = evaluation_call(3, projects=3)
    call = ev["call"]
    score_all(ev, [3, 1, values(call, 3, youth_led=0)])
    results = consolidate(ev)
    good, low, essential = (results[a.id] for a in ev["applications"])
    assert good.passed and good.rank == 1 and good.proposal == "funded"
    assert not low.passed and low.fail_reason == "threshold" and low.rank is None
    assert low.proposal == "not_funded"
    # 24 of 30 points, but an essential criterion at 0 fails it
    assert essential.average == Decimal("24.00")
    assert not essential.passed and essential.fail_reason == "essential" and essential.rank is None


def test_a_spread_of_two_or_more_is_flagged(db):
    ev = evaluation_call(1)
    call = ev["call"]
    score_all(ev, [[values(call, reach=3), values(call, reach=1), values(call, reach=2, results=3)]])
    result = consolidate(ev)[ev["applications"][0].id]
    assert result.disagreements == ["reach"]  # results differ by 1 only


# --- the quota cut ---------------------------------------------------------------------------------


def test_the_quota_cut_funds_the_best_and_keeps_the_rest_in_reserve(db):
    ev = evaluation_call(3, projects=2, quota=2)
    score_all(ev, [3, 2, 2])
    assert decisions.funding_capacity(ev["call"]) == 2
    results = consolidate(ev)
    proposals = [results[a.id].proposal for a in ev["applications"]]
    assert proposals == ["funded", "funded", "reserve"]
    assert all(a.status == ApplicationStatus.SCORED for a in ev["applications"])


def test_a_raised_quota_raises_the_capacity(db):
    ev = evaluation_call(3, projects=2, quota=2)
    quota = db.session.scalar(sa.select(Quota).where(Quota.round_id == ev["call"].round_id))
    quota.redistributed_in = 1  # e.g. another municipality's unused quota redistributed to this one
    db.session.flush()
    assert decisions.funding_capacity(ev["call"]) == 3
    score_all(ev, [3, 2, 2])
    assert [r.proposal for r in consolidate(ev).values()] == ["funded"] * 3


def test_projects_funded_in_another_call_of_the_round_lower_the_capacity(db):
    ev = evaluation_call(3, projects=2, quota=3)
    call = ev["call"]
    other = open_call(municipality(), round=call.round, projects=2)
    assert decisions.funding_capacity(call) == 2
    for _ in range(2):
        application, _user = submitted_application(other)
        application.status = ApplicationStatus.FUNDED
    db.session.flush()
    assert decisions.funding_capacity(call) == 1
    score_all(ev, [3, 2, 2])
    assert [r.proposal for r in consolidate(ev).values()] == ["funded", "reserve", "reserve"]


# --- the quorum ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("voting", "needed"), [(3, 3), (4, 3), (5, 4), (6, 4), (9, 6)])
def test_quorum_needed(voting, needed):
    assert rules.quorum_needed(voting) == needed


def test_a_member_with_a_missing_sheet_does_not_count(db):
    ev = evaluation_call(2, voting=4)
    first, second, third, fourth = ev["committee"]["members"]
    for member in (first, second):
        for application in ev["applications"]:
            score(member, application, 2)
    score(third, ev["applications"][0], 2)  # the second sheet is missing
    score(fourth, ev["applications"][0], 2)
    score(fourth, ev["applications"][1], 2, submit=False)  # a draft is not submitted
    q = decisions.quorum(ev["call"])
    assert (q.voting, q.scored, q.needed, q.reached) == (4, 2, 3, False)
    problems = decisions.consolidation_problems(ev["call"])
    assert any("No quorum: 2 of 4" in p for p in problems)
    with pytest.raises(WorkflowError):
        decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    assert queries.results(ev["call"].id) == []

    score(third, ev["applications"][1], 2)
    assert decisions.quorum(ev["call"]).reached  # 3 of 4
    assert decisions.consolidation_problems(ev["call"]) == []


def test_six_members_need_four(db):
    ev = evaluation_call(1, voting=6)
    for member in ev["committee"]["members"][:3]:
        score(member, ev["applications"][0], 2)
    assert not decisions.quorum(ev["call"]).reached
    score(ev["committee"]["members"][3], ev["applications"][0], 2)
    assert decisions.quorum(ev["call"]).reached


def test_a_recusal_counts_as_done_but_each_application_needs_two_scores(db):
    ev = evaluation_call(2)
    members = ev["committee"]["members"]
    target = ev["applications"][1]
    for member in members[1:]:
        db.session.add(
            ConflictDeclaration(
                member_id=member.id, application_id=target.id, recused=True, reason="Radinieks"
            )
        )
    db.session.flush()
    for member in members:
        score(member, ev["applications"][0], 2)
    score(members[0], target, 2)
    assert decisions.quorum(ev["call"]).reached
    problems = decisions.consolidation_problems(ev["call"])
    assert len(problems) == 1 and "fewer than 2 submitted scores" in problems[0]
    with pytest.raises(WorkflowError):
        decisions.consolidate_call(ev["call"], actor=ev["coordinator"])


def test_consolidation_waits_for_every_check(db):
    ev = evaluation_call(3)
    waiting = ev["applications"].pop()
    waiting.status = ApplicationStatus.SUBMITTED  # its administrative check is not finished
    db.session.flush()
    score_all(ev, [2, 2])
    problems = decisions.consolidation_problems(ev["call"])
    assert len(problems) == 1 and "administrative check" in problems[0]
    with pytest.raises(WorkflowError):
        decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    waiting.status = ApplicationStatus.REJECTED
    db.session.flush()
    assert decisions.consolidation_problems(ev["call"]) == []


def test_only_the_municipalitys_coordinator_consolidates(db):
    ev = evaluation_call(2)
    score_all(ev, [2, 2])
    with pytest.raises(TransitionDenied):
        decisions.consolidate_call(ev["call"], actor=coordinator(municipality("0044000")))
    with pytest.raises(TransitionDenied):
        decisions.consolidate_call(ev["call"], actor=ev["committee"]["chair"].user)


# --- the decision ----------------------------------------------------------------------------------


@pytest.fixture()
def scored():
    """Three passing applications, two places: funded, funded, reserve (comments name the application)."""
    ev = evaluation_call(3, projects=2, quota=2)
    score_all(ev, [3, 2, 2])
    ev["results"] = consolidate(ev)
    return ev


def test_the_decision_follows_the_proposal_and_tells_every_applicant_their_own_result(db, scored):
    ev = scored
    decision = decide(ev)
    call = ev["call"]
    assert call.status == CallStatus.DECIDED
    assert [a.status for a in ev["applications"]] == ["funded", "funded", "reserve"]
    assert [ev["results"][a.id].decision for a in ev["applications"]] == ["funded", "funded", "reserve"]
    assert decision.number == "12" and decision.file.filename == "lēmums.pdf"
    protocol = db.session.get(storage.StoredFile, decision.protocol_file_id)
    assert decision.protocol_sha256 == sha256(storage.read_file(protocol))

    mails = result_mails()
    assert sorted(m.recipient for m in mails) == sorted(u.email for u in ev["applicants"])
    for application, user in zip(ev["applications"], ev["applicants"], strict=True):
        (mail,) = [m for m in mails if m.recipient == user.email]
        assert f"Komentārs {application.id}" in mail.body_text
        others = [a for a in ev["applications"] if a.id != application.id]
        assert all(f"Komentārs {a.id}" not in mail.body_text for a in others)
        assert "Member 1" in mail.body_text and "Member 3" in mail.body_text
        for member in ev["committee"]["members"]:
            assert member.user.full_name not in mail.body_text


def test_a_deviation_needs_a_written_reason(db, scored):
    ev = scored
    third = ev["applications"][2]
    second = ev["applications"][1]
    with pytest.raises(WorkflowError) as refused:
        decide(ev, {second.id: ("reserve", "  ")})
    assert refused.value.field == f"reason_{second.id}"
    decide(ev, {second.id: ("reserve", "Budžets nav pamatots"), third.id: ("funded", "Labāks plāns")})
    assert second.status == ApplicationStatus.RESERVE and third.status == ApplicationStatus.FUNDED
    result = db.session.scalar(
        sa.select(EvaluationResult).where(EvaluationResult.application_id == second.id)
    )
    assert result.decision == "reserve" and result.deviation_reason == "Budžets nav pamatots"


def test_funding_beyond_the_quota_is_refused(db, scored):
    ev = scored
    third = ev["applications"][2]
    with pytest.raises(WorkflowError) as refused:
        decide(ev, {third.id: ("funded", "Arī šis ir labs")})
    assert "room for 2" in refused.value.message
    assert ev["call"].status == CallStatus.EVALUATION
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0


def test_a_failed_application_cannot_be_funded(db):
    ev = evaluation_call(2, projects=2)
    score_all(ev, [3, 1])
    consolidate(ev)
    failed = ev["applications"][1]
    with pytest.raises(WorkflowError) as refused:
        decide(ev, {failed.id: ("funded", "Tomēr atbalstīt")})
    assert refused.value.field == f"outcome_{failed.id}"
    with pytest.raises(WorkflowError):
        decide(ev, {failed.id: ("reserve", "Rezervē")})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"decided_on": "tomorrow"}, "decided_on"),
        ({"number": "  "}, "number"),
        ({"file_data": "png", "filename": "lemums.png"}, "file"),
        ({"file_data": "png", "filename": "lemums.pdf"}, "file"),
        ({"file_data": b"<html><script>alert(1)</script></html>", "filename": "lemums.pdf"}, "file"),
    ],
)
def test_the_decision_refuses_bad_facts(db, scored, changes, field):
    if changes.get("decided_on") == "tomorrow":
        changes["decided_on"] = today() + timedelta(days=1)
    if changes.get("file_data") == "png":
        changes["file_data"] = sample_png()
    with pytest.raises(WorkflowError) as refused:
        decide(scored, **changes)
    assert refused.value.field == field
    assert scored["call"].status == CallStatus.EVALUATION
    assert result_mails() == []


def test_the_decision_needs_consolidated_scores(db):
    ev = evaluation_call(2)
    score_all(ev, [2, 2])
    with pytest.raises(WorkflowError):
        decide(ev)


# --- the reserve list ------------------------------------------------------------------------------


@pytest.fixture()
def decided(scored):
    decide(scored)
    return scored


def _offers(application):
    return db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "application.offer_funding", AuditEvent.object_id == application.id
        )
    ).all()


def test_a_withdrawal_offers_the_place_to_the_best_reserve(db, decided):
    ev = decided
    funded, _second, reserve = ev["applications"]
    withdraw_application(funded, actor=ev["applicants"][0], reason="Nevaram īstenot")
    assert funded.status == ApplicationStatus.WITHDRAWN
    assert reserve.status == ApplicationStatus.FUNDED
    (event,) = _offers(reserve)
    assert event.actor_id is None and event.reason  # offered by the system, with the reason recorded
    offered = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.template == "funding_offered", OutboxMessage.recipient == ev["applicants"][2].email
        )
    ).all()
    assert len(offered) == 1


def test_the_best_ranked_reserve_goes_first(db):
    ev = evaluation_call(4, projects=2, quota=2)
    score_all(ev, [3, 3, 1, 2])  # the third fails; the fourth is the only reserve
    consolidate(ev)
    decide(ev)
    assert [a.status for a in ev["applications"]] == ["funded", "funded", "not_funded", "reserve"]
    withdraw_application(ev["applications"][0], actor=ev["applicants"][0])
    assert ev["applications"][3].status == ApplicationStatus.FUNDED
    assert ev["applications"][2].status == ApplicationStatus.NOT_FUNDED


def test_cancelling_funding_offers_the_place_too(db, decided):
    ev = decided
    funded, _second, reserve = ev["applications"]
    offered = decisions.cancel_funding(funded, "Līgums netika parakstīts laikā", actor=ev["coordinator"])
    assert offered is reserve and reserve.status == ApplicationStatus.FUNDED
    assert funded.status == ApplicationStatus.NOT_FUNDED
    assert len(_offers(reserve)) == 1
    cancelled = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "funding_cancelled")
    ).all()
    assert [m.recipient for m in cancelled] == [ev["applicants"][0].email]
    # nobody left in reserve: the next cancellation offers nothing
    assert decisions.cancel_funding(ev["applications"][1], "Atteicās", actor=ev["coordinator"]) is None


def test_no_offer_without_room_under_the_quota(db, decided):
    ev = decided
    assert decisions.offer_next_reserve(ev["call"], actor=ev["coordinator"]) is None
    assert ev["applications"][2].status == ApplicationStatus.RESERVE


def test_a_closed_round_with_carry_over_offers_nothing(db, decided):
    ev = decided
    rnd = ev["call"].round
    rnd.status, rnd.closed_at, rnd.unused_policy = "closed", utcnow(), "carry_over"
    db.session.flush()
    funded, _second, reserve = ev["applications"]
    withdraw_application(funded, actor=ev["applicants"][0])
    assert funded.status == ApplicationStatus.WITHDRAWN
    assert reserve.status == ApplicationStatus.RESERVE
    assert _offers(reserve) == []


def test_the_reserve_list_is_used_only_after_the_decision(db, scored):
    with pytest.raises(WorkflowError):
        decisions.offer_next_reserve(scored["call"], actor=scored["coordinator"])
