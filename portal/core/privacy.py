"""Privacy guards shared by every form that takes free text (DESIGN §6, QUALITY F2)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# Eleven digits, optionally written as six, a hyphen and five: the shape of a Latvian personal code.
_PERSONAL_CODE_SHAPE = re.compile(r"(?<!\d)([0-3]\d{5})[-\s]?(\d{5})(?!\d)")


def contains_personal_code(text: str | None) -> bool:
    """Say whether free text contains something shaped like a Latvian personal code.

    The check is by shape (a birth date and five digits, or the newer "32…" codes), not by checksum:
    a mistyped code is still a person's code.
    """
    if not text:
        return False
    for first, _rest in _PERSONAL_CODE_SHAPE.findall(text):
        if first.startswith("32"):
            return True  # the format issued since 2017 carries no birth date
        day, month = int(first[:2]), int(first[2:4])
        if 1 <= day <= 31 and 1 <= month <= 12:
            return True
    return False


PERSONAL_CODE_MESSAGE = _l("Do not enter a person's identity code here: the portal stores no personal codes.")


def no_personal_code(form, field) -> None:
    """WTForms validator for every prose field: refuse text shaped like a personal code, with guidance
    shown next to the field (the typed text stays in the field, QUALITY F2)."""
    if contains_personal_code(field.data):
        raise ValidationError(PERSONAL_CODE_MESSAGE)
