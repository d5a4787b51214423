"""Time: stored as aware UTC instants, shown and reasoned about in Europe/Riga."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

RIGA = ZoneInfo("Europe/Riga")


def utcnow() -> datetime:
    """Return the current instant, aware, in UTC."""
    return datetime.now(UTC)


def riga_today() -> date:
    """Return today's date in Riga (between midnight and 02:00/03:00 Riga the UTC date is yesterday)."""
    return to_riga(utcnow()).date()


def to_riga(value: datetime) -> datetime:
    """Return the instant as Riga wall-clock time."""
    return value.astimezone(RIGA)


def riga_instant(day: date, at: time = time(23, 59, 59)) -> datetime:
    """Return the UTC instant of a Riga wall-clock time on a day (e.g. a deadline's last second)."""
    return datetime.combine(day, at, tzinfo=RIGA).astimezone(UTC)
