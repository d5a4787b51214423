"""Validation of what identifies an organisation: its Latvian registration number and its bank account.

Each validator returns the normalised value or raises ValueError with a translated message that can be
shown next to the field as it is.
"""

from __future__ import annotations

from flask_babel import gettext as _
from stdnum import iban as std_iban
from stdnum.exceptions import ValidationError
from stdnum.lv import pvn

LATVIAN_IBAN_LENGTH = 21


def validate_reg_number(value: str | None) -> str:
    """Return the registration number as 11 digits, or raise ValueError saying what is wrong.

    Only legal entities (first digit 4–9, checksum per the Register of Enterprises) are accepted; a
    number that starts with 0–3 is a person's identity code and must never be stored here.
    """
    number = pvn.compact(value or "")
    if not number:
        raise ValueError(_("Enter the organisation's registration number."))
    if not number.isdigit():
        raise ValueError(_("The registration number has only digits, for example 40008000000."))
    if len(number) != 11:
        raise ValueError(_("The registration number has 11 digits; you entered %(n)d.", n=len(number)))
    if number[0] <= "3":
        raise ValueError(
            _(
                "This looks like a person's identity code, not an organisation's registration number. "
                "Do not enter anyone's personal code: enter the 11-digit number from the Register of "
                "Enterprises, which starts with 4 or 5."
            )
        )
    try:
        return pvn.validate(number)
    except ValidationError:
        raise ValueError(_("This registration number is not valid: check it for a typing mistake.")) from None


def validate_iban(value: str | None) -> str:
    """Return the IBAN without spaces and in capitals, or raise ValueError saying what is wrong.

    Grants are paid only to a Latvian account, so a valid foreign IBAN is refused with its own message.
    """
    number = std_iban.compact(value or "")
    if not number:
        raise ValueError(_("Enter the bank account number (IBAN)."))
    if not number.isalnum() or len(number) < 4 or not number[:2].isalpha() or not number[2:4].isdigit():
        raise ValueError(_("This is not an IBAN. A Latvian IBAN looks like LV80BANK0000435195001."))
    if number[:2] != "LV":
        raise ValueError(
            _(
                "This is not a Latvian bank account. The grant can be paid only to an account in "
                "Latvia: its IBAN starts with LV."
            )
        )
    if len(number) != LATVIAN_IBAN_LENGTH:
        raise ValueError(
            _(
                "A Latvian IBAN has %(expected)d characters; you entered %(n)d.",
                expected=LATVIAN_IBAN_LENGTH,
                n=len(number),
            )
        )
    try:
        return std_iban.validate(number)
    except std_iban.InvalidChecksum:
        raise ValueError(
            _("The check digits of this IBAN do not match: check it for a typing mistake.")
        ) from None
    except ValidationError:
        raise ValueError(
            _("This is not a valid Latvian IBAN: check the bank code and account number.")
        ) from None


def mask_iban_for_audit(value: str | None) -> str | None:
    """Return only the last four characters of an IBAN, as the audit trail stores it (QUALITY F6)."""
    if not value:
        return None
    return "…" + value[-4:]
