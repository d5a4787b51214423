"""Forms of programmes, criteria, rounds, pupil-count uploads and quota overrides.

Each form lists exactly the fields a national administrator may set; anything else posted (`code` on
edit, `status`, `computed_quota`, `municipality_id` ...) is never read (QUALITY C3). Numbers accept the
Latvian way of writing them ("4 600,00") and the cross-field rules mirror the database's CHECK
constraints, so a wrong value is shown by its field and never becomes an IntegrityError.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, DateField, Field, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextArea, TextInput

from portal.core.enums import LegalForm
from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.i18n import current_language
from portal.core.privacy import no_personal_code
from portal.programmes import services

MAX_UPLOAD_BYTES = 1024 * 1024  # 43 lines of "municipality;pupils" are a few kilobytes


def _clean(value):
    """Drop control characters (a NUL would break PostgreSQL) and surrounding spaces; keep line breaks."""
    if not isinstance(value, str):
        return value
    return "".join(ch for ch in value if ch in "\n" or unicodedata.category(ch) != "Cc").strip()


_F = [_clean]
_SPACES = str.maketrans("", "", " \u00a0\u202f\t")
_DECIMAL = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


class LocaleDecimalField(Field):
    """A decimal number typed the Latvian way ("4 600,00") or the English way ("4600.00").

    Exponents, NaN and infinities are refused; so are more decimal places than `places`.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").translate(_SPACES)
        if not text:
            self.data = None
            return
        if not _DECIMAL.match(text):
            self.data = None
            raise ValueError(_l("Enter a number, for example 4600,00."))
        value = Decimal(text.replace(",", "."))
        if -value.as_tuple().exponent > self.places:
            self.data = None
            raise ValueError(_l("Use at most %(places)d decimal places.", places=self.places))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = f"{self.data:.{self.places}f}"
        return text.replace(".", ",") if current_language() == "lv" else text


class WholeNumberField(Field):
    """A whole number; unlike IntegerField it refuses "1_000" and other digits than 0–9."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").translate(_SPACES)
        if not text:
            self.data = None
            return
        if not _INTEGER.match(text) or len(text) > 12:
            self.data = None
            raise ValueError(_l("Enter a whole number."))
        self.data = int(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


_CATEGORY_CODE = re.compile(r"^[a-z0-9_]{1,30}$")


class RiskCategoriesField(Field):
    """Risk categories, one a line: `code; Latvian name; English name`."""

    widget = TextArea()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        categories = []
        for number, line in enumerate(_clean(valuelist[0] or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 3 or not all(parts):
                self.data = None
                raise ValueError(
                    _l(
                        "Line %(line)d: write the code, the Latvian and the English name, "
                        "separated by semicolons.",
                        line=number,
                    )
                )
            code, lv, en = parts
            if not _CATEGORY_CODE.match(code):
                self.data = None
                raise ValueError(
                    _l(
                        "Line %(line)d: the code may have only lower-case letters a–z, digits "
                        "and underscores.",
                        line=number,
                    )
                )
            if len(lv) > 200 or len(en) > 200:
                self.data = None
                raise ValueError(_l("Line %(line)d: a name may have at most 200 characters.", line=number))
            categories.append({"code": code, "lv": lv, "en": en})
        self.data = categories

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(
            f"{c.get('code', '')}; {c.get('lv', '')}; {c.get('en', '')}" for c in self.data or []
        )


def _text(label, max_length, required=True, **kwargs):
    validators = (
        [DataRequired(), Length(max=max_length)] if required else [Optional(), Length(max=max_length)]
    )
    return StringField(label, filters=_F, validators=[*validators, no_personal_code], **kwargs)


def _number(label, low, high):
    return WholeNumberField(label, validators=[InputRequired(), NumberRange(min=low, max=high)])


def _percent(label):
    return LocaleDecimalField(label, validators=[InputRequired(), NumberRange(min=0, max=100)])


FUNDING_MODES = [
    SelectChoice("fixed", _l("A fixed lump sum: no more and no less")),
    SelectChoice("cap", _l("Up to a cap")),
]


class ProgrammeForm(FlaskForm):
    """A programme's rules (DESIGN §2); the cross-field checks are the database's CHECK constraints."""

    name_lv = _text(_l("Name in Latvian"), 200)
    name_en = _text(_l("Name in English"), 200)
    operator = _text(_l("Operator"), 200)
    period_start = DateField(_l("Programme starts"), validators=[InputRequired()])
    period_end = DateField(_l("Programme ends"), validators=[InputRequired()])
    funding_mode = RadioField(
        _l("How the amount is set"), choices=FUNDING_MODES, validators=[InputRequired()]
    )
    amount = LocaleDecimalField(_l("Amount per project, EUR"), validators=[InputRequired()])
    min_months = _number(_l("Shortest project, months"), 1, 120)
    max_months = _number(_l("Longest project, months"), 1, 120)
    min_risk_share = _percent(_l("Minimum share of participants at risk of early school leaving, %"))
    grade_min = _number(_l("Lowest general-education grade"), 1, 12)
    grade_max = _number(_l("Highest general-education grade"), 1, 12)
    vocational_min = _number(_l("Lowest vocational course"), 1, 6)
    vocational_max = _number(_l("Highest vocational course"), 1, 6)
    eligible_legal_forms = MultiCheckboxField(
        _l("Eligible applicants"), choices=[SelectChoice(f.value, f.label) for f in LegalForm]
    )
    risk_categories = RiskCategoriesField(_l("Risk categories"), validators=[InputRequired()])
    advance_percent = _percent(_l("Advance payment (share of the amount), %"))
    min_call_window_days = _number(_l("Shortest call window, days"), 1, 365)
    report_due_working_days = _number(_l("Final report due, working days after the project ends"), 1, 120)
    report_review_working_days = _number(_l("Final report review, working days"), 1, 120)
    pass_share = _percent(_l("Pass mark (share of the maximum score), %"))
    applications_per_organisation = _number(_l("Applications one organisation may submit in a call"), 1, 20)
    is_active = BooleanField(_l("Open for new rounds"))

    def rule_values(self) -> dict:
        """Return the programme's rules from the form (only the fields a person may set)."""
        return {name: getattr(self, name).data for name in services.PROGRAMME_RULE_FIELDS}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Only values that passed their own field checks take part in the cross-field rules.
        values = {
            name: getattr(self, name).data
            for name in services.PROGRAMME_RULE_FIELDS
            if not getattr(self, name).errors
        }
        for field, message in services.programme_rule_problems(values):
            target = getattr(self, field)
            if not target.errors:
                target.errors = [*target.errors, message]
                ok = False
        return ok


