"""Closing a round (DESIGN §3.4): unused quota carried to the next round or redistributed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.workflow import ApplicationStatus as S
from portal.calls.workflow import CallStatus
from portal.core.audit import AuditEvent
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db as _db
from portal.programmes import dashboard as dash
from portal.programmes import services
from portal.programmes.models import Quota
from tests.factories import draft_application, municipality, national_admin, open_call

# P = 10 over 2100:3900:52000 -> Aizkraukle 1, Ropaži 2, Rīga 7
CSV = "municipality;pupils\nAizkraukles novads;2100\nRopažu novads;3900\nRīga;52000\n".encode()
AIZKRAUKLE, ROPAZI, RIGA = "0020000", "0044000", "0001000"


@pytest.fixture(autouse=True)
def _english(app):
    """The services' messages in English (the msgids), whatever the catalogue says."""
    with force_locale("en"):
        yield


@pytest.fixture()
def admin(db):
    return national_admin()


@pytest.fixture()
def programme(db):
    return services.ensure_pumpurs_programme()


def make_round(programme, admin, *, number=1, policy="carry_over", compute=True):
    rnd = services.create_round(
        programme,
        actor=admin,
        number=number,
        projects=10,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        unused_policy=policy,
    )
    if compute:
        services.import_pupil_counts(rnd, CSV, actor=admin)
        services.compute_round_quotas(rnd, actor=admin)
    rnd.status = "open"
    _db.session.flush()
    return rnd


def decided_call(rnd, code: str, *statuses: str, call_status: str = CallStatus.DECIDED):
    """A call of the municipality in the round whose applications are in the given statuses."""
    call = open_call(municipality(code), round=rnd, projects=1)
    for status in statuses:
        application, _user = draft_application(call)
        application.status = status
        application.submitted_at = utcnow()
    call.status = call_status
    if call_status == CallStatus.DRAFT:
        call.published_at = None
    _db.session.flush()
    return call


def quota_of(rnd, code: str) -> Quota | None:
    return _db.session.scalar(
        sa.select(Quota).where(Quota.round_id == rnd.id, Quota.municipality_id == municipality(code).id)
    )


def test_unused_quota_is_carried_into_the_next_round(programme, admin):
    first = make_round(programme, admin)
    second = make_round(programme, admin, number=2, compute=False)
    decided_call(first, AIZKRAUKLE, S.FUNDED)  # 1 of 1: nothing left
    decided_call(first, ROPAZI, S.CONTRACT_SIGNED, S.NOT_FUNDED, S.REJECTED)  # 1 of 2
    decided_call(first, RIGA, S.FUNDED, S.IN_PROGRESS, S.CLOSED, S.REPORT_APPROVED, S.RESERVE, S.WITHDRAWN)

    plan = services.close_round(first, actor=admin)

    assert first.status == "closed" and first.closed_at is not None
    by_code = {line.code: line for line in plan.lines}
    assert [(by_code[c].total, by_code[c].used, by_code[c].unused) for c in (AIZKRAUKLE, ROPAZI, RIGA)] == [
        (1, 1, 0),
        (2, 1, 1),
        (7, 4, 3),
    ]
    assert quota_of(second, AIZKRAUKLE) is None  # nothing to carry, no row
    ropazi, riga = quota_of(second, ROPAZI), quota_of(second, RIGA)
    assert (ropazi.quota, ropazi.carried_in, ropazi.reserved, ropazi.total) == (0, 1, Decimal("0.00"), 1)
    assert (riga.carried_in, riga.redistributed_in, riga.total) == (3, 0, 3)
    # The first round's own quotas are untouched.
    assert quota_of(first, RIGA).total == 7

    # Computing the next round's quotas keeps what was carried in; the total adds both.
    services.import_pupil_counts(second, CSV, actor=admin)
    services.compute_round_quotas(second, actor=admin)
    riga = quota_of(second, RIGA)
    assert (riga.quota, riga.carried_in, riga.total) == (7, 3, 10)
    assert riga.reserved == Decimal("32200.00")  # quota × amount: the carried-in projects are not reserved

    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.closed"))
    assert event.object_id == first.id and event.actor_id == admin.id
    after, before = event.after_data(), event.before_data()
    assert after["policy"] == "carry_over" and after["next_round"] == 2 and after["status"] == "closed"
    assert after["municipalities"][RIGA] == {"carried": 3}
    assert before["municipalities"][RIGA] == {"quota": 7, "used": 4, "unused": 3, "reserve": 1}


