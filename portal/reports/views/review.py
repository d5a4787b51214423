"""Reviewing final reports (issue 8): the coordinators' list of their municipalities' reports, the review
page with its three forms (return with a comment per section, approve — optionally with a reduced final
payment — and the national administrator's acknowledgement), and the approved report's PDF.

Every view: load or 404 → permission (404 for what is not the user's) → CSRF and form → one service
call inside `committed(form)` → flash and redirect. A lost race (two coordinators, a double click) is a
calm message, never a 500 (QUALITY H3)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from jinja2 import TemplateNotFound
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from portal.applications.workflow import ApplicationStatus
from portal.contracts.services import contract_of
from portal.core.access import get_or_404
from portal.core.forms import ActionForm, committed
from portal.core.uploads import download_response
from portal.core.workflow import TransitionDenied
from portal.extensions import db
from portal.payments import services as payments
from portal.programmes.forms import LocaleDecimalField, _clean
from portal.reports.models import REPORT_SECTIONS, SECTION_TITLES, FinalReport
from portal.reports.services import review
from portal.reports.views import bp

AREA = "reports"
BODY_PARTIAL = "reports/_report_body.html"


# --- forms ------------------------------------------------------------------------------------------


class ReturnForm(FlaskForm):
    """A comment field per section of the report (at least one is needed; checked by the service)."""


for _section in REPORT_SECTIONS:
    setattr(
        ReturnForm,
        f"comment_{_section}",
        TextAreaField(
            SECTION_TITLES[_section],
            filters=[_clean],
            validators=[Optional(), Length(max=review.COMMENT_MAX)],
        ),
    )


class ApproveForm(FlaskForm):
    amount = LocaleDecimalField(
        _l("Reduced final payment (EUR)"),
        validators=[Optional()],
        description=_l("Leave empty to pay the final payment in full."),
    )
    reason = TextAreaField(
        _l("Reason for the reduction"),
        filters=[_clean],
        validators=[Optional(), Length(max=4000)],
        description=_l("Needed only when the final payment is reduced, e.g. results only partly achieved."),
    )


# --- loading and the page ---------------------------------------------------------------------------


def _report(report_id: int, allowed) -> FinalReport:
    return get_or_404(FinalReport, report_id, allowed, area=AREA)


def _has_body_partial() -> bool:
    """The applicant form's read-only partial of the report, once it exists (else a summary here)."""
    try:
        current_app.jinja_env.get_template(BODY_PARTIAL)
    except TemplateNotFound:
        return False
    return True


def _page(report: FinalReport, *, return_form=None, approve_form=None, acknowledge_form=None):
    application = report.application
    contract = contract_of(application)
    final = payments.payments_of(contract).get("final") if contract is not None else None
    coordinator = review.is_coordinator(current_user, report)
    national = current_user.is_national_admin
    submitted = application.status == ApplicationStatus.REPORT_SUBMITTED
    body = {}
    if _has_body_partial():
        from portal.reports.views.form import body_context  # the applicant form's read-only partial

        body = body_context(report)
    context = body | dict(
        report=report,
        application=application,
        contract=contract,
        final_payment=final,
        sections=[(s, SECTION_TITLES[s]) for s in REPORT_SECTIONS],
        risk_share=body.get("risk_share", review.risk_share(report)),
        body_partial=BODY_PARTIAL if _has_body_partial() else None,
        can_return=coordinator and submitted and report.times_returned < 1,
        can_approve=coordinator and submitted,
        can_acknowledge=national and application.status == ApplicationStatus.FORWARDED,
        return_form=return_form or ReturnForm(formdata=None),
        approve_form=approve_form or ApproveForm(formdata=None),
        acknowledge_form=acknowledge_form or ActionForm(formdata=None),
    )
    return render_template("reports/review_report.html", **context)


def _review_url(report: FinalReport) -> str:
    return url_for("reports.review", report_id=report.id)


# --- the review page and its actions -------------------------------------------------------------------


@bp.get("/<int:report_id>/review", endpoint="review")
@login_required
def review_page(report_id: int):
    return _page(_report(report_id, review.can_review_page))


@bp.post("/<int:report_id>/return")
@login_required
def return_report(report_id: int):
    report = _report(report_id, review.is_coordinator)
    form = ReturnForm()
    if form.validate_on_submit():
        comments = {s: getattr(form, f"comment_{s}").data for s in REPORT_SECTIONS}
        try:
            with committed(form) as saved:
                review.return_report(report, comments, actor=current_user)
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        if saved:
            flash(_("The report is returned for correction. The organisation is told by e-mail."), "success")
            return redirect(_review_url(report))
        db.session.expire(report)
    return _page(report, return_form=form)


@bp.post("/<int:report_id>/approve")
@login_required
def approve(report_id: int):
    report = _report(report_id, review.is_coordinator)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            with committed(form) as saved:
                review.approve_report(
                    report,
                    actor=current_user,
                    reduced_amount=form.amount.data,
                    reduction_reason=form.reason.data,
                )
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        if saved:
            flash(
                _(
                    "The report is approved and forwarded to the national administrator. "
                    "The final payment can now be approved."
                ),
                "success",
            )
            return redirect(_review_url(report))
        db.session.expire(report)
    return _page(report, approve_form=form)


@bp.post("/<int:report_id>/acknowledge")
@login_required
def acknowledge(report_id: int):
    report = _report(report_id, lambda user, r: user.is_national_admin)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            with committed(form) as saved:
                review.acknowledge_report(report, actor=current_user)
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        if saved:
            flash(_("The report is acknowledged and the project is closed."), "success")
            return redirect(_review_url(report))
        db.session.expire(report)
        if report.acknowledged_at is not None:
            flash(_("This report is already acknowledged."), "info")
            return redirect(_review_url(report))
    return _page(report, acknowledge_form=form)


@bp.get("/<int:report_id>/report.pdf")
@login_required
def pdf(report_id: int):
    report = _report(report_id, review.can_read_pdf)
    if report.pdf_file_id is None:
        abort(404)
    data, filename = review.read_report_pdf(report, actor=current_user)
    db.session.commit()  # the staff read's audit event
    return download_response(data, filename)
