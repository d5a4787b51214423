"""Read-only queries behind the call pages: each page's lists in a fixed number of statements."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.applications.models import Application
from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes.dashboard import latvian_key
from portal.programmes.models import Programme, Quota, Round

STATUS_ORDER = list(CallStatus)


@dataclass(frozen=True)
class Counts:
    """How many applications a call has, by what staff may know while they are sealed."""

    drafts: int = 0
    submitted: int = 0  # every application that was sent and not withdrawn, whatever its later status
    withdrawn: int = 0

    @classmethod
    def of(cls, by_status: Counter) -> Counts:
        drafts = by_status.get(ApplicationStatus.DRAFT, 0)
        withdrawn = by_status.get(ApplicationStatus.WITHDRAWN, 0)
        return cls(drafts=drafts, submitted=sum(by_status.values()) - drafts - withdrawn, withdrawn=withdrawn)


def application_counts(call_ids: list[int]) -> dict[int, Counts]:
    """Count the applications of the calls by status in one aggregate query (no row is read)."""
    if not call_ids:
        return {}
    rows = db.session.execute(
        sa.select(Application.call_id, Application.status, sa.func.count())
        .where(Application.call_id.in_(call_ids))
        .group_by(Application.call_id, Application.status)
    ).all()
    by_call: dict[int, Counter] = {call_id: Counter() for call_id in call_ids}
    for call_id, status, count in rows:
        by_call[call_id][status] += count
    return {call_id: Counts.of(counter) for call_id, counter in by_call.items()}


@dataclass(frozen=True)
class QuotaLine:
    """A municipality's quota in a round and how much of it its calls already use."""

    municipality: Municipality
    round: Round
    total: int
    used: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def key(self) -> str:
        """The value of the round choice on the new-call form."""
        return f"{self.municipality.id}-{self.round.id}"


def quota_lines(municipality_ids: set[int], *, open_only: bool = False) -> list[QuotaLine]:
    """The municipalities' quotas per round (newest first) with the projects their calls use.

    With open_only, only rounds a new call can go into: of active programmes and not closed.
    """
    if not municipality_ids:
        return []
    query = (
        sa.select(Quota, Round, Municipality)
        .join(Round, Quota.round_id == Round.id)
        .join(Programme, Round.programme_id == Programme.id)
        .join(Municipality, Quota.municipality_id == Municipality.id)
        .options(selectinload(Round.programme))
        .where(Quota.municipality_id.in_(municipality_ids))
        .order_by(Round.period_start.desc(), Round.id.desc(), Municipality.name)
    )
    if open_only:
        query = query.where(Programme.is_active.is_(True), Round.status != "closed")
    rows = db.session.execute(query).all()
    used = dict(
        (
            ((r, m), int(n))
            for r, m, n in db.session.execute(
                sa.select(
                    Call.round_id, Call.municipality_id, sa.func.coalesce(sa.func.sum(Call.projects), 0)
                )
                .where(Call.municipality_id.in_(municipality_ids))
                .group_by(Call.round_id, Call.municipality_id)
            ).all()
        )
    )
    return [
        QuotaLine(municipality=m, round=rnd, total=q.total, used=used.get((rnd.id, m.id), 0))
        for q, rnd, m in rows
    ]


def managed_calls(municipality_ids: set[int]) -> list[Call]:
    """The calls of the municipalities, by status (drafts first) and then by closing time."""
    if not municipality_ids:
        return []
    calls = db.session.scalars(
        sa.select(Call)
        .options(selectinload(Call.municipality), selectinload(Call.round).selectinload(Round.programme))
        .where(Call.municipality_id.in_(municipality_ids))
        .order_by(Call.closes_at.desc(), Call.id.desc())
    ).all()
    return sorted(calls, key=lambda c: STATUS_ORDER.index(CallStatus(c.status)))


def _taking_applications(now: datetime, municipality_id: int | None, programme_id: int | None):
    """The condition of published calls that still take applications (open now or opening later)."""
    taking = sa.and_(Call.status == CallStatus.OPEN, Call.closes_at >= now)
    if municipality_id is not None:
        taking = sa.and_(taking, Call.municipality_id == municipality_id)
    if programme_id is not None:
        taking = sa.and_(taking, Call.programme_id == programme_id)
    return taking


def open_calls(
    now: datetime,
    *,
    municipality_id: int | None = None,
    programme_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Call], int]:
    """Return a page of the calls open now, soonest deadline first, and how many are open."""
    is_open = sa.and_(_taking_applications(now, municipality_id, programme_id), Call.opens_at <= now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Call).where(is_open))
    calls = db.session.scalars(
        sa.select(Call)
        .options(selectinload(Call.municipality), selectinload(Call.programme))
        .where(is_open)
        .order_by(Call.closes_at, Call.id)
        .offset(offset)
        .limit(limit)
    )
    return list(calls), total


def upcoming_calls(
    now: datetime, *, municipality_id: int | None = None, programme_id: int | None = None
) -> list[Call]:
    """Return the published calls that open later, soonest first (all of them: a call opens within
    weeks of being published, so they are few)."""
    return list(
        db.session.scalars(
            sa.select(Call)
            .options(selectinload(Call.municipality), selectinload(Call.programme))
            .where(_taking_applications(now, municipality_id, programme_id), Call.opens_at > now)
            .order_by(Call.opens_at, Call.id)
        )
    )


def feed_calls(limit: int = 50) -> list[Call]:
    """The most recently published calls (never drafts), newest first."""
    return list(
        db.session.scalars(
            sa.select(Call)
            .options(selectinload(Call.municipality), selectinload(Call.programme))
            .where(Call.status != CallStatus.DRAFT, Call.published_at.is_not(None))
            .order_by(Call.published_at.desc(), Call.id.desc())
            .limit(limit)
        )
    )


def filter_choices() -> tuple[list[Municipality], list[Programme]]:
    """Municipalities and programmes that have published calls (what the public filters can pick)."""
    published = sa.select(Call.municipality_id).where(Call.status != CallStatus.DRAFT)
    municipalities = sorted(
        db.session.scalars(sa.select(Municipality).where(Municipality.id.in_(published))),
        key=lambda m: latvian_key(m.name),
    )
    programmes = db.session.scalars(
        sa.select(Programme)
        .where(Programme.id.in_(sa.select(Call.programme_id).where(Call.status != CallStatus.DRAFT)))
        .order_by(Programme.name_lv)
    ).all()
    return municipalities, list(programmes)
