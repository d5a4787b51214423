"""Application forms: the step-by-step draft form (`steps`), its fields (`fields`), and the small forms
of the application pages (start, withdraw, answer a clarification)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField

from portal.applications.forms.fields import DayField, clean_text, format_amount, parse_amount, text
from portal.applications.forms.steps import (
    ACTIVITY_LABELS,
    BUDGET_LABELS,
    FIELD_ANCHOR,
    FIELD_STEP,
    LABELS,
    MAX_ACTIVITIES,
    STEP_BY_SLUG,
    STEPS,
    DraftForm,
    Step,
    form_class_for,
    form_for,
    step_index,
)

__all__ = [
    "ACTIVITY_LABELS",
    "BUDGET_LABELS",
    "FIELD_ANCHOR",
    "FIELD_STEP",
    "LABELS",
    "MAX_ACTIVITIES",
    "STEP_BY_SLUG",
    "STEPS",
    "AnswerClarificationForm",
    "DayField",
    "DraftForm",
    "StartForm",
    "Step",
    "WithdrawForm",
    "clean_text",
    "form_class_for",
    "form_for",
    "format_amount",
    "parse_amount",
    "step_index",
]


class StartForm(FlaskForm):
    """Which of the user's organisations applies (the view offers only the user's own)."""

    organisation = RadioField(
        _l("Which organisation applies?"),
        choices=[],
        validate_choice=True,
    )


class WithdrawForm(FlaskForm):
    reason = text(_l("Reason (optional)"), max_length=2000)


class AnswerClarificationForm(FlaskForm):
    """The applicant's answer to the municipality's one clarification request (the corrected
    application itself is edited with the step form and frozen as a new version on sending)."""

    answer = text(
        _l("Your answer"),
        description=_l(
            "Say what you clarified or corrected. The municipality reads it with the new version."
        ),
    )
