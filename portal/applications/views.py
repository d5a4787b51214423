"""Application pages: start a draft, the step-by-step form with autosave, submit, view, withdraw, and
the lists for applicants and for the municipality.

Every view: load or 404 (what is not the user's is "not found", never "forbidden") → permission
check → validate → service call → commit → flash and redirect (STYLE "Service layer"). Draft saves
store what parses and report the rest, so nothing typed is ever thrown away (QUALITY H1, H2).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from portal.accounts.models import Membership
from portal.applications import permissions
from portal.applications.forms import (
    ACTIVITY_LABELS,
    BUDGET_LABELS,
    FIELD_ANCHOR,
    FIELD_STEP,
    LABELS,
    MAX_ACTIVITIES,
    STEP_BY_SLUG,
    STEPS,
    StartForm,
    WithdrawForm,
    form_for,
    step_index,
)
from portal.applications.models import BUDGET_CATEGORIES, Application, ApplicationVersion
from portal.applications.rules import submission_problems
from portal.applications.services import (
    DraftConflict,
    SubmissionRefused,
    applications_of,
    changed_values,
    form_values,
    save_draft,
    start_application,
    submit_application,
    withdraw_application,
)
from portal.applications.workflow import ApplicationStatus
from portal.calls import permissions as call_permissions
from portal.calls.models import Call
from portal.core import audit
from portal.core.audit import security_event
from portal.core.enums import Role
from portal.core.i18n import current_language, local_date, money, riga_datetime
from portal.core.pdf import PdfError
from portal.core.storage import read_file
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.organisations.models import Organisation

bp = Blueprint("applications", __name__)


@bp.context_processor
def _labels():
    """Labels the application templates share with the forms (one place for each wording)."""
    return {
        "labels": LABELS,
        "budget_labels": BUDGET_LABELS,
        "activity_labels": ACTIVITY_LABELS,
        "step_titles": {s.slug: s.title for s in STEPS},
    }


@bp.app_template_filter("application_status")
def _application_status(value) -> ApplicationStatus:
    return ApplicationStatus(value)


# --- loading and permissions ----------------------------------------------------------------------


def _application(application_id: int, allowed=permissions.is_member) -> Application:
    """Return the application if the current user passes `allowed`, else 404 (never 403)."""
    application = db.session.get(
        Application,
        application_id,
        options=[
            joinedload(Application.call).joinedload(Call.programme),
            joinedload(Application.organisation),
        ],
    )
    if application is None or not allowed(current_user, application):
        if application is not None:
            security_event("application_denied", application_id=application_id, user_id=current_user.get_id())
        abort(404)
    return application


def _step(slug: str):
    step = STEP_BY_SLUG.get(slug)
    if step is None:
        abort(404)
    return step


def _not_editable() -> WorkflowError:
    return WorkflowError(_("The application has been submitted; it can no longer be edited."))


# --- presenting values ----------------------------------------------------------------------------


def _typed(values: dict) -> dict:
    """Turn a frozen version's JSON back into dates and amounts for display."""
    typed = dict(values)
    for name in ("start_date", "end_date"):
        if isinstance(typed.get(name), str):
            with contextlib.suppress(ValueError):
                typed[name] = date.fromisoformat(typed[name])
    budget = {}
    for category, amount in (typed.get("budget") or {}).items():
        try:
            budget[category] = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            budget[category] = None
    typed["budget"] = budget
    return typed


def _category_label(programme, code: str) -> str:
    for category in programme.risk_categories or []:
        if category.get("code") == code:
            return category.get(current_language()) or category.get("lv") or code
    return code


