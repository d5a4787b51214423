"""Account forms: registration, login, second factor, password reset and settings.

Passwords are never stripped or otherwise changed (QUALITY A1: spaces and emoji are kept as typed);
other text is stripped and refused if it holds control characters, which PostgreSQL cannot store.
"""

from __future__ import annotations

import unicodedata

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.accounts import passwords, services

# Each language is named in itself, marked with its own `lang` for screen readers.
LANGUAGE_CHOICES = [
    SelectChoice("lv", "Latviešu", render_kw={"lang": "lv"}),
    SelectChoice("en", "English", render_kw={"lang": "en"}),
]
# Longer input cannot be a valid password (policy maximum 128); refusing it early bounds hashing work.
LOGIN_PASSWORD_MAX = 1024


def strip(value):
    return value.strip() if isinstance(value, str) else value


def lower(value):
    return value.lower() if isinstance(value, str) else value


def no_control_characters(form, field):
    """Refuse control characters (NUL, line breaks...) in single-line text."""
    if isinstance(field.data, str) and any(unicodedata.category(ch) in ("Cc", "Cs") for ch in field.data):
        raise ValidationError(_l("Remove the invisible control characters from this field."))


def password_policy(email_field: str | None = None):
    """A validator applying the portal's password policy (passwords.password_problem)."""

    def _check(form, field):
        email = getattr(form, email_field).data if email_field and hasattr(form, email_field) else None
        problem = passwords.password_problem(field.data or "", email=email)
        if problem:
            raise ValidationError(problem)

    return _check


def _email_field(label=None, **kwargs):
    return EmailField(
        label or _l("E-mail address"),
        filters=[strip, lower],
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
            no_control_characters,
            *kwargs.pop("validators", []),
        ],
        **kwargs,
    )


class RegisterForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
            no_control_characters,
        ],
    )
    email = _email_field(validators=[Email(_l("Enter an e-mail address like name@example.lv."))])
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Choose a password.")), password_policy("email")],
    )
    password_repeat = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )
    language = SelectField(_l("Language for e-mails and pages"), choices=LANGUAGE_CHOICES, default="lv")
    consent = BooleanField(
        _l("I have read the privacy notice"),
        validators=[DataRequired(_l("Confirm that you have read the privacy notice."))],
    )
    next = HiddenField()


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter your password.")),
            Length(max=LOGIN_PASSWORD_MAX, message=_l("E-mail or password is incorrect.")),
        ],
    )
    next = HiddenField()


def totp_code_field():
    return StringField(
        _l("Code from the authenticator app"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the 6-digit code.")),
            Length(max=12, message=_l("The code has 6 digits.")),
        ],
    )


def current_password_field():
    return PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password.")), Length(max=LOGIN_PASSWORD_MAX)],
    )


class TotpForm(FlaskForm):
    code = totp_code_field()


class EmailOnlyForm(FlaskForm):
    """Request a password reset or a new confirmation link."""

    email = _email_field()
    next = HiddenField()


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password.")), password_policy()],
    )
    password_repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )


class _UserForm(FlaskForm):
    """A form about one user's account: `user=` is whose password and codes it checks."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


def check_current_password(user, value: str | None) -> None:
    """Re-authentication inside a form: a wrong password counts as a failed login (QUALITY A3, B6), and
    while the login is throttled the password is not checked at all. The view commits the attempt."""
    ip = request.remote_addr or "unknown"
    if user is None:
        raise ValidationError(_l("The current password is not correct."))
    if services.is_throttled(user.email, ip):
        services.record_login_attempt(
            user.email, ip, success=False, stage=services.STAGE_THROTTLED, reason="reauth"
        )
        raise ValidationError(_l("Too many failed attempts. Wait a few minutes and try again."))
    if not passwords.verify_password(user.password_hash, value or ""):
        services.record_login_attempt(
            user.email, ip, success=False, stage=services.STAGE_PASSWORD, reason="reauth_invalid_password"
        )
        raise ValidationError(_l("The current password is not correct."))


class _CurrentPasswordMixin:
    """Checks `current_password` against the user given to the form (re-authentication)."""

    user = None

    def validate_current_password(self, field):
        check_current_password(self.user, field.data)


class ProfileForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
            no_control_characters,
        ],
    )
    phone = StringField(
        _l("Phone (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=40, message=_l("Use at most %(max)d characters.")),
            Regexp(r"^\+?[0-9 ()-]{5,40}$", message=_l("Enter a phone number like +371 20000000.")),
        ],
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class ChangePasswordForm(_CurrentPasswordMixin, _UserForm):
    current_password = current_password_field()
    new_password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a new password.")), password_policy()],
    )
    new_password_repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(_l("Type the new password again.")),
            EqualTo("new_password", _l("The two passwords are not the same.")),
        ],
    )
    logout_others = BooleanField(_l("Log out my other sessions"), default=True)

    def validate_new_password(self, field):
        if self.user is not None and self.user.email and field.data and field.data.lower() == self.user.email:
            raise ValidationError(_l("Do not use your e-mail address as the password."))


class TotpConfirmForm(_CurrentPasswordMixin, _UserForm):
    """Turn TOTP on in the settings: the current password and a code from the new secret."""

    current_password = current_password_field()
    code = totp_code_field()


class DisableTotpForm(_UserForm):
    """Turn TOTP off (applicants only): the current password and a current code are both needed.

    Field names differ from ChangePasswordForm's because both forms sit on the settings page.
    """

    disable_password = current_password_field()
    disable_code = totp_code_field()

    def validate_disable_password(self, field):
        check_current_password(self.user, field.data)


class ConfirmOnlyForm(FlaskForm):
    """A button form (CSRF only): log out other sessions."""


class ReauthForm(FlaskForm):
    """Confirm the password (and the TOTP code, for users who have TOTP) before a sensitive change."""

    password = current_password_field()
    code = StringField(
        _l("Code from the authenticator app"),
        filters=[strip],
        validators=[Optional(), Length(max=12, message=_l("The code has 6 digits."))],
    )


class ChangeEmailForm(_UserForm):
    new_email = _email_field(
        _l("New e-mail address"), validators=[Email(_l("Enter an e-mail address like name@example.lv."))]
    )

    def validate_new_email(self, field):
        if self.user is not None and field.data and field.data == self.user.email.lower():
            raise ValidationError(_l("This is already the address of your account."))
