"""The application form, split into steps (issue 4).

Every step is a draft form: any field may be empty, a value that does not parse is reported next to
its field and not stored, and everything that does parse is stored ("store what parses, report the
rest"). Each form lists exactly the fields a person may set, so anything else posted (`status`,
`organisation_id`, `call_id`, ...) is never read (QUALITY C3). The rules for submitting live in
`rules.py`; `FIELD_STEP` below maps each rule's field to the step (and element) that fixes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.applications.forms.fields import (
    _ROW_KEY,
    SHORT_TEXT,
    AmountField,
    CountField,
    DayField,
    _no_personal_code,
    clean_text,
    text,
)
from portal.applications.models import BUDGET_CATEGORIES
from portal.applications.services import MAX_ACTIVITIES, plan_activities
from portal.core.i18n import current_language


class LocalisedLabel:
    """A label that picks the Latvian or English text of a data-driven choice (a risk category)."""

    def __init__(self, texts: dict):
        self.texts = texts

    def __str__(self) -> str:
        return str(self.texts.get(current_language()) or self.texts.get("lv") or self.texts.get("code", ""))

    def __html__(self) -> str:
        return str(escape(str(self)))


# --- labels (one place, used by the form, the summary and the conflict list) ----------------------

BUDGET_LABELS = {
    "trainers": _l("Trainers and experts"),
    "catering": _l("Catering"),
    "transport": _l("Transport"),
    "accommodation": _l("Accommodation"),
    "materials": _l("Materials"),
    "venue": _l("Venue rent"),
    "equipment": _l("Small equipment"),
    "publicity": _l("Publicity"),
    "coordination": _l("Project coordination"),
}

LABELS = {
    "group_members": _l("Number of young people in the group"),
    "partners": _l("Partners"),
    "title": _l("Project title"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "places": _l("Where in the municipality"),
    "problem": _l("The problem the project addresses"),
    "plan_link": _l("Link to the municipality's PMP prevention plan"),
    "plan_activity_id": _l("Activity of the municipality's prevention plan"),
    "goal": _l("Goal"),
    "objectives": _l("Objectives"),
    "participants_total": _l("Planned participants in total"),
    "participants_risk": _l("Of whom at risk of early school leaving"),
    "participants_grades_5_9": _l("Grades 5–9"),
    "participants_grades_10_12": _l("Grades 10–12"),
    "participants_vocational": _l("Vocational education, courses 1–4"),
    "risk_by_category": _l("At-risk participants by risk category"),
    "schools": _l("Schools the participants come from"),
    "youth_involvement": _l("How young people proposed, plan and run the project"),
    "activities": _l("Activity plan"),
    "results": _l("Expected results"),
    "indicators": _l("Indicators"),
    "publicity": _l("Publicity"),
    "risks": _l("Risks and how you will handle them"),
    "budget": _l("Indicative breakdown of the lump sum"),
    "declaration_truth": _l("I confirm that the information in this application is true."),
    "declaration_no_double_funding": _l("I confirm that these costs are not funded from another source."),
    "declaration_participant_lists": _l(
        "I confirm that the organisation keeps the participant lists and does not send them to the portal."
    ),
    "organisation": _l("Applicant"),
    "call": _l("Call"),
}

ACTIVITY_LABELS = {
    "activity": _l("Activity"),
    "method": _l("Method"),
    "months": _l("Months"),
    "participants": _l("Participants"),
    "responsible": _l("Responsible"),
}


# --- step forms -----------------------------------------------------------------------------------


class ActivityRowForm(Form):
    """One row of the activity plan (a sub-form: the step's form carries the CSRF token)."""

    activity = TextAreaField(
        ACTIVITY_LABELS["activity"],
        filters=[clean_text],
        validators=[
            Length(max=2000, message=_l("Shorten this to %(max)d characters at most.", max=2000)),
            _no_personal_code,
        ],
    )
    method = StringField(
        _l("Method (for example a workshop, a hike, a camp)"),
        filters=[clean_text],
        validators=[
            Length(max=SHORT_TEXT, message=_l("Shorten this to %(max)d characters at most.", max=SHORT_TEXT)),
            _no_personal_code,
        ],
    )
    months = StringField(
        _l("Months of the project (for example 1–3)"),
        filters=[clean_text],
        validators=[Length(max=100, message=_l("Shorten this to %(max)d characters at most.", max=100))],
    )
    participants = CountField(ACTIVITY_LABELS["participants"])
    responsible = StringField(
        _l("Responsible (a role, not a pupil's name)"),
        filters=[clean_text],
        validators=[
            Length(max=SHORT_TEXT, message=_l("Shorten this to %(max)d characters at most.", max=SHORT_TEXT)),
            _no_personal_code,
        ],
    )


class DraftForm(FlaskForm):
    """A step of the application form. Subclasses list their fields in `SCALARS` (and special parts)."""

    SCALARS: tuple[str, ...] = ()
    lock_version = HiddenField()

    def expected_version(self) -> int | None:
        """Return the lock version the page was loaded with (None when it is missing or garbled)."""
        raw = self.lock_version.data
        if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,9}", raw.strip()):
            return int(raw)
        return None

    @classmethod
    def initial(cls, values: dict) -> dict:
        """Return the form's `data` for the draft's stored values (services.form_values)."""
        return {name: values.get(name) for name in cls.SCALARS}

    def draft_values(self, current: dict, present: set[str] | None = None) -> tuple[dict, dict]:
        """Validate and return (values to store, {field name: error}).

        `current` is the draft as stored (services.form_values), used for checks across fields.
        `present` limits the values to the posted names (autosave sends what it has).
        """
        self.validate()
        errors: dict[str, str] = {}
        values: dict = {}

        def wanted(name: str) -> bool:
            return present is None or name in present

        for name in self.SCALARS:
            field = getattr(self, name)
            if not wanted(field.name):
                continue
            if field.errors:
                errors[field.name] = " ".join(str(e) for e in field.errors)
            else:
                values[name] = field.data
        self.extra_values(values, errors, wanted, present)
        self.cross_check(values, errors, current)
        return values, errors

    def extra_values(self, values, errors, wanted, present=None) -> None:
        """Add the values of a step's special parts (rows, categories, amounts)."""

    def cross_check(self, values, errors, current) -> None:
        """Refuse combinations the database cannot hold (checked on the values as they would be)."""

    def _refuse(self, values, errors, name, message) -> None:
        values.pop(name, None)
        field = getattr(self, name)
        field.errors = [*field.errors, message]
        errors[field.name] = " ".join(str(e) for e in field.errors)


