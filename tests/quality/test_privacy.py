"""QUALITY F1 (schema minimisation) and F2 (the personal-code guard on free text)."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

import portal
from portal.extensions import db

# --- F1 ------------------------------------------------------------------------------------------

_PERSONAL = re.compile(r"name|surname|birth|personas_kods|personal_code|pupil|skol[eē]n|child", re.I)
# Columns whose names match, each with why it holds no pupil's or child's personal data.
ALLOWED_COLUMNS = {
    "users.full_name": "portal users: applicants' contact persons, staff, evaluators (DESIGN §6)",
    "calls.contact_name": "the municipality's contact person for a call (staff)",
    "organisations.name": "a legal entity or a youth group's name, not a person",
    "organisations.bank_name": "a bank",
    "municipalities.name": "a municipality",
    "paying_accounts.name": "the paying authority's account holder (a municipality)",
    "programmes.name_lv": "a programme",
    "programmes.name_en": "a programme",
    "stored_files.filename": "an upload's file name (for Content-Disposition)",
    "pupil_counts.pupils": "an Integer count of pupils per municipality (quota input), not a list",
}


def test_no_personal_data_columns_outside_the_contact_person_tables(app):
    found = {
        f"{table.name}.{column.name}"
        for table in db.metadata.tables.values()
        for column in table.columns
        if _PERSONAL.search(column.name)
    }
    assert found - ALLOWED_COLUMNS.keys() == set()
    assert ALLOWED_COLUMNS.keys() - found == set(), "remove allow-list entries that no longer exist"
    assert isinstance(db.metadata.tables["pupil_counts"].c.pupils.type, sa.Integer)


def test_participant_and_at_risk_fields_are_integer_counts(app):
    counts = [
        column
        for table in db.metadata.tables.values()
        for column in table.columns
        if column.name.startswith("participants") or column.name.endswith("_risk")
    ]
    assert len(counts) >= 10
    for column in counts:
        if column.name == "declaration_participant_lists":
            assert isinstance(column.type, sa.Boolean)  # "lists are kept by the applicant", a tick box
            continue
        assert isinstance(column.type, sa.Integer), f"{column.table.name}.{column.name}"
    # The at-risk breakdown is {category code: count}: JSON of counts, never names.
    for table in ("applications", "final_reports"):
        assert isinstance(db.metadata.tables[table].c.risk_by_category.type, sa.JSON)


# --- F2 ------------------------------------------------------------------------------------------

CODES = ("010101-12345", "01010112345", "Dalībnieks 010101-12345 piedalījās")
GUIDANCE = "identity code"
# Text fields that are not prose (identifiers, codes, contact data, counts typed as text).
_NOT_PROSE = re.compile(
    r"(email|iban|phone|website|code|password|number|reg_number|bic|bank_reference|^q$|^actor$|"
    r"lock_version|^next$|^participants_|^full_name$)"
)
# Prose fields whose form has no validator but whose service refuses a personal code.
GUARDED_IN_SERVICE = {
    "portal.reports.forms.ReportForm.lessons": "portal/reports/rules.py _text_problem",
    "portal.reports.forms.ReportForm.problems": "portal/reports/rules.py _text_problem",
    "portal.reports.forms.ReportForm.youth_led": "portal/reports/rules.py _text_problem",
    "portal.reports.views.review.ApproveForm.reason": "portal/reports/services/review.py (reduction reason)",
    "portal.plans.views.monitoring.NotesForm.achieved_note": "portal/plans/monitoring.py save_notes",
    "portal.plans.views.monitoring.NotesForm.factors_analysis": "portal/plans/monitoring.py save_notes",
    "portal.plans.views.monitoring.NotesForm.impact_assessment": "portal/plans/monitoring.py save_notes",
}
GUARDED_IN_SERVICE |= {
    f"portal.reports.views.review.ReturnForm.comment_{s}": "portal/reports/services/review.py return comments"
    for s in ("activities", "declaration", "evidence", "lessons", "participants", "publicity", "results")
}
GUARDED_IN_SERVICE["portal.reports.views.review.ReturnForm.comment_youth_led"] = "review.py return comments"
GUARDED_IN_SERVICE["portal.contracts.views.template.TemplateForm.body"] = (
    "portal/contracts/generation.py validate_template_body"
)
# GAPS: prose fields where nothing refuses a personal code, each with why (the fix is the shared
# validator portal.core.privacy.no_personal_code on the field). Shrink this list; never grow it.
KNOWN_GAPS: dict[str, str] = {}


def _text_fields() -> dict[str, list]:
    """Every StringField/TextAreaField declared on a FlaskForm in portal/: dotted name → validators."""
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    fields = {}
    for form in set(subclasses(FlaskForm)):
        if not form.__module__.startswith("portal."):
            continue
        for name in dir(form):
            field = getattr(form, name, None)
            if not isinstance(field, UnboundField) or not issubclass(field.field_class, StringField):
                continue
            if field.field_class.__name__ in ("EmailField", "PasswordField", "HiddenField"):
                continue
            validators = field.kwargs.get("validators") or (field.args[1] if len(field.args) > 1 else [])
            fields[f"{form.__module__}.{form.__name__}.{name}"] = list(validators)
    return fields


def _guard(validators):
    return next((v for v in validators if "personal_code" in getattr(v, "__name__", "")), None)


class _Field:
    def __init__(self, data):
        self.data = data


def test_prose_fields_refuse_a_personal_code_with_guidance(app):
    fields = _text_fields()
    guarded = {name: _guard(v) for name, v in fields.items() if _guard(v)}
    assert len(guarded) >= 40
    with app.test_request_context(), force_locale("en"):
        for guard in guarded.values():
            for code in CODES:
                with pytest.raises(ValidationError, match=GUIDANCE):
                    guard(None, _Field(code))
            guard(None, _Field("Projekts 2026. gadam: 40 dalībnieki, tālrunis 20000000"))
    prose = {n for n in fields if not _NOT_PROSE.search(n.rsplit(".", 1)[1])}
    prose.discard("portal.payments.views.account.PayingAccountForm.name")  # the paying authority's name
    unguarded = prose - guarded.keys() - GUARDED_IN_SERVICE.keys()
    assert unguarded - KNOWN_GAPS.keys() == set(), "a new prose field without the personal-code guard"
    assert KNOWN_GAPS.keys() - unguarded == set(), "a gap was closed: remove it from KNOWN_GAPS"


def test_score_comments_refuse_a_personal_code_and_keep_the_rest(app, db, client, login_as):
    """The score sheet's comments reach scoring.save_scores from the form and from the JSON autosave
    (which bypasses WTForms): a comment shaped like a personal code is never stored, the rest is."""
    from portal.evaluation.services import scoring
    from tests import factories
    from tests.helpers import csrf_token

    ev = factories.evaluation_call(1, voting=1, projects=1, quota=1)
    member, application = ev["committee"]["members"][0], ev["applications"][0]
    member.user.locale = "en"  # the guidance is checked in English
    first, second = scoring.quality_criteria(application.call)[:2]
    factories.declare(member, application)
    sheet = scoring.open_sheet(application, actor=member.user)
    with pytest.raises(scoring.CommentsRefused) as refused, force_locale("en"):
        scoring.save_scores(sheet, {first.id: (1, CODES[2]), second.id: (2, "Labi")}, actor=member.user)
    assert refused.value.problems.keys() == {f"comment_{first.id}"}
    assert GUIDANCE in refused.value.problems[f"comment_{first.id}"]
    stored = {s.criterion_id: (s.value, s.comment) for s in sheet.scores}
    assert stored[first.id] == (1, None) and stored[second.id] == (2, "Labi")
    db.session.commit()

    # The autosave answers 422 with the error under the comment's name, like the draft autosave;
    # the score and the other comment are saved.
    login_as(member.user)
    url = f"/evaluation/applications/{application.id}/score"
    token = csrf_token(client, url)
    body = {
        "lock_version": sheet.lock_version,
        "scores": {
            str(first.id): {"value": 0, "comment": CODES[1]},
            str(second.id): {"value": 3, "comment": "Izcili"},
        },
    }
    response = client.post(f"{url}/autosave", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 422, response.get_data(as_text=True)
    reply = response.get_json()
    assert reply["ok"] is False and GUIDANCE in reply["errors"][f"comment_{first.id}"]
    assert reply["lock_version"] > body["lock_version"]
    db.session.expire_all()
    stored = {s.criterion_id: (s.value, s.comment) for s in db.session.get(type(sheet), sheet.id).scores}
    assert stored[first.id] == (0, None) and stored[second.id] == (3, "Izcili")

    # The form: the guidance next to the comment, the typed text still in it, nothing stored.
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "lock_version": reply["lock_version"],
            f"score_{first.id}": "1",
            f"comment_{first.id}": CODES[0],
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and GUIDANCE in page and CODES[0] in page
    db.session.expire_all()
    assert all(CODES[0] not in (s.comment or "") for s in db.session.get(type(sheet), sheet.id).scores)
