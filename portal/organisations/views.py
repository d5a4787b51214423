"""Organisation pages: register, youth initiative groups, details, members and invitations.

Every view: load or 404 → permission check (404 for what is not the user's) → validate → one service
call → commit → flash and redirect (STYLE "Service layer").
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.models import Membership
from portal.core.audit import security_event
from portal.core.enums import LegalForm, Role
from portal.core.forms import attach_error
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.organisations import permissions, services
from portal.organisations.forms import (
    ActionForm,
    EditGroupForm,
    EditOrganisationForm,
    GroupForm,
    InviteForm,
    RegisterOrganisationForm,
)
from portal.organisations.models import Invitation, Organisation
from portal.organisations.services import InvitationState, OrganisationError

bp = Blueprint("organisations", __name__)


# --- helpers -------------------------------------------------------------------------------------------


def _load(org_id: int, allowed) -> Organisation:
    """Return the organisation if the current user passes `allowed`, else 404 (never 403)."""
    org = db.session.get(Organisation, org_id)
    if org is None or not allowed(current_user, org):
        if org is not None:
            security_event("organisation_denied", org_id=org_id, user_id=current_user.get_id())
        abort(404)
    return org


def _municipality(code: str) -> Municipality:
    return db.session.scalars(sa.select(Municipality).where(Municipality.code == code)).one()


def _needs_confirmed_email():
    if not current_user.is_confirmed:
        flash(_("Confirm your e-mail address first: open the link we sent you."), "warning")
        return redirect(url_for("organisations.list_organisations"))
    return None


# --- list, register ------------------------------------------------------------------------------------


@bp.route("/")
@login_required
def list_organisations():
    memberships = services.organisations_of(current_user)
    return render_template("organisations/list_organisations.html", memberships=memberships)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_organisation():
    if (response := _needs_confirmed_email()) is not None:
        return response
    form = RegisterOrganisationForm()
    if form.validate_on_submit():
        try:
            org = services.register_organisation(
                current_user,
                legal_form=LegalForm(form.legal_form.data),
                name=form.name.data,
                reg_number=form.reg_number.data,
                municipality=_municipality(form.municipality.data),
                address=form.address.data,
                email=form.email.data,
                phone=form.phone.data,
                website=form.website.data,
                bank_name=form.bank_name.data,
                iban=form.iban.data,
            )
        except OrganisationError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("The organisation is registered. You are its representative."), "success")
            return redirect(url_for("organisations.show_organisation", org_id=org.id))
    return render_template("organisations/new_organisation.html", form=form)


@bp.route("/<int:org_id>/groups/new", methods=["GET", "POST"])
@login_required
def new_group(org_id: int):
    org = _load(org_id, permissions.can_create_group)
    if (response := _needs_confirmed_email()) is not None:
        return response
    form = GroupForm()
    if not form.is_submitted():
        form.municipality.data = org.municipality.code
        form.email.data = org.email
    if form.validate_on_submit():
        try:
            group = services.create_group(
                current_user,
                org,
                name=form.name.data,
                municipality=_municipality(form.municipality.data),
                members_count=form.members_count.data,
                email=form.email.data,
            )
        except OrganisationError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("The youth initiative group is created."), "success")
            return redirect(url_for("organisations.show_organisation", org_id=group.id))
    return render_template("organisations/new_group.html", form=form, org=org)


# --- one organisation ----------------------------------------------------------------------------------


def _show(org: Organisation, *, full_iban: str | None = None):
    can_manage = permissions.can_manage_members(current_user, org)
    members = services.members_of(org)
    return render_template(
        "organisations/show_organisation.html",
        org=org,
        full_iban=full_iban,
        members=members,
        representative_count=sum(1 for m in members if m.is_representative),
        invitations=services.pending_invitations(org) if can_manage else [],
        groups=services.groups_of(org),
        can_edit=permissions.can_edit_organisation(current_user, org),
        can_invite=permissions.can_invite(current_user, org),
        can_manage=can_manage,
        can_view_full_iban=permissions.can_view_full_iban(current_user, org),
        can_create_group=permissions.can_create_group(current_user, org),
        can_view_representative=(
            org.representative_organisation is not None
            and permissions.can_view_organisation(current_user, org.representative_organisation)
        ),
    )


@bp.route("/<int:org_id>")
@login_required
def show_organisation(org_id: int):
    org = _load(org_id, permissions.can_view_organisation)
    return _show(org)


@bp.route("/<int:org_id>/iban", methods=["POST"])
@login_required
def reveal_iban(org_id: int):
    org = _load(org_id, permissions.can_view_full_iban)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    iban = services.record_iban_view(current_user, org)
    db.session.commit()
    # Shown once, in this response only: reloading the page shows the masked account again.
    return _show(org, full_iban=iban)


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id: int):
    org = _load(org_id, permissions.can_edit_organisation)
    if org.is_initiative_group:
        form = EditGroupForm()
        if not form.is_submitted():
            form.name.data = org.name
            form.municipality.data = org.municipality.code
            form.members_count.data = org.group_members_count
            form.email.data = org.email
    else:
        form = EditOrganisationForm(user=current_user, current_iban=org.iban)
        if not form.is_submitted():
            for name in ("name", "address", "email", "phone", "website", "bank_name", "iban"):
                getattr(form, name).data = getattr(org, name)
            form.municipality.data = org.municipality.code
    if form.validate_on_submit():
        values = {
            "name": form.name.data,
            "municipality_id": _municipality(form.municipality.data).id,
            "email": form.email.data,
        }
        if org.is_initiative_group:
            values["group_members_count"] = form.members_count.data
        else:
            for name in ("address", "phone", "website", "bank_name", "iban"):
                values[name] = getattr(form, name).data
        changes = services.update_organisation(
            current_user, org, totp_step=getattr(form, "totp_step", None), **values
        )
        db.session.commit()
        if "iban" in changes:
            flash(_("The bank account is changed. Every member has been told by e-mail."), "success")
        elif changes:
            flash(_("The changes are saved."), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("organisations.show_organisation", org_id=org.id))
    if form.is_submitted():
        db.session.commit()  # a failed re-authentication is a failed login attempt (QUALITY A3, B6)
    return render_template("organisations/edit_organisation.html", form=form, org=org)


# --- members -------------------------------------------------------------------------------------------


def _load_membership(org: Organisation, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != org.id or membership.role != Role.APPLICANT:
        abort(404)
    return membership


@bp.route("/<int:org_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(org_id: int, membership_id: int):
    org = _load(org_id, permissions.can_manage_members)
    membership = _load_membership(org, membership_id)
    if ActionForm().validate_on_submit():
        removed_self = membership.user_id == current_user.id
        try:
            services.remove_member(current_user, membership)
        except OrganisationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The member is removed."), "success")
            if removed_self:
                return redirect(url_for("organisations.list_organisations"))
    return redirect(url_for("organisations.show_organisation", org_id=org.id))


@bp.route("/<int:org_id>/members/<int:membership_id>/representative", methods=["POST"])
@login_required
def make_representative(org_id: int, membership_id: int):
    org = _load(org_id, permissions.can_manage_members)
    membership = _load_membership(org, membership_id)
    if ActionForm().validate_on_submit():
        services.make_representative(current_user, membership)
        db.session.commit()
        flash(_("%(name)s is now a representative.", name=membership.user.full_name), "success")
    return redirect(url_for("organisations.show_organisation", org_id=org.id))


# --- invitations ---------------------------------------------------------------------------------------


@bp.route("/<int:org_id>/invite", methods=["GET", "POST"])
@login_required
def invite_member(org_id: int):
    org = _load(org_id, permissions.can_invite)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite_member(current_user, org, form.email.data)
        except OrganisationError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("organisations.show_organisation", org_id=org.id))
    return render_template("organisations/invite_member.html", form=form, org=org)


@bp.route("/<int:org_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(org_id: int, invitation_id: int):
    org = _load(org_id, permissions.can_manage_members)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            services.revoke_invitation(current_user, invitation)
        except OrganisationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The invitation is revoked."), "success")
    return redirect(url_for("organisations.show_organisation", org_id=org.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Open an invitation link: explain what to do, or (logged in as the invitee) accept it."""
    invitation = services.find_invitation(token)
    if invitation is None:
        abort(404)
    here = url_for("organisations.accept_invitation", token=token)
    state = services.invitation_state(invitation)
    context = {"invitation": invitation, "org": invitation.organisation, "token": token}
    if state != InvitationState.PENDING:
        return render_template("organisations/accept_invitation.html", situation=state.value, **context)
    if not current_user.is_authenticated:
        return render_template(
            "organisations/accept_invitation.html",
            situation="anonymous",
            login_url=url_for("accounts.login", next=here),
            register_url=url_for("accounts.register", next=here),
            **context,
        )
    if current_user.email.lower() != invitation.email.lower():
        return render_template("organisations/accept_invitation.html", situation="wrong_account", **context)
    if permissions.is_member(current_user, invitation.organisation):
        return render_template("organisations/accept_invitation.html", situation="already_member", **context)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(current_user, invitation)
        except OrganisationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(here)
        db.session.commit()
        flash(_("Welcome! You are now a member of %(name)s.", name=invitation.organisation.name), "success")
        return redirect(url_for("organisations.show_organisation", org_id=invitation.organisation_id))
    return render_template("organisations/accept_invitation.html", situation="ready", form=form, **context)