def _keep_ordered(form, values, errors, current, low, high, message, *, refuse_first) -> None:
    """Keep `low` ≤ `high` in what is stored: refuse the typed value that breaks it, `refuse_first` if
    it was typed, the other one too if need be.

    Checked against the values as they would be after the save, since a refused value leaves the
    stored one in place (the database also enforces at-risk ≤ participants).
    """

    def effective(name):
        return values[name] if name in values else current.get(name)

    def broken():
        a, b = effective(low), effective(high)
        return a is not None and b is not None and a > b

    if not broken():
        return
    other = high if refuse_first == low else low
    for name in (refuse_first, other):
        if name in values:
            form._refuse(values, errors, name, message)
        if not broken():
            return


class ApplicantForm(DraftForm):
    SCALARS = ("group_members", "partners")
    group_members = CountField(LABELS["group_members"])
    partners = text(
        LABELS["partners"],
        description=_l(
            "Organisations, schools or institutions that take part, and what each does. Optional."
        ),
    )


class ProjectForm(DraftForm):
    SCALARS = ("title", "start_date", "end_date", "places")
    title = text(LABELS["title"], long=False)
    start_date = DayField(LABELS["start_date"])
    end_date = DayField(LABELS["end_date"])
    places = text(LABELS["places"], description=_l("Towns, parishes or venues where the activities happen."))

    def cross_check(self, values, errors, current):
        _keep_ordered(
            self,
            values,
            errors,
            current,
            "start_date",
            "end_date",
            _l("The project cannot end before it starts."),
            refuse_first="end_date",
        )


PLAN_ACTIVITY_REFUSED = _l("Choose an activity of your municipality's prevention plan from the list.")
MAX_OPTION_LABEL = 160


