"""Payment orders (issue 7): a municipality's approved, unpaid payments exported as an ISO 20022 credit
transfer file (pain.001.001.03) or a CSV list, the past exports with their files, and marking an
export's payments paid. Only the municipality's coordinators: everyone else gets 404, also for another
municipality's export.

View pipeline: municipality or export → permission (404) → CSRF → one service call (portal.payments
.orders) → commit → the file as a download, or flash and redirect back to the orders page (PRG).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField
from wtforms.validators import InputRequired

from portal.accounts.models import User
from portal.core.access import get_or_404
from portal.core.enums import Role
from portal.core.storage import read_file
from portal.core.timeutil import to_riga, utcnow
from portal.core.uploads import download_response
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.payments import accounts, orders
from portal.payments.models import Payment, PaymentExport, PaymentStatus
from portal.payments.views import bp
from portal.payments.views.account import AREA, chosen_municipality

FORMATS = {
    "pain001": (orders.export_pain001, "xml", "application/xml"),
    "csv": (orders.export_csv, "csv", "text/csv; charset=utf-8"),
}


class ExportForm(FlaskForm):
    """The export button: the CSRF token; the chosen payments and the format are read from the request
    and checked by the service (only the municipality's approved, unpaid payments)."""


class MarkPaidForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[InputRequired(_l("Enter the date the bank paid."))])


def _can_see_export(user, export: PaymentExport) -> bool:
    return user.has_role(Role.COORDINATOR, municipality_id=export.municipality_id)


def _orders_page(municipality_id: int):
    return redirect(url_for("payments.orders", municipality=municipality_id))


def _export_filename(export: PaymentExport) -> str:
    return f"{export.message_id}.{FORMATS[export.format][1]}"


def _past_exports(municipality_id: int) -> list[tuple[PaymentExport, str | None, int]]:
    """The municipality's exports, newest first: (export, who made it, how many payments still unpaid)."""
    unpaid = (
        sa.select(Payment.export_id, sa.func.count(Payment.id).label("n"))
        .where(Payment.status == PaymentStatus.APPROVED, Payment.export_id.is_not(None))
        .group_by(Payment.export_id)
        .subquery()
    )
    query = (
        sa.select(PaymentExport, User.full_name, sa.func.coalesce(unpaid.c.n, 0))
        .outerjoin(User, User.id == PaymentExport.created_by_id)
        .outerjoin(unpaid, unpaid.c.export_id == PaymentExport.id)
        .where(PaymentExport.municipality_id == municipality_id)
        .order_by(PaymentExport.created_at.desc(), PaymentExport.id.desc())
    )
    return [tuple(row) for row in db.session.execute(query)]


# The endpoint is `payments.orders`; the function is named apart from the service module `orders`.
@bp.get("/orders", endpoint="orders")
@login_required
def orders_page():
    municipality, choices = chosen_municipality()
    if municipality is None:
        return render_template("payments/orders.html", municipality=None, choices=choices)
    payments = orders.approved_unpaid(municipality.id)
    exports = _past_exports(municipality.id)
    return render_template(
        "payments/orders.html",
        municipality=municipality,
        choices=[],
        payments=payments,
        creditor_of=orders.creditor_of,
        total=sum((p.amount for p in payments), Decimal("0.00")),
        account=accounts.paying_account(municipality.id),
        exports=exports,
        exported={made.id: made for made, _author, _unpaid in exports},
        export_form=ExportForm(),
        paid_form=MarkPaidForm(formdata=None, data={"paid_on": to_riga(utcnow()).date()}),
    )


@bp.post("/export")
@login_required
def export():
    municipality_id = request.args.get("municipality", type=int)
    if municipality_id is None or municipality_id not in current_user.coordinated_municipality_ids():
        abort(404)
    if not ExportForm().validate_on_submit():
        abort(400)
    fmt = request.form.get("format")
    if fmt not in FORMATS:
        abort(400)
    service, _ext, content_type = FORMATS[fmt]
    try:
        payment_ids = [int(value) for value in request.form.getlist("payment")]
    except ValueError:
        abort(400)
    try:
        made = service(municipality_id, payment_ids, actor=current_user)
        data = read_file(made.file)
        filename = _export_filename(made)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _orders_page(municipality_id)
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    except (IntegrityError, DataError, StaleDataError):
        db.session.rollback()
        flash(
            _("Someone else changed these payments at the same time. Check the list and export again."),
            "warning",
        )
        return _orders_page(municipality_id)
    return download_response(data, filename, content_type)


@bp.get("/exports/<int:export_id>/file")
@login_required
def export_file(export_id: int):
    made = get_or_404(PaymentExport, export_id, _can_see_export, area=AREA)
    return download_response(read_file(made.file), _export_filename(made), FORMATS[made.format][2])


@bp.post("/exports/<int:export_id>/paid")
@login_required
def export_paid(export_id: int):
    made = get_or_404(PaymentExport, export_id, _can_see_export, area=AREA)
    form = MarkPaidForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        for error in form.paid_on.errors:
            flash(error, "danger")
        return _orders_page(made.municipality_id)
    paid_on: date = form.paid_on.data
    try:
        marked = orders.mark_exported_paid(made, paid_on=paid_on, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    except (IntegrityError, DataError, StaleDataError):
        db.session.rollback()
        flash(_("These payments were already marked paid by someone else."), "warning")
    else:
        flash(
            ngettext(
                "%(num)d payment of the export is marked paid on %(date)s.",
                "%(num)d payments of the export are marked paid on %(date)s.",
                len(marked),
                date=format_date(paid_on),
            ),
            "success",
        )
    return _orders_page(made.municipality_id)
