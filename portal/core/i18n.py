"""Locale selection and locale-aware formatting (Latvian first, English too)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from portal.core.timeutil import to_riga

LANG_COOKIE = "lang"


def select_locale() -> str:
    """Choose the user's saved language, then the language cookie, then Latvian."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    lang = request.cookies.get(LANG_COOKIE)
    if lang in languages:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or "lv")


def money(value: Decimal | int | None) -> str:
    """Format euros for the current locale: '4 600,00 €' in Latvian, '€4,600.00' in English."""
    if value is None:
        return ""
    return format_currency(Decimal(value), "EUR", locale=current_language())


def number(value) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=current_language())


def riga_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Format an instant as Europe/Riga wall-clock time in the current locale."""
    if value is None:
        return ""
    return format_datetime(to_riga(value), fmt)


def local_date(value: date | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value, fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["datetime"] = riga_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def _language():
        return {"current_language": current_language(), "languages": app.config["LANGUAGES"]}
