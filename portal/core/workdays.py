"""Working days in Latvia: weekends and public holidays (incl. moved holidays) are skipped (DESIGN §2).

The holiday calendar comes from the `holidays` package (its Latvian calendar follows the law "Par svētku,
atceres un atzīmējamām dienām", including days moved from a weekend), so a new year needs no code.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from portal.core.timeutil import riga_instant, to_riga


@lru_cache(maxsize=64)
def _latvian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("LV", years=year).keys())


def is_working_day(day: date) -> bool:
    """Say whether offices are open on the day: Monday–Friday and not a public holiday."""
    return day.weekday() < 5 and day not in _latvian_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """Return the date `count` working days after `day` (the day itself is not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_day_deadline(start: datetime, count: int) -> datetime:
    """Return the last second (Riga time) of the `count`-th working day after the instant `start`."""
    return riga_instant(add_working_days(to_riga(start).date(), count))