def test_carry_over_adds_to_what_was_there(programme, admin):
    first = make_round(programme, admin)
    second = make_round(programme, admin, number=2)
    quota_of(second, ROPAZI).carried_in = 2
    services.close_round(first, actor=admin)  # no applications at all: everything is unused
    assert [quota_of(second, c).carried_in for c in (AIZKRAUKLE, ROPAZI, RIGA)] == [1, 4, 7]


def test_carry_over_needs_the_next_round(programme, admin):
    first = make_round(programme, admin)
    make_round(programme, admin, number=3, compute=False)  # round 3 is not round 2
    with pytest.raises(WorkflowError, match="Create round 2 of the programme first"):
        services.close_round(first, actor=admin)
    assert first.status == "open" and first.closed_at is None
    assert services.plan_round_close(first).problems  # the page shows it before anyone presses


def test_carry_over_into_a_closed_round_is_refused(programme, admin):
    first = make_round(programme, admin)
    second = make_round(programme, admin, number=2)
    second.status, second.closed_at = "closed", utcnow()
    with pytest.raises(WorkflowError, match="Round 2 is already closed"):
        services.close_round(first, actor=admin)


@pytest.mark.parametrize(
    "pending", [CallStatus.DRAFT, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.EVALUATION]
)
def test_calls_waiting_for_a_decision_keep_the_round_open(programme, admin, pending):
    first = make_round(programme, admin)
    make_round(programme, admin, number=2, compute=False)
    decided_call(first, RIGA, S.FUNDED)
    decided_call(first, ROPAZI, call_status=pending)
    with pytest.raises(WorkflowError, match="1 call of this round has no funding decision yet"):
        services.close_round(first, actor=admin)
    assert first.status == "open"
    assert (
        _db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "round.closed")
        )
        == 0
    )


@pytest.mark.parametrize("done", [CallStatus.DECIDED, CallStatus.RESULTS_PUBLISHED, CallStatus.ARCHIVED])
def test_decided_calls_let_the_round_close(programme, admin, done):
    first = make_round(programme, admin)
    make_round(programme, admin, number=2, compute=False)
    decided_call(first, RIGA, S.FUNDED, call_status=done)
    services.close_round(first, actor=admin)
    assert first.status == "closed"


def test_redistribute_among_reserve_lists_never_more_than_they_hold(programme, admin):
    rnd = make_round(programme, admin, policy="redistribute")
    decided_call(rnd, AIZKRAUKLE, S.FUNDED, S.RESERVE, S.RESERVE)  # full, 2 waiting
    decided_call(rnd, ROPAZI, S.FUNDED, S.FUNDED, S.RESERVE)  # full, 1 waiting
    decided_call(rnd, RIGA, S.FUNDED, S.FUNDED, S.FUNDED)  # 4 of 7 unused, nobody waiting

    plan = services.close_round(rnd, actor=admin)

    # Pool 4; by pupils 2100:3900 -> 1.4, 2.6 -> floors 1, 2, the spare one to Ropaži (0.6) -> 1, 3.
    # Ropaži holds 1 reserve project, so 2 go round again: all to Aizkraukle, which can take only 1
    # more (it holds 2). The last place stays unallocated.
    assert {line.code: line.redistributed for line in plan.lines} == {AIZKRAUKLE: 2, ROPAZI: 1, RIGA: 0}
    assert plan.unallocated == 1
    aizkraukle, ropazi, riga = (quota_of(rnd, c) for c in (AIZKRAUKLE, ROPAZI, RIGA))
    assert (aizkraukle.redistributed_in, aizkraukle.total) == (2, 3)
    assert (ropazi.redistributed_in, ropazi.total) == (1, 3)
    assert (riga.redistributed_in, riga.total, riga.carried_in) == (0, 7, 0)
    after = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.closed")).after_data()
    assert after["policy"] == "redistribute" and after["unallocated"] == 1
    assert after["municipalities"][AIZKRAUKLE] == {"redistributed_in": 2}


