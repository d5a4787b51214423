"""The applicant's final report pages (issue 8): the form (one page, sections; saved by a button without
script, autosaved with it), files, submission, and the read-only report for the organisation and staff.

Every view: load or 404 (what is not the user's is "not found") → permission → the service call →
commit → flash and redirect (PRG). A value that cannot be stored is shown by its field, with every value
as typed kept on the page.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from portal.applications.models import Application
from portal.applications.workflow import ApplicationStatus
from portal.contracts.services import contract_of
from portal.core import storage, uploads
from portal.core.access import get_or_404
from portal.core.forms import ActionForm, attach_error
from portal.core.i18n import current_language
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.reports import rules
from portal.reports.forms import (
    UploadForm,
    form_data,
    report_form,
    section_of,
)
from portal.reports.models import REPORT_SECTIONS, SECTION_TITLES, FinalReport, ReportFile
from portal.reports.services import form as services
from portal.reports.views import bp

AREA = "reports"
ROW_SECTIONS = ("activities", "schools", "results", "publicity_links")


# --- loading -----------------------------------------------------------------------------------------


def _member(user, application) -> bool:
    return services.is_member(user, application)


def _report_member(user, report) -> bool:
    return services.is_member(user, report.application)


def _report_viewer(user, report) -> bool:
    return services.can_view_report(user, report.application)


def body_context(report: FinalReport) -> dict:
    """What templates/reports/_report_body.html needs (the review page includes it too)."""
    application = report.application
    programme = application.call.programme
    values = services.report_values(report)
    share = rules.risk_share(values.get("participants_total"), values.get("participants_risk"))
    language = current_language()
    labels = {
        c["code"]: c.get(language) or c.get("lv") or c["code"]
        for c in programme.risk_categories or []
        if c.get("code")
    }
    return {
        "report": report,
        "application": application,
        "programme": programme,
        "values": values,
        "risk_share": share,
        "risk_share_text": _percent(share),
        "risk_labels": labels,
        "section_titles": SECTION_TITLES,
        "report_files": list(report.files),
    }


def _percent(share) -> str:
    """A share with two decimals in the page's language ("10,00 %"), or "–"."""
    if share is None:
        return "–"
    return format_decimal(share, format="#,##0.00", locale=current_language()) + " %"


def _due(application) -> tuple:
    contract = contract_of(application)
    due = contract.report_due if contract is not None else None
    days_left = (due - to_riga(utcnow()).date()).days if due is not None else None
    return due, days_left


def _render(report, form, *, status=200, conflict=None, problems=None, upload_form=None):
    application = report.application
    due, days_left = _due(application)
    returned = application.status == ApplicationStatus.REPORT_RETURNED
    problem_items = []
    for field, message in (problems or {}).items():
        problem_items.append({"field": field, "section": section_of(field), "message": str(message)})
    share = None
    try:
        share = rules.risk_share(
            rules.parse_count(form.participants_total.data), rules.parse_count(form.participants_risk.data)
        )
    except ValueError:
        share = None
    return (
        render_template(
            "reports/edit_report.html",
            report=report,
            application=application,
            programme=application.call.programme,
            form=form,
            upload_form=upload_form or UploadForm(),
            action_form=ActionForm(),
            sections=REPORT_SECTIONS,
            section_titles=SECTION_TITLES,
            comments=(report.return_comments or {}) if returned else {},
            returned=returned,
            due=due,
            days_left=days_left,
            is_representative=services.is_representative(current_user, application),
            conflict=conflict,
            conflict_sections=sorted({section_of(k) for k in conflict or {}}),
            problems=problem_items,
            risk_share=share,
            risk_share_text=_percent(share),
            files=list(report.files),
            accept=uploads.ACCEPT,
        ),
        status,
    )


def _form_for_report(report):
    values = services.report_values(report)
    return report_form(report.application.call.programme, data=form_data(values, report.lock_version))


def _save(report, form) -> tuple[dict | None, dict]:
    """Save the form's values: (conflict or None, problems)."""
    try:
        problems = services.save_report(
            report, form.values(), actor=current_user, expected_version=form.expected_version()
        )
        db.session.commit()
    except services.ReportConflict as exc:
        db.session.rollback()
        return exc.changed, {}
    except (StaleDataError, IntegrityError, DataError):
        db.session.rollback()
        db.session.refresh(report)
        return {}, {}
    return None, problems


def _row_action(form, raw: str | None):
    """ "Remove row n of a section" from a button value like "activities-2"."""
    if not raw or "-" not in raw:
        return None
    section, _sep, index = raw.partition("-")
    if section not in ROW_SECTIONS or not (index.isascii() and index.isdigit() and len(index) < 4):
        return None
    return section, int(index)


