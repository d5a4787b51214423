"""Forms of the prevention plan pages. Each lists exactly what a coordinator may set; the rules (years in
the period, levels, goals of the same plan, unique numbers) are the services' and come back to the field
through `committed(form)`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import ActionForm  # noqa: F401  (re-exported for the views)
from portal.core.privacy import no_personal_code
from portal.plans import services
from portal.plans.models import LEVELS, LevelScheme
from portal.programmes.forms import _F, WholeNumberField

YEARS = services.YEAR_RANGE


def _text(label, max_length, required=False, area=False, **kwargs):
    validators = (
        [DataRequired(message=_l("Fill this in.")), Length(max=max_length)]
        if required
        else [Optional(), Length(max=max_length)]
    )
    field_class = TextAreaField if area else StringField
    return field_class(label, filters=_F, validators=[*validators, no_personal_code], **kwargs)


def _year(label, required=True):
    return WholeNumberField(
        label,
        validators=[
            InputRequired(message=_l("Give a year.")) if required else Optional(),
            NumberRange(min=YEARS[0], max=YEARS[1], message=_l("Give a year between %(min)s and %(max)s.")),
        ],
    )


def _level_choices(plan) -> list[tuple[int, str]]:
    scheme = LevelScheme(plan.level_scheme)
    return [(level, f"{level} – {scheme.level_label(level)}") for level in LEVELS]


def _goal_choices(plan) -> list[tuple[int, str]]:
    return [(0, _l("No goal"))] + [(g.id, f"{g.number} {g.title}".strip()[:120]) for g in plan.goals]


class PlanForm(FlaskForm):
    title = _text(_l("Title"), 300, required=True)
    period_start = _year(_l("First year of the period"))
    period_end = _year(_l("Last year of the period"))
    level_scheme = RadioField(
        _l("Prevention levels"),
        choices=[
            SelectChoice(LevelScheme.UNIVERSAL.value, _l("Universal, targeted and tailored prevention")),
            SelectChoice(LevelScheme.PRIMARY.value, _l("Primary, secondary and tertiary prevention")),
        ],
        default=LevelScheme.UNIVERSAL.value,
        validators=[InputRequired(message=_l("Choose how the plan names its levels."))],
    )
    approved_on = DateField(_l("Approved on (optional)"), validators=[Optional()])
    approval_reference = _text(_l("Approved by (council decision, optional)"), 300)
    is_active = BooleanField(_l("This is the plan in force"), default=True)
    lock_version = HiddenField()

    def plan_values(self) -> dict:
        return {name: getattr(self, name).data for name in services.PLAN_FIELDS}


class GoalForm(FlaskForm):
    level = SelectField(_l("Prevention level"), coerce=int, validators=[InputRequired()])
    number = _text(_l("Number"), 20, description=_l("For example 1.1."))
    title = _text(_l("Goal"), 4000, required=True, area=True)
    expected_results = _text(_l("Expected results"), 8000, area=True)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = _level_choices(plan)

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in ("number", "title", "expected_results")} | {
            "level": self.level.data
        }


class ActivityForm(FlaskForm):
    level = SelectField(_l("Prevention level"), coerce=int, validators=[InputRequired()])
    goal_id = SelectField(_l("Goal"), coerce=int, default=0)
    number = _text(_l("Number"), 20, description=_l("For example 1.1."))
    title = _text(_l("Activity"), 4000, required=True, area=True)
    planned_result = _text(_l("Planned result"), 4000, area=True)
    result_indicator = _text(_l("Result indicator (what is counted)"), 4000, area=True)
    target_value = WholeNumberField(
        _l("Target value (a count, optional)"),
        validators=[Optional(), NumberRange(min=0, max=10**9, message=_l("Give a count, not negative."))],
    )
    responsible = _text(_l("Responsible"), 2000, area=True)
    involved = _text(_l("Involved"), 2000, area=True)
    year_from = SelectField(_l("From year"), coerce=int)
    year_to = SelectField(_l("To year"), coerce=int)
    funding_sources = _text(_l("Funding sources"), 2000, area=True)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = _level_choices(plan)
        self.goal_id.choices = _goal_choices(plan)
        years = [(y, str(y)) for y in plan.years]
        self.year_from.choices = years
        self.year_to.choices = years
        if self.year_from.data is None:
            self.year_from.data = plan.period_start
        if self.year_to.data is None:
            self.year_to.data = plan.period_end

    def values(self) -> dict:
        values = {name: getattr(self, name).data for name in services.ACTIVITY_FIELDS}
        values["goal_id"] = values["goal_id"] or None
        return values


def indicator_form(plan, *args, **kwargs):
    """The indicator form with one target field per year of the plan's period."""

    class IndicatorForm(FlaskForm):
        level = SelectField(_l("Prevention level"), coerce=int, validators=[InputRequired()])
        goal_id = SelectField(_l("Goal"), coerce=int, default=0)
        number = _text(_l("Number"), 20)
        title = _text(_l("Indicator"), 4000, required=True, area=True)
        baseline = _text(_l("Baseline"), services.TARGET_MAX)
        baseline_year = _year(_l("Baseline year"), required=False)
        data_source = _text(_l("Data source"), 300)

        def target_fields(self):
            return [(year, getattr(self, f"target_{year}")) for year in plan.years]

        def values(self) -> dict:
            values = {
                name: getattr(self, name).data
                for name in (
                    "level",
                    "goal_id",
                    "number",
                    "title",
                    "baseline",
                    "baseline_year",
                    "data_source",
                )
            }
            values["goal_id"] = values["goal_id"] or None
            values["targets"] = {str(year): f.data or "" for year, f in self.target_fields()}
            return values

    for year in plan.years:
        setattr(
            IndicatorForm,
            f"target_{year}",
            _text(_l("Target for %(year)s", year=year), services.TARGET_MAX),
        )
    form = IndicatorForm(*args, **kwargs)
    form.level.choices = _level_choices(plan)
    form.goal_id.choices = _goal_choices(plan)
    return form


class ImportForm(FlaskForm):
    file = FileField(
        _l("Filled-in template (.xlsx) or activities table (.csv)"),
        validators=[FileRequired(message=_l("Choose the file."))],
    )
