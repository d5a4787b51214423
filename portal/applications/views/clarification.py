"""Application pages: answering the municipality's one clarification request, and two frozen versions
side by side with the changed fields marked (DESIGN §4).

While the request is open the members correct the application with the ordinary step form (autosave
included); sending the answer freezes the corrected application as a new version."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.applications import permissions
from portal.applications.forms import (
    ACTIVITY_LABELS,
    BUDGET_LABELS,
    LABELS,
    STEPS,
    AnswerClarificationForm,
)
from portal.applications.models import BUDGET_CATEGORIES, Application
from portal.applications.services import SubmissionRefused, clarification_open
from portal.applications.views import (
    _application,
    _category_label,
    _problem_items,
    bp,
    can_read_application,
    clarification_of,
    display_value,
)
from portal.applications.workflow import ApplicationStatus
from portal.core import audit
from portal.core.forms import attach_error
from portal.core.i18n import money
from portal.core.pdf import PdfError
from portal.core.workflow import WorkflowError
from portal.extensions import db

# Fields of the form that the comparison leaves out: not values the applicant typed.
_NOT_COMPARED = ("organisation", "call")


# --- answering the clarification request ----------------------------------------------------------


@bp.route("/<int:application_id>/clarification/answer", methods=["GET", "POST"])
@login_required
def answer_clarification(application_id: int):
    """The members send their answer; the corrected application becomes a new frozen version."""
    application = _application(application_id)
    clarification = clarification_of(application)
    if clarification is None:
        abort(404)
    is_open = clarification_open(application)
    form = AnswerClarificationForm() if request.method == "POST" else AnswerClarificationForm(formdata=None)
    problems = []
    status = 200
    if request.method == "POST":
        if not is_open:
            status = 409
            form.form_errors.append(_("The deadline for the clarification has passed."))
        elif form.validate_on_submit():
            try:
                services_answer(application, form.answer.data)
            except SubmissionRefused as exc:
                db.session.rollback()
                problems = _problem_items(application, exc.problems)
            except WorkflowError as exc:
                db.session.rollback()
                attach_error(form, exc)
            except PdfError:
                db.session.rollback()
                status = 503
                form.form_errors.append(
                    _(
                        "The PDF of the application could not be made just now, so nothing was sent. "
                        "Try again in a minute."
                    )
                )
            else:
                db.session.commit()
                flash(
                    _("Your answer is sent. The corrected application is saved as a new version."), "success"
                )
                return redirect(url_for(".show", application_id=application.id))
    return (
        render_template(
            "applications/answer_clarification.html",
            application=application,
            clarification=clarification,
            is_open=is_open,
            form=form,
            problems=problems,
        ),
        status,
    )


def services_answer(application: Application, answer: str):
    from portal.evaluation.services.checks import answer_clarification  # evaluation builds on us

    return answer_clarification(application, answer, actor=current_user)


# --- two versions side by side --------------------------------------------------------------------


def _amount(value) -> str:
    if value in (None, ""):
        return _("(empty)")
    try:
        return money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _activity_text(row) -> str:
    if not row:
        return _("(empty)")
    parts = []
    for name, label in ACTIVITY_LABELS.items():
        value = row.get(name)
        if value not in (None, ""):
            parts.append(f"{label}: {value}")
    return "\n".join(parts) or _("(empty)")


def _rows_of_field(name: str, a: dict, b: dict, programme) -> list[dict]:
    """One or more compared rows for a field (lists and breakdowns row by row)."""
    if name == "budget":
        budget_a, budget_b = a.get("budget") or {}, b.get("budget") or {}
        return [
            _row(
                f"budget-{c}",
                f"{LABELS['budget']}: {BUDGET_LABELS[c]}",
                budget_a.get(c),
                budget_b.get(c),
                _amount,
            )
            for c in BUDGET_CATEGORIES
            if c in budget_a or c in budget_b
        ]
    if name == "risk_by_category":
        risk_a, risk_b = a.get(name) or {}, b.get(name) or {}
        codes = [c.get("code") for c in programme.risk_categories or []]
        codes += [c for c in (*risk_a, *risk_b) if c not in codes]
        return [
            _row(
                f"risk-{code}",
                f"{LABELS[name]}: {_category_label(programme, code)}",
                risk_a.get(code),
                risk_b.get(code),
                lambda v: _("(empty)") if v in (None, "") else str(v),
            )
            for code in codes
            if code in risk_a or code in risk_b
        ]
    if name == "activities":
        rows_a, rows_b = a.get(name) or [], b.get(name) or []
        return [
            _row(
                f"activity-{i + 1}",
                _("Activity %(n)d", n=i + 1),
                rows_a[i] if i < len(rows_a) else None,
                rows_b[i] if i < len(rows_b) else None,
                _activity_text,
            )
            for i in range(max(len(rows_a), len(rows_b)))
        ]
    return [
        _row(
            name,
            str(LABELS.get(name, name)),
            a.get(name),
            b.get(name),
            lambda v: display_value(name, v, programme),
        )
    ]


def _row(key: str, label: str, value_a, value_b, show) -> dict:
    empty = (None, "", {}, [])
    changed = not (value_a in empty and value_b in empty) and value_a != value_b
    return {"key": key, "label": label, "a": show(value_a), "b": show(value_b), "changed": changed}


def compare_sections(a: dict, b: dict, programme) -> list[dict]:
    """The two versions' values step by step: [{title, rows: [{key, label, a, b, changed}]}]."""
    sections = []
    for step in STEPS:
        rows = []
        for name in step.fields:
            if name not in _NOT_COMPARED:
                rows.extend(_rows_of_field(name, a, b, programme))
        if rows:
            sections.append({"slug": step.slug, "title": step.title, "rows": rows})
    return sections


def _version_number(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) < 6):
        abort(404)
    return int(raw)


@bp.get("/<int:application_id>/versions/compare")
@login_required
def compare_versions(application_id: int):
    """Two frozen versions side by side (stacked on a phone), every changed field marked in words."""
    application = _application(application_id, can_read_application)
    versions = {v.number: v for v in application.versions}
    if len(versions) < 2:
        abort(404)
    numbers = sorted(versions)
    first = _version_number("a", numbers[-2])
    second = _version_number("b", numbers[-1])
    if first not in versions or second not in versions:
        abort(404)
    version_a, version_b = versions[first], versions[second]
    sections = compare_sections(version_a.data or {}, version_b.data or {}, application.call.programme)
    changed = [(s, r) for s in sections for r in s["rows"] if r["changed"]]
    only_changed = request.args.get("changed") == "1"
    if not permissions.is_member(current_user, application):
        audit.record(
            "application.versions_compared",
            actor=current_user,
            obj=application,
            municipality_id=application.call.municipality_id,
            organisation_id=application.organisation_id,
            after={"a": first, "b": second},
        )
        db.session.commit()
    return render_template(
        "applications/compare_versions.html",
        application=application,
        version_a=version_a,
        version_b=version_b,
        versions=[versions[n] for n in numbers],
        sections=sections,
        changed=changed,
        only_changed=only_changed,
        member=permissions.is_member(current_user, application),
        status=ApplicationStatus(application.status),
    )