def display_value(name: str, value, programme) -> str:
    """Say a stored value in words, for the conflict list and the summaries."""
    if value is None or value == "" or value == {} or value == []:
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name in ("start_date", "end_date"):
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return value
        return local_date(value)
    if name == "budget" and isinstance(value, dict):
        return "; ".join(
            f"{BUDGET_LABELS.get(c, c)}: {money(value[c]) if value.get(c) is not None else '—'}"
            for c in BUDGET_CATEGORIES
            if c in value
        )
    if name == "risk_by_category" and isinstance(value, dict):
        return "; ".join(f"{_category_label(programme, code)}: {count}" for code, count in value.items())
    if name == "activities" and isinstance(value, list):
        return ngettext("%(num)d activity", "%(num)d activities", len(value))
    return str(value)


def _conflict_items(changed: dict, programme) -> list[tuple[str, str]]:
    return [
        (str(LABELS.get(name, name)), display_value(name, value, programme))
        for name, value in changed.items()
    ]


def _problem_items(application: Application, problems) -> list[dict]:
    """Each problem with the step and field that fix it (the submission summary links there)."""
    items = []
    for problem in problems:
        slug = FIELD_STEP.get(problem.field, "review")
        anchor = FIELD_ANCHOR.get(problem.field, problem.field)
        items.append(
            {
                "field": problem.field,
                "label": str(LABELS.get(problem.field, "")),
                "message": str(problem.message),
                "step": STEP_BY_SLUG[slug],
                "url": url_for(".edit", application_id=application.id, step=slug, _anchor=anchor),
            }
        )
    return items


def _representatives(organisation: Organisation) -> list[Membership]:
    """The memberships of the people who represent the organisation (its legal representatives)."""
    return list(
        db.session.scalars(
            sa.select(Membership)
            .options(joinedload(Membership.user))
            .where(
                Membership.organisation_id == organisation.id,
                Membership.role == Role.APPLICANT,
                Membership.is_representative.is_(True),
            )
            .order_by(Membership.id)
        ).unique()
    )


