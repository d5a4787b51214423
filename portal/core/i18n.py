"""Locale selection and locale-aware formatting (Latvian first, English too)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from portal.core.timeutil import to_riga, utcnow

# The cookie that remembers an anonymous visitor's language. Where cookies are Secure (production,
# tests) it carries the __Host- prefix, so no subdomain or plain-HTTP page can plant it (QUALITY B1).
LANG_COOKIE = "lang"
LANG_COOKIE_SECURE = "__Host-lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def lang_cookie_name() -> str:
    """Return the language cookie's name for this configuration."""
    return LANG_COOKIE_SECURE if current_app.config.get("SESSION_COOKIE_SECURE") else LANG_COOKIE


def set_lang_cookie(response, lang: str):
    """Remember the language in a cookie with the same attributes as the session cookie (QUALITY B1)."""
    response.set_cookie(
        lang_cookie_name(),
        lang,
        max_age=LANG_COOKIE_MAX_AGE,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
        path="/",
        domain=None,
    )
    return response


def select_locale() -> str:
    """Choose the user's saved language, then the language cookie, then Latvian."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    lang = request.cookies.get(lang_cookie_name())
    if lang in languages:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """Return the language code of the page being rendered ('lv' or 'en')."""
    locale = get_locale()
    return locale.language if locale is not None else "lv"


def money(value: Decimal | int | str | None) -> str:
    """Format euros for the current locale: '4 600,00 €' in Latvian, '€4,600.00' in English.

    Babel separates groups and the sign with no-break spaces (U+00A0), so an amount never wraps.
    """
    if value is None or value == "":
        return ""
    return format_currency(Decimal(str(value)), "EUR", locale=current_language())


def number(value) -> str:
    """Format a number with the current locale's separators."""
    if value is None:
        return ""
    return _format_number(value, current_language())


@lru_cache(maxsize=4096)
def _format_number(value, locale: str) -> str:
    # A ranking page formats thousands of repeating averages and scores; Babel's formatting is the cost.
    # Equal numbers (Decimal("1.50") == Decimal("1.5") == 1.5) format alike: the pattern drops trailing zeros.
    return format_decimal(value, locale=locale)


def _aware(value: datetime) -> datetime:
    # Everything is stored as aware UTC; a naive value can only be a UTC instant that lost its zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def riga_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Format an instant as Europe/Riga wall-clock time in the current locale."""
    if value is None:
        return ""
    return format_datetime(to_riga(_aware(value)), fmt)


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """Format a calendar date; an instant is first turned into its Riga date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_riga(_aware(value)).date()
    return format_date(value, fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["datetime"] = riga_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def _language():
        return {
            "current_language": current_language(),
            "languages": app.config["LANGUAGES"],
            # Lets portal.js correct the session-timeout warning for a browser clock that is off.
            "server_now": utcnow(),
        }
