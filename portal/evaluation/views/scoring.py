"""Evaluation pages: scoring (DESIGN §4, QUALITY C4, H2).

A voting member opens an application after declaring no conflict on it: the submitted content on one
side, the quality criteria with their level descriptors on the other. The sheet autosaves (JSON) or is
saved with a button, then submitted and locked; only then do the other members' scores appear. The
coordinator follows a progress matrix (states, never score values) and may reopen a submitted sheet
with a reason until the scores are consolidated.

Every "no" is 404: a recused member learns nothing about the application or its scores.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.applications.forms import ACTIVITY_LABELS, BUDGET_LABELS, LABELS, STEPS
from portal.applications.models import Application
from portal.applications.services import frozen_values, read_version_pdf, record_staff_read
from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call
from portal.calls.permissions import can_manage_call
from portal.calls.workflow import CallStatus
from portal.core import uploads
from portal.core.access import get_or_404
from portal.core.db import keeping_loaded
from portal.core.forms import attach_error, committed
from portal.core.i18n import current_language
from portal.core.timeutil import to_riga
from portal.core.workflow import WorkflowError, history
from portal.evaluation import permissions, queries
from portal.evaluation.forms.scoring import (
    LEVELS,
    MAX_COMMENT,
    ReopenSheetForm,
    comment_name,
    level_text,
    score_name,
    score_sheet_form,
)
from portal.evaluation.models import ScoreSheet
from portal.evaluation.rules import max_total
from portal.evaluation.services import decisions, scoring
from portal.evaluation.views import bp
from portal.evaluation.workflow import WORKFLOW as SHEET_WORKFLOW
from portal.extensions import db

MAX_AUTOSAVE_CRITERIA = 100


# --- loading --------------------------------------------------------------------------------------


def _application(application_id: int) -> Application:
    """Return the application if the current user may open it for scoring, else 404 (logged)."""
    return get_or_404(Application, application_id, permissions.can_open_for_scoring, area="evaluation")


def _member(application: Application):
    return queries.member_for(current_user, application.call_id)


def _weighted_total(criteria, values: dict) -> Decimal:
    """Σ weight × level over the criteria that have one ({criterion id: "0".."3", 0–3 or None})."""
    total = Decimal("0")
    for criterion in criteria:
        value = values.get(criterion.id)
        if value is not None and str(value) in LEVELS:  # a refused input counts as nothing
            total += criterion.weight * int(value)
    return total


def _sheet_total(sheet: ScoreSheet, criteria) -> Decimal:
    return _weighted_total(criteria, {s.criterion_id: s.value for s in sheet.scores})


# --- the scoring screen ---------------------------------------------------------------------------


def _others(application: Application, member) -> list[ScoreSheet]:
    """The other members' submitted sheets, only for a member allowed to see them (own sheet submitted)."""
    if not permissions.can_see_others_scores(current_user, application):
        return []
    return [s for s in queries.submitted_sheets_for(application.id) if s.member_id != member.id]


def _render_sheet(application: Application, form, *, status: int = 200, error_title=None):
    call = application.call
    member = _member(application)
    sheet = queries.sheet(member.id, application.id)
    criteria = scoring.quality_criteria(call)
    locked = sheet is not None and sheet.is_submitted
    editable = not locked and permissions.can_score(current_user, application)
    reopened = None
    if sheet is not None and not locked:
        reopened = next(
            (c for c in reversed(list(history(SHEET_WORKFLOW, sheet))) if c.action == "reopen"), None
        )
    version = application.latest_version
    if editable:
        current = {c.id: form[score_name(c)].data for c in criteria}
    else:
        current = {s.criterion_id: s.value for s in sheet.scores} if sheet is not None else {}
    others = _others(application, member) if locked else []
    locale = current_language()
    return render_template(
        "evaluation/score_application.html",
        application=application,
        call=call,
        member=member,
        sheet=sheet,
        form=form,
        criteria=criteria,
        locked=locked,
        editable=editable,
        reopened=reopened,
        version=version,
        values=frozen_values(version.data) if version is not None else None,
        programme=call.programme,
        total=_weighted_total(criteria, current),
        max_total=max_total(criteria),
        scores_by_criterion={s.criterion_id: s for s in sheet.scores} if sheet is not None else {},
        others=others,
        other_totals={s.id: _sheet_total(s, criteria) for s in others},
        other_scores={s.id: {x.criterion_id: x for x in s.scores} for s in others},
        level_text=lambda criterion, level: level_text(criterion, str(level), locale),
        levels=LEVELS,
        score_name_of=score_name,
        comment_name_of=comment_name,
        error_title=error_title,
        max_comment=MAX_COMMENT,
        # the application summary shares its labels with the application pages
        labels=LABELS,
        budget_labels=BUDGET_LABELS,
        activity_labels=ACTIVITY_LABELS,
        step_titles={s.slug: s.title for s in STEPS},
    ), status


