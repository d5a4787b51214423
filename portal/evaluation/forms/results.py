"""Forms of the results stage: consolidating, the council's decision, the reserve list, cancelling funding.

The decision form lists exactly what the coordinator sets: the decision's number, date and PDF, and per
consolidated application its outcome and (where it differs from the proposal) the reason. A posted
`status`, `rank` or `proposal` is never read (QUALITY C3).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.applications.forms import DayField, clean_text
from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code as _no_personal_code
from portal.evaluation.models import Proposal

REASON_MAX = 2000


def _one_line(value):
    value = clean_text(value)
    return " ".join(value.split()) if isinstance(value, str) else value


class DecisionForm(FlaskForm):
    """The council's decision; `for_results()` adds an outcome and a reason field per application."""

    number = StringField(
        _l("Decision number"),
        filters=[_one_line],
        validators=[DataRequired(message=_l("Give the decision's number.")), Length(max=100)],
        description=_l("As in the council's minutes, for example 12 or 5.§ (prot. Nr. 7)."),
    )
    decided_on = DayField(
        _l("Date of the decision"),
        validators=[InputRequired(message=_l("Give the date of the decision."))],
        description=_l("For example 31.03.2026."),
    )
    file = FileField(
        _l("Decision (PDF)"),
        validators=[FileRequired(message=_l("Choose the decision's PDF file."))],
        description=_l("The signed council decision as a PDF file of at most 10 MB."),
    )

    @classmethod
    def for_results(cls, results, **kwargs) -> DecisionForm:
        """Return the form with `outcome_<id>` (pre-set to the proposal) and `reason_<id>` per result."""

        class _Form(cls):
            pass

        names = []
        for result in results:
            application = result.application
            title = application.title or str(application.id)
            if result.passed:
                choices = [SelectChoice(p.value, str(p.label)) for p in Proposal]
            else:  # a failed application can only be left unfunded
                choices = [SelectChoice(Proposal.NOT_FUNDED.value, str(Proposal.NOT_FUNDED.label))]
            outcome = SelectField(
                _("Decision on “%(title)s”", title=title),
                choices=choices,
                default=result.proposal,
                validate_choice=True,
            )
            reason = TextAreaField(
                _("Reason for deviating from the proposal on “%(title)s”", title=title),
                filters=[clean_text],
                validators=[Optional(), Length(max=REASON_MAX), _no_personal_code],
                description=_("Needed only if the decision differs from the proposal."),
            )
            setattr(_Form, f"outcome_{result.application_id}", outcome)
            setattr(_Form, f"reason_{result.application_id}", reason)
            names.append(result.application_id)
        form = _Form(**kwargs)
        form.application_ids = names
        return form

    def outcome_field(self, application_id: int):
        return self[f"outcome_{application_id}"]

    def reason_field(self, application_id: int):
        return self[f"reason_{application_id}"]

    def outcomes(self) -> dict[int, tuple[str, str | None]]:
        """Return {application id: (outcome, reason)} as the service takes it."""
        return {
            app_id: (self.outcome_field(app_id).data, self.reason_field(app_id).data)
            for app_id in self.application_ids
        }


class CancelFundingForm(FlaskForm):
    """Cancelling a funded application's funding: the reason is e-mailed to the applicant and audited."""

    reason = TextAreaField(
        _l("Reason for cancelling the funding"),
        filters=[clean_text],
        validators=[
            DataRequired(message=_l("Say why the funding is cancelled: the applicant is told.")),
            Length(max=REASON_MAX),
            _no_personal_code,
        ],
        description=_l("For example: the contract was not signed by its deadline."),
    )
