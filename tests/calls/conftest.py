"""Fixtures of the calls tests: a municipality with a quota, its coordinator, and call facts."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from portal.calls.services import CallData
from portal.core.timeutil import riga_instant, to_riga, utcnow
from tests.factories import coordinator, municipality, round_with_quota


def call_data(**changes) -> CallData:
    """Facts of a call opening tomorrow at 00:00 and closing 30 days later at 23:59:59, Riga time."""
    opens = to_riga(utcnow()).date() + timedelta(days=1)
    values = {
        "title": "Jauniešu iniciatīvu projektu konkurss",
        "description": "Konkursa apraksts.",
        "projects": 1,
        "opens_at": riga_instant(opens, time(0, 0)),
        "closes_at": riga_instant(opens + timedelta(days=30)),
        "contact_name": "Jānis Bērziņš",
        "contact_email": "konkurss@example.lv",
        "contact_phone": "+371 20000000",
    }
    return CallData(**(values | changes))


def window(opens: date, days: int, at: time = time(23, 59, 59)) -> dict:
    """Opening at 00:00 on a day and closing `days` days later at `at`, Riga time."""
    return {
        "opens_at": riga_instant(opens, time(0, 0)),
        "closes_at": riga_instant(opens + timedelta(days=days), at),
    }


@pytest.fixture()
def muni(db):
    return municipality("0020000")


@pytest.fixture()
def other_muni(db):
    return municipality("0044000")


@pytest.fixture()
def rnd(muni):
    return round_with_quota(muni, quota=3)


@pytest.fixture()
def coord(muni):
    return coordinator(muni)
