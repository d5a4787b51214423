"""The municipality's contract template editor (issue 7): the coordinator edits the contract text of a
programme for their municipality (placeholders listed with their meaning), previews it as a PDF filled in
with the municipality's most recent funded application, or restores the programme's text."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, ApplicationStatus
from portal.calls.models import Call
from portal.contracts import generation, templating
from portal.contracts.views import bp
from portal.core import uploads
from portal.core.access import require
from portal.core.forms import ActionForm, attach_error, committed
from portal.core.i18n import current_language
from portal.core.pdf import PdfError
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes.models import Programme

AREA = "contracts"
log = logging.getLogger(__name__)
BODY_MAX = 100_000


class TemplateForm(FlaskForm):
    body = TextAreaField(_l("Contract text"), validators=[Length(max=BODY_MAX)])


def _choices() -> tuple[list[Municipality], list[Programme]]:
    ids = current_user.coordinated_municipality_ids()
    require(bool(ids), area=AREA)
    municipalities = list(
        db.session.scalars(
            sa.select(Municipality).where(Municipality.id.in_(ids)).order_by(Municipality.name)
        )
    )
    programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))
    return municipalities, programmes


def _chosen():
    """(programme, municipality, municipalities, programmes); programme/municipality None when the user
    must choose. A parameter naming something that is not the user's is a 404."""
    municipalities, programmes = _choices()
    municipality_id = request.args.get("municipality", type=int)
    programme_id = request.args.get("programme", type=int)
    if municipality_id is None and len(municipalities) == 1:
        municipality_id = municipalities[0].id
    if programme_id is None and len(programmes) == 1:
        programme_id = programmes[0].id
    municipality = next((m for m in municipalities if m.id == municipality_id), None)
    programme = next((p for p in programmes if p.id == programme_id), None)
    require(municipality_id is None or municipality is not None, area=AREA)
    require(programme_id is None or programme is not None, area=AREA)
    return programme, municipality, municipalities, programmes


def _editor_url(programme, municipality) -> str:
    return url_for("contracts.edit_template", programme=programme.id, municipality=municipality.id)


def latest_funded_application(programme, municipality_id: int) -> Application | None:
    """The municipality's most recent funded application of the programme (for the preview)."""
    return db.session.scalar(
        sa.select(Application)
        .join(Application.call)
        .where(
            Call.municipality_id == municipality_id,
            Call.programme_id == programme.id,
            Application.status.in_(FUNDED_STATUSES | {ApplicationStatus.TERMINATED}),
        )
        .order_by(Call.closes_at.desc(), Application.submitted_at.desc(), Application.id.desc())
        .limit(1)
    )


def _render_editor(programme, municipality, form):
    own = templating.own_template(programme, municipality.id)
    return render_template(
        "contracts/edit_template.html",
        programme=programme,
        programme_name=programme.name(current_language()),
        municipality=municipality,
        form=form,
        own=own,
        placeholders=generation.PLACEHOLDERS,
        reset_form=ActionForm(formdata=None),
        has_preview=latest_funded_application(programme, municipality.id) is not None,
    )


@bp.route("/template", methods=["GET", "POST"])
@login_required
def edit_template():
    programme, municipality, municipalities, programmes = _chosen()
    if programme is None or municipality is None:
        return render_template(
            "contracts/choose_template.html",
            municipalities=municipalities,
            programmes=programmes,
            language=current_language(),
            programme=programme,
            municipality=municipality,
        )
    form = TemplateForm()
    if request.method == "GET":
        form.body.data = generation.template_for(programme, municipality.id)
    if form.validate_on_submit():
        try:
            with committed(form) as saved:
                templating.save_template(programme, municipality.id, form.body.data, actor=current_user)
        except TransitionDenied:
            db.session.rollback()
            require(False, area=AREA)
        if saved:
            flash(_("The contract text is saved. New contracts of the municipality use it."), "success")
            return redirect(_editor_url(programme, municipality))
    return _render_editor(programme, municipality, form)


@bp.post("/template/reset")
@login_required
def reset_template():
    programme, municipality, _m, _p = _chosen()
    require(programme is not None and municipality is not None, area=AREA)
    form = ActionForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            dropped = templating.reset_template(programme, municipality.id, actor=current_user)
        if saved and dropped:
            flash(_("The programme's contract text is restored."), "success")
        elif saved:
            flash(_("The municipality already uses the programme's contract text."), "info")
        else:
            for error in form.form_errors:
                flash(error, "danger")
    return redirect(_editor_url(programme, municipality))


@bp.post("/template/preview")
@login_required
def preview_template():
    programme, municipality, _m, _p = _chosen()
    require(programme is not None and municipality is not None, area=AREA)
    form = TemplateForm()
    if form.validate_on_submit():
        application = latest_funded_application(programme, municipality.id)
        if application is None:
            form.form_errors.append(
                _("A preview needs one funded application of the municipality in this programme.")
            )
            return _render_editor(programme, municipality, form)
        try:
            data = generation.preview_contract_pdf(application, form.body.data or "")
        except WorkflowError as exc:
            attach_error(form, exc)
            return _render_editor(programme, municipality, form)
        except PdfError:
            log.exception("contract template preview for municipality %s failed", municipality.id)
            form.form_errors.append(_("The preview could not be generated just now. Try again in a minute."))
            return _render_editor(programme, municipality, form)
        # Shown in the browser's PDF viewer: inline, and without CSP "sandbox" (it blocks the viewer);
        # the text in it is the coordinator's own, escaped (generation.py), and nothing runs.
        response = uploads.download_response(data, "ligums-paraugs.pdf", "application/pdf")
        headers = response.headers
        headers["Content-Disposition"] = headers["Content-Disposition"].replace("attachment", "inline", 1)
        headers["Content-Security-Policy"] = (
            "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        )
        return response
    return _render_editor(programme, municipality, form)
