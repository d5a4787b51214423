"""Evaluation pages: checks. STUBS (404) with the agreed endpoint names — replaced by the checks work."""

from flask import abort
from flask_login import login_required

from portal.evaluation.views import bp


@bp.route("/calls/<int:call_id>/checks", methods=["GET"])
@login_required
def checks(call_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/check", methods=["GET", "POST"])
@login_required
def check_application(application_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/admit", methods=["POST"])
@login_required
def admit_application(application_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/reject", methods=["GET", "POST"])
@login_required
def reject_application(application_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/clarification", methods=["GET", "POST"])
@login_required
def request_clarification(application_id: int):
    abort(404)
