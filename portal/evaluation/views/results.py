"""Evaluation pages: consolidation, the ranking and proposal, the council's decision, the evaluation
protocol, the reserve list and cancelling a funded application's funding (issue 5).

Every view: load or 404 → permission (404 for what is not the user's) → validate → one service call →
commit → flash and redirect (STYLE "Service layer").
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, ApplicationStatus
from portal.calls.models import Call
from portal.calls.permissions import can_manage_call
from portal.calls.workflow import CallStatus
from portal.core import pdf, storage, uploads
from portal.core.access import get_or_404
from portal.core.forms import committed
from portal.core.i18n import current_language, format_number
from portal.core.pdf import PdfError
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.evaluation import permissions, queries
from portal.evaluation.forms.results import ActionForm, CancelFundingForm, DecisionForm
from portal.evaluation.models import Decision, Proposal
from portal.evaluation.services import decisions
from portal.evaluation.services.scoring import quality_criteria
from portal.evaluation.views import bp
from portal.extensions import db

log = logging.getLogger(__name__)


# --- helpers ---------------------------------------------------------------------------------------


def _call(call_id: int, allowed) -> Call:
    return get_or_404(Call, call_id, allowed, area="evaluation")


def _decision(call: Call) -> Decision | None:
    return db.session.scalar(sa.select(Decision).where(Decision.call_id == call.id))


def _results_url(call: Call, anchor: str | None = None) -> str:
    return url_for("evaluation.results", call_id=call.id, _anchor=anchor)


_ASK = object()  # "not known yet: look it up"


def offer_blocker(call: Call, *, candidate=_ASK, funded: int | None = None, capacity: int | None = None):
    """Say why the reserve list offers nobody the place now (the reasons `offer_next_reserve` has),
    or None when the next reserve application would be offered the funding. The caller may pass what
    it already knows (the next reserve application, how many are funded, the capacity)."""
    if call.round.status == "closed" and call.round.unused_policy == "carry_over":
        return _(
            "The programme round is closed and its unused quota was carried over to the next round, "
            "so the reserve list is no longer used."
        )
    if (decisions.next_reserve(call) if candidate is _ASK else candidate) is None:
        return _("The reserve list is empty.")
    funded = decisions.funded_in(call) if funded is None else funded
    capacity = decisions.funding_capacity(call) if capacity is None else capacity
    if funded >= capacity:
        return _("There is no room under the municipality's quota: every place is taken.")
    return None


def _flash_offer(offered: Application | None, call: Call) -> None:
    if offered is not None:
        flash(
            _(
                "“%(title)s” (%(organisation)s) from the reserve list is offered the funding; "
                "the applicant is told by e-mail.",
                title=offered.title or offered.id,
                organisation=offered.organisation.name,
            ),
            "success",
        )
    else:
        why = offer_blocker(call) or _("The reserve list is empty.")
        flash(_("Nobody was offered the place: %(why)s", why=why), "warning")


# --- consolidation and the ranking -----------------------------------------------------------------


@bp.route("/calls/<int:call_id>/consolidate", methods=["POST"])
@login_required
def consolidate(call_id: int):
    call = _call(call_id, permissions.can_consolidate)
    if not ActionForm().validate_on_submit():
        abort(400)
    problems = decisions.consolidation_problems(call)
    if problems:
        flash(_("The scores cannot be consolidated yet:"), "danger")
        for problem in problems:
            flash(problem, "danger")
        return redirect(_results_url(call))
    try:
        decisions.consolidate_call(call, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:  # a sheet reopened between the check and the consolidation
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(_results_url(call))
    flash(
        _("The scores are consolidated. Check the ranking and the proposal, then record the decision."),
        "success",
    )
    return redirect(_results_url(call, "ranking"))


# A funded application keeps a link to its contract, also after the contract was terminated.
CONTRACT_LINKED = frozenset(FUNDED_STATUSES | {ApplicationStatus.TERMINATED})


def _ranking_cells(rows, criteria, titles, max_score) -> dict[int, tuple[str, list[tuple[str, str, bool]]]]:
    """Each result's average "x of max" and its averages per criterion as (title, formatted average,
    to discuss): formatted here once, not by a filter and a translation call per cell of a ranking
    that may have hundreds of rows."""
    language = current_language()
    of_max = format_number(max_score, language)
    cells = {}
    for r in rows:
        averages, disagreements = r.criterion_averages, r.disagreements
        cells[r.application_id] = (
            _("%(average)s of %(max)s", average=format_number(r.average, language), max=of_max),
            [
                (titles[c.code], format_number(averages.get(c.code), language), c.code in disagreements)
                for c in criteria
            ],
        )
    return cells


@bp.route("/calls/<int:call_id>/results", methods=["GET"])
@login_required
def results(call_id: int):
    call = _call(call_id, permissions.can_see_results)
    rows = queries.results(call.id, ranking_only=True)
    criteria = quality_criteria(call)
    titles = {c.code: c.title(current_language()) for c in criteria}
    max_score = decisions.max_score(call)
    decision = _decision(call)
    evaluating = call.status == CallStatus.EVALUATION
    manage = can_manage_call(current_user, call)
    problems = decisions.consolidation_problems(call) if evaluating and manage else []
    capacity = decisions.funding_capacity(call)
    can_offer = permissions.can_offer_reserve(current_user, call)
    funded_now = decisions.funded_in(call) if decision is not None else None
    candidate = decisions.next_reserve(call) if can_offer else None
    blocker = (
        offer_blocker(call, candidate=candidate, funded=funded_now, capacity=capacity) if can_offer else None
    )
    return render_template(
        "evaluation/results.html",
        call=call,
        results=rows,
        flags={r.application_id: ", ".join(titles.get(code, code) for code in r.disagreements) for r in rows},
        cells=_ranking_cells(rows, criteria, titles, max_score),
        proposal_labels={p.value: str(p.label) for p in Proposal},
        contract_statuses=CONTRACT_LINKED,
        max_score=max_score,
        threshold=max_score * call.programme.pass_share / 100,
        decision=decision,
        evaluating=evaluating,
        manage=manage,
        problems=problems,
        capacity=capacity,
        proposed=sum(1 for r in rows if r.proposal == Proposal.FUNDED),
        decided_funded=sum(1 for r in rows if r.decision == Proposal.FUNDED),
        funded_now=funded_now,
        can_consolidate=permissions.can_consolidate(current_user, call),
        can_decide=permissions.can_record_decision(current_user, call) and bool(rows),
        can_offer=can_offer,
        next_reserve=candidate,
        offer_blocker=blocker,
        action_form=ActionForm(formdata=None),
    )


# --- the decision ----------------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/decision", methods=["GET", "POST"])
@login_required
def record_decision(call_id: int):
    call = _call(call_id, can_manage_call)
    if not permissions.can_record_decision(current_user, call):
        if _decision(call) is not None:
            flash(_("The council's decision on this call is already recorded."), "info")
        else:
            flash(_("The decision is recorded while the call is being evaluated."), "warning")
        return redirect(_results_url(call))
    rows = queries.results(call.id)
    if not rows:
        flash(
            _("Consolidate the scores first: the decision follows the ranking and the proposal."), "warning"
        )
        return redirect(_results_url(call))
    form = DecisionForm.for_results(rows)
    failed_pdf = False
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(uploads.max_upload_bytes() + 1)
        saved = None
        try:
            with committed(form) as saved:
                decisions.record_decision(
                    call,
                    number=form.number.data,
                    decided_on=form.decided_on.data,
                    file_data=data,
                    filename=upload.filename or "",
                    outcomes=form.outcomes(),
                    actor=current_user,
                )
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        except PdfError:
            db.session.rollback()
            log.exception("the evaluation protocol of call %s could not be rendered", call.id)
            failed_pdf = True
            saved = None
            form.form_errors.append(
                _("The evaluation protocol could not be generated just now, so nothing is saved. Try again.")
            )
        if saved:
            flash(
                _(
                    "The decision is recorded. Each applicant is e-mailed their result, and the evaluation "
                    "protocol is stored."
                ),
                "success",
            )
            return redirect(_results_url(call, "decision"))
    submitted = request.method == "POST"
    return render_template(
        "evaluation/record_decision.html",
        call=call,
        form=form,
        results=rows,
        capacity=decisions.funding_capacity(call),
        titles={c.code: c.title(current_language()) for c in quality_criteria(call)},
        max_score=decisions.max_score(call),
        choose_again=submitted and (bool(form.errors) or bool(form.form_errors) or failed_pdf),
    )


# --- the protocol and the decision's PDF -----------------------------------------------------------


@bp.route("/calls/<int:call_id>/protocol.pdf", methods=["GET"])
@login_required
def protocol(call_id: int):
    call = _call(call_id, permissions.can_see_results)
    decision = _decision(call)
    if decision is not None and decision.protocol_file_id is not None:
        stored = db.session.get(storage.StoredFile, decision.protocol_file_id)
        return uploads.download_response(storage.read_file(stored), stored.filename)
    # Before the decision the coordinators see the protocol as it stands, rendered now and not stored.
    if (
        decision is not None
        or call.status != CallStatus.EVALUATION
        or not can_manage_call(current_user, call)
    ):
        abort(404)
    try:
        with force_locale("lv"):
            data = pdf.render_pdf(
                "evaluation/pdf/protocol.html", locale="lv", **decisions.protocol_context(call, None)
            )
    except PdfError:
        log.exception("protocol preview of call %s failed", call.id)
        flash(_("The protocol could not be generated just now. Try again in a minute."), "danger")
        return redirect(_results_url(call))
    return uploads.download_response(data, f"vertesanas-protokols-{call.id}-projekts.pdf")


@bp.route("/calls/<int:call_id>/decision.pdf", methods=["GET"])
@login_required
def decision_file(call_id: int):
    call = _call(call_id, permissions.can_see_results)
    decision = _decision(call)
    if decision is None:
        abort(404)
    stored = db.session.get(storage.StoredFile, decision.file_id)
    return uploads.download_response(storage.read_file(stored), stored.filename, stored.content_type)


# --- the reserve list ------------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/offer-reserve", methods=["POST"])
@login_required
def offer_reserve(call_id: int):
    call = _call(call_id, permissions.can_offer_reserve)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        offered = decisions.offer_next_reserve(call, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(_results_url(call, "reserve"))
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    _flash_offer(offered, call)
    return redirect(_results_url(call, "reserve"))


def _can_cancel_funding(user, application: Application) -> bool:
    return can_manage_call(user, application.call) and application.status == ApplicationStatus.FUNDED


@bp.route("/applications/<int:application_id>/cancel-funding", methods=["GET", "POST"])
@login_required
def cancel_funding(application_id: int):
    application = get_or_404(
        Application, application_id, lambda user, a: can_manage_call(user, a.call), area="evaluation"
    )
    call = application.call
    if not _can_cancel_funding(current_user, application):
        flash(_("Only a funded application's funding can be cancelled."), "warning")
        return redirect(_results_url(call, "ranking"))
    form = CancelFundingForm()
    if form.validate_on_submit():
        offered = None
        try:
            with committed(form) as saved:
                offered = decisions.cancel_funding(application, form.reason.data, actor=current_user)
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        if saved:
            flash(
                _(
                    "The funding of “%(title)s” is cancelled; the applicant is told by e-mail.",
                    title=application.title or application.id,
                ),
                "success",
            )
            _flash_offer(offered, call)
            return redirect(_results_url(call, "ranking"))
    return render_template(
        "evaluation/cancel_funding.html",
        call=call,
        application=application,
        result=queries.result_for(application.id),
        next_reserve=decisions.next_reserve(call),
        form=form,
    )
