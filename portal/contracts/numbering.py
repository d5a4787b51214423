"""Contract numbers: one gap-free sequence per municipality and year (issue 7).

The counter row is incremented with a single UPDATE … RETURNING in the transaction that creates the
contract: on PostgreSQL the row lock serialises concurrent generations, on SQLite the database lock
does; a transaction that rolls back takes its increment with it, so no number is lost or given twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.contracts.models import ContractCounter
from portal.extensions import db


def _insert_counter(municipality_id: int, year: int):
    values = {"municipality_id": municipality_id, "year": year, "last_number": 0}
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(ContractCounter).values(**values).on_conflict_do_nothing()


def next_sequence(municipality_id: int, year: int) -> int:
    """Take the next contract number of the municipality in the year (1, 2, 3, …) in this transaction."""
    db.session.execute(_insert_counter(municipality_id, year))
    return db.session.execute(
        sa.update(ContractCounter)
        .where(ContractCounter.municipality_id == municipality_id, ContractCounter.year == year)
        .values(last_number=ContractCounter.last_number + 1)
        .returning(ContractCounter.last_number)
    ).scalar_one()


def format_number(municipality_code: str, year: int, sequence: int) -> str:
    """The contract's number as printed: JIP/<ATVK code>/<year>/<sequence of at least 3 digits>."""
    return f"JIP/{municipality_code}/{year}/{sequence:03d}"
