"""Evaluation pages: results. STUBS (404) with the agreed endpoint names — replaced by the results work."""

from flask import abort
from flask_login import login_required

from portal.evaluation.views import bp


@bp.route("/calls/<int:call_id>/consolidate", methods=["POST"])
@login_required
def consolidate(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/results", methods=["GET"])
@login_required
def results(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/decision", methods=["GET", "POST"])
@login_required
def record_decision(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/protocol.pdf", methods=["GET"])
@login_required
def protocol(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/decision.pdf", methods=["GET"])
@login_required
def decision_file(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/offer-reserve", methods=["POST"])
@login_required
def offer_reserve(call_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/cancel-funding", methods=["GET", "POST"])
@login_required
def cancel_funding(application_id: int):
    abort(404)
