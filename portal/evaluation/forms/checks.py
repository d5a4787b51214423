"""Forms of the administrative and eligibility check: one yes/no answer and a reason per criterion,
the rejection with its reasons, and the one clarification request.

Each form lists exactly what a checker may set (QUALITY C3): the criteria's fields are built from the
call's own criteria, so a posted answer for another call's criterion is never read."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextArea

from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code as _no_personal_code
from portal.evaluation.services.checks import CLARIFICATION_DAYS, DEFAULT_CLARIFICATION_DAYS
from portal.programmes.forms import WholeNumberField, _clean

_F = [_clean]
REASON_MAX = 4000
YES, NO = "yes", "no"


class CheckForm(FlaskForm):
    """The checker's answers: `passed_<criterion id>` (yes/no) and `reason_<criterion id>` per criterion.

    Build it with `check_form(criteria, ...)`; the fields are added per call."""

    def criteria_fields(self, criteria) -> list[tuple]:
        """(criterion, its yes/no field, its reason field), in the criteria's order."""
        return [(c, self[f"passed_{c.id}"], self[f"reason_{c.id}"]) for c in criteria]

    def answers(self, criteria) -> dict[int, tuple[bool | None, str | None]]:
        """The answers as the service takes them: {criterion id: (passed or None, reason)}."""
        result = {}
        for criterion, passed, reason in self.criteria_fields(criteria):
            value = {YES: True, NO: False}.get(passed.data)
            result[criterion.id] = (value, reason.data or None)
        return result

    def validate_reasons(self, criteria) -> bool:
        """A "no" needs a reason (the applicant reads it): mark every one that lacks it, not only the
        first (the service refuses too, as the last word)."""
        ok = True
        for _criterion, passed, reason in self.criteria_fields(criteria):
            if passed.data == NO and not reason.data:
                reason.errors = [*reason.errors, _l("Say why the criterion is not met.")]
                ok = False
        return ok


def check_form(criteria, *, title, **kwargs) -> CheckForm:
    """Return the check form of these criteria; `title(criterion)` gives each criterion's label."""

    class _Form(CheckForm):
        pass

    for criterion in criteria:
        setattr(
            _Form,
            f"passed_{criterion.id}",
            RadioField(
                title(criterion),
                choices=[SelectChoice(YES, _l("Met")), SelectChoice(NO, _l("Not met"))],
                validators=[Optional()],
                validate_choice=True,
            ),
        )
        setattr(
            _Form,
            f"reason_{criterion.id}",
            StringField(
                _l("Reason for “%(criterion)s”", criterion=title(criterion)),
                filters=_F,
                widget=TextArea(),
                validators=[Length(max=REASON_MAX), _no_personal_code],
            ),
        )
    return _Form(**kwargs)


class RejectForm(FlaskForm):
    reason = StringField(
        _l("Reasons for the rejection"),
        filters=_F,
        widget=TextArea(),
        description=_l("The applicant receives these reasons by e-mail and sees them in the portal."),
        validators=[
            DataRequired(message=_l("Give the reasons for the rejection: the applicant reads them.")),
            Length(max=REASON_MAX),
            _no_personal_code,
        ],
    )


class ClarificationForm(FlaskForm):
    message = StringField(
        _l("What the applicant must clarify or correct"),
        filters=_F,
        widget=TextArea(),
        description=_l(
            "The applicant receives this by e-mail and can correct the application in the portal."
        ),
        validators=[
            DataRequired(message=_l("Say what the applicant must clarify or correct.")),
            Length(max=REASON_MAX),
            _no_personal_code,
        ],
    )
    working_days = WholeNumberField(
        _l("Working days to answer"),
        default=DEFAULT_CLARIFICATION_DAYS,
        description=_l(
            "Between %(low)d and %(high)d. Weekends and Latvian public holidays do not count; the "
            "deadline is the end of the last day, Riga time.",
            low=CLARIFICATION_DAYS[0],
            high=CLARIFICATION_DAYS[1],
        ),
        validators=[
            InputRequired(message=_l("Give the number of working days.")),
            NumberRange(
                min=CLARIFICATION_DAYS[0],
                max=CLARIFICATION_DAYS[1],
                message=_l("Give between %(low)d and %(high)d working days.", low=1, high=30),
            ),
        ],
    )