# --- the form ----------------------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
def edit(application_id: int):
    application = get_or_404(Application, application_id, _member, area=AREA)
    report = services.report_for(application)
    if report is None:
        if not services.is_editable(application):
            flash(_("The final report can be written once the project is in progress."), "info")
            return redirect(url_for("applications.show", application_id=application.id))
        form = ActionForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                report = services.start_report(application, actor=current_user)
                db.session.commit()
            except (IntegrityError, StaleDataError):  # another member started it at the same moment
                db.session.rollback()
            return redirect(url_for(".edit", application_id=application.id))
        due, days_left = _due(application)
        return render_template(
            "reports/edit_report.html",
            report=None,
            application=application,
            action_form=form,
            due=due,
            days_left=days_left,
        )
    if not services.is_editable(application):
        if request.method == "POST":
            flash(_("The report has been submitted; it can no longer be changed."), "info")
        return redirect(url_for(".show", report_id=report.id))

    programme = application.call.programme
    if request.method == "GET":
        form = _form_for_report(report)
        add = request.args.get("add")
        if add in ROW_SECTIONS and len(form[add].entries) < form[add].max_entries:
            form[add].append_entry()
        return _render(report, form)

    form = report_form(programme, formdata=request.form)
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)
    removed = _row_action(form, request.form.get("remove_row"))
    if removed is not None:
        section, index = removed
        entries = form[section].entries
        if index < len(entries):
            del entries[index]
    conflict, problems = _save(report, form)
    form.lock_version.data = str(report.lock_version)
    if conflict is not None:
        return _render(report, form, status=409, conflict=conflict)
    if problems:
        form.attach(problems)
        return _render(report, form)
    flash(_("The report is saved."), "success")
    action = request.form.get("action", "save")
    anchor = None
    args = {}
    if action.startswith("add:") and action[4:] in ROW_SECTIONS:
        args["add"] = action[4:]
        anchor = action[4:]
    elif removed is not None:
        anchor = removed[0]
    return redirect(url_for(".edit", application_id=application.id, _anchor=anchor, **args))


# --- autosave (JSON) ---------------------------------------------------------------------------------


def _formdata(values: dict) -> MultiDict:
    formdata = MultiDict()
    for key, value in list(values.items())[:2000]:
        if not isinstance(key, str):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                formdata.add(key, "y" if item else "")
            elif item is None:
                formdata.add(key, "")
            elif isinstance(item, str | int | float):
                formdata.add(key, str(item))
    return formdata


@bp.post("/<int:report_id>/autosave")
@login_required
def autosave(report_id: int):
    """{lock_version, values} → 200 {ok, lock_version, message}; 422 {errors} (the rest saved);
    409 {conflict, lock_version} when another window saved first."""
    report = get_or_404(FinalReport, report_id, _report_member, area=AREA)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("values"), dict):
        return jsonify(errors={"_": _("The request could not be read.")}), 422
    version = payload.get("lock_version")
    if not isinstance(version, int) or isinstance(version, bool):
        return jsonify(errors={"_": _("The request could not be read.")}), 422
    if not services.is_editable(report.application):
        return jsonify(
            error={"code": 409, "message": _("The report has been submitted.")}, submitted=True
        ), 409
    form = report_form(
        report.application.call.programme, formdata=_formdata(payload["values"]), meta={"csrf": False}
    )
    values = form.values()
    present = set(payload["values"])
    # Only what the page sent: a section without any of its inputs stays as stored.
    values = {
        name: value
        for name, value in values.items()
        if name in present
        or any(key.startswith(f"{name}-") for key in present)
        or (name == "risk_by_category" and any(key.startswith("risk_by_category-") for key in present))
    }
    try:
        problems = services.save_report(report, values, actor=current_user, expected_version=version)
        db.session.commit()
    except services.ReportConflict as exc:
        db.session.rollback()
        return (
            jsonify(
                conflict=sorted(exc.changed),
                fields=[
                    {"label": str(SECTION_TITLES[section_of(k)]), "value": ""} for k in sorted(exc.changed)
                ],
                lock_version=report.lock_version,
                message=_("This report was changed in another window or by another member."),
            ),
            409,
        )
    except (StaleDataError, IntegrityError, DataError):
        db.session.rollback()
        db.session.refresh(report)
        return (
            jsonify(
                conflict=[],
                fields=[],
                lock_version=report.lock_version,
                message=_("This report was changed in another window or by another member."),
            ),
            409,
        )
    body = {
        "lock_version": report.lock_version,
        "saved_at": report.updated_at.isoformat(),
        "message": _("Saved at %(time)s", time=to_riga(report.updated_at).strftime("%H:%M")),
    }
    if problems:
        body.update(ok=False, errors={k: str(v) for k, v in problems.items()})
        return jsonify(body), 422
    body["ok"] = True
    return jsonify(body)


