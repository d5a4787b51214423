"""Scoring services (DESIGN §4): one draft per member × application, autosaved values 0–3 with an
optimistic lock, submission that needs every score and a comment on each 0 or 1, locking, and reopening
by the coordinator with a reason until the scores are consolidated."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.core.workflow import StatusChange, TransitionDenied, WorkflowError
from portal.evaluation.models import Score, ScoreSheet
from portal.evaluation.services import decisions, scoring
from portal.extensions import db
from tests import factories

_declare = factories.declare


@pytest.fixture()
def ev(db):
    return factories.evaluation_call(applications=2)


def _criteria(ev):
    return scoring.quality_criteria(ev["call"])


def _full(criteria, value=2, comment="Labi pamatots"):
    return {c.id: (value, comment) for c in criteria}


def _sheets(member, application) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ScoreSheet)
        .where(ScoreSheet.member_id == member.id, ScoreSheet.application_id == application.id)
    )


# --- open_sheet -----------------------------------------------------------------------------------


def test_open_sheet_creates_one_draft_per_member_and_application(ev):
    app1, app2 = ev["applications"]
    first, second = ev["committee"]["members"][:2]
    for member in (first, second):
        for application in (app1, app2):
            _declare(member, application)
    sheet = scoring.open_sheet(app1, actor=first.user)
    again = scoring.open_sheet(app1, actor=first.user)
    assert again.id == sheet.id
    assert sheet.status == "draft" and sheet.submitted_at is None
    assert {s.criterion_id for s in sheet.scores} == {c.id for c in _criteria(ev)}
    assert all(s.value is None and s.comment is None for s in sheet.scores)
    other = scoring.open_sheet(app2, actor=first.user)
    theirs = scoring.open_sheet(app1, actor=second.user)
    assert len({sheet.id, other.id, theirs.id}) == 3
    assert _sheets(first, app1) == 1 and _sheets(first, app2) == 1 and _sheets(second, app1) == 1


def test_open_sheet_is_refused_to_whoever_may_not_score(ev):
    application = ev["applications"][0]
    recused, undeclared = ev["committee"]["members"][:2]
    _declare(recused, application, recused=True)
    outsider = factories.evaluator(factories.municipality("0040000"))
    for user in (
        recused.user,
        undeclared.user,
        ev["committee"]["secretary"].user,
        ev["coordinator"],
        outsider,
    ):
        with pytest.raises(TransitionDenied):
            scoring.open_sheet(application, actor=user)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 0


# --- save_scores ----------------------------------------------------------------------------------


def test_save_stores_values_and_comments_and_bumps_the_version(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    sheet = scoring.open_sheet(application, actor=member.user)
    version = sheet.lock_version
    scoring.save_scores(
        sheet, {criteria[0].id: ("3", "  Izcili  "), criteria[1].id: (None, "")}, actor=member.user
    )
    assert sheet.lock_version == version + 1
    by_criterion = {s.criterion_id: s for s in sheet.scores}
    assert by_criterion[criteria[0].id].value == 3
    assert by_criterion[criteria[0].id].comment == "Izcili"
    assert by_criterion[criteria[1].id].value is None and by_criterion[criteria[1].id].comment is None


def test_save_ignores_criteria_of_other_kinds_and_other_calls(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    sheet = scoring.open_sheet(application, actor=member.user)
    administrative = next(c for c in ev["call"].criteria if c.kind != "quality")
    other_call = factories.open_call(factories.municipality("0040000"))
    foreign = scoring.quality_criteria(other_call)[0]
    scoring.save_scores(
        sheet, {administrative.id: (3, "x"), foreign.id: (3, "y"), 999999: (1, "z")}, actor=member.user
    )
    stored = db.session.scalars(sa.select(Score).where(Score.sheet_id == sheet.id)).all()
    assert {s.criterion_id for s in stored} == {c.id for c in _criteria(ev)}
    assert all(s.value is None and s.comment is None for s in stored)


@pytest.mark.parametrize(
    "value",
    [
        4,
        -1,
        "7",
        "x",
        "1.5",
        2.5,
    ],
)
def test_values_outside_0_to_3_are_refused(ev, value):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criterion = _criteria(ev)[0]
    sheet = scoring.open_sheet(application, actor=member.user)
    scoring.save_scores(sheet, {criterion.id: (1, "Vāji")}, actor=member.user)
    db.session.commit()  # the outer test transaction still rolls everything back
    with pytest.raises(WorkflowError):
        scoring.save_scores(sheet, {criterion.id: (value, "Vāji")}, actor=member.user)
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(Score.value).where(Score.sheet_id == sheet.id, Score.criterion_id == criterion.id)
        )
        == 1
    )


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criterion = _criteria(ev)[0]
    sheet = scoring.open_sheet(application, actor=member.user)
    loaded = sheet.lock_version
    scoring.save_scores(sheet, {criterion.id: (2, None)}, actor=member.user, expected_version=loaded)
    with pytest.raises(scoring.SheetConflict):
        scoring.save_scores(
            sheet, {criterion.id: (0, "Cits logs")}, actor=member.user, expected_version=loaded
        )
    assert next(s for s in sheet.scores if s.criterion_id == criterion.id).value == 2


def test_only_the_member_saves_their_sheet(ev):
    application = ev["applications"][0]
    owner, other = ev["committee"]["members"][:2]
    _declare(owner, application)
    _declare(other, application)
    sheet = scoring.open_sheet(application, actor=owner.user)
    for actor in (other.user, ev["coordinator"]):
        with pytest.raises(TransitionDenied):
            scoring.save_scores(sheet, _full(_criteria(ev)), actor=actor)


# --- submit_scores --------------------------------------------------------------------------------


def test_submit_needs_every_score(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    sheet = scoring.open_sheet(application, actor=member.user)
    scoring.save_scores(sheet, {criteria[0].id: (3, None)}, actor=member.user)
    with pytest.raises(scoring.ScoresIncomplete) as refused:
        scoring.submit_scores(sheet, actor=member.user)
    assert set(refused.value.problems) == {f"score_{c.id}" for c in criteria[1:]}
    assert sheet.status == "draft" and sheet.submitted_at is None


@pytest.mark.parametrize("low", [0, 1])
def test_submit_needs_a_comment_on_each_0_or_1(ev, low):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    _declare(member, application)
    criteria = _criteria(ev)
    sheet = scoring.open_sheet(application, actor=member.user)
    values = {c.id: (2, None) for c in criteria}
    values[criteria[1].id] = (low, "   ")
    scoring.save_scores(sheet, values, actor=member.user)
    with pytest.raises(scoring.ScoresIncomplete) as refused:
        scoring.submit_scores(sheet, actor=member.user)
    assert set(refused.value.problems) == {f"comment_{criteria[1].id}"}
    values[criteria[1].id] = (low, "Aktivitātes nav saistītas ar mērķi")
    scoring.save_scores(sheet, values, actor=member.user)
    scoring.submit_scores(sheet, actor=member.user)
    assert sheet.status == "submitted" and sheet.submitted_at is not None


def test_a_submitted_sheet_is_locked(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2)
    assert sheet.is_submitted
    with pytest.raises(WorkflowError):
        scoring.save_scores(sheet, _full(_criteria(ev), 3), actor=member.user)
    with pytest.raises(WorkflowError):
        scoring.submit_scores(sheet, actor=member.user)
    assert {s.value for s in sheet.scores} == {2}
    history = db.session.scalars(
        sa.select(StatusChange).where(
            StatusChange.object_type == "score_sheet", StatusChange.object_id == sheet.id
        )
    ).all()
    assert [(h.action, h.to_status) for h in history] == [("submit", "submitted")]


# --- reopen_sheet ---------------------------------------------------------------------------------


def test_the_coordinator_reopens_a_submitted_sheet_with_a_reason(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2)
    with pytest.raises(WorkflowError) as no_reason:
        scoring.reopen_sheet(sheet, "  ", actor=ev["coordinator"])
    assert no_reason.value.field == "reason"
    assert sheet.is_submitted
    scoring.reopen_sheet(sheet, "Kļūda 2. kritērijā", actor=ev["coordinator"])
    assert sheet.status == "draft" and sheet.submitted_at is None
    change = db.session.scalars(
        sa.select(StatusChange).where(
            StatusChange.object_type == "score_sheet",
            StatusChange.object_id == sheet.id,
            StatusChange.action == "reopen",
        )
    ).one()
    assert change.reason == "Kļūda 2. kritērijā" and change.actor_id == ev["coordinator"].id
    # The member may change and submit again.
    scoring.save_scores(sheet, _full(_criteria(ev), 3), actor=member.user)
    scoring.submit_scores(sheet, actor=member.user)
    assert sheet.is_submitted


def test_only_the_municipality_coordinator_reopens(ev):
    application = ev["applications"][0]
    member, other = ev["committee"]["members"][:2]
    sheet = factories.score(member, application, 2)
    foreign = factories.coordinator(factories.municipality("0040000"))
    for actor in (member.user, other.user, ev["committee"]["secretary"].user, foreign):
        with pytest.raises(TransitionDenied):
            scoring.reopen_sheet(sheet, "Kļūda", actor=actor)
    assert sheet.is_submitted


def test_a_draft_cannot_be_reopened(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2, submit=False)
    with pytest.raises(WorkflowError):
        scoring.reopen_sheet(sheet, "Kļūda", actor=ev["coordinator"])


def test_no_reopening_after_consolidation(db):
    ev = factories.evaluation_call(applications=1)
    application = ev["applications"][0]
    sheets = [factories.score(m, application, 2) for m in ev["committee"]["members"]]
    decisions.consolidate_call(ev["call"], actor=ev["coordinator"])
    assert application.status == "scored"
    with pytest.raises(WorkflowError):
        scoring.reopen_sheet(sheets[0], "Par vēlu", actor=ev["coordinator"])
    assert sheets[0].is_submitted


def test_no_saving_once_the_call_is_decided(ev):
    application = ev["applications"][0]
    member = ev["committee"]["chair"]
    sheet = factories.score(member, application, 2, submit=False)
    ev["call"].status = "decided"
    application.status = "funded"
    db.session.flush()
    with pytest.raises(WorkflowError):
        scoring.save_scores(sheet, _full(_criteria(ev), 3), actor=member.user)
    with pytest.raises(WorkflowError):
        scoring.submit_scores(sheet, actor=member.user)
    assert {s.value for s in sheet.scores} == {2}


def test_submitted_scores_are_audited_once_and_a_reopened_member_is_told_why(ev):
    import sqlalchemy as sa

    from portal.core.audit import AuditEvent
    from portal.core.mail import OutboxMessage
    from portal.extensions import db

    member, application = ev["committee"]["members"][1], ev["applications"][0]
    sheet = factories.score(member, application, 2, submit=False)
    scoring.save_scores(sheet, _full(_criteria(ev), value=3), actor=member.user)
    scoring.submit_scores(sheet, actor=member.user)
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "score_sheet.scores", AuditEvent.object_id == sheet.id
        )
    ).all()
    assert len(events) == 1
    assert {v["value"] for v in events[0].after_data().values()} == {3}

    scoring.reopen_sheet(sheet, "Kļūda 2. kritērijā", actor=ev["coordinator"])
    mail = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "scores_reopened")
    ).one()
    assert mail.recipient == member.user.email
    assert "Kļūda 2. kritērijā" in mail.body_text
