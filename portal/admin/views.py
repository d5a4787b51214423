"""Administration pages: the audit trail, the e-mail outbox, users and their roles.

Every view: login required → load or 404 → permission (404 for what is not the user's) → form →
one service call → commit → flash and redirect.
"""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal.accounts import services as account_services
from portal.accounts.models import Membership, User
from portal.admin import permissions, queries, services
from portal.admin.forms import (
    ActionForm,
    AuditFilterForm,
    GrantRoleForm,
    ReasonForm,
    TerminateSessionsForm,
    UserSearchForm,
)
from portal.core.access import require
from portal.core.audit import AuditEvent
from portal.core.enums import Role
from portal.core.mail import DEAD, QUEUED, SENT, OutboxMessage
from portal.core.timeutil import riga_today, to_riga, utcnow
from portal.extensions import db
from portal.municipalities.models import Municipality

bp = Blueprint("admin", __name__)


def _page_arg() -> int:
    page = request.args.get("page", type=int) or 1
    return min(max(page, 1), 1_000_000)


# --- audit trail ----------------------------------------------------------------------------------


def _audit_filters(formdata) -> tuple[AuditFilterForm, queries.AuditFilters, set[int] | None]:
    """Build the filter form for the user's scope and return the filters of the fields that are valid."""
    scope = permissions.audit_scope(current_user)
    require(scope is None or bool(scope), area="admin")
    form = AuditFilterForm(formdata=formdata)
    form.set_choices(
        queries.distinct_values(AuditEvent.action, scope),
        queries.distinct_values(AuditEvent.object_type, scope),
    )
    if formdata:
        form.validate()
    # A bad field is reported next to itself; the other filters still apply.

    def value(field):
        return None if field.errors else (field.data or None)

    filters = queries.AuditFilters(
        date_from=value(form.date_from),
        date_to=value(form.date_to),
        action=value(form.action),
        actor=value(form.actor),
        object_type=value(form.object_type),
        object_id=value(form.object_id),
    )
    return form, filters, scope


@bp.get("/audit")
@login_required
def audit_log():
    form, filters, scope = _audit_filters(request.args)
    page = _page_arg()
    total = queries.count_events(scope, filters)
    events = queries.event_page(scope, filters, page)
    status = 422 if form.errors else 200
    return (
        render_template(
            "admin/audit_log.html",
            form=form,
            rows=[(event, queries.changes(event)) for event in events],
            total=total,
            page=page,
            pages=queries.pages(total),
            export_form=ActionForm(),
            export_values=[(k, v) for k, v in request.args.items(multi=True) if k != "page"],
        ),
        status,
    )


_CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Return a CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CSV_DANGEROUS) else text


@bp.post("/audit/export")
@login_required
def export_audit_log():
    """Download the filtered audit trail as CSV (UTF-8 with BOM, so spreadsheets read ā, ē, ū)."""
    form, filters, scope = _audit_filters(request.form)
    if form.errors:
        return redirect(url_for(".audit_log", **{k: v for k, v in request.form.items() if k != "csrf_token"}))
    total = queries.count_events(scope, filters)
    services.record_audit_export(actor=current_user, filters=filters.as_dict(), rows=total)
    db.session.commit()

    header = [
        _("Time (Europe/Riga)"),
        _("Actor"),
        _("Action"),
        _("Object type"),
        _("Object number"),
        _("Municipality"),
        _("IP address"),
        _("Before"),
        _("After"),
        _("Reason"),
    ]

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(header)
        query = queries.events_query(scope, filters).execution_options(yield_per=500)
        for event in db.session.scalars(query):
            writer.writerow(
                [
                    to_riga(event.at).isoformat(timespec="seconds"),
                    _cell(event.actor.email if event.actor else ""),
                    _cell(event.action),
                    _cell(event.object_type),
                    event.object_id if event.object_id is not None else "",
                    _cell(event.municipality.name if event.municipality else ""),
                    _cell(event.ip),
                    _cell(event.before),
                    _cell(event.after),
                    _cell(event.reason),
                ]
            )
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"audit-{to_riga(utcnow()).strftime('%Y%m%d-%H%M')}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- e-mail outbox --------------------------------------------------------------------------------


@bp.get("/outbox")
@login_required
def outbox():
    require(permissions.can_manage_outbox(current_user), area="admin")
    return render_template(
        "admin/outbox.html",
        counts=queries.outbox_counts(),
        queued=queries.outbox_list(QUEUED),
        dead=queries.outbox_list(DEAD),
        statuses=(QUEUED, SENT, DEAD),
        retry_form=ActionForm(),
    )


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def retry_message(message_id: int):
    require(permissions.can_manage_outbox(current_user), area="admin")
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if message.status != DEAD:
        flash(_("This message is not waiting for a retry."), "info")
        return redirect(url_for(".outbox"))
    services.retry_outbox_message(message, actor=current_user)
    db.session.commit()
    flash(_("The message is queued again and will be sent shortly."), "success")
    return redirect(url_for(".outbox"))


# --- users ----------------------------------------------------------------------------------------


def _require_user_admin() -> None:
    require(permissions.can_manage_users(current_user), area="admin")


@bp.get("/users")
@login_required
def list_users():
    _require_user_admin()
    form = UserSearchForm(formdata=request.args)
    q = form.q.data if form.validate() else None
    page = _page_arg()
    total = queries.count_users(q)
    users = queries.user_page(q, page)
    return render_template(
        "admin/list_users.html", form=form, users=users, total=total, page=page, pages=queries.pages(total)
    )


