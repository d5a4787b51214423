"""Riga wall-clock times typed into the call form become the right UTC instants (DST days included)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.calls.forms import parse_riga


@pytest.mark.parametrize(
    ("text", "closing", "expected"),
    [
        # datetime-local has minute precision: a closing minute lasts to its 59th second.
        ("2026-03-31T23:59", True, datetime(2026, 3, 31, 20, 59, 59, tzinfo=UTC)),
        ("2026-03-31T23:59", False, datetime(2026, 3, 31, 20, 59, 0, tzinfo=UTC)),
        ("2026-03-31T23:59:30", True, datetime(2026, 3, 31, 20, 59, 30, tzinfo=UTC)),
        # a date alone: the whole day
        ("2026-03-31", True, datetime(2026, 3, 31, 20, 59, 59, tzinfo=UTC)),
        ("2026-03-31", False, datetime(2026, 3, 30, 21, 0, 0, tzinfo=UTC)),
        # the Latvian way of writing dates
        ("31.03.2026 23:59", True, datetime(2026, 3, 31, 20, 59, 59, tzinfo=UTC)),
        ("31.03.2026.", True, datetime(2026, 3, 31, 20, 59, 59, tzinfo=UTC)),
        # DST starts 2026-03-29 (03:00 → 04:00) and ends 2026-10-25 (04:00 → 03:00)
        ("2026-03-29T23:59", True, datetime(2026, 3, 29, 20, 59, 59, tzinfo=UTC)),
        ("2026-03-29T02:59", True, datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)),
        ("2026-03-29T04:00", False, datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC)),
        ("2026-10-25T23:59", True, datetime(2026, 10, 25, 21, 59, 59, tzinfo=UTC)),
        # the hour that happens twice: the later one for a deadline, the earlier for an opening
        ("2026-10-25T03:30", True, datetime(2026, 10, 25, 1, 30, 59, tzinfo=UTC)),
        ("2026-10-25T03:30", False, datetime(2026, 10, 25, 0, 30, 0, tzinfo=UTC)),
    ],
)
def test_riga_times_become_utc_instants(app, text, closing, expected):
    assert parse_riga(text, closing=closing) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-29T03:30",  # skipped when summer time starts
        "",
        "tomorrow",
        "2026-02-30T10:00",
        "1899-01-01T00:00",
        "99999-01-01T00:00",
        "2026-13-01",
    ],
)
def test_impossible_times_are_refused_with_a_message(app, text):
    with app.test_request_context():
        with pytest.raises(ValueError) as refused:
            parse_riga(text, closing=True)
        assert str(refused.value.args[0])
