"""Evaluation pages: publication. STUBS (404) with the agreed endpoint names."""

from flask import abort
from flask_login import login_required

from portal.evaluation.views import bp


@bp.route("/calls/<int:call_id>/publish", methods=["POST"])
@login_required
def publish_results(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/archive", methods=["POST"])
@login_required
def archive_call(call_id: int):
    abort(404)