@bp.get("/<int:report_id>/autosave")
@login_required
def autosave_status(report_id: int):
    """The report's version and a fresh CSRF token (after logging in again in another tab)."""
    report = get_or_404(FinalReport, report_id, _report_member, area=AREA)
    return jsonify(
        csrf_token=generate_csrf(), lock_version=report.lock_version, status=report.application.status
    )


# --- files -------------------------------------------------------------------------------------------


@bp.post("/<int:report_id>/files")
@login_required
def upload(report_id: int):
    report = get_or_404(FinalReport, report_id, _report_member, area=AREA)
    application = report.application
    if not services.is_editable(application):
        flash(_("The report has been submitted; it can no longer be changed."), "info")
        return redirect(url_for(".show", report_id=report.id))
    upload_form = UploadForm()
    if upload_form.validate_on_submit():
        file = request.files.get("file")
        if file is None or not file.filename:
            upload_form.file.errors = [_("Choose a file.")]
        else:
            data = file.read(uploads.max_upload_bytes() + 1)
            try:
                services.add_file(
                    report,
                    data,
                    file.filename,
                    upload_form.kind.data,
                    upload_form.description.data,
                    actor=current_user,
                )
                db.session.commit()
            except WorkflowError as exc:
                db.session.rollback()
                attach_error(upload_form, exc)
            except (IntegrityError, DataError, StaleDataError):
                db.session.rollback()
                upload_form.form_errors.append(_("The file could not be saved. Try again."))
            else:
                flash(_("The file is attached."), "success")
                return redirect(url_for(".edit", application_id=application.id, _anchor="files"))
    return _render(report, _form_for_report(report), upload_form=upload_form)


@bp.post("/<int:report_id>/files/<int:file_id>/remove")
@login_required
def remove_file(report_id: int, file_id: int):
    report = get_or_404(FinalReport, report_id, _report_member, area=AREA)
    item = db.session.get(ReportFile, file_id)
    if item is None or item.report_id != report.id:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.remove_file(report, item, actor=current_user)
            db.session.commit()
            flash(_("The file is removed."), "success")
        except WorkflowError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            flash(_("The file could not be removed just now. Try again."), "error")
    else:
        abort(400)
    return redirect(url_for(".edit", application_id=report.application_id, _anchor="files"))


# --- submit ------------------------------------------------------------------------------------------


@bp.post("/<int:report_id>/submit")
@login_required
def submit(report_id: int):
    """Save what the form holds, then submit (the representative; every rule checked by the server)."""
    report = get_or_404(FinalReport, report_id, _report_member, area=AREA)
    application = report.application
    if not services.is_editable(application):
        flash(_("The report has been submitted; it can no longer be changed."), "info")
        return redirect(url_for(".show", report_id=report.id))
    form = report_form(application.call.programme, formdata=request.form)
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)
    conflict, problems = _save(report, form)
    form.lock_version.data = str(report.lock_version)
    if conflict is not None:
        return _render(report, form, status=409, conflict=conflict)
    if problems:
        form.attach(problems)
        return _render(report, form)
    try:
        services.submit_report(report, actor=current_user)
        db.session.commit()
    except services.ReportRefused as exc:
        db.session.rollback()
        form.attach(exc.problems)
        form.lock_version.data = str(report.lock_version)
        return _render(report, form, problems=exc.problems)
    except (WorkflowError, TransitionDenied) as exc:
        db.session.rollback()
        form.lock_version.data = str(report.lock_version)
        if isinstance(exc, WorkflowError):
            attach_error(form, exc)
        else:
            form.declaration.errors = [_("Only the organisation's representative can submit the report.")]
        return _render(report, form)
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        form.form_errors.append(_("The report could not be submitted just now: try again."))
        return _render(report, form)
    flash(_("The final report is submitted. The municipality reviews it and tells you by e-mail."), "success")
    return redirect(url_for(".show", report_id=report.id))


# --- read-only ---------------------------------------------------------------------------------------


@bp.get("/<int:report_id>")
@login_required
def show(report_id: int):
    report = get_or_404(FinalReport, report_id, _report_viewer, area=AREA)
    application = report.application
    due, days_left = _due(application)
    return render_template(
        "reports/show_report.html",
        can_edit=services.is_member(current_user, application) and services.is_editable(application),
        due=due,
        days_left=days_left,
        **body_context(report),
    )


@bp.get("/files/<int:file_id>")
@login_required
def file(file_id: int):
    item = get_or_404(ReportFile, file_id, lambda u, f: _report_viewer(u, f.report), area=AREA)
    stored = item.file
    return uploads.download_response(storage.read_file(stored), stored.filename, stored.content_type)
