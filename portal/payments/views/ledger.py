"""The ledger page (issue 7): where the money stands (definitions in `portal.payments.ledger`).

A national administrator chooses a programme and a round and reads the rounds, the municipalities of
the round and, for one municipality, its calls. A coordinator reads the calls of the municipalities they
coordinate. Anyone else gets 404. `?format=csv` exports the per-call rows shown (or chosen).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.access import require
from portal.core.i18n import current_language
from portal.core.timeutil import riga_today
from portal.extensions import db
from portal.payments import ledger
from portal.payments.views import bp
from portal.programmes import permissions as programme_permissions
from portal.programmes.models import Programme

AREA = "payments"


def measure_labels() -> dict[str, str]:
    """The measures' column names (translated), in ledger.MEASURES order."""
    return {
        "awarded": _("Awarded, not yet contracted"),
        "contracted": _("Contracted"),
        "paid": _("Paid"),
        "reduced": _("Reduced"),
        "to_be_paid": _("To be paid"),
        "recovered": _("Recovered"),
        "claimed": _("Recovery claimed"),
    }


def _csv_response(rows: list[ledger.CallLedger]) -> Response:
    headers = [_("Code"), _("Municipality"), _("Round"), _("Call"), _("Projects")]
    headers += list(measure_labels().values())
    return Response(
        ledger.to_csv(rows, headers, current_language()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="ledger-{riga_today().isoformat()}.csv"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def _chosen(items, key: str, attribute: str):
    """The item whose `attribute` is `?key=` (404 if it names none), else the first, else None."""
    chosen = request.args.get(key, type=int)
    if chosen is None:
        return items[0] if items else None
    found = next((item for item in items if getattr(item, attribute) == chosen), None)
    if found is None:
        abort(404)
    return found


@bp.route("/ledger", endpoint="ledger")
@login_required
def ledger_page():
    if programme_permissions.is_national_admin(current_user):
        return _national()
    municipality_ids = current_user.coordinated_municipality_ids()
    require(bool(municipality_ids), area=AREA)
    rows = ledger.ledger_by_call(municipality_ids=municipality_ids)
    if request.args.get("format") == "csv":
        return _csv_response(rows)
    return render_template(
        "payments/ledger.html",
        national=False,
        call_rows=rows,
        call_sum=ledger.add_up(rows),
        labels=measure_labels(),
        measures=ledger.MEASURES,
    )


def _national():
    programmes = list(
        db.session.scalars(sa.select(Programme).order_by(Programme.period_start.desc(), Programme.id.desc()))
    )
    programme = _chosen(programmes, "programme", "id")
    round_rows, totals, rnd, municipality_rows, municipality, call_rows = [], None, None, [], None, []
    if programme is not None:
        round_rows = ledger.ledger_by_round(programme.id)
        totals = ledger.programme_totals(programme.id)
        rnd = _chosen(round_rows, "round", "round_id")
    if rnd is not None:
        municipality_rows = ledger.ledger_by_municipality(rnd.round_id)
        if request.args.get("municipality") is not None:
            municipality = _chosen(municipality_rows, "municipality", "municipality_id")
            call_rows = ledger.ledger_by_call({municipality.municipality_id}, round_id=rnd.round_id)
    if request.args.get("format") == "csv":
        if rnd is None:
            abort(404)
        ids = {municipality.municipality_id} if municipality else None
        return _csv_response(call_rows or ledger.ledger_by_call(ids, round_id=rnd.round_id))
    return render_template(
        "payments/ledger.html",
        national=True,
        programmes=programmes,
        programme=programme,
        round_rows=round_rows,
        totals=totals,
        rnd=rnd,
        municipality_rows=municipality_rows,
        municipality_sum=ledger.add_up(municipality_rows),
        municipality=municipality,
        call_rows=call_rows,
        call_sum=ledger.add_up(call_rows),
        labels=measure_labels(),
        measures=ledger.MEASURES,
    )