def _risk_share(total, risk) -> Decimal | None:
    """The PMP-risk share in percent, two decimals, never rounded up (as Application.risk_share)."""
    if not isinstance(total, int) or not isinstance(risk, int) or total <= 0:
        return None
    return (Decimal(risk) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def next_step(application: Application, now: datetime | None = None) -> tuple[str, str | None, str | None]:
    """Return what the applicant must do next: (sentence, link or None, link text or None)."""
    now = now or utcnow()
    status = ApplicationStatus(application.status)
    call = application.call
    page = url_for(".show", application_id=application.id)
    if status == ApplicationStatus.DRAFT:
        if call.is_accepting(now):
            return (
                _(
                    "Finish and submit it before %(deadline)s (Riga time).",
                    deadline=riga_datetime(call.closes_at),
                ),
                url_for(".edit", application_id=application.id, step=STEPS[0].slug),
                _("Continue the application"),
            )
        if now < call.opens_at:
            return _("The call opens on %(day)s.", day=riga_datetime(call.opens_at)), None, None
        return _("The deadline has passed: this draft can no longer be submitted."), None, None
    messages = {
        ApplicationStatus.SUBMITTED: _(
            "Wait for the evaluation. The municipality tells you the result by e-mail."
        ),
        ApplicationStatus.CLARIFICATION_REQUESTED: _("Answer the municipality's request for clarification."),
        ApplicationStatus.ADMISSIBLE: _(
            "Wait for the evaluation. The municipality tells you the result by e-mail."
        ),
        ApplicationStatus.SCORED: _("Wait for the municipality's decision."),
        ApplicationStatus.REJECTED: _(
            "Nothing more: the application was rejected. The decision gives the reasons."
        ),
        ApplicationStatus.FUNDED: _("Wait for the contract from the municipality."),
        ApplicationStatus.RESERVE: _("Wait: the application is on the reserve list and may still be funded."),
        ApplicationStatus.NOT_FUNDED: _("Nothing more: the application was not funded this time."),
        ApplicationStatus.CONTRACT_SENT: _("Sign the contract."),
        ApplicationStatus.CONTRACT_SIGNED: _("Carry out the project, then submit the final report."),
        ApplicationStatus.IN_PROGRESS: _("Carry out the project, then submit the final report."),
        ApplicationStatus.REPORT_SUBMITTED: _("Wait while the municipality reviews the final report."),
        ApplicationStatus.REPORT_RETURNED: _("Correct the final report and submit it again."),
        ApplicationStatus.REPORT_APPROVED: _("Nothing more: the final report is approved."),
        ApplicationStatus.FORWARDED: _("Nothing more: the final report is approved."),
        ApplicationStatus.CLOSED: _("Nothing more: the project is closed."),
        ApplicationStatus.WITHDRAWN: _("Nothing: the application was withdrawn."),
        ApplicationStatus.TERMINATED: _("Nothing: the project was terminated."),
    }
    return messages[status], page, _("Open")


# --- the step form --------------------------------------------------------------------------------


def _step_context(application: Application, step, form) -> dict:
    """What the step's template shows besides the form."""
    programme = application.call.programme
    context: dict = {}
    if step.slug == "applicant":
        organisation = application.organisation
        context["representatives"] = _representatives(organisation)
        if organisation.is_initiative_group and organisation.representative_organisation:
            context["entity_representatives"] = _representatives(organisation.representative_organisation)
    elif step.slug == "target-group":
        share = _risk_share(form.participants_total.data, form.participants_risk.data)
        context["risk_share"] = share
        context["risk_share_text"] = (
            format_decimal(share, format="#,##0.00", locale=current_language()) + " %"
            if share is not None
            else "–"
        )
    elif step.slug == "budget":
        context["budget_total"] = sum(
            (f.data for f in form.amount_fields() if f.data is not None), Decimal("0.00")
        )
    elif step.slug == "review":
        context["summary"] = form_values(application)
    context["min_risk_share"] = programme.min_risk_share
    return context


def _render_step(
    application,
    step,
    form,
    *,
    status=200,
    conflict=None,
    problems=None,
    refused=False,
    saved_with_errors=False,
):
    if problems is None and step.slug == "review":
        problems = submission_problems(application)
    context = _step_context(application, step, form)
    return (
        render_template(
            "applications/edit.html",
            application=application,
            call=application.call,
            programme=application.call.programme,
            steps=STEPS,
            step=step,
            step_number=step_index(step.slug) + 1,
            form=form,
            conflict=_conflict_items(conflict, application.call.programme) if conflict is not None else None,
            problems=_problem_items(application, problems or []),
            refused=refused,
            saved_with_errors=saved_with_errors,
            max_activities=MAX_ACTIVITIES,
            **context,
        ),
        status,
    )


def _merge(values: dict, current: dict) -> dict:
    """Complete a partial set of risk-category counts with the stored ones (autosave sends what it has)."""
    if "risk_by_category" in values:
        values["risk_by_category"] = {**(current.get("risk_by_category") or {}), **values["risk_by_category"]}
    return values


def _changed_since(application: Application, values: dict) -> dict:
    """After a lost race (StaleDataError) say what differs from the stored draft, as DraftConflict does."""
    db.session.refresh(application)
    return changed_values(application, values)


def _save(application, values, expected_version):
    """Store the values; return the conflict (what changed) instead when the draft moved on."""
    try:
        save_draft(application, values, actor=current_user, expected_version=expected_version)
        db.session.commit()
    except DraftConflict as exc:
        db.session.rollback()
        return exc.changed
    except StaleDataError:  # another save won the race between our check and our UPDATE
        db.session.rollback()
        return _changed_since(application, values)
    return None


def _row_number(raw: str | None) -> int | None:
    """The row a "Remove" button names (its value is the row's place in the form)."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 4 else None


@bp.route("/<int:application_id>/edit/<step>", methods=["GET", "POST"])
@login_required
def edit(application_id: int, step: str):
    application = _application(application_id)
    current_step = _step(step)
    if application.status != ApplicationStatus.DRAFT:
        if request.method == "POST":
            raise _not_editable()
        flash(_("The application has been submitted; it can no longer be edited."), "info")
        return redirect(url_for(".show", application_id=application.id))
    programme = application.call.programme

    if request.method == "GET":
        form = form_for(current_step, programme, values=form_values(application))
        form.lock_version.data = application.lock_version
        if (
            current_step.slug == "activities"
            and request.args.get("add_row")
            and form.row_count() < MAX_ACTIVITIES
        ):
            form.activities.append_entry()
        return _render_step(application, current_step, form)

    form = form_for(current_step, programme, values={}, formdata=request.form)
    current = form_values(application)
    values, errors = form.draft_values(current)
    _merge(values, current)
    action = request.form.get("action", "save")
    removed = _row_number(request.form.get("remove_row")) if current_step.slug == "activities" else None
    if removed is not None and removed < form.row_count():
        action = "remove_row"
        if removed < len(values.get("activities", [])):
            del values["activities"][removed]
        del form.activities.entries[removed]

    conflict = _save(application, values, form.expected_version())
    if conflict is not None:
        form.lock_version.data = application.lock_version  # saving again keeps what is in the form
        return _render_step(application, current_step, form, status=409, conflict=conflict)

    form.lock_version.data = application.lock_version
    if action == "add_row" and current_step.slug == "activities":
        if errors:
            if form.row_count() < MAX_ACTIVITIES:
                form.activities.append_entry()
            return _render_step(application, current_step, form, saved_with_errors=True)
        rows = len(application.activities)
        return redirect(
            url_for(
                ".edit",
                application_id=application.id,
                step=step,
                add_row=1,
                _anchor=f"activities-{rows}-activity",
            )
        )
    if errors:
        return _render_step(application, current_step, form, saved_with_errors=True)
    flash(_("Your draft is saved."), "success")
    index = step_index(current_step.slug)
    if action == "next" and index + 1 < len(STEPS):
        target = STEPS[index + 1].slug
    elif action == "back" and index > 0:
        target = STEPS[index - 1].slug
    else:
        target = current_step.slug
    anchor = "activities" if action == "remove_row" else None
    return redirect(url_for(".edit", application_id=application.id, step=target, _anchor=anchor))


# --- autosave (JSON) ------------------------------------------------------------------------------


def _formdata_from_json(values: dict) -> MultiDict:
    """Turn the script's {name: value} into form data, as if the browser had posted the form."""
    formdata = MultiDict()
    for key, value in list(values.items())[:1000]:
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


def _saved_body(application: Application) -> dict:
    saved_at = application.updated_at
    body = {
        "lock_version": application.lock_version,
        "saved_at": saved_at.isoformat(),
        "message": _("Saved at %(time)s", time=to_riga(saved_at).strftime("%H:%M")),
    }
    if g.get("session_expires_at"):
        body["session_expires_at"] = g.session_expires_at.isoformat()
    return body


@bp.post("/<int:application_id>/autosave")
@login_required
def autosave(application_id: int):
    """Save what the script sends: {lock_version, step, values} → {ok, lock_version, saved_at}."""
    application = _application(application_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("values"), dict):
        return jsonify(errors={"_": _("The request could not be read.")}), 422
    step = STEP_BY_SLUG.get(payload.get("step") if isinstance(payload.get("step"), str) else "")
    version = payload.get("lock_version")
    if step is None or not isinstance(version, int) or isinstance(version, bool):
        return jsonify(errors={"_": _("The request could not be read.")}), 422
    if application.status != ApplicationStatus.DRAFT:
        return jsonify(
            error={
                "code": 409,
                "message": _("The application has been submitted; it can no longer be edited."),
            },
            submitted=True,
        ), 409
    formdata = _formdata_from_json(payload["values"])
    form = form_for(step, application.call.programme, values={}, formdata=formdata, meta={"csrf": False})
    current = form_values(application)
    values, errors = form.draft_values(current, present=set(formdata.keys()))
    _merge(values, current)
    conflict = _save(application, values, version)
    if conflict is not None:
        return (
            jsonify(
                conflict=conflict,
                fields=[
                    {"label": label, "value": value}
                    for label, value in _conflict_items(conflict, application.call.programme)
                ],
                lock_version=application.lock_version,
                message=_("This draft was changed in another window or by another member."),
            ),
            409,
        )
    body = _saved_body(application)
    if errors:
        body.update(ok=False, errors=errors)
        return jsonify(body), 422
    body["ok"] = True
    return jsonify(body)


@bp.get("/<int:application_id>/autosave")
@login_required
def autosave_status(application_id: int):
    """Tell the script the draft's version and a fresh CSRF token (after logging in again elsewhere)."""
    application = _application(application_id)
    return jsonify(
        csrf_token=generate_csrf(),
        lock_version=application.lock_version,
        status=application.status,
        saved_at=application.updated_at.isoformat(),
    )


# --- submit ---------------------------------------------------------------------------------------


@bp.post("/<int:application_id>/submit")
@login_required
def submit(application_id: int):
    """Save the declarations, then submit: every rule and the deadline are checked by the server."""
    application = _application(application_id)
    if application.status != ApplicationStatus.DRAFT:
        raise _not_editable()
    step = STEP_BY_SLUG["review"]
    form = form_for(step, application.call.programme, values={}, formdata=request.form)
    current = form_values(application)
    values, _errors = form.draft_values(current)
    conflict = _save(application, values, form.expected_version())
    if conflict is not None:
        form.lock_version.data = application.lock_version
        return _render_step(application, step, form, status=409, conflict=conflict)
    form.lock_version.data = application.lock_version
    try:
        submit_application(application, actor=current_user)  # the server's clock, never the client's
    except SubmissionRefused as exc:
        db.session.rollback()
        form.lock_version.data = application.lock_version
        # 200 like every form with errors here (the summary says what to fix); nothing was submitted.
        return _render_step(application, step, form, problems=exc.problems, refused=True)
    except PdfError:
        db.session.rollback()
        form.lock_version.data = application.lock_version
        form.form_errors.append(
            _(
                "The PDF of the application could not be made just now, so nothing was submitted. "
                "Try again in a minute."
            )
        )
        return _render_step(application, step, form, status=503)
    db.session.commit()
    flash(_("The application is submitted."), "success")
    return redirect(url_for(".confirmation", application_id=application.id))


@bp.get("/<int:application_id>/submitted")
@login_required
def confirmation(application_id: int):
    application = _application(application_id)
    version = _latest_version(application)
    if version is None:
        return redirect(url_for(".show", application_id=application.id))
    return render_template("applications/confirmation.html", application=application, version=version)


def _latest_version(application: Application) -> ApplicationVersion | None:
    return application.versions[-1] if application.versions else None


# --- view, download, withdraw ---------------------------------------------------------------------


@bp.get("/<int:application_id>")
@login_required
def show(application_id: int):
    application = _application(application_id, permissions.can_view_application)
    member = permissions.is_member(current_user, application)
    version = _latest_version(application)
    if not member:
        # Every read of an application by staff is in the audit trail (DESIGN §6, QUALITY F5).
        audit.record(
            "application.viewed",
            actor=current_user,
            obj=application,
            municipality_id=application.call.municipality_id,
            organisation_id=application.organisation_id,
        )
        db.session.commit()
    values = _typed(version.data) if version is not None else (form_values(application) if member else None)
    sentence, link, link_text = next_step(application) if member else (None, None, None)
    return render_template(
        "applications/show.html",
        application=application,
        member=member,
        values=values,
        version=version,
        status=ApplicationStatus(application.status),
        next_sentence=sentence,
        next_link=link,
        next_link_text=link_text,
        can_edit=permissions.can_edit_application(current_user, application),
        can_withdraw=permissions.can_withdraw_application(current_user, application),
        withdraw_form=WithdrawForm(formdata=None),
        programme=application.call.programme,
    )


@bp.get("/<int:application_id>/versions/<int:number>.pdf")
@login_required
def download_version(application_id: int, number: int):
    application = _application(application_id, permissions.can_view_application)
    version = next((v for v in application.versions if v.number == number), None)
    if version is None or version.pdf_file is None:
        abort(404)
    data = read_file(version.pdf_file)
    if not permissions.is_member(current_user, application):
        audit.record(
            "application.pdf_downloaded",
            actor=current_user,
            obj=application,
            municipality_id=application.call.municipality_id,
            organisation_id=application.organisation_id,
            after={"version": version.number},
        )
        db.session.commit()
    filename = version.pdf_file.filename or f"application-{application.id}-v{version.number}.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.post("/<int:application_id>/withdraw")
@login_required
def withdraw(application_id: int):
    application = _application(application_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(error, "danger")
        return redirect(url_for(".show", application_id=application.id))
    withdraw_application(application, actor=current_user, reason=form.reason.data)
    db.session.commit()
    flash(_("The application is withdrawn."), "success")
    return redirect(url_for(".show", application_id=application.id))


# --- start ----------------------------------------------------------------------------------------


@bp.route("/start/<int:call_id>", methods=["GET", "POST"])
@login_required
def start(call_id: int):
    call = db.session.get(Call, call_id)
    if call is None or not call_permissions.is_public(call):
        abort(404)
    org_ids = current_user.organisation_ids()
    organisations = (
        list(
            db.session.scalars(
                sa.select(Organisation).where(Organisation.id.in_(org_ids)).order_by(Organisation.name)
            )
        )
        if org_ids
        else []
    )
    existing = {}
    if organisations:
        for application in db.session.scalars(
            sa.select(Application).where(
                Application.call_id == call.id,
                Application.organisation_id.in_(org_ids),
                Application.status != ApplicationStatus.WITHDRAWN,
            )
        ):
            existing.setdefault(application.organisation_id, []).append(application)
    form = StartForm()
    form.organisation.choices = [(str(o.id), o.name) for o in organisations]
    if len(organisations) == 1:
        form.organisation.data = str(organisations[0].id)
    if organisations and form.validate_on_submit():
        organisation = next(o for o in organisations if str(o.id) == form.organisation.data)
        try:
            application = start_application(call, organisation, actor=current_user)
        except WorkflowError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your draft is started. You can save it at any moment and come back later."), "success")
            return redirect(url_for(".edit", application_id=application.id, step=STEPS[0].slug))
    return render_template(
        "applications/start.html",
        call=call,
        form=form,
        organisations=organisations,
        existing=existing,
        accepting=call.is_accepting(),
    )


# --- lists ----------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    """Every application of the user's organisations, with its status and the next thing to do."""
    now = utcnow()
    rows = [(a, *next_step(a, now)) for a in applications_of(current_user)]
    return render_template("applications/mine.html", rows=rows)


@bp.get("/call/<int:call_id>")
@login_required
def list_for_call(call_id: int):
    """The submitted applications of a call, for its municipality's coordinators and national admins."""
    call = db.session.get(Call, call_id)
    if call is None or not permissions.can_list_applications(current_user, call):
        abort(404)
    submitted = sa.and_(Application.call_id == call.id, Application.submitted_at.is_not(None))
    if not call_permissions.can_see_applications(current_user, call):
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(submitted))
        return render_template(
            "applications/list_for_call.html", call=call, sealed=True, count=count, applications=[]
        )
    # Recorded (and committed) first: a commit expires what was loaded, and the list is one query.
    audit.record(
        "application.list_viewed", actor=current_user, obj=call, municipality_id=call.municipality_id
    )
    db.session.commit()
    applications = list(
        db.session.scalars(
            sa.select(Application)
            .where(submitted)
            .options(joinedload(Application.organisation))
            .order_by(Application.submitted_at, Application.id)
        )
    )
    return render_template(
        "applications/list_for_call.html",
        call=call,
        sealed=False,
        count=len(applications),
        applications=applications,
    )
