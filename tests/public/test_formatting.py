"""Locale-aware formatting filters (portal/core/i18n.py): money, numbers, Riga dates and times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal.core import i18n

NBSP = "\xa0"


@pytest.fixture()
def ctx(app):
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("lv", Decimal("4600.00"), f"4{NBSP}600,00{NBSP}€"),
        ("en", Decimal("4600.00"), "€4,600.00"),
        ("lv", Decimal("3680"), f"3{NBSP}680,00{NBSP}€"),
        ("en", Decimal("920.5"), "€920.50"),
        ("lv", "4600.00", f"4{NBSP}600,00{NBSP}€"),
        ("lv", 0, f"0,00{NBSP}€"),
        ("lv", Decimal("1234567.89"), f"1{NBSP}234{NBSP}567,89{NBSP}€"),
    ],
)
def test_money(ctx, locale, value, expected):
    with force_locale(locale):
        assert i18n.money(value) == expected


def test_money_of_nothing_is_empty(ctx):
    assert i18n.money(None) == ""


def test_money_never_goes_through_float(ctx):
    with force_locale("en"):
        assert i18n.money(Decimal("0.10") + Decimal("0.20")) == "€0.30"


def test_number(ctx):
    with force_locale("lv"):
        assert i18n.number(12345) == f"12{NBSP}345"
    with force_locale("en"):
        assert i18n.number(12345) == "12,345"


# Europe/Riga: EET (UTC+2) in winter, EEST (UTC+3) in summer; the clocks change at 01:00 UTC on the
# last Sunday of March and of October (2026-03-29 and 2026-10-25).
@pytest.mark.parametrize(
    ("instant", "riga"),
    [
        (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), "2026-03-29 02:59:59"),
        (datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC), "2026-03-29 04:00:00"),
        (datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC), "2026-10-25 03:59:59"),
        (datetime(2026, 10, 25, 1, 0, 0, tzinfo=UTC), "2026-10-25 03:00:00"),
        (datetime(2026, 3, 31, 20, 59, 59, tzinfo=UTC), "2026-03-31 23:59:59"),  # a deadline's last second
        (datetime(2026, 12, 31, 22, 0, 0, tzinfo=UTC), "2027-01-01 00:00:00"),
    ],
)
def test_datetime_is_shown_in_riga_time_across_dst(ctx, instant, riga):
    for locale in ("lv", "en"):
        with force_locale(locale):
            assert i18n.riga_datetime(instant, "yyyy-MM-dd HH:mm:ss") == riga


def test_a_naive_datetime_is_taken_as_utc(ctx):
    with force_locale("lv"):
        assert i18n.riga_datetime(datetime(2026, 7, 1, 9, 0), "HH:mm") == "12:00"


def test_datetime_default_formats(ctx):
    instant = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with force_locale("lv"):
        assert i18n.riga_datetime(instant) == "2026. gada 29. marts 04:30:00"
    with force_locale("en"):
        shown = i18n.riga_datetime(instant)
        assert shown.startswith("Mar 29, 2026") and "4:30:00" in shown


def test_date_of_an_instant_is_its_riga_date(ctx):
    late_evening_utc = datetime(2026, 3, 31, 21, 30, tzinfo=UTC)  # already 1 April in Riga
    with force_locale("en"):
        assert i18n.local_date(late_evening_utc, "yyyy-MM-dd") == "2026-04-01"
        assert i18n.local_date(date(2026, 11, 22), "long") == "November 22, 2026"
    with force_locale("lv"):
        assert i18n.local_date(date(2026, 11, 22), "long") == "2026. gada 22. novembris"
        assert i18n.local_date(None) == ""


def test_filters_are_registered(app):
    for name in ("money", "number", "datetime", "date"):
        assert name in app.jinja_env.filters


def test_the_lang_cookie_name_follows_cookie_security(app):
    with app.test_request_context("/"):
        assert i18n.lang_cookie_name() == "__Host-lang"
        app.config["SESSION_COOKIE_SECURE"] = False
        try:
            assert i18n.lang_cookie_name() == "lang"
        finally:
            app.config["SESSION_COOKIE_SECURE"] = True


def test_select_locale_outside_a_request_is_latvian(app):
    assert i18n.select_locale() == "lv"
