"""Forms of the administration pages. Filter forms are GET forms (no CSRF); every POST form has it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.core.enums import Role
from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code

REASON_MAX = 1000


class AuditFilterForm(FlaskForm):
    """Filters of the audit trail, read from the query string (and from the export form's hidden copy)."""

    class Meta:
        csrf = False  # a GET form changes nothing; the export POST is checked by CSRFProtect

    date_from = DateField(_l("From (date)"), validators=[Optional()])
    date_to = DateField(_l("To (date)"), validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], default="", validate_choice=True)
    actor = StringField(_l("Actor e-mail contains"), validators=[Optional(), Length(max=254)])
    object_type = SelectField(_l("Object type"), choices=[], default="", validate_choice=True)
    object_id = IntegerField(
        _l("Object number"),
        validators=[
            Optional(),
            NumberRange(min=1, max=2**31 - 1, message=_l("Enter a whole number from 1.")),
        ],
    )

    def set_choices(self, actions: list[str], object_types: list[str]) -> None:
        self.action.choices = [SelectChoice("", _l("All actions"))] + [SelectChoice(a) for a in actions]
        self.object_type.choices = [SelectChoice("", _l("All object types"))] + [
            SelectChoice(t) for t in object_types
        ]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("E-mail or name contains"), validators=[Optional(), Length(max=254)])


class GrantRoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.COORDINATOR.value, lazy_pgettext("role", "Municipality coordinator")),
            SelectChoice(Role.EVALUATOR.value, lazy_pgettext("role", "Evaluator")),
            SelectChoice(Role.NATIONAL_ADMIN.value, lazy_pgettext("role", "National administrator")),
        ],
        validators=[DataRequired()],
    )
    municipality = SelectField(_l("Municipality"), choices=[], default="", validate_choice=True)

    def set_municipalities(self, municipalities) -> None:
        self.municipality.choices = [SelectChoice("", _l("— not for a national administrator —"))] + [
            SelectChoice(str(m.id), m.name) for m in municipalities
        ]

    def validate_municipality(self, field):
        if self.role.data in (Role.COORDINATOR.value, Role.EVALUATOR.value) and not field.data:
            raise ValidationError(_l("Choose the municipality for a coordinator or an evaluator."))


class ReasonForm(FlaskForm):
    """A required reason: revoking a role, disabling or enabling an account."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=REASON_MAX), no_personal_code],
    )


class TerminateSessionsForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"), validators=[Optional(), Length(max=REASON_MAX), no_personal_code]
    )
