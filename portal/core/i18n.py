"""Locale selection and locale-aware formatting (Latvian first, English too)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import dates as babel_dates
from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context

from portal.core.timeutil import RIGA, to_riga, utcnow

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
    return _format_money(Decimal(str(value)), current_language())


# Formatting is cached per (value, locale): Babel's formatting is most of the cost of a long list page
# (the open calls, a ranking), and the same amounts, instants and dates come back on every request.
# Equal values format alike (the patterns fix the decimals and drop the number's own exponent).


@lru_cache(maxsize=8192)
def _format_money(value: Decimal, locale: str) -> str:
    return format_currency(value, "EUR", locale=locale)


def number(value) -> str:
    """Format a number with the current locale's separators."""
    if value is None:
        return ""
    return _format_number(value, current_language())


@lru_cache(maxsize=8192)
def _format_number(value, locale: str) -> str:
    return format_decimal(value, locale=locale)


def format_number(value, language: str) -> str:
    """Format a number for the given language (for a view formatting many numbers of one page)."""
    return "" if value is None else _format_number(value, language)


def _aware(value: datetime) -> datetime:
    # Everything is stored as aware UTC; a naive value can only be a UTC instant that lost its zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def riga_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Format an instant as Europe/Riga wall-clock time in the current locale."""
    if value is None:
        return ""
    return _format_datetime(to_riga(_aware(value)), fmt, current_language())


@lru_cache(maxsize=8192)
def _format_datetime(value: datetime, fmt: str, locale: str) -> str:
    return babel_dates.format_datetime(value, fmt, tzinfo=RIGA, locale=locale)


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """Format a calendar date; an instant is first turned into its Riga date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_riga(_aware(value)).date()
    return _format_date(value, fmt, current_language())


@lru_cache(maxsize=8192)
def _format_date(value: date, fmt: str, locale: str) -> str:
    return babel_dates.format_date(value, fmt, locale=locale)


# --- templates: the language and the catalogue are looked up once per render -------------------------
# Flask-Babel's template gettext and the filters above find the locale through context-local proxies on
# every call; a ranking page makes thousands of calls, and those lookups were most of its time. The
# context processor puts the render's language and catalogue in the template context, and the template
# callables read them from there (a macro imported without context falls back to the lookup).


def _translations(ctx):
    return ctx.get("_translations") or get_translations()


def _language_of(ctx) -> str:
    return ctx.get("current_language") or current_language()


@pass_context
def _gettext(ctx, string):
    return _translations(ctx).ugettext(string)


@pass_context
def _ngettext(ctx, singular, plural, n):
    return _translations(ctx).ungettext(singular, plural, n)


@pass_context
def _pgettext(ctx, context, string):
    return _translations(ctx).upgettext(context, string)


@pass_context
def _npgettext(ctx, context, singular, plural, n):
    return _translations(ctx).unpgettext(context, singular, plural, n)


@pass_context
def _money_filter(ctx, value):
    if value is None or value == "":
        return ""
    return _format_money(Decimal(str(value)), _language_of(ctx))


@pass_context
def _number_filter(ctx, value):
    return "" if value is None else _format_number(value, _language_of(ctx))


@pass_context
def _datetime_filter(ctx, value, fmt: str = "medium"):
    return "" if value is None else _format_datetime(to_riga(_aware(value)), fmt, _language_of(ctx))


@pass_context
def _date_filter(ctx, value, fmt: str = "medium"):
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_riga(_aware(value)).date()
    return _format_date(value, fmt, _language_of(ctx))


def init_app(app: Flask) -> None:
    """Call after Flask-Babel's init_app: replaces its template gettext with the per-render one."""
    app.jinja_env.filters["money"] = _money_filter
    app.jinja_env.filters["number"] = _number_filter
    app.jinja_env.filters["datetime"] = _datetime_filter
    app.jinja_env.filters["date"] = _date_filter
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext, newstyle=True
    )

    @app.context_processor
    def _language():
        return {
            "_translations": get_translations(),
            "current_language": current_language(),
            "languages": app.config["LANGUAGES"],
            # Lets portal.js correct the session-timeout warning for a browser clock that is off.
            "server_now": utcnow(),
        }
