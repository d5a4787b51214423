"""Evaluation pages: publishing a decided call's results on the public pages, feed and API, and
archiving the call afterwards (issue 6). Both are one button on the evaluation results page.

Every view: load or 404 → permission (404 for what is not the user's) → CSRF → one service call →
commit → flash and redirect back to the page the button was on (STYLE "Service layer").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal.calls.models import Call
from portal.calls.permissions import can_manage_call
from portal.core.access import get_or_404
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.evaluation.services import publication
from portal.evaluation.views import bp
from portal.extensions import db

AREA = "evaluation"


class _ButtonForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


def _back(call: Call) -> str:
    """The evaluation page the button was pressed on (same site only), else the call's results page."""
    referrer = urlsplit(request.referrer or "")
    hub = url_for("evaluation.overview", call_id=call.id)
    if referrer.netloc == request.host and (referrer.path == hub or referrer.path.startswith(hub + "/")):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("evaluation.results", call_id=call.id)


def _run(call_id: int, action, success: str):
    call = get_or_404(Call, call_id, can_manage_call, area=AREA)
    if not _ButtonForm().validate_on_submit():
        abort(400)
    try:
        action(call, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    else:
        flash(success, "success")
    return redirect(_back(call))


@bp.route("/calls/<int:call_id>/publish", methods=["POST"])
@login_required
def publish_results(call_id: int):
    return _run(
        call_id,
        publication.publish_results,
        _(
            "The results are published: anyone can now see them on the portal's results page, "
            "in the feed and through the open data API."
        ),
    )


@bp.route("/calls/<int:call_id>/archive", methods=["POST"])
@login_required
def archive_call(call_id: int):
    return _run(
        call_id,
        publication.archive_call,
        _("The call is archived. Its published results stay public."),
    )