def _load_user(user_id: int) -> User:
    """Return the user with memberships and their scopes loaded at once (no query per membership)."""
    _require_user_admin()
    user = db.session.get(User, user_id, options=[queries.memberships_with_scopes()])
    return user or abort(404)


def _municipalities() -> list[Municipality]:
    return list(db.session.scalars(Municipality.valid_on(riga_today())))


def _render_user(user: User, *, status: int = 200, grant_form=None, revoke_forms=None, **forms):
    """Render the user page; a form that failed validation is passed in so its errors show by its field."""
    if grant_form is None:
        grant_form = GrantRoleForm(formdata=None, prefix="grant")
    grant_form.set_municipalities(_municipalities())
    memberships = sorted(user.memberships, key=lambda m: (m.role.value, m.id))
    revoke_forms = revoke_forms or {}
    for m in memberships:
        revoke_forms.setdefault(m.id, ReasonForm(formdata=None, prefix=f"revoke-{m.id}"))
    forms.setdefault("status_form", ReasonForm(formdata=None, prefix="status"))
    forms.setdefault("sessions_form", TerminateSessionsForm(formdata=None, prefix="sessions"))
    return (
        render_template(
            "admin/show_user.html",
            user=user,
            memberships=memberships,
            grant_form=grant_form,
            revoke_forms=revoke_forms,
            can_revoke={m.id: permissions.can_revoke_membership(current_user, m) for m in memberships},
            active_sessions=account_services.active_sessions(user),
            events=[(e, queries.changes(e)) for e in queries.user_events(user)],
            **forms,
        ),
        status,
    )


@bp.get("/users/<int:user_id>")
@login_required
def show_user(user_id: int):
    return _render_user(_load_user(user_id))


@bp.post("/users/<int:user_id>/roles")
@login_required
def grant_user_role(user_id: int):
    user = _load_user(user_id)
    form = GrantRoleForm(prefix="grant")
    form.set_municipalities(_municipalities())
    if not form.validate_on_submit():
        return _render_user(user, status=422, grant_form=form)
    municipality = (
        db.session.get(Municipality, int(form.municipality.data)) if form.municipality.data else None
    )
    try:
        services.grant_role(user, Role(form.role.data), actor=current_user, municipality=municipality)
    except services.AdminRuleError as exc:  # raised before anything changed: nothing to roll back
        getattr(form, exc.field or "role").errors.append(exc.message)
        return _render_user(user, status=422, grant_form=form)
    db.session.commit()
    flash(_("The role has been granted."), "success")
    return redirect(url_for(".show_user", user_id=user.id))


@bp.post("/users/<int:user_id>/memberships/<int:membership_id>/revoke")
@login_required
def revoke_user_membership(user_id: int, membership_id: int):
    user = _load_user(user_id)
    membership = db.session.get(Membership, membership_id) or abort(404)
    require(membership.user_id == user.id, area="admin")
    form = ReasonForm(prefix=f"revoke-{membership.id}")
    if not form.validate_on_submit():
        return _render_user(user, status=422, revoke_forms={membership.id: form})
    try:
        services.revoke_membership(membership, actor=current_user, reason=form.reason.data)
    except services.AdminRuleError as exc:  # raised before anything changed: nothing to roll back
        form.reason.errors.append(exc.message)
        return _render_user(user, status=422, revoke_forms={membership.id: form})
    db.session.commit()
    flash(_("The role has been revoked."), "success")
    return redirect(url_for(".show_user", user_id=user.id))


def _change_status(user_id: int, *, disable: bool):
    user = _load_user(user_id)
    form = ReasonForm(prefix="status")
    if not form.validate_on_submit():
        return _render_user(user, status=422, status_form=form)
    if user.id == current_user.id:
        form.reason.errors.append(_("You cannot disable or enable your own account."))
        return _render_user(user, status=422, status_form=form)
    if user.is_disabled == disable:
        flash(_("Nothing changed: the account already is in this state."), "info")
        return redirect(url_for(".show_user", user_id=user.id))
    if disable:
        account_services.disable_user(user, current_user, form.reason.data.strip())
        message = _("The account is disabled and all its sessions have ended.")
    else:
        account_services.enable_user(user, current_user, form.reason.data.strip())
        message = _("The account is enabled again.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".show_user", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
@login_required
def disable_user_account(user_id: int):
    return _change_status(user_id, disable=True)


@bp.post("/users/<int:user_id>/enable")
@login_required
def enable_user_account(user_id: int):
    return _change_status(user_id, disable=False)


@bp.post("/users/<int:user_id>/sessions/terminate")
@login_required
def terminate_user_sessions(user_id: int):
    user = _load_user(user_id)
    form = TerminateSessionsForm(prefix="sessions")
    if not form.validate_on_submit():
        return _render_user(user, status=422, sessions_form=form)
    if user.id == current_user.id:
        form.reason.errors.append(_("To end your own other sessions use your account settings."))
        return _render_user(user, status=422, sessions_form=form)
    ended = account_services.terminate_sessions(user, current_user, (form.reason.data or "").strip() or None)
    db.session.commit()
    flash(ngettext("%(num)d session has ended.", "%(num)d sessions have ended.", ended), "success")
    return redirect(url_for(".show_user", user_id=user.id))
