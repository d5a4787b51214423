"""Evaluation pages: scoring. STUBS (404) with the agreed endpoint names — replaced by the scoring work."""

from flask import abort
from flask_login import login_required

from portal.evaluation.views import bp


@bp.route("/applications/<int:application_id>/score", methods=["GET", "POST"])
@login_required
def score_application(application_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/score/autosave", methods=["POST"])
@login_required
def autosave_scores(application_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/score/submit", methods=["POST"])
@login_required
def submit_scores(application_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/pdf", methods=["GET"])
@login_required
def application_pdf(application_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/progress", methods=["GET"])
@login_required
def progress(call_id: int):
    abort(404)


@bp.route("/sheets/<int:sheet_id>/reopen", methods=["POST"])
@login_required
def reopen_sheet(sheet_id: int):
    abort(404)
