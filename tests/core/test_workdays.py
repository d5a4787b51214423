"""Working days in Latvia (portal/core/workdays.py, DESIGN §2): weekends and public holidays, incl. days
moved from a weekend, are skipped; a deadline is the last second of its day in Riga, stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from portal.core.timeutil import RIGA
from portal.core.workdays import add_working_days, is_working_day, working_day_deadline

HOLIDAYS_2026 = [
    date(2026, 1, 1),  # New Year's Day (Thu)
    date(2026, 4, 3),  # Good Friday
    date(2026, 4, 6),  # Easter Monday
    date(2026, 5, 1),  # Labour Day, Constituent Assembly (Fri)
    date(2026, 5, 4),  # Restoration of Independence (Mon)
    date(2026, 6, 23),  # Midsummer Eve (Tue)
    date(2026, 6, 24),  # Midsummer Day (Wed)
    date(2026, 11, 18),  # Proclamation Day (Wed)
    date(2026, 12, 24),  # Christmas Eve (Thu)
    date(2026, 12, 25),  # Christmas Day (Fri)
    date(2026, 12, 26),  # Second Day of Christmas (Sat anyway)
    date(2026, 12, 31),  # New Year's Eve (Thu)
]


# --- is_working_day -----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", HOLIDAYS_2026, ids=str)
def test_public_holidays_2026_are_not_working_days(day):
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [date(2026, 3, 7), date(2026, 3, 8), date(2026, 10, 24), date(2026, 10, 25)],
    ids=str,
)
def test_weekends_are_not_working_days(day):
    assert day.weekday() >= 5
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 2),  # Thursday before Good Friday
        date(2026, 4, 7),  # Tuesday after Easter Monday
        date(2026, 5, 5),
        date(2026, 6, 25),
        date(2026, 11, 17),
        date(2026, 11, 19),
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
    ],
    ids=str,
)
def test_ordinary_weekdays_next_to_holidays_are_working_days(day):
    assert is_working_day(day)


def test_the_calendar_comes_from_the_holidays_package():
    calendar = holidays.country_holidays("LV", years=2026)
    assert all(day in calendar for day in HOLIDAYS_2026)
    # Days off moved by the government (worked on a Saturday instead) are in the package's calendar too,
    # and so are not working days here: 2 Jan 2026 (worked on Sat 17 Jan), 22 Jun 2026 (Sat 27 Jun).
    for moved in (date(2026, 1, 2), date(2026, 6, 22)):
        assert "substituted" in calendar[moved].lower()
        assert not is_working_day(moved)


def test_every_weekday_off_in_2026():
    weekdays = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    off = [d for d in weekdays if d.weekday() < 5 and not is_working_day(d)]
    assert off == sorted(
        [d for d in HOLIDAYS_2026 if d.weekday() < 5] + [date(2026, 1, 2), date(2026, 6, 22)]
    )
    assert sum(is_working_day(d) for d in weekdays) == 261 - 13  # 261 weekdays in 2026


def test_a_saturday_worked_instead_of_a_moved_day_off_is_still_not_a_working_day():
    # The portal counts calendar weekends as non-working days always (DESIGN §2): a deadline can only
    # become later than the strict civil-service calendar, never earlier.
    assert date(2026, 1, 17).weekday() == 5
    assert not is_working_day(date(2026, 1, 17))


@pytest.mark.parametrize(
    ("holiday", "moved_to"),
    [
        (date(2023, 11, 18), date(2023, 11, 20)),  # Saturday → Monday 20 Nov 2023
        (date(2028, 11, 18), date(2028, 11, 20)),  # a future year needs no code either
    ],
    ids=str,
)
def test_holiday_on_a_weekend_moves_to_the_next_monday(holiday, moved_to):
    calendar = holidays.country_holidays("LV", years=holiday.year)
    assert holiday.weekday() == 5
    assert moved_to in calendar and "observed" in calendar[moved_to].lower()
    assert moved_to.weekday() == 0
    assert not is_working_day(moved_to)
    assert is_working_day(moved_to + timedelta(days=1))
    assert add_working_days(holiday - timedelta(days=1), 1) == moved_to + timedelta(days=1)  # Fri → Tue


# --- add_working_days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 3, 2), 1, date(2026, 3, 3)),  # Monday → Tuesday
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday → Monday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # from a Saturday: Monday is the first
        (date(2026, 3, 2), 5, date(2026, 3, 9)),  # a week
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Easter: Good Friday … Easter Monday skipped
        (date(2026, 4, 30), 2, date(2026, 5, 6)),  # 1 May (Fri), weekend, 4 May (Mon) skipped
        (date(2026, 6, 19), 1, date(2026, 6, 25)),  # 22 (moved day off), 23, 24 June skipped
        # Christmas and New Year: 24–26 Dec, the weekend, 31 Dec, 1 Jan and the weekend are skipped
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        (date(2026, 12, 23), 3, date(2026, 12, 30)),
        (date(2026, 12, 23), 4, date(2027, 1, 4)),
        (date(2026, 12, 23), 10, date(2027, 1, 12)),
        (date(2026, 12, 30), 1, date(2027, 1, 4)),
        (date(2025, 12, 30), 1, date(2026, 1, 5)),  # 31 Dec, 1–2 Jan 2026 and the weekend skipped
    ],
    ids=str,
)
def test_add_working_days(start, count, expected):
    assert add_working_days(start, count) == expected


def test_zero_working_days_is_the_day_itself_even_on_a_holiday():
    assert add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 25)


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1)


def test_the_result_is_always_a_working_day_and_the_count_is_exact():
    start = date(2026, 12, 20)
    for count in range(1, 30):
        end = add_working_days(start, count)
        assert is_working_day(end)
        days = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
        assert sum(is_working_day(d) for d in days) == count


# --- working_day_deadline -----------------------------------------------------------------------------


def test_deadline_is_the_last_second_in_riga_as_an_aware_utc_instant_across_the_autumn_dst_change():
    # Friday 23 Oct 2026 (EEST, UTC+3); the clocks go back on Sunday 25 Oct; Monday 26 Oct is EET (UTC+2)
    deadline = working_day_deadline(datetime(2026, 10, 23, 9, 0, tzinfo=UTC), 1)
    assert deadline == datetime(2026, 10, 26, 21, 59, 59, tzinfo=UTC)
    assert deadline.utcoffset() == timedelta(0)
    riga = deadline.astimezone(RIGA)
    assert (riga.date(), riga.hour, riga.minute, riga.second) == (date(2026, 10, 26), 23, 59, 59)
    assert riga.utcoffset() == timedelta(hours=2)


def test_deadline_in_summer_time_is_three_hours_before_utc_midnight():
    deadline = working_day_deadline(datetime(2026, 10, 21, 9, 0, tzinfo=UTC), 1)  # Wed → Thu 22 Oct
    assert deadline == datetime(2026, 10, 22, 20, 59, 59, tzinfo=UTC)


def test_deadline_across_the_spring_dst_change():
    # Friday 27 Mar 2026 (EET); the clocks go forward on Sunday 29 Mar; Monday 30 Mar is EEST (UTC+3)
    deadline = working_day_deadline(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), 1)
    assert deadline == datetime(2026, 3, 30, 20, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Thursday 23:59:59 in Riga: counted from Thursday → Friday 23 Oct (UTC+3)
        (datetime(2026, 10, 22, 20, 59, 59, tzinfo=UTC), datetime(2026, 10, 23, 20, 59, 59, tzinfo=UTC)),
        # one second later it is Friday 00:00 in Riga (still Thursday in UTC) → Monday 26 Oct (UTC+2)
        (datetime(2026, 10, 22, 21, 0, 0, tzinfo=UTC), datetime(2026, 10, 26, 21, 59, 59, tzinfo=UTC)),
    ],
    ids=["thursday-in-riga", "friday-in-riga"],
)
def test_deadline_counts_from_the_riga_date_of_the_request_not_the_utc_date(start, expected):
    assert working_day_deadline(start, 1) == expected


def test_deadline_given_in_another_zone_is_the_same_instant():
    start = datetime(2026, 10, 23, 11, 0, tzinfo=RIGA)
    assert working_day_deadline(start, 1) == working_day_deadline(start.astimezone(UTC), 1)


def test_deadline_across_christmas():
    deadline = working_day_deadline(datetime(2026, 12, 22, 10, 0, tzinfo=UTC), 5)
    # 23, 28, 29, 30 Dec and 4 Jan 2027 (EET)
    assert deadline == datetime(2027, 1, 4, 21, 59, 59, tzinfo=UTC)
