"""Batch look-ups for API lists, so a page of N rows costs the same few statements whatever N is.

`portal.public.data` decides what is published; these functions only take ids it has already returned
(published calls, funded projects of published calls) and add counts or references for them. They read
nothing personal: statuses, counts, decision numbers and dates, call ids.

`call_summaries` counts exactly as `data.call_results` does (tests/api/test_api.py compares the two);
TODO(lead): move both into portal/public/data.py (e.g. `data.call_summaries(calls)`), then use them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, RECEIVED_EXCLUDED, ApplicationStatus
from portal.evaluation.models import Decision
from portal.extensions import db

_FUNDED = {s.value for s in FUNDED_STATUSES}
_EXCLUDED = {s.value for s in RECEIVED_EXCLUDED}


@dataclass
class CallSummary:
    decision_number: str | None = None
    decision_date: date | None = None
    received: int = 0
    funded: int = 0
    reserve: int = 0
    not_funded: int = 0
    rejected: int = 0
    withdrawn: int = 0


def call_summaries(call_ids: list[int]) -> dict[int, CallSummary]:
    """Decision and application counts of each (published) call, in two statements."""
    summaries = {call_id: CallSummary() for call_id in call_ids}
    if not call_ids:
        return summaries
    for call_id, number, decided_on in db.session.execute(
        sa.select(Decision.call_id, Decision.number, Decision.decided_on).where(
            Decision.call_id.in_(call_ids)
        )
    ):
        summaries[call_id].decision_number = number
        summaries[call_id].decision_date = decided_on
    submitted = Application.submitted_at.is_not(None)
    for call_id, status, was_submitted, count in db.session.execute(
        sa.select(Application.call_id, Application.status, submitted, sa.func.count())
        .where(Application.call_id.in_(call_ids))
        .group_by(Application.call_id, Application.status, submitted)
    ):
        summary, count = summaries[call_id], int(count)
        if status == ApplicationStatus.WITHDRAWN:
            if was_submitted:
                summary.withdrawn += count
                summary.received += count
            continue
        if status in _EXCLUDED:
            continue
        summary.received += count
        if status in _FUNDED:
            summary.funded += count
        elif status == ApplicationStatus.RESERVE:
            summary.reserve += count
        elif status == ApplicationStatus.REJECTED:
            summary.rejected += count
        else:
            summary.not_funded += count
    return summaries


def call_ids_of(application_ids: list[int]) -> dict[int, int]:
    """The call of each application (funded projects returned by data.funded_projects), in one statement."""
    if not application_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Application.id, Application.call_id).where(Application.id.in_(application_ids))
        ).all()
    )