def _activity_id(value):
    """Read a plan activity's id as a select posts it ("" → None); anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = str(value).strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        return int(raw)
    raise ValueError("not an activity id")


def plan_activity_choices(activities) -> list[SelectChoice]:
    """The select's options: an empty first one, then the activities grouped by prevention level
    (one <optgroup> per level, named as the plan names its levels), each labelled "number title"."""
    from portal.plans.models import LevelScheme  # plans build on municipalities, not on applications

    choices = [SelectChoice(value="", label=_l("Choose an activity"))]
    for activity in activities:
        label = f"{activity.number} {activity.title}".strip()
        if len(label) > MAX_OPTION_LABEL:
            label = label[: MAX_OPTION_LABEL - 1].rstrip() + "…"
        scheme = LevelScheme(activity.plan.level_scheme)
        choices.append(
            SelectChoice(
                value=str(activity.id), label=label, optgroup=str(scheme.level_label(activity.level))
            )
        )
    return choices


class PlanForm(DraftForm):
    SCALARS = ("problem", "plan_activity_id", "plan_link", "goal", "objectives")
    problem = text(LABELS["problem"])
    # Filled per application (bind_application): the activities of the active plan of the call's
    # municipality. Unbound, only the empty choice exists, so no id is ever accepted blindly.
    plan_activity_id = SelectField(
        LABELS["plan_activity_id"],
        coerce=_activity_id,
        choices=[SelectChoice(value="", label=_l("Choose an activity"))],
        invalid_value_message=PLAN_ACTIVITY_REFUSED,
        invalid_choice_message=PLAN_ACTIVITY_REFUSED,
        description=_l("The activity of your municipality's PMP prevention plan that the project serves."),
    )
    plan_link = text(
        LABELS["plan_link"],
        description=_l("Explain how the project serves the plan's activity."),
    )
    has_plan = False  # set by bind_application
    goal = text(LABELS["goal"])
    objectives = text(LABELS["objectives"])

    def bind_application(self, application) -> None:
        """Offer the activities of the active prevention plan of the application's call's municipality."""
        self.has_plan = bool(activities := plan_activities(application))
        self.plan_activity_id.choices = plan_activity_choices(activities)


class TargetGroupForm(DraftForm):
    SCALARS = (
        "participants_total",
        "participants_risk",
        "participants_grades_5_9",
        "participants_grades_10_12",
        "participants_vocational",
        "schools",
    )
    RISK_FIELDS: tuple[tuple[str, str], ...] = ()  # (field name, category code), set per programme
    participants_total = CountField(LABELS["participants_total"])
    participants_risk = CountField(
        LABELS["participants_risk"],
        description=_l("Young people at risk of early school leaving (PMP risk). Counts only, never names."),
    )
    participants_grades_5_9 = CountField(LABELS["participants_grades_5_9"])
    participants_grades_10_12 = CountField(LABELS["participants_grades_10_12"])
    participants_vocational = CountField(LABELS["participants_vocational"])
    schools = text(LABELS["schools"])

    def risk_fields(self):
        return [getattr(self, name) for name, _code in self.RISK_FIELDS]

    @classmethod
    def initial(cls, values):
        data = super().initial(values)
        stored = values.get("risk_by_category") or {}
        data.update({name: stored.get(code) for name, code in cls.RISK_FIELDS})
        return data

    def extra_values(self, values, errors, wanted, present=None):
        posted = [(name, code) for name, code in self.RISK_FIELDS if wanted(name)]
        if not posted:
            return
        by_category = {}
        for name, code in posted:
            field = getattr(self, name)
            if field.errors:
                errors[field.name] = " ".join(str(e) for e in field.errors)
            else:
                by_category[code] = field.data
        values["risk_by_category"] = by_category  # merged with the stored counts by the view

    def cross_check(self, values, errors, current):
        _keep_ordered(
            self,
            values,
            errors,
            current,
            "participants_risk",
            "participants_total",
            _l("Participants at risk cannot outnumber all participants."),
            refuse_first="participants_risk",
        )


def target_group_form_class(programme) -> type[TargetGroupForm]:
    """Return the target-group form with one count per risk category of the programme (data, not code)."""
    attrs, names = {}, []
    for category in programme.risk_categories or []:
        code = str(category.get("code", ""))
        name = "risk_" + re.sub(r"[^a-z0-9_]", "_", code.lower())
        if not code or name in attrs:
            continue
        attrs[name] = CountField(LocalisedLabel({**category, "code": code}))
        names.append((name, code))
    attrs["RISK_FIELDS"] = tuple(names)
    return type("ProgrammeTargetGroupForm", (TargetGroupForm,), attrs)


class ActivitiesForm(DraftForm):
    SCALARS = ("youth_involvement",)
    youth_involvement = text(LABELS["youth_involvement"])
    activities = FieldList(FormField(ActivityRowForm), min_entries=1, max_entries=MAX_ACTIVITIES)

    @classmethod
    def initial(cls, values):
        data = super().initial(values)
        data["activities"] = list(values.get("activities") or [])[:MAX_ACTIVITIES]
        return data

    def extra_values(self, values, errors, wanted, present=None):
        if present is None:
            posted = list(range(len(self.activities.entries)))
        else:
            # The list renumbers its rows 0..n-1; errors are reported under the names that were sent.
            posted = sorted({int(m.group(1)) for key in present if (m := _ROW_KEY.fullmatch(key))})
            if not posted:
                return
        rows = []
        for entry, number in zip(self.activities.entries, posted, strict=False):
            row = {}
            for field in entry.form:
                if field.errors:
                    # A row has no identity but its place, so a bad cell is stored empty, not kept.
                    errors[f"activities-{number}-{field.short_name}"] = " ".join(str(e) for e in field.errors)
                    row[field.short_name] = None
                else:
                    row[field.short_name] = field.data
            rows.append(row)
        values["activities"] = rows

    def row_count(self) -> int:
        return len(self.activities.entries)


class ResultsForm(DraftForm):
    SCALARS = ("results", "indicators", "publicity", "risks")
    results = text(LABELS["results"])
    indicators = text(
        LABELS["indicators"], description=_l("How you will know the results were reached, with numbers.")
    )
    publicity = text(LABELS["publicity"])
    risks = text(LABELS["risks"])


class BudgetForm(DraftForm):
    def amount_fields(self):
        return [getattr(self, f"budget_{c}") for c in BUDGET_CATEGORIES]

    @classmethod
    def initial(cls, values):
        stored = values.get("budget") or {}
        return {f"budget_{category}": stored.get(category) for category in BUDGET_CATEGORIES}

    def extra_values(self, values, errors, wanted, present=None):
        budget = {}
        for category in BUDGET_CATEGORIES:
            field = getattr(self, f"budget_{category}")
            if not wanted(field.name):
                continue
            if field.errors:
                errors[field.name] = " ".join(str(e) for e in field.errors)
            else:
                budget[category] = field.data if field.data is not None else Decimal("0.00")
        if budget:
            values["budget"] = budget


for _category in BUDGET_CATEGORIES:
    setattr(BudgetForm, f"budget_{_category}", AmountField(BUDGET_LABELS[_category]))


class ReviewForm(DraftForm):
    SCALARS = ("declaration_truth", "declaration_no_double_funding", "declaration_participant_lists")
    declaration_truth = BooleanField(LABELS["declaration_truth"])
    declaration_no_double_funding = BooleanField(LABELS["declaration_no_double_funding"])
    declaration_participant_lists = BooleanField(LABELS["declaration_participant_lists"])


# --- the steps and where each rule's field is fixed -----------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    title: object
    form_class: type[DraftForm]
    fields: tuple[str, ...]  # the rule fields (rules.Problem.field) this step fixes


STEPS = (
    Step("applicant", _l("Applicant"), ApplicantForm, ("organisation", "group_members", "partners")),
    Step("project", _l("Project"), ProjectForm, ("title", "start_date", "end_date", "places")),
    Step(
        "plan",
        _l("Problem and goal"),
        PlanForm,
        ("problem", "plan_activity_id", "plan_link", "goal", "objectives"),
    ),
    Step(
        "target-group",
        _l("Target group"),
        TargetGroupForm,
        (
            "participants_total",
            "participants_risk",
            "participants_grades_5_9",
            "participants_grades_10_12",
            "participants_vocational",
            "risk_by_category",
            "schools",
        ),
    ),
    Step(
        "activities",
        _l("Youth involvement and activities"),
        ActivitiesForm,
        ("youth_involvement", "activities"),
    ),
    Step("results", _l("Results and risks"), ResultsForm, ("results", "indicators", "publicity", "risks")),
    Step("budget", _l("Budget"), BudgetForm, ("budget",)),
    Step(
        "review",
        _l("Declarations and submission"),
        ReviewForm,
        ("declaration_truth", "declaration_no_double_funding", "declaration_participant_lists", "call"),
    ),
)
STEP_BY_SLUG = {s.slug: s for s in STEPS}

# The one table from a rule's field to its step (the submission summary links there).
FIELD_STEP = {field: step.slug for step in STEPS for field in step.fields}

# Where the link lands when the field is not a single input of the same name.
FIELD_ANCHOR = {
    "organisation": "organisation",
    "risk_by_category": "risk-by-category",
    "activities": "activities-0-activity",
    "budget": "budget_trainers",
    "call": "deadline",
}


def step_index(slug: str) -> int:
    return next(i for i, s in enumerate(STEPS) if s.slug == slug)


def form_class_for(step: Step, programme) -> type[DraftForm]:
    """Return the step's form class (the target group's depends on the programme's risk categories)."""
    return target_group_form_class(programme) if step.form_class is TargetGroupForm else step.form_class


def form_for(step: Step, programme, *, values: dict, formdata=None, application=None, **kwargs) -> DraftForm:
    """Build the step's form: from the posted data when there is some, else from the stored draft.
    With the application, a step whose choices depend on it (the plan's activities) offers them."""
    cls = form_class_for(step, programme)
    if formdata is None:
        form = cls(formdata=None, data=cls.initial(values), **kwargs)
    else:
        form = cls(formdata=clean_formdata(formdata), **kwargs)
    if application is not None and hasattr(form, "bind_application"):
        form.bind_application(application)
    return form


def clean_formdata(formdata) -> MultiDict:
    """Drop keys a form could choke on (non-ASCII row numbers such as "activities-²-x") before parsing."""
    cleaned = MultiDict()
    for key, value in formdata.items(multi=True):
        if not isinstance(key, str) or len(key) > 100:
            continue
        if key.startswith("activities-") and not _ROW_KEY.fullmatch(key):
            continue
        cleaned.add(key, value)
    return cleaned
