"""The report overviews (issue 8): the coordinators' list of their municipalities' reports and the
national administrator's list of every municipality's reports. Both show the status of each project's
report, overdue ones first (the due date has passed and the report is not (re)submitted), filtered by
municipality and status; one SQL statement for the list, whatever its length."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user, login_required

from portal.core.access import require
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.reports.services import review
from portal.reports.views import bp

AREA = "reports"


def _listing(municipality_ids: set[int] | None, *, national: bool):
    today = to_riga(utcnow()).date()
    choices = sa.select(Municipality.id, Municipality.name).order_by(Municipality.name)
    if municipality_ids is not None:
        choices = choices.where(Municipality.id.in_(municipality_ids))
    municipalities = db.session.execute(choices).all()
    municipality_id = request.args.get("municipality", type=int)
    municipality_id = municipality_id if municipality_id in {m.id for m in municipalities} else None
    status = request.args.get("status") or None
    status = status if status in {s.value for s in review.REPORT_STATUSES} else None
    scope = {municipality_id} if municipality_id is not None else municipality_ids
    rows = db.session.execute(review.overview_query(today, municipality_ids=scope, status=status)).all()
    return render_template(
        "reports/national_reports.html",
        rows=rows,
        national=national,
        municipalities=municipalities if (national or len(municipalities) > 1) else [],
        statuses=review.REPORT_STATUSES,
        filters={"municipality": municipality_id, "status": status},
        overdue_count=sum(1 for r in rows if r.overdue),
    )


@bp.get("/")
@login_required
def municipality_reports():
    municipality_ids = current_user.coordinated_municipality_ids()
    require(bool(municipality_ids), area=AREA)
    return _listing(municipality_ids, national=False)


@bp.get("/national")
@login_required
def national():
    require(current_user.is_national_admin, area=AREA)
    return _listing(None, national=True)
