"""The final report's forms (issue 8). The report form takes every value as typed (counts as text), so
nothing is lost when a value is wrong: `portal.reports.rules` checks the values and the view puts each
message next to its field (`ReportForm.attach`)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)

from portal.core.i18n import current_language
from portal.core.privacy import no_personal_code
from portal.reports import rules

# The section each field belongs to (the problem list links to it; a return comment is shown there).
FIELD_SECTION = {
    "activities": "activities",
    "participants_total": "participants",
    "participants_grades_5_9": "participants",
    "participants_grades_10_12": "participants",
    "participants_vocational": "participants",
    "participants_risk": "participants",
    "risk_by_category": "participants",
    "schools": "participants",
    "youth_led": "youth_led",
    "results": "results",
    "publicity_links": "publicity",
    "evidence_consent": "evidence",
    "problems": "lessons",
    "lessons": "lessons",
    "declaration": "declaration",
}
SECTION_FIELDS = ("activities", "schools", "results", "publicity_links", "risk_by_category")


def section_of(field: str) -> str:
    return FIELD_SECTION.get(field.split("-", 1)[0], "declaration")


class ActivityRow(Form):
    planned = TextAreaField(_l("Planned activity"), render_kw={"rows": 2})
    carried_out = TextAreaField(_l("What was carried out"), render_kw={"rows": 3})
    dates = StringField(_l("Dates"), description=_l("For example: 3–5 March 2027"))
    place = StringField(_l("Place"))
    hours = StringField(_l("Hours"), render_kw={"inputmode": "numeric", "autocomplete": "off"})
    methods = TextAreaField(_l("Methods"), render_kw={"rows": 2})
    change_reason = TextAreaField(
        _l("Reason for changes"),
        description=_l("Only if the activity differs from the plan or was dropped."),
        render_kw={"rows": 2},
    )


class SchoolRow(Form):
    name = StringField(_l("School"))
    count = StringField(_l("Participants"), render_kw={"inputmode": "numeric", "autocomplete": "off"})


class ResultRow(Form):
    indicator = TextAreaField(_l("Planned indicator"), render_kw={"rows": 2})
    planned = StringField(_l("Planned value"))
    achieved = StringField(_l("Achieved"))
    comment = TextAreaField(_l("Comment"), render_kw={"rows": 2})


class ReportForm(FlaskForm):
    lock_version = HiddenField()
    participants_total = StringField(
        _l("Young people who took part (each counted once)"),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    participants_grades_5_9 = StringField(
        _l("From grades 5–9"), render_kw={"inputmode": "numeric", "autocomplete": "off"}
    )
    participants_grades_10_12 = StringField(
        _l("From grades 10–12"), render_kw={"inputmode": "numeric", "autocomplete": "off"}
    )
    participants_vocational = StringField(
        _l("From vocational courses 1–4"), render_kw={"inputmode": "numeric", "autocomplete": "off"}
    )
    participants_risk = StringField(
        _l("Of them at risk of early school leaving"),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    activities = FieldList(FormField(ActivityRow), min_entries=1, max_entries=rules.MAX_ROWS)
    schools = FieldList(FormField(SchoolRow), min_entries=1, max_entries=rules.MAX_ROWS)
    results = FieldList(FormField(ResultRow), min_entries=1, max_entries=rules.MAX_ROWS)
    publicity_links = FieldList(
        StringField(_l("Link"), render_kw={"inputmode": "url", "autocomplete": "off"}),
        min_entries=1,
        max_entries=rules.MAX_LINKS,
    )
    youth_led = TextAreaField(
        _l("How young people proposed, planned and led the project"), render_kw={"rows": 5}
    )
    problems = TextAreaField(_l("Problems met and how they were solved"), render_kw={"rows": 4})
    lessons = TextAreaField(_l("Lessons learnt"), render_kw={"rows": 4})
    evidence_consent = BooleanField(
        _l(
            "The young people in the photos (or their parents, for those under 18) agreed to the photos "
            "being used in the report and the project's publicity."
        )
    )
    declaration = BooleanField(
        _l(
            "I, the organisation's representative, confirm that the report is true and that the "
            "participant lists and evidence are kept by the organisation."
        )
    )

    risk_names: list[str] = []
    section_errors: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_errors = {}

    # --- values in and out -----------------------------------------------------------------------

    def risk_fields(self):
        return [self[name] for name in self.risk_names]

    def expected_version(self) -> int | None:
        raw = (self.lock_version.data or "").strip() if isinstance(self.lock_version.data, str) else None
        return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else None

    def values(self) -> dict:
        """What was typed, in the shape `rules.clean` reads (strings; counts not parsed yet)."""
        values: dict = {name: self[name].data for name in rules.COUNT_FIELDS}
        values["risk_by_category"] = {
            name.removeprefix("risk_by_category-"): self[name].data for name in self.risk_names
        }
        for name in rules.ROW_KEYS:
            values[name] = [dict(entry.data) for entry in self[name].entries]
        values["publicity_links"] = [entry.data for entry in self.publicity_links.entries]
        for name in rules.TEXT_FIELDS:
            values[name] = self[name].data
        values["evidence_consent"] = bool(self.evidence_consent.data)
        values["declaration"] = bool(self.declaration.data)
        return values

    def attach(self, problems: dict) -> None:
        """Put each {field: message} next to its field; section-wide messages go to `section_errors`."""
        for key, message in problems.items():
            field = self._find(key)
            if field is not None:
                field.errors = [*(field.errors or []), str(message)]
            elif key in SECTION_FIELDS:
                self.section_errors.setdefault(key, []).append(str(message))
            else:
                self.form_errors.append(str(message))

    def _find(self, key: str):
        if key in self._fields and key not in SECTION_FIELDS:
            return self._fields[key]
        parts = key.split("-")
        if len(parts) >= 2 and parts[0] in SECTION_FIELDS and parts[1].isdigit():
            entries = self[parts[0]].entries
            index = int(parts[1])
            if index >= len(entries):
                return None
            entry = entries[index]
            if len(parts) == 2:
                return entry
            return entry.form._fields.get(parts[2]) if hasattr(entry, "form") else None
        return None

    def all_errors(self) -> list[tuple[str, str, str]]:
        """(anchor id, label, message) of every error, for the summary at the top."""
        items = []
        for name in self._fields:
            field = self._fields[name]
            if name in SECTION_FIELDS:
                for message in self.section_errors.get(name, []):
                    items.append((name, str(_section_label(name)), message))
                for entry in field.entries:
                    subfields = entry.form if hasattr(entry, "form") else [entry]
                    for sub in subfields:
                        for message in sub.errors or []:
                            items.append((sub.id, f"{_section_label(name)}: {sub.label.text}", message))
            elif field.type not in ("CSRFTokenField", "HiddenField"):
                for message in field.errors or []:
                    items.append((field.id, field.label.text, message))
        return items


def _section_label(name: str) -> str:
    return {
        "activities": _("Activities"),
        "schools": _("Participants by school"),
        "results": _("Results"),
        "publicity_links": _("Publicity links"),
        "risk_by_category": _("Participants at risk by category"),
    }[name]


def report_form(programme, *, formdata=None, data=None, meta=None) -> ReportForm:
    """The report form with a count field for each of the programme's risk categories."""
    categories = [c for c in programme.risk_categories or [] if c.get("code")]
    language = current_language()

    class _Form(ReportForm):
        pass

    names = []
    for category in categories:
        name = f"risk_by_category-{category['code']}"
        label = category.get(language) or category.get("lv") or category["code"]
        setattr(_Form, name, StringField(label, render_kw={"inputmode": "numeric", "autocomplete": "off"}))
        names.append(name)
    _Form.risk_names = names
    kwargs = {}
    if meta is not None:
        kwargs["meta"] = meta
    if formdata is not None:
        return _Form(formdata=formdata, **kwargs)
    return _Form(formdata=None, data=data or {}, **kwargs)


