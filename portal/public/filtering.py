"""The public pages' filters (issue 6; their pages: portal/core/paging.py): what a visitor can
choose, read from the query string, and the few look-ups `data.py` leaves to the pages (names for the
filter lists, decisions of calls already known to be published). Personal data is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request

from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call
from portal.core import paging
from portal.evaluation.models import Decision
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes.dashboard import latvian_key
from portal.programmes.models import Programme, Round
from portal.public import data


@dataclass(frozen=True)
class Choices:
    """What the filter lists offer: only values that some published call has."""

    municipalities: list[tuple[str, str]]  # (ATVK code, name)
    programmes: list[Programme]
    rounds: list[int]
    years: list[int]
    statuses: list[str]


def _published_call_ids():
    return sa.select(Call.id).where(Call.status.in_(data.PUBLISHED))


def filter_choices() -> Choices:
    """Return the municipalities, programmes, rounds and decision years of published calls (four
    statements, however many calls there are)."""
    published = sa.select(Call).where(Call.status.in_(data.PUBLISHED)).subquery()
    municipalities = sorted(
        db.session.execute(
            sa.select(Municipality.code, Municipality.name).where(
                Municipality.id.in_(sa.select(published.c.municipality_id))
            )
        ).all(),
        key=lambda row: latvian_key(row[1]),
    )
    programmes = db.session.scalars(
        sa.select(Programme)
        .where(Programme.id.in_(sa.select(published.c.programme_id)))
        .order_by(Programme.code)
    ).all()
    rounds = db.session.scalars(
        sa.select(Round.number)
        .where(Round.id.in_(sa.select(published.c.round_id)))
        .distinct()
        .order_by(Round.number)
    ).all()
    years = db.session.scalars(
        sa.select(sa.extract("year", Decision.decided_on))
        .where(Decision.call_id.in_(_published_call_ids()))
        .distinct()
    ).all()
    return Choices(
        municipalities=[(code, name) for code, name in municipalities],
        programmes=list(programmes),
        rounds=list(rounds),
        years=sorted({int(y) for y in years if y is not None}, reverse=True),
        statuses=[s.value for s in ApplicationStatus if s.value in data.FUNDED],
    )


def read_filters(choices: Choices, *, year: bool = False, status: bool = False) -> data.Filters:
    """Return the filters of the query string; a value that is not on offer is ignored."""
    municipality = request.args.get("municipality") or None
    if municipality not in {code for code, _name in choices.municipalities}:
        municipality = None
    programme = request.args.get("programme") or None
    if programme not in {p.code for p in choices.programmes}:
        programme = None
    round_number = paging.int_arg("round")
    if round_number not in choices.rounds:
        round_number = None
    chosen_year = paging.int_arg("year") if year else None
    if chosen_year not in choices.years:
        chosen_year = None
    chosen_status = request.args.get("status") if status else None
    if chosen_status not in choices.statuses:
        chosen_status = None
    return data.Filters(
        municipality=municipality,
        programme=programme,
        round=round_number,
        status=chosen_status,
        year=chosen_year,
    )


def is_filtered(filters: data.Filters) -> bool:
    return any(
        value is not None
        for value in (filters.municipality, filters.programme, filters.round, filters.status, filters.year)
    )


def decisions_of(call_ids: list[int]) -> dict[int, Decision]:
    """The decisions of calls already known to be published (one statement), by call id."""
    if not call_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Decision).where(Decision.call_id.in_(call_ids), Decision.call_id.in_(_published_call_ids()))
    )
    return {d.call_id: d for d in rows}


def status_label(status: str) -> str:
    return str(ApplicationStatus(status).label)
