"""What the public may see (issue 6), in one place: the public pages, the feeds, the CSV downloads and the
JSON API all read through these functions, so nothing unpublished can leak through one of them alone.

Published means: the call's results were published by its municipality (status results_published or
archived). Only organisation names, titles, periods, amounts, averages and counts leave this module —
never contact persons, e-mail addresses, phone numbers, IBANs, scores by member or comments; and
counts of participants at risk of early school leaving from 1 to 4 are shown as "<5" (QUALITY F3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, RECEIVED_EXCLUDED, ApplicationStatus
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.evaluation.models import Decision, EvaluationResult
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes.models import Programme, Round

PUBLISHED = (CallStatus.RESULTS_PUBLISHED.value, CallStatus.ARCHIVED.value)
FUNDED = [s.value for s in FUNDED_STATUSES]
SMALL = "<5"


def suppress(count: int | None) -> int | str | None:
    """Return the count for the public: 1–4 become "<5" (a small group could be recognised)."""
    if count is None:
        return None
    return SMALL if 1 <= count <= 4 else count


def risk_share(total: int | None, risk: int | None) -> Decimal | None:
    """The PMP-risk share in percent (two decimals, rounded down), or None without participants — and
    None where the count itself is suppressed, since share × total would give it away."""
    if not total or risk is None or 1 <= risk <= 4:
        return None
    return (Decimal(risk) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def is_published(call: Call) -> bool:
    return call.status in PUBLISHED


# --- published calls and their results --------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    municipality: str | None = None  # ATVK code
    programme: str | None = None  # programme code
    round: int | None = None  # round number
    status: str | None = None  # an application status (funded register only)
    year: int | None = None  # the year of the decision


def _published_calls_query(filters: Filters, *, municipality: bool = False):
    """Calls with published results and a decision, filtered. Municipality, Programme and Round are not
    joined (the filters read them in subqueries), only the municipality when the caller asks
    (`municipality=True`, to read it with contains_eager): every call has all three, so the rows are the
    same, and at national scale PostgreSQL spent ~5 times longer planning a nine-table join than running
    it (issue 9)."""
    query = sa.select(Call).join(Decision, Decision.call_id == Call.id).where(Call.status.in_(PUBLISHED))
    if municipality:
        query = query.join(Municipality, Call.municipality_id == Municipality.id)
    if filters.municipality:  # codes are unique: a subquery run once, not one more table to plan
        query = query.where(
            Call.municipality_id
            == sa.select(Municipality.id).where(Municipality.code == filters.municipality).scalar_subquery()
        )
    if filters.programme:
        query = query.where(
            Call.programme_id
            == sa.select(Programme.id).where(Programme.code == filters.programme).scalar_subquery()
        )
    if filters.round:
        query = query.where(Call.round_id.in_(sa.select(Round.id).where(Round.number == filters.round)))
    if filters.year:
        query = query.where(
            Decision.decided_on >= date(filters.year, 1, 1), Decision.decided_on <= date(filters.year, 12, 31)
        )
    return query


def published_calls(
    filters: Filters = Filters(), *, offset: int = 0, limit: int = 50
) -> tuple[list[Call], int]:
    """Return a page of calls whose results are published (newest decision first) and their total count.
    The count joins only what the filters need; the page joins each call's municipality, programme and
    round once and reads them from those joins (contains_eager: no second join of the same table)."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(_published_calls_query(filters).subquery())
    )
    calls = db.session.scalars(
        _published_calls_query(filters, municipality=True)
        .join(Programme, Call.programme_id == Programme.id)
        .join(Round, Call.round_id == Round.id)
        .options(
            contains_eager(Call.municipality), contains_eager(Call.programme), contains_eager(Call.round)
        )
        .order_by(Decision.decided_on.desc(), Call.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(calls), int(total)


def decision_of(call: Call) -> Decision | None:
    return db.session.scalar(sa.select(Decision).where(Decision.call_id == call.id))


@dataclass
class CallResults:
    call: Call
    decision: Decision
    received: int
    funded: list[dict]
    reserve: list[dict]
    not_funded: int
    rejected: int
    withdrawn: int


def _project_row(application: Application, result: EvaluationResult | None, call: Call) -> dict:
    return {
        "id": application.id,
        "call_id": call.id,
        "organisation": application.organisation.name,
        "title": application.title,
        "municipality": call.municipality.name,
        "municipality_code": call.municipality.code,
        "start_date": application.start_date,
        "end_date": application.end_date,
        "amount": call.amount,
        "average": result.average if result is not None else None,
        "rank": result.rank if result is not None else None,
        "status": application.status,
    }


def call_results(call: Call) -> CallResults | None:
    """Return the published results of a call (None if they are not published)."""
    if not is_published(call):
        return None
    decision = decision_of(call)
    if decision is None:
        return None
    rows = db.session.execute(
        sa.select(Application, EvaluationResult)
        .outerjoin(EvaluationResult, EvaluationResult.application_id == Application.id)
        .where(
            Application.call_id == call.id, Application.status.not_in([s.value for s in RECEIVED_EXCLUDED])
        )
        .options(joinedload(Application.organisation))
        .order_by(EvaluationResult.rank.is_(None), EvaluationResult.rank, Application.id)
    ).all()
    withdrawn = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .where(
            Application.call_id == call.id,
            Application.status == ApplicationStatus.WITHDRAWN,
            Application.submitted_at.is_not(None),
        )
    )
    funded, reserve, not_funded, rejected = [], [], 0, 0
    for application, result in rows:
        if application.status in FUNDED:
            funded.append(_project_row(application, result, call))
        elif application.status == ApplicationStatus.RESERVE:
            reserve.append(_project_row(application, result, call))
        elif application.status == ApplicationStatus.REJECTED:
            rejected += 1
        else:
            not_funded += 1
    return CallResults(
        call=call,
        decision=decision,
        received=len(rows) + int(withdrawn),
        funded=funded,
        reserve=reserve,
        not_funded=not_funded,
        rejected=rejected,
        withdrawn=int(withdrawn),
    )


# --- summaries of a page of published calls -------------------------------------------------------

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
    """Return the decision and application counts of each published call (ids from published_calls),
    in two statements however many calls there are; they count exactly as call_results() does."""
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
        if status in FUNDED:
            summary.funded += count
        elif status == ApplicationStatus.RESERVE:
            summary.reserve += count
        elif status == ApplicationStatus.REJECTED:
            summary.rejected += count
        else:
            summary.not_funded += count
    return summaries


def published_call(call_id: int) -> Call | None:
    """Return the call if its results are published (None otherwise)."""
    call = db.session.get(Call, call_id)
    return call if call is not None and is_published(call) and decision_of(call) is not None else None


# --- the register of funded projects ----------------------------------------------------------------


def _funded_query(filters: Filters, *, municipality: bool = False):
    query = (
        _published_calls_query(filters, municipality=municipality)
        .with_only_columns(Application, Call)
        .join(Application, Application.call_id == Call.id)
        .where(Application.status.in_(FUNDED))
    )
    if filters.status and filters.status in FUNDED:
        query = query.where(Application.status == filters.status)
    return query


def funded_projects(
    filters: Filters = Filters(), *, offset: int = 0, limit: int = 50
) -> tuple[list[dict], int]:
    """Return a page of funded projects of published calls (newest decision first) and the total count.
    The count joins only what the filters need; the page reads the municipality it joins (contains_eager)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(_funded_query(filters).subquery()))
    rows = db.session.execute(
        _funded_query(filters, municipality=True)
        .add_columns(EvaluationResult)
        .outerjoin(EvaluationResult, EvaluationResult.application_id == Application.id)
        .options(joinedload(Application.organisation), contains_eager(Call.municipality))
        .order_by(Decision.decided_on.desc(), Application.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [_project_row(a, r, c) for a, c, r in rows], int(total)


def project(application_id: int) -> dict | None:
    """Return one funded project of a published call for its public page (None otherwise)."""
    row = db.session.execute(
        sa.select(Application, Call, EvaluationResult)
        .join(Call, Application.call_id == Call.id)
        .outerjoin(EvaluationResult, EvaluationResult.application_id == Application.id)
        .where(Application.id == application_id, Application.status.in_(FUNDED), Call.status.in_(PUBLISHED))
        .options(
            joinedload(Application.organisation), joinedload(Call.municipality), joinedload(Call.programme)
        )
    ).first()
    if row is None:
        return None
    application, call, result = row
    data = _project_row(application, result, call)
    data.update(
        {
            "call_id": call.id,
            "call_title": call.title,
            "programme": call.programme,
            "goal": application.goal,
            "results_planned": application.results,
            "participants_planned": application.participants_total,
            "participants_risk_planned": suppress(application.participants_risk),
            "risk_share_planned": risk_share(application.participants_total, application.participants_risk),
            # What the project achieved: filled from its approved final report (issue 8).
            "achieved": None,
        }
    )
    return data


# --- statistics ---------------------------------------------------------------------------------------


def statistics(filters: Filters = Filters()) -> tuple[list[dict], dict]:
    """Return per-municipality rows and the national totals of published results, in two SQL statements:
    calls, applications received, funded projects, amount funded, planned participants and the planned
    PMP-risk share. Municipalities without a published call are left out."""
    received_statuses = [s.value for s in RECEIVED_EXCLUDED]
    is_funded = Application.status.in_(FUNDED)
    published = _published_calls_query(filters).with_only_columns(Call.id).subquery()
    query = (
        sa.select(
            Municipality.code,
            Municipality.name,
            sa.func.count(sa.distinct(Call.id)).label("calls"),
            sa.func.count(Application.id).label("applications"),
            sa.func.count(sa.case((is_funded, Application.id))).label("funded"),
            sa.func.coalesce(sa.func.sum(sa.case((is_funded, Call.amount))), 0).label("amount"),
            sa.func.coalesce(sa.func.sum(sa.case((is_funded, Application.participants_total))), 0).label(
                "participants"
            ),
            sa.func.coalesce(sa.func.sum(sa.case((is_funded, Application.participants_risk))), 0).label(
                "participants_risk"
            ),
        )
        .select_from(Call)
        .join(Municipality, Call.municipality_id == Municipality.id)
        .outerjoin(
            Application,
            sa.and_(
                Application.call_id == Call.id,
                Application.status.not_in(received_statuses),
            ),
        )
        .where(Call.id.in_(sa.select(published.c.id)))
        .group_by(Municipality.code, Municipality.name)
        .order_by(Municipality.name)
    )
    rows = []
    for code, name, calls, applications, funded, amount, participants, risk in db.session.execute(query):
        rows.append(
            {
                "municipality_code": code,
                "municipality": name,
                "calls": int(calls),
                "applications": int(applications),
                "funded": int(funded),
                "amount": Decimal(amount).quantize(Decimal("0.01")),
                "participants_planned": int(participants),
                "participants_risk_planned": suppress(int(risk)),
                "risk_share_planned": risk_share(int(participants), int(risk)),
                "_risk": int(risk),
            }
        )
    totals = {
        "calls": sum(r["calls"] for r in rows),
        "applications": sum(r["applications"] for r in rows),
        "funded": sum(r["funded"] for r in rows),
        "amount": sum((r["amount"] for r in rows), Decimal("0.00")),
        "participants_planned": sum(r["participants_planned"] for r in rows),
    }
    total_risk = sum(r.pop("_risk") for r in rows)
    totals["participants_risk_planned"] = suppress(total_risk)
    totals["risk_share_planned"] = risk_share(totals["participants_planned"], total_risk)
    return rows, totals


def last_change() -> datetime | None:
    """Return when published data last changed (for Last-Modified/ETag): the latest publication or
    later status change of a published call's applications."""
    from portal.core.workflow import StatusChange

    return db.session.scalar(
        sa.select(sa.func.max(StatusChange.at)).where(
            sa.or_(
                sa.and_(StatusChange.object_type == "call", StatusChange.to_status.in_(PUBLISHED)),
                sa.and_(
                    StatusChange.object_type == "application",
                    StatusChange.object_id.in_(
                        sa.select(Application.id)
                        .join(Call, Application.call_id == Call.id)
                        .where(Call.status.in_(PUBLISHED))
                    ),
                ),
            )
        )
    )
