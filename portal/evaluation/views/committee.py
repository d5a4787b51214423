"""Evaluation pages: committee. STUBS (404) with the agreed endpoint names."""

from flask import abort
from flask_login import login_required

from portal.evaluation.views import bp


@bp.route("/calls/<int:call_id>", methods=["GET"])
@login_required
def overview(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/committee", methods=["GET"])
@login_required
def committee(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/committee/appoint", methods=["POST"])
@login_required
def appoint_member(call_id: int):
    abort(404)


@bp.route("/calls/<int:call_id>/committee/invite", methods=["POST"])
@login_required
def invite_member(call_id: int):
    abort(404)


@bp.route("/members/<int:member_id>/role", methods=["POST"])
@login_required
def change_role(member_id: int):
    abort(404)


@bp.route("/members/<int:member_id>/remove", methods=["POST"])
@login_required
def remove_member(member_id: int):
    abort(404)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    abort(404)


@bp.route("/calls/<int:call_id>/declaration", methods=["GET", "POST"])
@login_required
def sign_declaration(call_id: int):
    abort(404)


@bp.route("/applications/<int:application_id>/conflict", methods=["GET", "POST"])
@login_required
def declare_conflict(application_id: int):
    abort(404)


@bp.route("/mine", methods=["GET"])
@login_required
def my_committees():
    abort(404)


@bp.route("/calls/<int:call_id>/start", methods=["POST"])
@login_required
def start_evaluation(call_id: int):
    abort(404)
