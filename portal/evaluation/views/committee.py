"""Evaluation pages: the overview of a call's evaluation (the hub), the committee (appoint, invite,
change a role, remove), accepting an invitation, the call's impartiality declaration, the conflict
statement per application, the member's committees and starting the evaluation.

Every view: load or 404 → permission (404 for what is not the user's) → validate → one service call →
commit → flash and redirect (STYLE "Service layer").
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.accounts.models import User
from portal.applications.models import Application
from portal.calls.models import Call
from portal.calls.permissions import can_manage_call
from portal.calls.workflow import CallStatus
from portal.core.access import get_or_404, require
from portal.core.forms import committed
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.evaluation import permissions, queries, rules, services
from portal.evaluation.forms.committee import (
    ActionForm,
    AppointForm,
    ChangeRoleForm,
    ConflictForm,
    DeclarationForm,
    InviteForm,
    RemoveMemberForm,
)
from portal.evaluation.models import CommitteeMember, Decision
from portal.evaluation.services import committee as committee_services
from portal.evaluation.services import decisions
from portal.evaluation.views import bp
from portal.extensions import db

AREA = "evaluation"
# Calls whose evaluation has started: the scoring, progress and results pages have something to show.
EVALUATED = (CallStatus.EVALUATION, CallStatus.DECIDED, CallStatus.RESULTS_PUBLISHED, CallStatus.ARCHIVED)


def _call_status(status: str) -> str:
    return str(CallStatus(status).label)


def _decision_of(call: Call) -> Decision | None:
    return db.session.scalar(sa.select(Decision).where(Decision.call_id == call.id))


def _manager_of_member(user, member: CommitteeMember) -> bool:
    return can_manage_call(user, member.call)


# --- the overview (hub) ----------------------------------------------------------------------------


def _member_rows(member: CommitteeMember, call: Call) -> list[tuple[Application, str]]:
    """The member's own state on each scorable application: 'declare' (state conflict or not first),
    'waiting' (no statement, and none can be made now), 'recused', 'score', 'draft' or 'submitted'."""
    if not member.votes or member.declared_at is None or call.is_sealed:
        return []
    conflicts = queries.conflicts_of(member.id)
    sheets = queries.sheets_of(member.id)
    rows = []
    for application in queries.scorable_applications(call.id):
        declaration = conflicts.get(application.id)
        sheet = sheets.get(application.id)
        if declaration is None:
            state = "declare" if permissions.can_declare_conflict(member, application) else "waiting"
        elif declaration.recused:
            state = "recused"
        elif sheet is not None:
            state = "submitted" if sheet.is_submitted else "draft"
        else:
            state = "score"
        rows.append((application, state))
    return rows


def _committee_summary(members: list[CommitteeMember]) -> dict:
    voting = [m for m in members if m.votes]
    return {
        "voting": sum(1 for m in voting if m.user_id is not None),
        "invited": sum(1 for m in members if m.user_id is None),
        "declared": sum(1 for m in members if m.declared_at is not None),
        "secretary": any(not m.votes and m.user_id is not None for m in members),
    }


@bp.route("/calls/<int:call_id>", methods=["GET"])
@login_required
def overview(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_follow_evaluation, area=AREA)
    manage = can_manage_call(current_user, call)
    member = queries.member_for(current_user, call.id)
    context = {
        "call": call,
        "stage": _call_status(call.status),
        "manage": manage,
        "member": member,
        "evaluated": call.status in EVALUATED,
    }
    if manage:
        members = queries.committee(call.id)
        context |= {
            "members": members,
            "summary": _committee_summary(members),
            "quorum": decisions.quorum(call),
            "min_quorum": rules.MIN_QUORUM,
            "decision": _decision_of(call),
            "start_form": ActionForm() if call.status == CallStatus.CLOSED else None,
            "can_check": call.status in (CallStatus.CLOSED, CallStatus.EVALUATION),
            "can_decide": permissions.can_record_decision(current_user, call),
        }
    if member is not None:
        context |= {
            "can_sign": permissions.can_sign_declaration(member, call),
            "rows": _member_rows(member, call),
            "secretary_checks": not member.votes
            and call.status in (CallStatus.CLOSED, CallStatus.EVALUATION),
        }
    return render_template("evaluation/overview.html", **context)


@bp.route("/calls/<int:call_id>/start", methods=["POST"])
@login_required
def start_evaluation(call_id: int):
    call = get_or_404(Call, call_id, can_manage_call, area=AREA)
    if not ActionForm().validate_on_submit():
        abort(400)
    if call.status != CallStatus.CLOSED:
        flash(_("The evaluation can be started only when the call has closed."), "danger")
        return redirect(url_for("evaluation.overview", call_id=call.id))
    try:
        services.start_evaluation(call, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    except TransitionDenied:
        db.session.rollback()
        abort(404)
    else:
        flash(
            _("The evaluation has started. The committee members can now declare their conflicts and score."),
            "success",
        )
    return redirect(url_for("evaluation.overview", call_id=call.id))


# --- the committee (the coordinator's page) --------------------------------------------------------


def _appoint_form(call: Call, members: list[CommitteeMember], *, bound: bool = False) -> AppointForm:
    form = AppointForm(prefix="appoint") if bound else AppointForm(formdata=None, prefix="appoint")
    seated = {m.user_id for m in members}
    form.user.choices = [SelectChoice("", _("Choose a person"))] + [
        SelectChoice(str(u.id), f"{u.full_name} ({u.email})")
        for u in committee_services.municipality_users(call)
        if u.id not in seated
    ]
    return form


def _committee_page(
    call: Call,
    *,
    appoint: AppointForm | None = None,
    invite: InviteForm | None = None,
    failed: tuple[int, ChangeRoleForm | RemoveMemberForm] | None = None,
):
    """Render the committee page; a form that failed keeps its input and errors, the others are fresh."""
    members = queries.committee(call.id)
    editable = permissions.can_manage_committee(current_user, call)
    role_forms, remove_forms = {}, {}
    for m in members:
        role_forms[m.id] = ChangeRoleForm(formdata=None, prefix=f"role-{m.id}", data={"role": m.role})
        remove_forms[m.id] = RemoveMemberForm(formdata=None, prefix=f"remove-{m.id}")
    if failed is not None:
        member_id, form = failed
        (role_forms if isinstance(form, ChangeRoleForm) else remove_forms)[member_id] = form
    for m in members:  # each row's fields say whose they are (one page, many "Role" selects)
        role_forms[m.id].role.label.text = _("Role of %(name)s", name=m.display_name)
        remove_forms[m.id].reason.label.text = _(
            "Reason for removing %(name)s (optional)", name=m.display_name
        )
    return render_template(
        "evaluation/committee.html",
        call=call,
        stage=_call_status(call.status),
        members=members,
        summary=_committee_summary(members),
        editable=editable,
        appoint_form=appoint or _appoint_form(call, members),
        invite_form=invite or InviteForm(formdata=None, prefix="invite"),
        role_forms=role_forms,
        remove_forms=remove_forms,
        failed_id=failed[0] if failed else None,
    )


@bp.route("/calls/<int:call_id>/committee", methods=["GET"])
@login_required
def committee(call_id: int):
    call = get_or_404(Call, call_id, can_manage_call, area=AREA)
    return _committee_page(call)


@bp.route("/calls/<int:call_id>/committee/appoint", methods=["POST"])
@login_required
def appoint_member(call_id: int):
    call = get_or_404(Call, call_id, can_manage_call, area=AREA)
    form = _appoint_form(call, queries.committee(call.id), bound=True)
    if form.validate_on_submit():
        user = db.session.get(User, int(form.user.data))
        with committed(form) as saved:
            member = committee_services.appoint_member(call, user, form.role.data, actor=current_user)
        if saved:
            flash(
                _(
                    "%(name)s is appointed to the committee and has been told by e-mail.",
                    name=member.display_name,
                ),
                "success",
            )
            return redirect(url_for("evaluation.committee", call_id=call.id))
    return _committee_page(call, appoint=form)


@bp.route("/calls/<int:call_id>/committee/invite", methods=["POST"])
@login_required
def invite_member(call_id: int):
    call = get_or_404(Call, call_id, can_manage_call, area=AREA)
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        with committed(form) as saved:
            member, _token = committee_services.invite_member(
                call, form.email.data, form.role.data, actor=current_user
            )
        if saved:
            flash(_("The invitation is sent to %(email)s.", email=member.email), "success")
            return redirect(url_for("evaluation.committee", call_id=call.id))
    return _committee_page(call, invite=form)


@bp.route("/members/<int:member_id>/role", methods=["POST"])
@login_required
def change_role(member_id: int):
    member = get_or_404(CommitteeMember, member_id, _manager_of_member, area=AREA)
    call = member.call
    form = ChangeRoleForm(prefix=f"role-{member.id}")
    if form.validate_on_submit():
        with committed(form) as saved:
            committee_services.change_role(member, form.role.data, actor=current_user)
        if saved:
            flash(_("The role of %(name)s is changed.", name=member.display_name), "success")
            return redirect(url_for("evaluation.committee", call_id=call.id))
    return _committee_page(call, failed=(member_id, form))


@bp.route("/members/<int:member_id>/remove", methods=["POST"])
@login_required
def remove_member(member_id: int):
    member = get_or_404(CommitteeMember, member_id, _manager_of_member, area=AREA)
    call, name = member.call, member.display_name
    form = RemoveMemberForm(prefix=f"remove-{member.id}")
    if form.validate_on_submit():
        with committed(form) as saved:
            committee_services.remove_member(member, actor=current_user, reason=form.reason.data or None)
        if saved:
            flash(_("%(name)s is no longer on the committee.", name=name), "success")
            return redirect(url_for("evaluation.committee", call_id=call.id))
    return _committee_page(call, failed=(member_id, form))


# --- invitations -------------------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    member = committee_services.find_invitation(token)
    if member is None:
        return render_template("evaluation/accept_invitation.html", member=None, form=None), 404
    form = ActionForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            committee_services.accept_invitation(current_user, member)
        if saved:
            flash(_("You are now on the evaluation committee."), "success")
            return redirect(url_for("evaluation.overview", call_id=member.call_id))
    return render_template("evaluation/accept_invitation.html", member=member, call=member.call, form=form)


# --- the member's declarations -----------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/declaration", methods=["GET", "POST"])
@login_required
def sign_declaration(call_id: int):
    call = get_or_404(Call, call_id, permissions.can_follow_evaluation, area=AREA)
    member = queries.member_for(current_user, call.id)
    require(member is not None, area=AREA)
    form = DeclarationForm()
    if member.declared_at is None and form.validate_on_submit():
        with committed(form) as saved:
            committee_services.sign_declaration(member, actor=current_user)
        if saved:
            flash(_("Thank you: your declaration is signed."), "success")
            return redirect(url_for("evaluation.overview", call_id=call.id))
    return render_template(
        "evaluation/sign_declaration.html",
        call=call,
        member=member,
        form=form,
        text=member.declaration_text
        or committee_services.declaration_text(call, current_user.locale or "lv"),
        can_sign=permissions.can_sign_declaration(member, call),
    )


def _may_state_conflict(user, application: Application) -> bool:
    member = queries.member_for(user, application.call_id)
    if member is None or not member.votes:
        return False
    return (
        permissions.can_declare_conflict(member, application)
        or queries.conflict(member.id, application.id) is not None
    )


@bp.route("/applications/<int:application_id>/conflict", methods=["GET", "POST"])
@login_required
def declare_conflict(application_id: int):
    application = get_or_404(Application, application_id, _may_state_conflict, area=AREA)
    call = application.call
    member = queries.member_for(current_user, call.id)
    existing = queries.conflict(member.id, application.id)
    sheet = queries.sheet(member.id, application.id) if existing is not None else None
    # "No conflict" may still become a recusal (a conflict noticed late) until the scores are submitted.
    may_recuse_late = (
        existing is not None
        and not existing.recused
        and not (sheet is not None and sheet.is_submitted)
        and permissions.can_declare_conflict(member, application)
    )
    form = ConflictForm()
    if (existing is None or may_recuse_late) and form.validate_on_submit():
        with committed(form) as saved:
            committee_services.declare_conflict(
                member, application, recused=form.recused, reason=form.reason.data, actor=current_user
            )
        if saved:
            if form.recused:
                flash(_("You have recused yourself from this application."), "success")
                return redirect(url_for("evaluation.overview", call_id=call.id))
            flash(_("You stated that you have no conflict of interest; you can now score."), "success")
            return redirect(url_for("evaluation.score_application", application_id=application.id))
    return render_template(
        "evaluation/declare_conflict.html",
        call=call,
        application=application,
        member=member,
        existing=existing,
        may_recuse_late=may_recuse_late,
        form=form,
    )


# --- the member's committees ---------------------------------------------------------------------------


@bp.route("/mine", methods=["GET"])
@login_required
def my_committees():
    seats = queries.calls_of_member(current_user)
    return render_template(
        "evaluation/my_committees.html",
        seats=[(seat, _call_status(seat.call.status)) for seat in seats],
    )