def test_redistribute_own_unused_quota_first_pays_for_own_reserve(programme, admin):
    rnd = make_round(programme, admin, policy="redistribute")
    decided_call(rnd, ROPAZI, S.FUNDED, S.RESERVE, S.RESERVE)  # 1 spare place of its own, 2 waiting
    decided_call(rnd, AIZKRAUKLE, S.FUNDED, S.RESERVE)  # full, 1 waiting
    decided_call(rnd, RIGA, *[S.FUNDED] * 6)  # 1 spare place

    plan = services.close_round(rnd, actor=admin)

    # Ropaži's own spare place pays for one of its reserve projects; the pool is Rīga's 1 place, shared
    # between Ropaži (1 still waiting, 3900 pupils) and Aizkraukle (1 waiting, 2100): Ropaži.
    assert {line.code: line.redistributed for line in plan.lines} == {AIZKRAUKLE: 0, ROPAZI: 1, RIGA: 0}
    assert plan.unallocated == 0
    assert quota_of(rnd, ROPAZI).total == 3  # 1 used + 2 reserve projects it can now fund


def test_redistribute_with_nobody_waiting_keeps_everything_unallocated(programme, admin):
    rnd = make_round(programme, admin, policy="redistribute")
    plan = services.close_round(rnd, actor=admin)
    assert plan.unallocated == 10 and plan.redistributed == 0
    assert all(q.redistributed_in == 0 for q in rnd.quotas)


def test_used_and_reserve_counted_in_one_query(programme, admin):
    rnd = make_round(programme, admin)
    decided_call(rnd, RIGA, S.FUNDED, S.RESERVE)
    decided_call(rnd, RIGA, S.CONTRACT_SENT, S.RESERVE, S.SCORED)
    decided_call(rnd, ROPAZI, S.REPORT_RETURNED)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(_db.engine, "before_cursor_execute", count)
    try:
        usage = services._usage(rnd)
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert usage == {municipality(RIGA).id: (2, 2), municipality(ROPAZI).id: (1, 0)}


def test_a_closed_round_refuses_everything(programme, admin):
    first = make_round(programme, admin)
    make_round(programme, admin, number=2, compute=False)
    services.close_round(first, actor=admin)
    with pytest.raises(WorkflowError, match="already closed"):
        services.close_round(first, actor=admin)
    with pytest.raises(WorkflowError, match="round is closed"):
        services.compute_round_quotas(first, actor=admin)
    with pytest.raises(WorkflowError, match="round is closed"):
        services.override_quota(quota_of(first, RIGA), 3, reason="Pārdale", actor=admin)
    with pytest.raises(WorkflowError, match="round is closed"):
        services.import_pupil_counts(first, CSV, actor=admin)
    assert quota_of(first, RIGA).quota == 7


def test_the_dashboard_remaining_quota_counts_carried_and_redistributed(programme, admin):
    rnd = make_round(programme, admin, policy="redistribute")
    decided_call(rnd, AIZKRAUKLE, S.FUNDED, S.RESERVE, S.RESERVE)
    services.close_round(rnd, actor=admin)
    quota_of(rnd, AIZKRAUKLE).carried_in = 1
    _db.session.flush()
    row = next(r for r in dash.round_dashboard(rnd.id) if r.code == AIZKRAUKLE)
    quota = quota_of(rnd, AIZKRAUKLE)
    assert (row.quota, row.carried_in, row.redistributed_in) == (1, 1, 2)
    assert row.total_quota == quota.total == 4
    assert row.funded == 1 and row.applications == 3 and row.calls == 1
    assert row.remaining == quota.total - 1  # the funded application uses one place
    assert "redistributed_in" in [c.key for c in dash.visible_columns([row])]
    assert dash.totals([row]).total_quota == 4
