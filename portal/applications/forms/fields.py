"""The application form's fields: cleaning text, reading counts, amounts and dates as people type them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import (
    Field,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, ValidationError
from wtforms.widgets import DateInput, TextInput

from portal.core.i18n import current_language
from portal.core.privacy import contains_personal_code

MAX_COUNT = 100_000  # more participants than any municipality has pupils: surely a typo
MAX_AMOUNT = Decimal("1000000.00")
SHORT_TEXT = 300
LONG_TEXT = 10_000

# --- cleaning and parsing -------------------------------------------------------------------------


def clean_text(value):
    """Drop control characters (a NUL breaks PostgreSQL) except line breaks and tabs; trim; '' → None."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n")
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
    return value.strip() or None


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_PLAIN = re.compile(r"[0-9]+(?:[.,][0-9]{1,2})?")
_LV_GROUPS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]{1,2}")  # 1.500,50
_EN_GROUPS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]{1,2}")  # 1,500.50


class AmountError(ValueError):
    pass


def parse_amount(text: str | None) -> Decimal | None:
    """Read an amount in euros as a person types it: "1 500,50", "1500.50", "1 500 €" (None when empty).

    Latvian writes a decimal comma and groups thousands with spaces; English a decimal point. A
    separator followed by three digits ("1,500" or "1.500") could mean either, so it is refused
    rather than guessed; so are negative amounts, exponents and more than two decimals.
    """
    if text is None:
        return None
    value = _SPACES.sub("", str(text))
    for suffix in ("€", "EUR", "eur", "Eur"):
        value = value.removesuffix(suffix)
    if value == "":
        return None
    if value.startswith(("-", "−")):
        raise AmountError(_l("An amount cannot be negative."))
    if _PLAIN.fullmatch(value):
        normal = value.replace(",", ".")
    elif _LV_GROUPS.fullmatch(value):
        normal = value.replace(".", "").replace(",", ".")
    elif _EN_GROUPS.fullmatch(value):
        normal = value.replace(",", "")
    else:
        raise AmountError(_l("Write the amount in euros with at most two decimals, for example 1 500,50."))
    try:
        amount = Decimal(normal).quantize(Decimal("0.01"))
    except InvalidOperation as exc:  # pragma: no cover - the patterns above only let digits through
        raise AmountError(_l("Write the amount in euros, for example 1 500,50.")) from exc
    if amount > MAX_AMOUNT:
        raise AmountError(_l("The amount is too large."))
    return amount


def format_amount(amount: Decimal | None, locale: str | None = None) -> str:
    """Write an amount so that `parse_amount` reads it back: "1 500,50" in Latvian, "1500.50" in English."""
    if amount is None:
        return ""
    locale = locale or current_language()
    if locale == "en":
        return f"{amount:.2f}"
    whole, _, cents = f"{amount:.2f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return " ".join(groups) + "," + cents


# --- fields ---------------------------------------------------------------------------------------


class CountField(Field):
    """A count of people: a whole number ≥ 0 (empty allowed in a draft). The typed text is kept on error."""

    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = _SPACES.sub("", str(valuelist[0]))
        self.data = None
        if raw == "":
            return
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            if raw.startswith(("-", "−")) and re.fullmatch(r"[0-9]+", raw[1:]):
                raise ValueError(_l("A number of people cannot be negative."))
            raise ValueError(_l("Enter a whole number, for example 12."))
        number = int(raw)
        if number > MAX_COUNT:
            raise ValueError(_l("The number is too large."))
        self.data = number


class AmountField(Field):
    """An amount in euros typed the Latvian or the English way (see `parse_amount`)."""

    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_amount(self.data)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        self.data = parse_amount(valuelist[0])


_ROW_KEY = re.compile(r"activities-([0-9]{1,3})-[a-z_]+")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_LV_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})\.?")


class DayField(Field):
    """A calendar day: what a date picker sends (2026-03-01) or what a person types (01.03.2026)."""

    widget = DateInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = str(valuelist[0]).strip()
        self.data = None
        if raw == "":
            return
        if match := _ISO_DATE.fullmatch(raw):
            year, month, day = (int(x) for x in match.groups())
        elif match := _LV_DATE.fullmatch(raw):
            day, month, year = (int(x) for x in match.groups())
        else:
            raise ValueError(_l("Enter a date such as 31.03.2026."))
        try:
            value = date(year, month, day)
        except ValueError as exc:
            raise ValueError(_l("This day does not exist. Enter a date such as 31.03.2026.")) from exc
        if not 2000 <= value.year <= 2100:
            raise ValueError(_l("Enter a date between the years 2000 and 2100."))
        self.data = value


def _no_personal_code(form, field):
    if contains_personal_code(field.data):
        raise ValidationError(
            _l(
                "Remove the personal identity code: the portal must not store personal codes. "
                "Describe people without identifying them."
            )
        )


def text(label, *, long=True, max_length=None, description=None):
    """A free-text field: cleaned, length-limited and never holding a personal code (QUALITY F2)."""
    max_length = max_length or (LONG_TEXT if long else SHORT_TEXT)
    cls = TextAreaField if long else StringField
    return cls(
        label,
        filters=[clean_text],
        validators=[
            Length(max=max_length, message=_l("Shorten this to %(max)d characters at most.", max=max_length)),
            _no_personal_code,
        ],
        description=description,
    )
