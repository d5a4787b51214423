"""Payment pages (issue 7): the coordinator's list of the municipality's payments, approving a payment,
marking it paid with the date and the bank's reference, reducing the final payment, and recovery claims
(claim, recovered, written off). The contract page shows the contract's payments through the partial
templates/payments/_contract_payments.html.

Every view: load or 404 → permission (404 for what is not the user's) → CSRF and form → one service
call → commit → flash and redirect (STYLE "Service layer"). A double click or two coordinators at once
never give a 500: the loser is told calmly that the payment is already approved or recorded (QUALITY H3).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.applications.models import Application
from portal.calls.models import Call
from portal.contracts.models import Contract, ContractStatus
from portal.core.access import get_or_404, require
from portal.core.forms import ActionForm, committed
from portal.core.i18n import local_date
from portal.core.privacy import no_personal_code
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.payments import recoveries, services
from portal.payments.models import Payment, PaymentKind, PaymentStatus, Recovery
from portal.payments.recoveries import RecoveryStatus, is_coordinator
from portal.payments.views import bp
from portal.programmes.forms import LocaleDecimalField, _clean

AREA = "payments"
LOST_RACE = (IntegrityError, StaleDataError)


# --- forms ------------------------------------------------------------------------------------------


class MarkPaidForm(FlaskForm):
    paid_on = DateField(
        _l("Payment date"), validators=[InputRequired(message=_l("Give the date the bank paid."))]
    )
    bank_reference = StringField(
        _l("Bank reference"),
        filters=[_clean],
        validators=[DataRequired(message=_l("Give the bank's reference of the payment.")), Length(max=100)],
        description=_l("As on the bank statement, e.g. the transaction number."),
    )


class ReduceForm(FlaskForm):
    amount = LocaleDecimalField(
        _l("Reduced amount (EUR)"), validators=[InputRequired(message=_l("Give the reduced amount."))]
    )
    reason = TextAreaField(
        _l("Reason for the reduction"),
        filters=[_clean],
        validators=[
            DataRequired(message=_l("Give the reason for the reduction.")),
            Length(max=4000),
            no_personal_code,
        ],
    )


class RecoveryForm(FlaskForm):
    amount = LocaleDecimalField(
        _l("Amount to recover (EUR)"), validators=[InputRequired(message=_l("Give the amount to recover."))]
    )
    reason = TextAreaField(
        _l("Reason for the recovery"),
        filters=[_clean],
        validators=[
            DataRequired(message=_l("Give the reason for the recovery.")),
            Length(max=4000),
            no_personal_code,
        ],
    )


class RecoveredForm(FlaskForm):
    recovered_on = DateField(
        _l("Date the money came back"),
        validators=[InputRequired(message=_l("Give the date the money came back."))],
    )


class WriteOffForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for writing the claim off"),
        filters=[_clean],
        validators=[
            DataRequired(message=_l("Give the reason for writing the claim off.")),
            Length(max=4000),
            no_personal_code,
        ],
    )


# --- loading, permissions, where to go back ----------------------------------------------------------


def _payment(payment_id: int) -> Payment:
    return get_or_404(Payment, payment_id, lambda user, p: is_coordinator(user, p.contract), area=AREA)


def _recovery(recovery_id: int) -> Recovery:
    return get_or_404(Recovery, recovery_id, lambda user, r: is_coordinator(user, r.contract), area=AREA)


def _contract_page(contract: Contract) -> str:
    return url_for("contracts.for_application", application_id=contract.application_id)


def _back(contract: Contract) -> str:
    """The payments list (with its filters) when the button was pressed there, else the contract page."""
    referrer = urlsplit(request.referrer or "")
    listing = url_for("payments.list_payments")
    if referrer.netloc == request.host and referrer.path == listing:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return _contract_page(contract)


def _today():
    return to_riga(utcnow()).date()


def _approvable(
    payment_kind: str, payment_status: str, contract_status: str, application_status: str
) -> bool:
    if payment_status != PaymentStatus.PLANNED:
        return False
    if payment_kind == PaymentKind.ADVANCE:
        return contract_status == ContractStatus.SIGNED
    return application_status in services.REPORT_APPROVED


@bp.app_template_filter("recovery_status")
def recovery_status(value) -> str:
    """A recovery claim's translated status (claimed, recovered, written off)."""
    return str(RecoveryStatus(value).label)