class NewProgrammeForm(ProgrammeForm):
    """A new programme: its own code and the programme whose criteria and texts it starts from."""

    code = StringField(
        _l("Code"),
        filters=[_clean, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[DataRequired(), Length(max=40)],
    )
    copy_from = SelectField(
        _l("Copy the evaluation criteria and template texts from"), coerce=str, validate_choice=True
    )

    def validate_code(self, field):
        if field.data and not services.PROGRAMME_CODE.match(field.data):
            raise ValidationError(_l("Use 1–40 lower-case letters, digits, dots or hyphens."))


class CriterionForm(FlaskForm):
    """A criterion template; the scoring fields apply to quality criteria only."""

    title_lv = _text(_l("Title in Latvian"), 300)
    title_en = _text(_l("Title in English"), 300)
    description_lv = StringField(
        _l("Description in Latvian"),
        filters=_F,
        widget=TextArea(),
        validators=[Optional(), Length(max=4000), no_personal_code],
    )
    description_en = StringField(
        _l("Description in English"),
        filters=_F,
        widget=TextArea(),
        validators=[Optional(), Length(max=4000), no_personal_code],
    )
    weight = LocaleDecimalField(_l("Weight"), validators=[InputRequired(), NumberRange(min=0, max=99)])
    essential = BooleanField(_l("Essential: a score of 0 fails the application"))
    tie_break_order = WholeNumberField(
        _l("Place in the tie-break order"), validators=[Optional(), NumberRange(min=1, max=50)]
    )
    level_0_lv = _text(_l("0 points, in Latvian"), 500)
    level_0_en = _text(_l("0 points, in English"), 500)
    level_1_lv = _text(_l("1 point, in Latvian"), 500)
    level_1_en = _text(_l("1 point, in English"), 500)
    level_2_lv = _text(_l("2 points, in Latvian"), 500)
    level_2_en = _text(_l("2 points, in English"), 500)
    level_3_lv = _text(_l("3 points, in Latvian"), 500)
    level_3_en = _text(_l("3 points, in English"), 500)

    SCORING = ("weight", "essential", "tie_break_order") + tuple(
        f"level_{level}_{lang}" for level in services.LEVELS for lang in ("lv", "en")
    )

    def __init__(self, *args, quality: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not quality:  # yes/no criteria have no weight or levels: the fields are neither shown nor read
            for name in self.SCORING:
                delattr(self, name)

    @classmethod
    def from_criterion(cls, criterion):
        data = {name: getattr(criterion, name) for name in services.CRITERION_TEXT_FIELDS}
        if criterion.kind == "quality":
            data |= {
                "weight": criterion.weight,
                "essential": criterion.essential,
                "tie_break_order": criterion.tie_break_order,
            }
            for level in services.LEVELS:
                for lang in ("lv", "en"):
                    data[f"level_{level}_{lang}"] = (criterion.levels or {}).get(level, {}).get(lang, "")
        return cls(quality=criterion.kind == "quality", data=data)

    def criterion_values(self) -> dict:
        values = {name: getattr(self, name).data for name in services.CRITERION_TEXT_FIELDS}
        if self.weight is not None:
            values |= {
                "weight": self.weight.data,
                "essential": bool(self.essential.data),
                "tie_break_order": self.tie_break_order.data,
                "levels": {
                    level: {lang: getattr(self, f"level_{level}_{lang}").data for lang in ("lv", "en")}
                    for level in services.LEVELS
                },
            }
        return values


UNUSED_POLICIES = [
    SelectChoice("carry_over", _l("Carry it over to the municipality's next round")),
    SelectChoice("redistribute", _l("Redistribute it among municipalities with reserve-list projects")),
]
ROUND_TARGETS = [SelectChoice("projects", _l("A number of projects")), SelectChoice("budget", _l("A budget"))]


class RoundForm(FlaskForm):
    """A new round: its number, its size (projects or budget), its period and its unused-quota policy."""

    number = _number(_l("Round number"), 1, 999)
    target = RadioField(
        _l("The round's size is given as"),
        choices=ROUND_TARGETS,
        default="projects",
        validators=[InputRequired()],
    )
    projects = WholeNumberField(
        _l("Number of projects"), validators=[Optional(), NumberRange(min=1, max=services.MAX_PROJECTS)]
    )
    budget = LocaleDecimalField(
        _l("Budget, EUR"), validators=[Optional(), NumberRange(min=Decimal("0.01"), max=services.MAX_MONEY)]
    )
    period_start = DateField(_l("Round starts"), validators=[InputRequired()])
    period_end = DateField(_l("Round ends"), validators=[InputRequired()])
    unused_policy = RadioField(
        _l("Unused quota after the round"),
        choices=UNUSED_POLICIES,
        default="carry_over",
        validators=[InputRequired()],
    )

    def __init__(self, *args, programme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.target.data == "projects" and self.projects.data is None and not self.projects.errors:
            self.projects.errors.append(_l("Enter the number of projects."))
            ok = False
        if self.target.data == "budget" and self.budget.data is None and not self.budget.errors:
            self.budget.errors.append(_l("Enter the budget."))
            ok = False
        start, end = self.period_start.data, self.period_end.data
        if start and end and end < start and not self.period_end.errors:
            self.period_end.errors.append(_l("The round cannot end before it starts."))
            ok = False
        p = self.programme
        by_budget = self.target.data == "budget" and self.budget.data and not self.budget.errors
        if p is not None and by_budget and self.budget.data / p.amount > services.MAX_PROJECTS:
            self.budget.errors.append(
                _l("This budget pays for more than %(max)d projects.", max=services.MAX_PROJECTS)
            )
            ok = False
        if (
            p is not None
            and start
            and end
            and not self.period_end.errors
            and (start < p.period_start or end > p.period_end)
        ):
            self.period_end.errors.append(_l("The round must lie within the programme's period."))
            ok = False
        return ok

    def round_values(self) -> dict:
        by_projects = self.target.data == "projects"
        return {
            "number": self.number.data,
            "projects": self.projects.data if by_projects else None,
            "budget": None if by_projects else self.budget.data,
            "period_start": self.period_start.data,
            "period_end": self.period_end.data,
            "unused_policy": self.unused_policy.data,
        }


class PupilCountsForm(FlaskForm):
    """A CSV file of `municipality;pupils` lines."""

    file = FileField(
        _l("CSV file with pupil counts"),
        validators=[
            FileRequired(message=_l("Choose the CSV file.")),
            FileSize(MAX_UPLOAD_BYTES, message=_l("The file is larger than 1 MB.")),
        ],
    )


class OverrideQuotaForm(FlaskForm):
    """A quota set by hand; the reason is mandatory and goes to the audit trail."""

    quota = _number(_l("New quota, projects"), 0, 10_000)
    reason = StringField(
        _l("Reason for the change"),
        filters=_F,
        widget=TextArea(),
        validators=[
            DataRequired(message=_l("Give the reason for changing the quota.")),
            Length(max=2000),
            no_personal_code,
        ],
    )


class CloseRoundForm(FlaskForm):
    """Closing a round cannot be undone, so the administrator ticks a box after reading the preview."""

    confirm = BooleanField(
        _l("I have checked the figures above and want to close the round"),
        validators=[DataRequired(message=_l("Tick the box to confirm that the round is to be closed."))],
    )
