"""Municipality data services."""

from datetime import date

import sqlalchemy as sa

from portal.core.timeutil import riga_today
from portal.extensions import db
from portal.municipalities import data
from portal.municipalities.models import Municipality


def ensure_municipalities() -> int:
    """Insert the classifier's municipalities that are not in the database yet; return how many."""
    known = set(db.session.scalars(sa.select(Municipality.code)))
    added = 0
    for row in data.rows():
        if row["code"] not in known:
            db.session.add(Municipality(**row))
            added += 1
    db.session.flush()
    return added


def current_municipalities(day: date | None = None) -> list[Municipality]:
    """Return the municipalities that exist on the day (today by default), by name."""
    return list(db.session.scalars(Municipality.valid_on(day or riga_today())))