def _store(application: Application, expected: int | None, values: dict) -> ScoreSheet:
    """Save the member's values; the first save creates the draft (a page loaded before it existed
    carries version 0, so a sheet another window created meanwhile is a conflict, never overwritten)."""
    member = _member(application)
    sheet = queries.sheet(member.id, application.id)
    if sheet is None:
        sheet = scoring.open_sheet(application, actor=current_user)
        expected = None
    return scoring.save_scores(sheet, values, actor=current_user, expected_version=expected)


def _stored_version(application: Application) -> int:
    sheet = queries.sheet(_member(application).id, application.id)
    return sheet.lock_version if sheet is not None else 0


def _set_version(form, version: int) -> None:
    """Put the stored version into the re-rendered form (its hidden input shows the posted text)."""
    form.lock_version.data = version
    form.lock_version.raw_data = [str(version)]


@bp.route("/applications/<int:application_id>/score", methods=["GET", "POST"])
@login_required
def score_application(application_id: int):
    """The scoring screen; a POST is the Save button (without JavaScript)."""
    application = _application(application_id)
    criteria = scoring.quality_criteria(application.call)
    locale = current_language()
    if request.method == "POST":
        form = score_sheet_form(criteria, locale)
        if not form.validate_on_submit():
            return _render_sheet(application, form)
        with committed(form) as saved:
            _store(application, form.lock_version.data, form.values())
        if saved:
            flash(_("Your scores are saved. Submit them when every criterion is scored."), "success")
            return redirect(url_for(".score_application", application_id=application.id))
        # Refused (a stale copy, or scoring has finished): the input stays; pressing Save again keeps it.
        _set_version(form, _stored_version(application))
        return _render_sheet(application, form, status=409)
    record_staff_read(application, actor=current_user)  # every staff read is audited (QUALITY F5)
    with keeping_loaded():  # the read's audit row changes nothing the page shows: no reloads
        db.session.commit()
    sheet = queries.sheet(_member(application).id, application.id)
    form = score_sheet_form(criteria, locale, sheet=sheet, formdata=None)
    return _render_sheet(application, form)


@bp.route("/applications/<int:application_id>/score/submit", methods=["POST"])
@login_required
def submit_scores(application_id: int):
    """Save what is posted, then submit: complete sheets are locked; otherwise the errors by the fields."""
    application = _application(application_id)
    form = score_sheet_form(scoring.quality_criteria(application.call), current_language())
    if not form.validate_on_submit():
        return _render_sheet(application, form)
    with committed(form) as saved:
        sheet = _store(application, form.lock_version.data, form.values())
    if not saved:
        _set_version(form, _stored_version(application))
        return _render_sheet(application, form, status=409)
    _set_version(form, sheet.lock_version)
    try:
        scoring.submit_scores(sheet, actor=current_user)
    except scoring.ScoresIncomplete as exc:
        db.session.rollback()  # the values stay saved (committed above); only the submission is refused
        for name, message in exc.problems.items():
            if name in form:
                form[name].errors.append(message)
            else:
                form.form_errors.append(message)
        return _render_sheet(application, form, error_title=exc.message)
    except WorkflowError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return _render_sheet(application, form, status=409)
    db.session.commit()
    flash(_("Your scores are submitted and locked. The other members' scores are now shown."), "success")
    return redirect(url_for(".score_application", application_id=application.id))


# --- autosave (JSON) ------------------------------------------------------------------------------


def _bad_request():
    return jsonify(error={"code": 400, "message": _("The request could not be read.")}), 400


