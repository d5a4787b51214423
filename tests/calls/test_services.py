"""Call use cases at their boundaries: quota ceiling, call window, changes after publication, closing
at the instant (DST days included), signed regulations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.calls import services
from portal.calls.services import CallData
from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.timeutil import riga_instant, utcnow
from portal.core.workflow import StatusChange, TransitionDenied, WorkflowError
from portal.extensions import db
from tests.calls.conftest import call_data, window
from tests.factories import coordinator, draft_application, open_call, round_with_quota


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _mail(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


# --- creating within the quota --------------------------------------------------------------------


def test_a_new_call_copies_the_programme_criteria_and_amount(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    assert call.status == CallStatus.DRAFT
    assert call.amount == rnd.programme.amount
    assert [c.code for c in call.criteria] == [t.code for t in rnd.programme.criteria]
    assert _events("call.created")


def test_the_quota_ceiling_at_its_boundary(rnd, muni, coord):
    services.create_call(rnd, muni, call_data(projects=1), actor=coord)
    assert services.remaining_quota(rnd, muni.id) == 2
    with pytest.raises(WorkflowError) as refused:
        services.create_call(rnd, muni, call_data(projects=3), actor=coord)
    assert refused.value.field == "projects"
    assert "2" in refused.value.message
    services.create_call(rnd, muni, call_data(projects=2), actor=coord)
    assert services.remaining_quota(rnd, muni.id) == 0


def test_editing_a_call_counts_its_own_projects_once(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(projects=3), actor=coord)
    services.update_call(call, CallData.of(call, title="Cits nosaukums"), actor=coord)
    with pytest.raises(WorkflowError):
        services.update_call(call, CallData.of(call, projects=4), actor=coord)


def test_no_quota_in_the_round_means_no_call(muni, other_muni, coord):
    rnd = round_with_quota(other_muni, quota=5)
    with pytest.raises(WorkflowError) as refused:
        services.create_call(rnd, muni, call_data(), actor=coord)
    assert refused.value.field == "projects"


def test_the_window_of_29_days_23_59_is_refused_and_30_days_accepted(rnd, muni, coord):
    opens = date(2026, 4, 1)
    short = window(opens, 29, time(23, 59, 0))  # 29 days 23 h 59 min
    with pytest.raises(WorkflowError) as refused:
        services.create_call(rnd, muni, call_data(**short), actor=coord)
    assert refused.value.field == "closes_at"
    exact = window(opens, 30, time(0, 0))  # 30 days to the second
    assert services.create_call(rnd, muni, call_data(**exact), actor=coord).id


def test_a_call_must_close_after_it_opens(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    with pytest.raises(WorkflowError) as refused:
        earlier = CallData.of(call, closes_at=call.opens_at - timedelta(days=1))
        services.update_call(call, earlier, actor=coord)
    assert refused.value.field == "closes_at"  # the rule speaks before the database's CHECK


def test_only_the_municipality_coordinator_manages_its_calls(rnd, muni, other_muni, coord):
    stranger = coordinator(other_muni)
    with pytest.raises(TransitionDenied):
        services.create_call(rnd, muni, call_data(), actor=stranger)
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    with pytest.raises(TransitionDenied):
        services.update_call(call, CallData.of(call, title="X"), actor=stranger)
    with pytest.raises(TransitionDenied):
        services.publish_call(call, actor=stranger)
    assert call.status == CallStatus.DRAFT


# --- publication ----------------------------------------------------------------------------------


def test_publishing_generates_the_regulations(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    services.publish_call(call, actor=coord)
    assert call.status == CallStatus.OPEN
    assert call.published_at is not None
    assert call.regulations_file_id is not None
    assert _events("call.publish") and _events("call.regulations_generated")


def test_a_call_published_too_late_for_its_window_is_refused(rnd, muni, coord):
    opens = date(2026, 4, 1)
    call = services.create_call(rnd, muni, call_data(**window(opens, 30)), actor=coord)
    with pytest.raises(WorkflowError) as refused:
        services.publish_call(call, actor=coord, now=riga_instant(date(2026, 4, 2), time(12, 0)))
    assert refused.value.field == "closes_at"
    assert call.status == CallStatus.DRAFT


def test_publishing_twice_is_refused(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    services.publish_call(call, actor=coord)
    with pytest.raises(WorkflowError):
        services.publish_call(call, actor=coord)


# --- changes after publication ----------------------------------------------------------------------


@pytest.fixture()
def published(muni, coord):
    return open_call(muni, days_left=20)


def test_a_deadline_change_after_publication_needs_a_reason(published, coord):
    later = published.closes_at + timedelta(days=7)
    with pytest.raises(WorkflowError) as refused:
        services.update_call(published, CallData.of(published, closes_at=later), actor=coord)
    assert refused.value.field == "reason"
    with pytest.raises(WorkflowError):
        services.update_call(published, CallData.of(published, closes_at=later), actor=coord, reason="   ")


def test_a_deadline_change_with_a_reason_is_audited_and_e_mailed_to_drafters(published, coord):
    application, drafter = draft_application(published)
    later = published.closes_at + timedelta(days=7)
    services.update_call(published, CallData.of(published, closes_at=later), actor=coord, reason="Svētku dēļ")
    assert published.closes_at == later
    (event,) = _events("call.changed")
    assert event.reason == "Svētku dēļ"
    assert "closes_at" in event.after_data()
    (message,) = _mail("call_changed")
    assert message.recipient == drafter.email
    assert "Svētku dēļ" in message.body_text


def test_a_change_nobody_relies_on_needs_no_reason_and_mails_nobody(published, coord):
    draft_application(published)
    services.update_call(published, CallData.of(published, contact_phone="+371 29999999"), actor=coord)
    assert not _mail("call_changed")


def test_a_published_call_opening_cannot_move(published, coord):
    with pytest.raises(WorkflowError) as refused:
        services.update_call(
            published,
            CallData.of(published, opens_at=published.opens_at + timedelta(hours=1)),
            actor=coord,
            reason="x",
        )
    assert refused.value.field == "opens_at"


def test_drafters_of_submitted_or_other_calls_are_not_told(published, coord, muni):
    other = open_call(muni, days_left=25)
    draft_application(other)
    services.update_call(
        published, CallData.of(published, projects=published.projects - 1), actor=coord, reason="Mazāk"
    )
    assert not _mail("call_changed")


def test_a_criterion_change_after_publication_needs_a_reason(published, coord):
    draft_application(published)
    criterion = next(c for c in published.criteria if c.kind == "quality")
    with pytest.raises(WorkflowError) as refused:
        services.update_criterion(criterion, actor=coord, weight=criterion.weight + 1)
    assert refused.value.field == "reason"
    services.update_criterion(criterion, actor=coord, reason="Precizēts svars", weight=criterion.weight + 1)
    assert _events("call.criterion_changed")[0].reason == "Precizēts svars"
    assert len(_mail("call_changed")) == 1


def test_a_draft_criterion_changes_freely(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    criterion = next(c for c in call.criteria if c.kind == "quality")
    services.update_criterion(criterion, actor=coord, title_en="Relevance", essential=True)
    assert criterion.title_en == "Relevance" and criterion.essential is True


def test_a_closed_call_cannot_change(published, coord):
    services.close_call(published, actor=coord, reason="Kvota izlietota")
    with pytest.raises(WorkflowError):
        services.update_call(published, CallData.of(published, title="X"), actor=coord, reason="x")


# --- closing --------------------------------------------------------------------------------------


def test_closing_early_needs_a_reason_and_tells_drafters(published, coord):
    _application, drafter = draft_application(published)
    with pytest.raises(WorkflowError) as refused:
        services.close_call(published, actor=coord, reason=" ")
    assert refused.value.field == "reason"
    services.close_call(published, actor=coord, reason="Konkurss atcelts")
    assert published.status == CallStatus.CLOSED and published.closed_at is not None
    (change,) = db.session.scalars(
        sa.select(StatusChange).where(
            StatusChange.object_type == "call", StatusChange.object_id == published.id
        )
    )
    assert change.reason == "Konkurss atcelts" and change.actor_id == coord.id
    (message,) = _mail("call_closed_early")
    assert message.recipient == drafter.email


def _call_closing_at(muni, closes_at: datetime, status=CallStatus.OPEN):
    call = open_call(muni, round=round_with_quota(muni, quota=5))
    call.opens_at = closes_at - timedelta(days=40)
    call.published_at = call.opens_at
    call.closes_at = closes_at
    if status == CallStatus.DRAFT:
        call.status, call.published_at = status, None
    db.session.flush()
    return call


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 31)])
def test_close_due_closes_at_the_instant_on_dst_days_too(muni, day):
    deadline = riga_instant(day)  # 23:59:59 Riga time
    due = _call_closing_at(muni, deadline)
    later = _call_closing_at(muni, deadline + timedelta(days=1))
    with time_machine.travel(deadline, tick=False):
        assert due.is_accepting(utcnow())
        assert services.close_due_calls() == []
        assert due.status == CallStatus.OPEN
    with time_machine.travel(riga_instant(day + timedelta(days=1), time(0, 0)), tick=False):
        assert not due.is_accepting(utcnow())
        assert services.close_due_calls() == [due]
    assert due.status == CallStatus.CLOSED
    assert later.status == CallStatus.OPEN


def test_the_riga_deadline_is_the_right_utc_instant_around_dst():
    assert riga_instant(date(2026, 3, 29)) == datetime(2026, 3, 29, 20, 59, 59, tzinfo=UTC)  # EEST, +3
    assert riga_instant(date(2026, 10, 25)) == datetime(2026, 10, 25, 21, 59, 59, tzinfo=UTC)  # EET, +2


def test_close_due_leaves_drafts_alone_and_is_one_select_when_nothing_is_due(muni, app):
    from tests.helpers import count_queries

    draft = _call_closing_at(muni, utcnow() - timedelta(days=1), status=CallStatus.DRAFT)
    with count_queries(db.engine) as statements:
        assert services.close_due_calls() == []
    assert len([s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]) == 1
    assert draft.status == CallStatus.DRAFT


def test_close_due_is_audited_as_the_system(muni):
    call = _call_closing_at(muni, utcnow() - timedelta(seconds=1))
    services.close_due_calls()
    (event,) = _events("call.close")
    assert event.actor_id is None and event.object_id == call.id


def test_the_cli_prints_how_many_were_closed(app, muni):
    from portal.calls.cli import calls_cli

    _call_closing_at(muni, utcnow() - timedelta(minutes=1))
    result = app.test_cli_runner().invoke(calls_cli, ["close-due"])
    assert result.exit_code == 0, result.output
    assert "closed 1" in result.output


# --- signed regulations -----------------------------------------------------------------------------


def test_the_signed_regulations_must_be_a_pdf_of_at_most_10_mb(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    with pytest.raises(WorkflowError) as refused:
        services.upload_signed_regulations(call, b"MZ\x90\x00 not a pdf", "nolikums.pdf", actor=coord)
    assert refused.value.field == "file"
    too_big = b"%PDF-1.7\n" + b"0" * (services.REGULATIONS_MAX_BYTES - 8)
    with pytest.raises(WorkflowError):
        services.upload_signed_regulations(call, too_big, "nolikums.pdf", actor=coord)
    services.upload_signed_regulations(call, b"%PDF-1.7\n%%EOF\n", "../../etc/passwd.pdf", actor=coord)
    assert call.regulations_signed_file_id is not None
    services.publish_call(call, actor=coord)
    assert call.regulations_file_id is None  # the signed file is what applicants get
