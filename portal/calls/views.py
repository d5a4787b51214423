"""Calls: the public list, call pages, regulations and Atom feed; the coordinator's pages to create,
edit, publish and close a call (issue 4).

Every view: load or 404 → permission (404 for what is not the user's) → validate → one service call →
commit → flash and redirect (STYLE "Service layer").
"""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import partial

from babel.numbers import format_percent
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from portal.calls import feeds, permissions, queries, services
from portal.calls.forms import (
    ActionForm,
    CallCriterionForm,
    CloseCallForm,
    EditCallForm,
    NewCallForm,
    RegulationsForm,
    default_window,
)
from portal.calls.models import Call, CallCriterion
from portal.calls.workflow import CallStatus
from portal.core import paging, storage, uploads
from portal.core.access import get_or_404, require
from portal.core.enums import LegalForm
from portal.core.forms import committed
from portal.core.i18n import current_language
from portal.core.pagecache import public_page
from portal.core.pdf import PdfError
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db

bp = Blueprint("calls", __name__)
log = logging.getLogger(__name__)

CRITERION_KINDS = ("administrative", "eligibility", "quality")


def time_left(closes_at, now) -> str:
    """Say how long a call stays open, in the page's language ("12 days left", "5 hours left")."""
    seconds = int((closes_at - now).total_seconds())
    if seconds < 0:
        return _("The deadline has passed.")
    days, rest = divmod(seconds, 86400)
    if days >= 1:
        return ngettext("%(num)d day left", "%(num)d days left", days)
    hours = rest // 3600
    if hours >= 1:
        return ngettext("%(num)d hour left", "%(num)d hours left", hours)
    return ngettext("%(num)d minute left", "%(num)d minutes left", max(rest // 60, 1))


def _percent(value) -> str:
    """Format a percentage held as 0–100 (10.00 → "10 %") in the page's language."""
    return format_percent(Decimal(value) / 100, locale=current_language(), decimal_quantization=False)


def _legal_form(value: str) -> str:
    return str(LegalForm(value).label) if value in LegalForm._value2member_map_ else value


@bp.context_processor
def _helpers():
    return {
        "perm": permissions,
        "call_status": lambda status: CallStatus(status).label,
        "time_left": time_left,
        "legal_form_label": _legal_form,
        "percent": _percent,
        "riga_iso": lambda value: to_riga(value).isoformat(),
    }


# --- helpers -------------------------------------------------------------------------------------


def _close_due() -> None:
    """Close the calls whose deadline has passed before showing any (one SELECT when none is due).

    The cron job `flask calls close-due` does the same; `Call.is_accepting()` refuses late submissions
    even before either has run. A failure here must not break the public page.
    """
    try:
        if services.close_due_calls():
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("closing due calls failed; the next request tries again", exc_info=True)


def _regulations_name(call: Call) -> str:
    return f"nolikums-{call.municipality.name}-{call.id}.pdf"


# --- public --------------------------------------------------------------------------------------


@bp.get("/")
@public_page
def list_calls():
    _close_due()
    municipalities, programmes = queries.filter_choices()
    municipality_id = request.args.get("municipality", type=int)
    if municipality_id not in {m.id for m in municipalities}:
        municipality_id = None
    programme_id = request.args.get("programme", type=int)
    if programme_id not in {p.id for p in programmes}:
        programme_id = None
    now = utcnow()
    chosen = {"municipality_id": municipality_id, "programme_id": programme_id}
    open_calls, pager = paging.paged(partial(queries.open_calls, now, **chosen))
    return render_template(
        "calls/list_calls.html",
        open_calls=open_calls,
        **pager,
        # the calls opening soon, once, under the first page
        upcoming=queries.upcoming_calls(now, **chosen) if pager["page"] == 1 else [],
        municipalities=municipalities,
        programmes=programmes,
        municipality_id=municipality_id,
        programme_id=programme_id,
        filtered=municipality_id is not None or programme_id is not None,
        now=now,
    )


@bp.get("/feed.atom")
def call_feed():
    body = feeds.calls_feed(queries.feed_calls(), locale=current_language(), now=utcnow())
    return Response(body, content_type=feeds.CONTENT_TYPE)


@bp.get("/<int:call_id>")
def show_call(call_id: int):
    _close_due()
    call = get_or_404(Call, call_id, permissions.can_view_call, area="calls")
    counts = None
    if permissions.can_see_counts(current_user, call):
        counts = queries.application_counts([call.id])[call.id]
    return render_template(
        "calls/show_call.html",
        call=call,
        programme=call.programme,
        criteria=call.criteria,
        counts=counts,
        manage=permissions.can_manage_call(current_user, call),
        action_form=ActionForm(),
        now=utcnow(),
    )


@bp.get("/<int:call_id>/regulations.pdf")
def download_regulations(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_view_call, area="calls")
    file_id = call.regulations_signed_file_id or call.regulations_file_id
    stored = db.session.get(storage.StoredFile, file_id) if file_id is not None else None
    if stored is not None:
        return uploads.download_response(storage.read_file(stored), _regulations_name(call))
    # A draft has no stored regulations yet: its staff see them rendered on the fly; nobody else does.
    if not permissions.can_preview_regulations(current_user, call):
        abort(404)
    return preview_regulations(call_id)


@bp.get("/<int:call_id>/regulations/preview.pdf")
@login_required
def preview_regulations(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_preview_regulations, area="calls")
    try:
        data = services.regulations_pdf(call, "lv")
    except PdfError:
        log.exception("regulations preview of call %s failed", call.id)
        flash(_("The regulations could not be generated just now. Try again in a minute."), "danger")
        return redirect(url_for("calls.show_call", call_id=call.id))
    return uploads.download_response(data, f"nolikums-{call.id}-projekts.pdf")


# --- the coordinator's pages ---------------------------------------------------------------------


@bp.get("/manage")
@login_required
def manage_calls():
    require(permissions.can_manage_calls(current_user), area="calls")
    _close_due()
    ids = current_user.coordinated_municipality_ids()
    calls = queries.managed_calls(ids)
    groups: dict[str, list[Call]] = {}
    for call in calls:
        groups.setdefault(call.status, []).append(call)
    return render_template(
        "calls/manage_calls.html",
        groups=groups,
        counts=queries.application_counts([c.id for c in calls]),
        quota_lines=queries.quota_lines(ids),
        several=len(ids) > 1,
        now=utcnow(),
    )


def _round_label(line, several: bool) -> str:
    label = _(
        "%(programme)s, round %(number)d — %(left)s",
        programme=line.round.programme.name(current_language()),
        number=line.round.number,
        left=ngettext(
            "%(num)d project left in the quota", "%(num)d projects left in the quota", line.remaining
        ),
    )
    return f"{line.municipality.name}: {label}" if several else label


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_call():
    require(permissions.can_manage_calls(current_user), area="calls")
    ids = current_user.coordinated_municipality_ids()
    lines = queries.quota_lines(ids, open_only=True)
    form = NewCallForm()
    form.round.choices = [("", _("Choose the programme round"))] + [
        (line.key, _round_label(line, len(ids) > 1)) for line in lines
    ]
    if request.method == "GET":
        chosen = next((line for line in lines if line.key == request.args.get("round")), None)
        chosen = chosen or next((line for line in lines if line.remaining > 0), None)
        if chosen is not None:
            form.round.data = chosen.key
            days = chosen.round.programme.min_call_window_days
        else:
            days = 30
        form.opens_at.data, form.closes_at.data = default_window(to_riga(utcnow()).date(), days)
        form.contact_name.data = current_user.full_name
        form.contact_email.data = current_user.email
    if form.validate_on_submit():
        line = next(line for line in lines if line.key == form.round.data)
        with committed(form) as saved:
            call = services.create_call(line.round, line.municipality, form.call_data(), actor=current_user)
        if saved:
            flash(
                _("The call is saved as a draft. Check its criteria and regulations, then publish it."),
                "success",
            )
            return redirect(url_for("calls.show_call", call_id=call.id))
    return render_template("calls/new_call.html", form=form, lines=lines, several=len(ids) > 1)


def _not_editable(call: Call):
    flash(_("The call is closed; it can no longer change."), "warning")
    return redirect(url_for("calls.show_call", call_id=call.id))


@bp.route("/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def edit_call(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_manage_call, area="calls")
    if not permissions.can_edit_call(current_user, call):
        return _not_editable(call)
    published = call.status == CallStatus.OPEN
    form = EditCallForm(obj=call)
    if published:
        del form.opens_at  # a published call's opening cannot change
    else:
        del form.reason
    if form.validate_on_submit():
        with committed(form) as saved:
            services.update_call(
                call,
                form.call_data(current=call),
                actor=current_user,
                reason=form.reason.data if published else None,
            )
        if saved:
            flash(_("The call is saved."), "success")
            return redirect(url_for("calls.show_call", call_id=call.id))
    return render_template("calls/edit_call.html", call=call, form=form, published=published)


@bp.get("/<int:call_id>/criteria")
@login_required
def call_criteria(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_manage_call, area="calls")
    grouped = {kind: [c for c in call.criteria if c.kind == kind] for kind in CRITERION_KINDS}
    return render_template("calls/call_criteria.html", call=call, grouped=grouped)


@bp.route("/<int:call_id>/criteria/<int:criterion_id>", methods=["GET", "POST"])
@login_required
def edit_criterion(call_id: int, criterion_id: int):
    call = get_or_404(Call, call_id, permissions.can_manage_call, area="calls")
    criterion = db.session.get(CallCriterion, criterion_id)
    if criterion is None or criterion.call_id != call.id:
        abort(404)
    if not permissions.can_edit_call(current_user, call):
        return _not_editable(call)
    published = call.status == CallStatus.OPEN
    form = CallCriterionForm.for_criterion(criterion, published=published)
    if form.validate_on_submit():
        with committed(form) as saved:
            services.update_criterion(
                criterion,
                actor=current_user,
                reason=form.reason.data if published else None,
                **form.criterion_values(),
            )
        if saved:
            flash(_("The criterion is saved."), "success")
            return redirect(
                url_for("calls.call_criteria", call_id=call.id, _anchor=f"criterion-{criterion.id}")
            )
    return render_template(
        "calls/edit_criterion.html", call=call, criterion=criterion, form=form, published=published
    )


@bp.post("/<int:call_id>/publish")
@login_required
def publish_call(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_manage_call, area="calls")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.publish_call(call, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    except PdfError:
        db.session.rollback()
        log.exception("regulations of call %s could not be generated", call_id)
        flash(
            _("The regulations could not be generated just now, so the call is not published. Try again."),
            "danger",
        )
    else:
        flash(_("The call is published. Anyone can now see it and apply until the deadline."), "success")
    return redirect(url_for("calls.show_call", call_id=call_id))


@bp.route("/<int:call_id>/regulations", methods=["GET", "POST"])
@login_required
def upload_regulations(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_manage_call, area="calls")
    if not permissions.can_edit_call(current_user, call):
        return _not_editable(call)
    form = RegulationsForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(services.REGULATIONS_MAX_BYTES + 1)
        with committed(form) as saved:
            services.upload_signed_regulations(call, data, upload.filename or "", actor=current_user)
        if saved:
            flash(_("The signed regulations are uploaded; applicants now download this file."), "success")
            return redirect(url_for("calls.show_call", call_id=call.id))
    return render_template("calls/upload_regulations.html", call=call, form=form)


@bp.route("/<int:call_id>/close", methods=["GET", "POST"])
@login_required
def close_call(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_manage_call, area="calls")
    if not permissions.can_close_call(current_user, call):
        flash(_("Only an open call can be closed."), "warning")
        return redirect(url_for("calls.show_call", call_id=call.id))
    form = CloseCallForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            services.close_call(call, actor=current_user, reason=form.reason.data)
        if saved:
            flash(_("The call is closed. Applications can no longer be submitted."), "success")
            return redirect(url_for("calls.show_call", call_id=call.id))
    counts = queries.application_counts([call.id])[call.id]
    return render_template("calls/close_call.html", call=call, form=form, counts=counts)