@bp.app_template_global("payments_panel")
def payments_panel(contract: Contract, payments: dict) -> dict:
    """What the contract page's payments partial shows: the actions allowed now and the recoveries."""
    coordinator = is_coordinator(current_user, contract)
    status = contract.application.status
    return {
        "coordinator": coordinator,
        "approvable": {
            kind: coordinator and _approvable(p.kind, p.status, contract.status, status)
            for kind, p in payments.items()
        },
        "recoveries": recoveries.recoveries_of(contract),
        "claimable": recoveries.claimable(contract) if coordinator else None,
    }


# --- the list --------------------------------------------------------------------------------------


def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


@bp.get("/")
@login_required
def list_payments():
    municipality_ids = current_user.coordinated_municipality_ids()
    require(bool(municipality_ids), area=AREA)
    calls = db.session.execute(
        sa.select(Call.id, Call.title)
        .where(
            Call.municipality_id.in_(municipality_ids),
            sa.exists()
            .where(Application.call_id == Call.id)
            .where(Contract.application_id == Application.id),
        )
        .order_by(Call.id.desc())
    ).all()
    call_id = request.args.get("call", type=int)
    call_id = call_id if call_id in {c.id for c in calls} else None
    status = _choice("status", {s.value for s in PaymentStatus})
    kind = _choice("kind", {k.value for k in PaymentKind})

    scope = [Contract.municipality_id.in_(municipality_ids)]
    if call_id is not None:
        scope.append(Application.call_id == call_id)
    if kind is not None:
        scope.append(Payment.kind == kind)
    rows_query = (
        sa.select(
            Payment,
            Contract.number,
            Contract.status.label("contract_status"),
            Contract.application_id,
            Application.status.label("application_status"),
            Application.title,
            Organisation.name.label("organisation"),
        )
        .join(Contract, Contract.id == Payment.contract_id)
        .join(Application, Application.id == Contract.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(*scope)
        .order_by(Contract.number, Payment.kind)
    )
    if status is not None:
        rows_query = rows_query.where(Payment.status == status)
    rows = [
        {
            "payment": r.Payment,
            "number": r.number,
            "application_id": r.application_id,
            "title": r.title,
            "organisation": r.organisation,
            "approvable": _approvable(
                r.Payment.kind, r.Payment.status, r.contract_status, r.application_status
            ),
        }
        for r in db.session.execute(rows_query)
    ]
    # Totals per status over the call and kind chosen (whatever the status filter), counted by the database.
    totals_rows = db.session.execute(
        sa.select(Payment.status, sa.func.count(Payment.id), sa.func.coalesce(sa.func.sum(Payment.amount), 0))
        .join(Contract, Contract.id == Payment.contract_id)
        .join(Application, Application.id == Contract.application_id)
        .where(*scope)
        .group_by(Payment.status)
    ).all()
    by_status = {s: (c, t) for s, c, t in totals_rows}
    totals = [(s, *by_status.get(s.value, (0, 0))) for s in PaymentStatus]
    return render_template(
        "payments/list_payments.html",
        rows=rows,
        totals=totals,
        calls=calls,
        filters={"call": call_id, "status": status, "kind": kind},
        statuses=list(PaymentStatus),
        kinds=list(PaymentKind),
        action_form=ActionForm(formdata=None),
    )


# --- approving, marking paid, reducing --------------------------------------------------------------


def _settled_message(payment: Payment) -> str | None:
    """After a refusal or a lost race: say calmly what someone else (or an earlier click) already did."""
    db.session.expire(payment)
    if payment.status == PaymentStatus.PAID:
        return _("This payment is already recorded as paid on %(date)s.", date=local_date(payment.paid_on))
    if payment.status == PaymentStatus.APPROVED:
        return _("This payment is already approved.")
    return None


@bp.post("/<int:payment_id>/approve")
@login_required
def approve(payment_id: int):
    payment = _payment(payment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    contract = payment.contract
    try:
        services.approve_payment(payment, actor=current_user)
        db.session.commit()
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    except (WorkflowError, *LOST_RACE) as exc:
        db.session.rollback()
        settled = _settled_message(payment)
        if settled:
            flash(settled, "info")
        else:
            flash(
                exc.message
                if isinstance(exc, WorkflowError)
                else _("The payment was changed by someone else. Check it and try again."),
                "danger",
            )
    else:
        flash(
            _(
                "%(kind)s of the contract %(number)s is approved. Mark it paid once the bank has paid it.",
                kind=PaymentKind(payment.kind).label,
                number=contract.number,
            ),
            "success",
        )
    return redirect(_back(contract))


@bp.route("/<int:payment_id>/paid", methods=["GET", "POST"])
@login_required
def mark_paid(payment_id: int):
    payment = _payment(payment_id)
    contract = payment.contract
    if payment.status != PaymentStatus.APPROVED:
        flash(_settled_message(payment) or _("Approve the payment before marking it paid."), "info")
        return redirect(_back(contract))
    if request.method == "GET":
        form = MarkPaidForm(formdata=None, data={"paid_on": _today()})
    else:
        form = MarkPaidForm()
        if form.validate_on_submit():
            with committed(form) as saved:
                services.mark_paid(
                    payment,
                    paid_on=form.paid_on.data,
                    bank_reference=form.bank_reference.data,
                    actor=current_user,
                )
            if saved:
                flash(_("The payment is recorded as paid."), "success")
                return redirect(_contract_page(contract))
            settled = _settled_message(payment)
            if settled and payment.status == PaymentStatus.PAID:
                flash(settled, "info")
                return redirect(_contract_page(contract))
    return render_template("payments/payment_mark_paid.html", payment=payment, contract=contract, form=form)


@bp.route("/<int:payment_id>/reduce", methods=["GET", "POST"])
@login_required
def reduce_final(payment_id: int):
    payment = _payment(payment_id)
    contract = payment.contract
    require(payment.kind == PaymentKind.FINAL, area=AREA)
    if payment.status != PaymentStatus.PLANNED:
        flash(_("Only a planned final payment can be reduced."), "info")
        return redirect(_contract_page(contract))
    if request.method == "GET":
        form = ReduceForm(formdata=None, data={"amount": payment.amount, "reason": payment.reduction_reason})
    else:
        form = ReduceForm()
        if form.validate_on_submit():
            with committed(form) as saved:
                services.reduce_final_payment(payment, form.amount.data, form.reason.data, actor=current_user)
            if saved:
                flash(_("The final payment is reduced."), "success")
                return redirect(_contract_page(contract))
    return render_template("payments/payment_reduce.html", payment=payment, contract=contract, form=form)


# --- recoveries ------------------------------------------------------------------------------------


@bp.route("/contracts/<int:contract_id>/recoveries/new", methods=["GET", "POST"])
@login_required
def claim_recovery(contract_id: int):
    contract = get_or_404(Contract, contract_id, is_coordinator, area=AREA)
    form = RecoveryForm(formdata=None) if request.method == "GET" else RecoveryForm()
    if request.method == "POST" and form.validate_on_submit():
        with committed(form) as saved:
            recoveries.claim_recovery(contract, form.amount.data, form.reason.data, actor=current_user)
        if saved:
            flash(_("The recovery is claimed. The organisation's members are told by e-mail."), "success")
            return redirect(_contract_page(contract))
    return render_template(
        "payments/recovery_claim.html",
        contract=contract,
        form=form,
        paid=recoveries.paid_on_contract(contract.id),
        claimable=recoveries.claimable(contract),
    )


def _recovery_step(recovery_id: int, form_class, template: str, action, success: str, data=None):
    recovery = _recovery(recovery_id)
    contract = recovery.contract
    if recovery.status != RecoveryStatus.CLAIMED:
        flash(
            _("This claim is already recorded as %(status)s.", status=RecoveryStatus(recovery.status).label),
            "info",
        )
        return redirect(_contract_page(contract))
    form = form_class(formdata=None, data=data) if request.method == "GET" else form_class()
    if request.method == "POST" and form.validate_on_submit():
        with committed(form) as saved:
            action(recovery, form)
        if saved:
            flash(success, "success")
            return redirect(_contract_page(contract))
        db.session.expire(recovery)
        if recovery.status != RecoveryStatus.CLAIMED:
            flash(
                _(
                    "This claim is already recorded as %(status)s.",
                    status=RecoveryStatus(recovery.status).label,
                ),
                "info",
            )
            return redirect(_contract_page(contract))
    return render_template(template, recovery=recovery, contract=contract, form=form)


@bp.route("/recoveries/<int:recovery_id>/recovered", methods=["GET", "POST"])
@login_required
def recovery_recovered(recovery_id: int):
    return _recovery_step(
        recovery_id,
        RecoveredForm,
        "payments/recovery_recovered.html",
        lambda r, form: recoveries.mark_recovered(r, recovered_on=form.recovered_on.data, actor=current_user),
        _("The claim is recorded as recovered."),
        data={"recovered_on": _today()},
    )


@bp.route("/recoveries/<int:recovery_id>/write-off", methods=["GET", "POST"])
@login_required
def recovery_write_off(recovery_id: int):
    return _recovery_step(
        recovery_id,
        WriteOffForm,
        "payments/recovery_write_off.html",
        lambda r, form: recoveries.write_off(r, form.reason.data, actor=current_user),
        _("The claim is written off."),
    )
