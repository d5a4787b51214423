"""Forms of organisations, groups and invitations.

Each form lists exactly the fields a person may set: anything else posted (a hidden `municipality_id`,
`is_representative`, a `legal_form` on edit) is never read (QUALITY C3).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.accounts import reauth
from portal.core.enums import REGISTERED_LEGAL_FORMS, LegalForm
from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code as _no_personal_code
from portal.municipalities.services import current_municipalities
from portal.organisations.services import MIN_GROUP_MEMBERS
from portal.organisations.validators import validate_iban, validate_reg_number

MAX_GROUP_MEMBERS = 10_000
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,30}$")


def _clean(value):
    """Drop control characters (a NUL would break PostgreSQL) and surrounding spaces."""
    if not isinstance(value, str):
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc").strip()


_F = [_clean]


def _phone(form, field):
    if field.data and not _PHONE.match(field.data):
        raise ValidationError(_l("Enter a phone number of digits, for example +371 20000000."))


def _website(form, field):
    if not field.data:
        return
    value = field.data if "://" in field.data else "https://" + field.data
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:  # e.g. an unbalanced "[" is read as a broken IPv6 address
        host, parts = "", None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or "." not in host
        or any(ch.isspace() for ch in value)
    ):
        raise ValidationError(_l("Enter a web address such as https://www.example.lv."))
    field.data = value


def _registration_number(form, field):
    try:
        field.data = validate_reg_number(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _iban(form, field):
    try:
        field.data = validate_iban(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _municipality_field():
    return SelectField(
        _l("Municipality"),
        validators=[DataRequired(message=_l("Choose the municipality."))],
        validate_choice=True,
    )


def _email_field(label):
    return EmailField(label, filters=_F, validators=[DataRequired(), Length(max=254), Email()])


class _WithMunicipality(FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = [SelectChoice("", _l("Choose the municipality"))] + [
            SelectChoice(m.code, m.name) for m in current_municipalities()
        ]


# Created before the form classes so that WTForms (which orders fields by creation) lists the legal
# form, name and number first, as on the registration certificate.
_LEGAL_FORM = RadioField(
    _l("Legal form"),
    choices=[SelectChoice(f.value, f.label) for f in LegalForm if f in REGISTERED_LEGAL_FORMS],
    validators=[InputRequired(message=_l("Choose the organisation's legal form."))],
)
_NAME = StringField(_l("Name"), filters=_F, validators=[DataRequired(), Length(max=200), _no_personal_code])
_REG_NUMBER = StringField(
    _l("Registration number"), filters=_F, validators=[DataRequired(), Length(max=40), _registration_number]
)


class OrganisationDetailsForm(_WithMunicipality):
    """The details a representative may change later."""

    name = _NAME
    municipality = _municipality_field()
    address = StringField(
        _l("Legal address"), filters=_F, validators=[DataRequired(), Length(max=300), _no_personal_code]
    )
    email = _email_field(_l("Organisation's e-mail"))
    phone = StringField(_l("Phone"), filters=_F, validators=[Optional(), Length(max=40), _phone])
    website = StringField(_l("Website"), filters=_F, validators=[Optional(), Length(max=280), _website])
    bank_name = StringField(
        _l("Bank"), filters=_F, validators=[DataRequired(), Length(max=100), _no_personal_code]
    )
    iban = StringField(
        _l("Bank account (IBAN)"), filters=_F, validators=[DataRequired(), Length(max=60), _iban]
    )


class RegisterOrganisationForm(OrganisationDetailsForm):
    legal_form = _LEGAL_FORM
    reg_number = _REG_NUMBER


class EditOrganisationForm(OrganisationDetailsForm):
    """Details, plus a fresh password (and code, if the user has one) when the bank account changes."""

    current_password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=200)])
    totp_code = StringField(
        _l("Code from your authenticator app"), filters=_F, validators=[Optional(), Length(max=20)]
    )

    def __init__(self, *args, user=None, current_iban=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user
        self._current_iban = current_iban
        self.totp_step: int | None = None

    @property
    def iban_changes(self) -> bool:
        return bool(self.iban.data) and self.iban.data != self._current_iban

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not ok or not self.iban_changes or self._user is None:
            return ok
        # Re-authentication for a new bank account (QUALITY B6), inside the form so that nothing typed is
        # lost: a failure counts toward the login throttle (QUALITY A3) and is logged; the view commits it.
        result = reauth.confirm_identity(
            self._user,
            password=self.current_password.data or "",
            code=self.totp_code.data,
            ip=request.remote_addr or "unknown",
        )
        if result == reauth.THROTTLED:
            self.current_password.errors.append(
                _l("Too many failed attempts. Wait a few minutes and try again.")
            )
            return False
        if result == reauth.BAD_PASSWORD:
            self.current_password.errors.append(_l("Enter your password to change the bank account."))
            return False
        if result == reauth.BAD_CODE:
            self.totp_code.errors.append(_l("Enter the current code from your authenticator app."))
            return False
        return True


class _GroupDetails(_WithMunicipality):
    name = StringField(
        _l("Name of the group"), filters=_F, validators=[DataRequired(), Length(max=200), _no_personal_code]
    )
    municipality = _municipality_field()
    members_count = IntegerField(
        _l("Number of young people in the group"),
        validators=[
            InputRequired(message=_l("Enter how many young people are in the group.")),
            NumberRange(
                min=MIN_GROUP_MEMBERS,
                max=MAX_GROUP_MEMBERS,
                message=_l("Enter a whole number from %(min)d to %(max)d."),
            ),
        ],
    )
    email = _email_field(_l("Group's e-mail"))


class GroupForm(_GroupDetails):
    """Start a youth initiative group (a count of young people, never their names)."""


class EditGroupForm(_GroupDetails):
    """Change a group's details."""


class InviteForm(FlaskForm):
    email = _email_field(_l("E-mail of the person to invite"))