def _parse_level(raw):
    """A level as the service takes it, or raise ValueError for anything but nothing or 0–3."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError(raw)
    if str(raw) not in LEVELS:
        raise ValueError(raw)
    return int(raw)


def _parse_autosave(payload) -> tuple[int, dict] | None:
    """Read {lock_version, scores: {criterion id: {value, comment}}}; None when it is malformed."""
    if not isinstance(payload, dict):
        return None
    version = payload.get("lock_version")
    scores = payload.get("scores")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return None
    if not isinstance(scores, dict) or len(scores) > MAX_AUTOSAVE_CRITERIA:
        return None
    values = {}
    for key, entry in scores.items():
        if not isinstance(key, str) or not key.isdigit() or not isinstance(entry, dict):
            return None
        comment = entry.get("comment")
        if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
            return None
        try:
            value = _parse_level(entry.get("value"))
        except ValueError:
            return None
        values[int(key)] = (value, comment)
    return version, values


@bp.route("/applications/<int:application_id>/score/autosave", methods=["POST"])
@login_required
def autosave_scores(application_id: int):
    """Save what the script sends → {saved_at, lock_version, message, total}; 409 on a stale copy or a
    locked sheet (nothing is overwritten), 400 on a malformed body; 422 with {errors: {field: message}}
    when a comment was refused (a personal code, QUALITY F2): the rest is saved."""
    application = _application(application_id)
    parsed = _parse_autosave(request.get_json(silent=True))
    if parsed is None:
        return _bad_request()
    version, values = parsed
    errors = {}
    try:
        try:
            sheet = _store(application, version, values)
        except scoring.CommentsRefused as exc:
            sheet, errors = exc.sheet, exc.problems
        db.session.commit()
    except scoring.SheetConflict as exc:
        db.session.rollback()
        body = {"code": 409, "message": exc.message}
        return jsonify(error=body, conflict=True, lock_version=_stored_version(application)), 409
    except WorkflowError as exc:
        db.session.rollback()
        return jsonify(error={"code": 409, "message": exc.message}, locked=True), 409
    except (IntegrityError, StaleDataError, DataError):  # a save from another window won the race
        db.session.rollback()
        message = _("Your scores were changed in another window. Reload to see them.")
        return jsonify(error={"code": 409, "message": message}, conflict=True), 409
    criteria = scoring.quality_criteria(application.call)
    saved_at = sheet.updated_at
    body = {
        "lock_version": sheet.lock_version,
        "saved_at": saved_at.isoformat(),
        "message": _("Saved at %(time)s", time=to_riga(saved_at).strftime("%H:%M")),
        "total": f"{_sheet_total(sheet, criteria).normalize():f}",
    }
    if g.get("session_expires_at"):
        body["session_expires_at"] = g.session_expires_at.isoformat()
    if errors:
        body.update(ok=False, errors=errors)
        return jsonify(body), 422
    return jsonify(body)


# --- the submitted PDF ----------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/pdf", methods=["GET"])
@login_required
def application_pdf(application_id: int):
    """The PDF of the latest submitted version, for a member who may open the application."""
    application = _application(application_id)
    version = application.latest_version
    if version is None or version.pdf_file is None:
        abort(404)
    data, filename = read_version_pdf(application, version, actor=current_user)
    db.session.commit()
    return uploads.download_response(data, filename)


# --- the coordinator's progress matrix ------------------------------------------------------------


def _can_follow_progress(user, call: Call) -> bool:
    """The municipality's coordinators, once the applicants are known."""
    return can_manage_call(user, call) and call.status in permissions.UNSEALED


def _render_progress(call: Call, *, failed: tuple[int, ReopenSheetForm] | None = None, status: int = 200):
    """The matrix in a fixed number of statements, whatever the number of applications and members."""
    members = queries.voting_members(call.id)
    applications = queries.scorable_applications(call.id)
    cells = queries.progress(call.id)
    quorum = decisions.quorum(call)
    submitted = {(s.member_id, s.application_id): s.id for s in queries.submitted_sheets(call.id)}
    reopenable = {
        a.id
        for a in applications
        if call.status == CallStatus.EVALUATION and a.status == ApplicationStatus.ADMISSIBLE
    }
    forms = {}
    for (_member_id, application_id), sheet_id in submitted.items():
        if application_id in reopenable:
            forms[sheet_id] = ReopenSheetForm(prefix=f"sheet{sheet_id}", formdata=None)
    if failed is not None:
        forms[failed[0]] = failed[1]
    counts = {
        a.id: (
            sum(1 for m in members if cells.get((m.id, a.id)) == "submitted"),
            sum(1 for m in members if cells.get((m.id, a.id)) != "recused"),
        )
        for a in applications
    }
    return render_template(
        "evaluation/progress.html",
        call=call,
        members=members,
        applications=applications,
        cells=cells,
        quorum=quorum,
        submitted=submitted,
        reopen_forms=forms,
        failed_sheet=failed[0] if failed is not None else None,
        counts=counts,
    ), status


@bp.route("/calls/<int:call_id>/progress", methods=["GET"])
@login_required
def progress(call_id: int):
    call = get_or_404(Call, call_id, _can_follow_progress, area="evaluation")
    return _render_progress(call)


def _can_reopen(user, sheet: ScoreSheet) -> bool:
    return can_manage_call(user, sheet.member.call)


@bp.route("/sheets/<int:sheet_id>/reopen", methods=["POST"])
@login_required
def reopen_sheet(sheet_id: int):
    """Give a submitted sheet back to its member, with the reason (until the scores are consolidated)."""
    sheet = get_or_404(ScoreSheet, sheet_id, _can_reopen, area="evaluation")
    call = sheet.member.call
    form = ReopenSheetForm(prefix=f"sheet{sheet.id}")
    if form.validate_on_submit():
        with committed(form) as saved:
            scoring.reopen_sheet(sheet, form.reason.data, actor=current_user)
        if saved:
            flash(
                _(
                    "The scores of %(member)s on “%(application)s” are reopened: the member can change "
                    "and submit them again.",
                    member=sheet.member.display_name,
                    application=sheet.application.title or _("Untitled application"),
                ),
                "success",
            )
            return redirect(url_for(".progress", call_id=call.id))
        return _render_progress(call, failed=(sheet.id, form), status=409)
    return _render_progress(call, failed=(sheet.id, form))
