"""The national audit export (issue 8): a page that says what the workbook holds, and the workbook itself
(portal/reports/export.py). National administrator only; anyone else gets 404. Every download is written
to the audit trail (QUALITY F5), committed before the file is sent."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from portal.core import audit
from portal.core.access import require
from portal.core.i18n import current_language
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db
from portal.programmes.models import Programme, Round
from portal.reports import export as audit_export
from portal.reports.views import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_national_admin() -> None:
    require(current_user.is_national_admin, area="reports")


def _scope() -> tuple[Programme | None, Round | None]:
    """The programme and round asked for (`?programme=&round=`); an unknown one is 404."""
    programme = rnd = None
    programme_id = request.args.get("programme", type=int)
    round_id = request.args.get("round", type=int)
    if programme_id is not None:
        programme = db.session.get(Programme, programme_id)
        if programme is None:
            abort(404)
    if round_id is not None:
        rnd = db.session.get(Round, round_id)
        if rnd is None or (programme is not None and rnd.programme_id != programme.id):
            abort(404)
    return programme, rnd


@bp.route("/export")
@login_required
def export():
    _require_national_admin()
    programme, rnd = _scope()
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.period_start.desc())).all()
    rounds = db.session.scalars(
        sa.select(Round).join(Programme).order_by(Programme.period_start.desc(), Round.number.desc())
    ).all()
    return render_template(
        "reports/export.html",
        programmes=programmes,
        rounds=rounds,
        chosen_programme=programme,
        chosen_round=rnd,
        language=current_language(),
    )


@bp.route("/export.xlsx")
@login_required
def export_xlsx():
    _require_national_admin()
    programme, rnd = _scope()
    programme_id = programme.id if programme else None
    round_id = rnd.id if rnd else None
    body = audit_export.audit_workbook(programme_id=programme_id, round_id=round_id)
    audit.record(
        "export.audit_workbook",
        actor=current_user,
        object_type="audit_workbook",
        after={"programme_id": programme_id, "round_id": round_id, "bytes": len(body)},
    )
    db.session.commit()
    parts = ["audits"]
    if programme is not None:
        parts.append(
            "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-.") else "-" for ch in programme.code)
        )
    if rnd is not None:
        parts.append(f"round-{rnd.number}")
    parts.append(to_riga(utcnow()).date().isoformat())
    return Response(
        body,
        mimetype=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{"-".join(parts)}.xlsx"',
            "Cache-Control": "no-store",
        },
    )
