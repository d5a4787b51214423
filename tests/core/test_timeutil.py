"""Dates are Riga dates: between Riga midnight and 02:00/03:00 the UTC date is still yesterday."""

from datetime import UTC, date, datetime

import time_machine

from portal.core.timeutil import riga_today


def test_riga_today_is_the_riga_date_not_the_utc_date():
    with time_machine.travel(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), tick=False):  # 01:30 Riga, summer
        assert riga_today() == date(2026, 4, 1)
    with time_machine.travel(datetime(2026, 12, 31, 21, 59, tzinfo=UTC), tick=False):  # 23:59 Riga, winter
        assert riga_today() == date(2026, 12, 31)
    with time_machine.travel(datetime(2026, 12, 31, 22, 0, tzinfo=UTC), tick=False):
        assert riga_today() == date(2027, 1, 1)