def form_data(values: dict, lock_version: int) -> dict:
    """The stored report (`services.form.report_values`) as the form's data."""
    data = {name: "" if values.get(name) is None else str(values[name]) for name in rules.COUNT_FIELDS}
    for code, count in (values.get("risk_by_category") or {}).items():
        data[f"risk_by_category-{code}"] = "" if count is None else str(count)
    for name in rules.ROW_KEYS:
        data[name] = [
            {key: "" if row.get(key) is None else str(row.get(key)) for key in rules.ROW_KEYS[name]}
            for row in values.get(name) or []
        ]
    data["publicity_links"] = list(values.get("publicity_links") or [])
    for name in rules.TEXT_FIELDS:
        data[name] = values.get(name) or ""
    data["evidence_consent"] = bool(values.get("evidence_consent"))
    data["declaration"] = bool(values.get("declaration"))
    data["lock_version"] = str(lock_version)
    return data


class UploadForm(FlaskForm):
    file = FileField(_l("File"))
    kind = RadioField(
        _l("What is it?"),
        choices=[
            SelectChoice("photo", _l("Photo (PNG or JPEG)")),
            SelectChoice("evidence", _l("Evidence (attendance summary, programme, materials)")),
            SelectChoice("publicity", _l("Publicity material")),
        ],
        default="evidence",
        validate_choice=False,
    )
    description = StringField(_l("Short description (optional)"), validators=[no_personal_code])
