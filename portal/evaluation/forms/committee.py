"""Forms of the committee pages: appointing and inviting members, changing a role, removing a member,
signing the call's declaration and stating a conflict of interest per application.

Several of these forms share one page, so the committee page gives each a prefix (its fields are then
named e.g. `appoint-role`, `invite-role`, `role-12-role`); a service's refusal names the field without
the prefix and `committed()` puts it next to the right one.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code
from portal.evaluation.models import CommitteeRole
from portal.programmes.forms import _clean

_F = [_clean]
REASON_MAX = 2000
NO_CONFLICT, RECUSE = "none", "recuse"


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, role.label) for role in CommitteeRole]


class AppointForm(FlaskForm):
    """Appoint one of the municipality's users; the view fills the choices."""

    user = SelectField(
        _l("Person"),
        choices=[],
        validators=[InputRequired(message=_l("Choose a person."))],
        description=_l("The municipality's coordinators and evaluators."),
    )
    role = SelectField(_l("Role"), choices=role_choices, default=CommitteeRole.MEMBER.value)


class InviteForm(FlaskForm):
    """Invite someone by e-mail: they accept through the link, signed in with that address."""

    email = EmailField(
        _l("E-mail address"),
        filters=_F,
        validators=[
            DataRequired(message=_l("Give the e-mail address.")),
            Email(message=_l("Give a valid e-mail address.")),
            Length(max=254),
        ],
    )
    role = SelectField(_l("Role"), choices=role_choices, default=CommitteeRole.MEMBER.value)


class ChangeRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class RemoveMemberForm(FlaskForm):
    reason = StringField(
        _l("Reason (optional)"), filters=_F, validators=[Optional(), Length(max=REASON_MAX), no_personal_code]
    )


class DeclarationForm(FlaskForm):
    agree = BooleanField(
        _l("I agree"),
        validators=[DataRequired(message=_l("Tick the box to sign the declaration."))],
    )


class ConflictForm(FlaskForm):
    statement = RadioField(
        _l("Your statement on this application"),
        choices=[
            SelectChoice(NO_CONFLICT, _l("I have no conflict of interest")),
            SelectChoice(RECUSE, _l("I have a conflict and recuse myself")),
        ],
        validators=[InputRequired(message=_l("Choose one of the statements."))],
    )
    reason = TextAreaField(
        _l("Reason for the recusal"),
        filters=_F,
        validators=[Optional(), Length(max=REASON_MAX), no_personal_code],
        description=_l(
            "Required if you recuse yourself: for example a family, work, membership or financial link "
            "with the applicant."
        ),
    )

    @property
    def recused(self) -> bool:
        return self.statement.data == RECUSE
