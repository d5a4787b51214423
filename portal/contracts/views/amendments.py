"""Contract amendment pages (issue 7): the organisation's representative requests a change of the dates
or the activities (never the amount or the goals: the form has no such fields); a coordinator of the
contract's municipality approves it (a numbered annex is produced) or refuses it with a reason; the
organisation's members see the decision and download the annex. Anyone else gets 404.

Every view: load or 404 → permission (404) → CSRF → one service call → commit → flash and redirect (PRG).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import TextArea

from portal.applications.forms.fields import DayField
from portal.calls.forms import _no_personal_code
from portal.contracts import amendments as services
from portal.contracts.models import Amendment, Contract
from portal.contracts.views import bp
from portal.contracts.workflow import roles_for
from portal.core import storage
from portal.core.access import get_or_404
from portal.core.enums import Role
from portal.core.forms import committed
from portal.core.uploads import download_response
from portal.extensions import db
from portal.programmes.forms import _clean

AREA = "contracts"
APPROVE, REFUSE = "approve", "refuse"


class AmendmentRequestForm(FlaskForm):
    """What the representative may change: the dates and the activities, with a reason (QUALITY C3:
    nothing else posted is read)."""

    new_start_date = DayField(
        _l("New start date"), description=_l("Leave empty to keep the start date. For example 31.03.2026.")
    )
    new_end_date = DayField(
        _l("New end date"), description=_l("Leave empty to keep the end date. For example 31.03.2026.")
    )
    activities_change = StringField(
        _l("Changes to the activities"),
        filters=[_clean],
        widget=TextArea(),
        description=_l("Which activities change and how. Leave empty if only the dates change."),
        validators=[Length(max=services.TEXT_MAX), _no_personal_code],
    )
    reason = StringField(
        _l("Reason for the change"),
        filters=[_clean],
        widget=TextArea(),
        description=_l("Why the change is needed. The municipality reads it and it is written in the annex."),
        validators=[Length(max=services.TEXT_MAX), _no_personal_code],
    )


class AmendmentDecisionForm(FlaskForm):
    """The coordinator's decision: the button pressed (approve or refuse) and the reason for a refusal."""

    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice(APPROVE, _l("Approve")), SelectChoice(REFUSE, _l("Refuse"))],
        validators=[InputRequired(message=_l("Choose to approve or to refuse the change."))],
        validate_choice=True,
    )
    reason = StringField(
        _l("Reason for the refusal"),
        filters=[_clean],
        widget=TextArea(),
        description=_l("Needed to refuse. The organisation's members receive it by e-mail."),
        validators=[Length(max=services.TEXT_MAX), _no_personal_code],
    )


# --- permissions ------------------------------------------------------------------------------------------


def _is_representative(user, contract: Contract) -> bool:
    return "representative" in roles_for(contract, user)


def _is_coordinator(user, contract: Contract) -> bool:
    return user.has_role(Role.COORDINATOR, municipality_id=contract.municipality_id)


def _is_member(user, contract: Contract) -> bool:
    return user.has_role(Role.APPLICANT, organisation_id=contract.application.organisation_id)


def _may_see(user, amendment: Amendment) -> bool:
    return _is_coordinator(user, amendment.contract) or _is_member(user, amendment.contract)


@bp.app_template_global("amendment_request_blocker")
def amendment_request_blocker(contract: Contract):
    """Why the contract's representative cannot request a change now (a message), or None."""
    return services.request_blocker(contract)


# --- pages ----------------------------------------------------------------------------------------------


@bp.route("/<int:contract_id>/amendments/new", methods=["GET", "POST"])
@login_required
def request_amendment(contract_id: int):
    contract = get_or_404(Contract, contract_id, lambda u, c: _is_representative(u, c), area=AREA)
    form = AmendmentRequestForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            amendment = services.request_amendment(
                contract,
                actor=current_user,
                new_start_date=form.new_start_date.data,
                new_end_date=form.new_end_date.data,
                activities_change=form.activities_change.data,
                reason=form.reason.data,
            )
        if saved:
            flash(
                _("The change is requested. The municipality decides on it and you are told by e-mail."),
                "success",
            )
            return redirect(url_for("contracts.decide_amendment", amendment_id=amendment.id))
    return render_template(
        "contracts/amendment_request.html",
        contract=contract,
        form=form,
        blocker=services.request_blocker(contract),
    )


@bp.route("/amendments/<int:amendment_id>", methods=["GET", "POST"])
@login_required
def decide_amendment(amendment_id: int):
    amendment = get_or_404(Amendment, amendment_id, _may_see, area=AREA)
    contract = amendment.contract
    coordinator = _is_coordinator(current_user, contract)
    form = AmendmentDecisionForm() if coordinator and amendment.status == "requested" else None
    if form is not None and form.validate_on_submit():
        with committed(form) as saved:
            if form.decision.data == APPROVE:
                services.approve_amendment(amendment, actor=current_user)
            else:
                services.refuse_amendment(amendment, form.reason.data, actor=current_user)
        if saved:
            if form.decision.data == APPROVE:
                message = _("The change is approved: the annex No. %(n)s is ready.", n=amendment.number)
            else:
                message = _("The change is refused. The organisation is told the reason by e-mail.")
            flash(message, "success")
            return redirect(url_for("contracts.decide_amendment", amendment_id=amendment.id))
    return render_template(
        "contracts/amendment_decide.html", amendment=amendment, contract=contract, form=form
    )


@bp.route("/amendments/<int:amendment_id>/annex.pdf")
@login_required
def amendment_pdf(amendment_id: int):
    amendment = get_or_404(
        Amendment, amendment_id, lambda u, a: _may_see(u, a) and a.pdf_file_id is not None, area=AREA
    )
    stored = db.session.get(storage.StoredFile, amendment.pdf_file_id)
    return download_response(storage.read_file(stored), stored.filename, "application/pdf")
