"""The municipality's paying account (issue 7): the account its payment orders are paid from. Only the
municipality's coordinators see and change it; everyone else gets 404.

View pipeline: the municipality from ?municipality= (a chooser when the coordinator has several) →
permission (404) → CSRF and form → one service call → commit → flash and redirect (PRG).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from portal.accounts import reauth
from portal.core.access import require
from portal.core.forms import committed
from portal.core.workflow import TransitionDenied
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.payments import accounts
from portal.payments.views import bp

AREA = "payments"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PayingAccountForm(FlaskForm):
    """Exactly the account's fields; the municipality comes from the URL and is checked (QUALITY C3)."""

    name = StringField(
        _l("Account holder"),
        validators=[Length(max=accounts.NAME_MAX)],
        filters=[_strip],
        description=_l("As the bank knows it, for example Aizkraukles novada pašvaldība."),
    )
    iban = StringField(_l("Account number (IBAN)"), validators=[Length(max=50)], filters=[_strip])
    bic = StringField(
        _l("BIC (SWIFT code) of the bank"),
        validators=[Length(max=20)],
        filters=[_strip],
        description=_l("Leave it empty for a Latvian bank: it is filled in from the IBAN."),
    )
    reg_number = StringField(
        _l("Registration number (optional)"),
        validators=[Length(max=20)],
        filters=[_strip],
        description=_l("The municipality's 11-digit registration number, shown to the bank as the payer's."),
    )


def chosen_municipality():
    """The municipality the page is about: ?municipality=<id> if the user coordinates it (else 404), the
    only one they coordinate, or None when they coordinate several and must choose (then the second
    value is the list to choose from)."""
    ids = current_user.coordinated_municipality_ids()
    require(bool(ids), area=AREA)
    raw = request.args.get("municipality")
    if raw is None and len(ids) == 1:
        chosen_id = next(iter(ids))
    elif raw is None:
        choices = db.session.scalars(
            sa.select(Municipality).where(Municipality.id.in_(ids)).order_by(Municipality.name)
        ).all()
        return None, choices
    else:
        chosen_id = request.args.get("municipality", type=int)
        require(chosen_id in ids, area=AREA)
    municipality = db.session.get(Municipality, chosen_id)
    if municipality is None:
        abort(404)
    return municipality, []


@bp.route("/account", methods=["GET", "POST"])
@login_required
def paying_account():
    municipality, choices = chosen_municipality()
    if municipality is None:
        return render_template("payments/paying_account.html", municipality=None, choices=choices)
    account = accounts.paying_account(municipality.id)
    form = PayingAccountForm(obj=account)
    if not form.is_submitted():
        reauth.restore_form(form)  # what was typed before the confirmation step
    elif not reauth.is_recent(current_user):
        # QUALITY B6: the page shows, but saving needs the password and code from the last 5 minutes;
        # checked after the permission, so a foreign municipality is still a 404.
        return reauth.refuse()
    if form.validate_on_submit():
        try:
            with committed(form) as saved:
                accounts.save_paying_account(
                    municipality.id,
                    name=form.name.data,
                    iban=form.iban.data,
                    bic=form.bic.data,
                    reg_number=form.reg_number.data,
                    actor=current_user,
                )
        except TransitionDenied:
            db.session.rollback()
            abort(404)
        if saved:
            flash(_("The paying account is saved: payment orders are paid from it."), "success")
            return redirect(url_for("payments.orders", municipality=municipality.id))
    return render_template(
        "payments/paying_account.html", municipality=municipality, choices=[], form=form, account=account
    )
