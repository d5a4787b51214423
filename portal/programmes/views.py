"""The national administrator's pages for programmes, rounds, pupil counts and quotas (issue 3),
the national dashboard, and the coordinators' read-only view of their municipalities' quotas.

Every view: login → load or 404 → permission (404 for what is not the user's) → validate → one service
call → commit → flash and redirect (STYLE "Service layer").
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_percent
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from portal.core.access import get_or_404, require
from portal.core.audit import AuditEvent
from portal.core.enums import LegalForm
from portal.core.forms import committed
from portal.core.i18n import current_language
from portal.core.timeutil import riga_today
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes import dashboard as dash
from portal.programmes import permissions, services
from portal.programmes.forms import (
    ActionForm,
    CloseRoundForm,
    CriterionForm,
    NewProgrammeForm,
    OverrideQuotaForm,
    ProgrammeForm,
    PupilCountsForm,
    RoundForm,
)
from portal.programmes.models import CriterionTemplate, Programme, PupilCount, Quota, QuotaSnapshot, Round
from portal.programmes.quotas import METHOD, QuotaError

bp = Blueprint("programmes", __name__)

ROUND_STATUS = {
    "draft": lazy_pgettext("round status", "Draft"),
    "open": lazy_pgettext("round status", "Open"),
    "closed": lazy_pgettext("round status", "Closed"),
}
UNUSED_POLICY = {
    "carry_over": _l("Carried over to the municipality's next round"),
    "redistribute": _l("Redistributed among municipalities with reserve-list projects"),
}
FUNDING_MODE = {"fixed": _l("Fixed lump sum"), "cap": _l("Up to a cap")}
CRITERION_KIND = {
    "administrative": lazy_pgettext("criterion kind", "Administrative"),
    "eligibility": lazy_pgettext("criterion kind", "Eligibility"),
    "quality": lazy_pgettext("criterion kind", "Quality"),
}
METHODS = {
    METHOD: _l(
        "One project for each municipality, the rest by the largest remainder (Hamilton) method; "
        "equal remainders: more pupils first, then the lower code"
    )
}


def _percent(value) -> str:
    """Format a percentage held as 0–100 (10.00 → "10%") in the page's language."""
    if value is None:
        return ""
    return format_percent(Decimal(value) / 100, locale=current_language(), decimal_quantization=False)


@bp.context_processor
def _helpers():
    return {
        "percent": _percent,
        "round_status": lambda status: ROUND_STATUS.get(status, status),
        "unused_policy": lambda policy: UNUSED_POLICY.get(policy, policy),
        "funding_mode": lambda mode: FUNDING_MODE.get(mode, mode),
        "criterion_kind": lambda kind: CRITERION_KIND.get(kind, kind),
        "method_label": lambda method: METHODS.get(method, method),
        "legal_form_label": lambda value: (
            LegalForm(value).label if value in LegalForm._value2member_map_ else value
        ),
        "perm": permissions,
    }


# --- helpers -------------------------------------------------------------------------------------


def _all_rounds() -> list[Round]:
    return list(
        db.session.scalars(
            sa.select(Round)
            .options(selectinload(Round.programme))
            .order_by(Round.period_start.desc(), Round.id.desc())
        )
    )


# --- programmes ----------------------------------------------------------------------------------


@bp.route("/")
@login_required
def list_programmes():
    require(permissions.can_view_programmes(current_user), area="programmes")
    programmes = db.session.scalars(
        sa.select(Programme)
        .options(selectinload(Programme.rounds))
        .order_by(Programme.period_start.desc(), Programme.id)
    ).all()
    return render_template("programmes/list_programmes.html", programmes=programmes)


@bp.route("/<int:programme_id>")
@login_required
def show_programme(programme_id: int):
    programme = get_or_404(
        Programme, programme_id, lambda u, p: permissions.can_view_programmes(u), area="programmes"
    )
    return render_template("programmes/show_programme.html", programme=programme)


@bp.route("/<int:programme_id>/edit", methods=["GET", "POST"])
@login_required
def edit_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id, permissions.can_edit_programme, area="programmes")
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        with committed(form) as saved:
            changed = services.update_programme(programme, actor=current_user, values=form.rule_values())
        if saved:
            if changed:
                flash(_("The programme's rules are saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("programmes.show_programme", programme_id=programme.id))
    return render_template("programmes/edit_programme.html", programme=programme, form=form)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_programme():
    require(permissions.can_create_programme(current_user), area="programmes")
    sources = db.session.scalars(
        sa.select(Programme).order_by(Programme.period_start.desc(), Programme.id)
    ).all()
    source = None
    if request.method == "GET" and sources:
        chosen = request.args.get("from", type=int)
        source = next((p for p in sources if p.id == chosen), sources[0])
    form = NewProgrammeForm(obj=source)
    if request.method == "GET":
        form.code.data = ""
    form.copy_from.choices = [SelectChoice("", _("Nothing: start without criteria"))] + [
        SelectChoice(str(p.id), f"{p.name(current_language())} ({p.code})") for p in sources
    ]
    if request.method == "GET" and source is not None:
        form.copy_from.data = str(source.id)
    if form.validate_on_submit():
        copy_from = next((p for p in sources if str(p.id) == form.copy_from.data), None)
        with committed(form) as saved:
            programme = services.create_programme(
                actor=current_user, code=form.code.data, values=form.rule_values(), copy_from=copy_from
            )
        if saved:
            flash(_("The programme is created. Check its evaluation criteria."), "success")
            return redirect(url_for("programmes.show_programme", programme_id=programme.id))
    return render_template("programmes/new_programme.html", form=form)


@bp.route("/<int:programme_id>/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@login_required
def edit_criterion(programme_id: int, criterion_id: int):
    criterion = get_or_404(
        CriterionTemplate,
        criterion_id,
        lambda u, c: c.programme_id == programme_id and permissions.can_edit_programme(u, c.programme),
        area="programmes",
    )
    form = CriterionForm.from_criterion(criterion)
    if form.validate_on_submit():
        with committed(form) as saved:
            changed = services.update_criterion(criterion, actor=current_user, values=form.criterion_values())
        if saved:
            flash(
                _("The criterion is saved.") if changed else _("Nothing was changed."),
                "success" if changed else "info",
            )
            return redirect(
                url_for("programmes.show_programme", programme_id=programme_id, _anchor="criteria")
            )
    return render_template(
        "programmes/edit_criterion.html", criterion=criterion, programme=criterion.programme, form=form
    )


# --- rounds --------------------------------------------------------------------------------------


@bp.route("/<int:programme_id>/rounds/new", methods=["GET", "POST"])
@login_required
def new_round(programme_id: int):
    programme = get_or_404(Programme, programme_id, permissions.can_create_round, area="programmes")
    form = RoundForm(programme=programme)
    if request.method == "GET":
        form.number.data = services.next_round_number(programme)
    if form.validate_on_submit():
        with committed(form) as saved:
            rnd = services.create_round(programme, actor=current_user, **form.round_values())
        if saved:
            flash(
                _("Round %(number)d is created. Upload the pupil counts next.", number=rnd.number), "success"
            )
            return redirect(url_for("programmes.show_round", round_id=rnd.id))
    return render_template("programmes/new_round.html", programme=programme, form=form)


def _round_page(rnd: Round, **context):
    counts = db.session.execute(
        sa.select(PupilCount, Municipality)
        .join(Municipality, PupilCount.municipality_id == Municipality.id)
        .where(PupilCount.round_id == rnd.id)
    ).all()
    counts = sorted(counts, key=lambda row: dash.latvian_key(row.Municipality.name))
    rows = dash.round_dashboard(rnd.id)
    quotas = {q.id: q for q in db.session.scalars(sa.select(Quota).where(Quota.round_id == rnd.id))}
    snapshots = db.session.scalars(
        sa.select(QuotaSnapshot)
        .options(selectinload(QuotaSnapshot.computed_by))
        .where(QuotaSnapshot.round_id == rnd.id)
        .order_by(QuotaSnapshot.computed_at.desc(), QuotaSnapshot.id.desc())
    ).all()
    latest = snapshots[0] if snapshots else None
    last_import = max((pc.imported_at for pc, _m in counts), default=None)
    stale = latest is not None and last_import is not None and last_import > latest.computed_at
    try:
        projects = services.round_projects(rnd)
    except QuotaError:  # reported with its reason when the quotas are computed
        projects = None
    if rnd.status != "closed" and permissions.can_close_round(current_user, rnd):
        context.setdefault("close_plan", services.plan_round_close(rnd))
        context.setdefault("close_form", CloseRoundForm(formdata=None))
    return render_template(
        "programmes/show_round.html",
        rnd=rnd,
        programme=rnd.programme,
        counts=counts,
        rows=rows,
        quotas=quotas,
        totals=dash.totals(rows),
        snapshots=snapshots,
        latest=latest,
        stale=stale,
        projects=projects,
        compute_form=ActionForm(),
        total_pupils=sum(pc.pupils for pc, _m in counts),
        **context,
    )


@bp.route("/rounds/<int:round_id>")
@login_required
def show_round(round_id: int):
    rnd = get_or_404(Round, round_id, permissions.can_view_round, area="programmes")
    return _round_page(rnd)


@bp.route("/rounds/<int:round_id>/pupil-counts", methods=["GET", "POST"])
@login_required
def upload_pupil_counts(round_id: int):
    rnd = get_or_404(Round, round_id, permissions.can_manage_round, area="programmes")
    if rnd.status == "closed":
        flash(_("The round is closed; its pupil counts can no longer change."), "warning")
        return redirect(url_for("programmes.show_round", round_id=rnd.id))
    form = PupilCountsForm()
    problems = None
    if form.validate_on_submit():
        data = form.file.data.read()
        report = services.import_pupil_counts(rnd, data, actor=current_user)
        if report.ok:
            db.session.commit()
            flash(
                ngettext(
                    "Pupil counts of %(num)d municipality are imported.",
                    "Pupil counts of %(num)d municipalities are imported.",
                    len(report.rows),
                ),
                "success",
            )
            if rnd.quotas:
                flash(_("Compute the quotas again: they were computed from the earlier counts."), "warning")
            return redirect(url_for("programmes.show_round", round_id=rnd.id))
        db.session.rollback()
        problems = report.problems
    return render_template(
        "programmes/upload_pupil_counts.html", rnd=rnd, programme=rnd.programme, form=form, problems=problems
    )


@bp.route("/rounds/<int:round_id>/quotas/compute", methods=["POST"])
@login_required
def compute_quotas(round_id: int):
    rnd = get_or_404(Round, round_id, permissions.can_manage_round, area="programmes")
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        snapshot = services.compute_round_quotas(rnd, actor=current_user)
        db.session.commit()
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(
            ngettext(
                "The quotas are computed: %(num)d project shared among the municipalities.",
                "The quotas are computed: %(num)d projects shared among the municipalities.",
                snapshot.projects,
            ),
            "success",
        )
    return redirect(url_for("programmes.show_round", round_id=rnd.id, _anchor="quotas"))


@bp.route("/rounds/<int:round_id>/close", methods=["POST"])
@login_required
def close_round(round_id: int):
    rnd = get_or_404(Round, round_id, permissions.can_close_round, area="programmes")
    form = CloseRoundForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            plan = services.close_round(rnd, actor=current_user)
        if saved:
            if plan.policy == "carry_over":
                message = ngettext(
                    "The round is closed. %(num)d unused project is carried over to round %(next)d.",
                    "The round is closed. %(num)d unused projects are carried over to round %(next)d.",
                    plan.carried,
                    next=plan.next_number,
                )
            else:
                message = ngettext(
                    "The round is closed. %(num)d project is redistributed to reserve lists.",
                    "The round is closed. %(num)d projects are redistributed to reserve lists.",
                    plan.redistributed,
                )
            flash(message, "success")
            return redirect(url_for("programmes.show_round", round_id=rnd.id))
    return _round_page(rnd, close_form=form)


@bp.route("/snapshots/<int:snapshot_id>")
@login_required
def show_snapshot(snapshot_id: int):
    snapshot = get_or_404(
        QuotaSnapshot,
        snapshot_id,
        lambda u, s: permissions.can_view_round(u, db.session.get(Round, s.round_id)),
        area="programmes",
    )
    rnd = db.session.get(Round, snapshot.round_id)
    codes = {item.get("code") for item in snapshot.inputs or []} | {
        item.get("code") for item in snapshot.result or []
    }
    names = dict(
        db.session.execute(
            sa.select(Municipality.code, Municipality.name).where(Municipality.code.in_(codes))
        ).all()
    )
    pupils = {item.get("code"): item.get("pupils") for item in snapshot.inputs or []}
    lines = sorted(
        (
            {
                "code": item.get("code"),
                "name": names.get(item.get("code"), item.get("code")),
                "pupils": pupils.get(item.get("code")),
                "quota": item.get("quota"),
                "amount": item.get("amount"),
            }
            for item in snapshot.result or []
        ),
        key=lambda line: dash.latvian_key(line["name"] or ""),
    )
    return render_template(
        "programmes/show_snapshot.html",
        snapshot=snapshot,
        rnd=rnd,
        programme=rnd.programme,
        lines=lines,
        total_pupils=sum(v or 0 for v in pupils.values()),
    )


# --- quotas --------------------------------------------------------------------------------------


def _quota_page(quota: Quota, form: OverrideQuotaForm | None = None):
    rnd = quota.round
    pupils = db.session.scalar(
        sa.select(PupilCount.pupils).where(
            PupilCount.round_id == rnd.id, PupilCount.municipality_id == quota.municipality_id
        )
    )
    history = db.session.scalars(
        sa.select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(
            AuditEvent.object_type == Quota.__tablename__,
            AuditEvent.object_id == quota.id,
            AuditEvent.action == "quota.overridden",
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    if form is None and permissions.can_override_quota(current_user, quota):
        form = OverrideQuotaForm(formdata=None, quota=quota.quota)
    return render_template(
        "programmes/show_quota.html",
        quota=quota,
        rnd=rnd,
        programme=rnd.programme,
        pupils=pupils,
        history=history,
        form=form,
    )


@bp.route("/quotas/<int:quota_id>")
@login_required
def show_quota(quota_id: int):
    quota = get_or_404(Quota, quota_id, permissions.can_view_quota, area="programmes")
    return _quota_page(quota)


@bp.route("/quotas/<int:quota_id>/override", methods=["POST"])
@login_required
def override_quota(quota_id: int):
    quota = get_or_404(Quota, quota_id, lambda u, q: permissions.is_national_admin(u), area="programmes")
    form = OverrideQuotaForm()
    if form.validate_on_submit():
        with committed(form) as saved:
            services.override_quota(quota, form.quota.data, reason=form.reason.data, actor=current_user)
        if saved:
            flash(
                _("The quota of %(name)s is now %(quota)d.", name=quota.municipality.name, quota=quota.quota),
                "success",
            )
            return redirect(url_for("programmes.show_round", round_id=quota.round_id, _anchor="quotas"))
    return _quota_page(quota, form)


@bp.route("/my-quota")
@login_required
def my_quota():
    require(permissions.can_view_own_quotas(current_user), area="programmes")
    ids = current_user.coordinated_municipality_ids()
    rows = db.session.execute(
        sa.select(Quota, Round, Programme, Municipality, PupilCount.pupils)
        .join(Round, Quota.round_id == Round.id)
        .join(Programme, Round.programme_id == Programme.id)
        .join(Municipality, Quota.municipality_id == Municipality.id)
        .outerjoin(
            PupilCount,
            sa.and_(
                PupilCount.round_id == Quota.round_id, PupilCount.municipality_id == Quota.municipality_id
            ),
        )
        .where(Quota.municipality_id.in_(ids))
        .order_by(Round.period_start.desc(), Round.id.desc(), Municipality.name)
    ).all()
    return render_template("programmes/my_quota.html", rows=rows)


# --- the national dashboard ----------------------------------------------------------------------


def _dashboard_round(rounds: list[Round]) -> Round | None:
    chosen = request.args.get("round", type=int)
    if chosen is not None:
        rnd = next((r for r in rounds if r.id == chosen), None)
        if rnd is None:
            abort(404)
        return rnd
    return rounds[0] if rounds else None


@bp.route("/dashboard")
@login_required
def dashboard():
    require(permissions.can_view_dashboard(current_user), area="programmes")
    rounds = _all_rounds()
    rnd = _dashboard_round(rounds)
    rows, sort_key, descending = [], dash.DEFAULT_SORT, False
    if rnd is not None:
        sort_key, descending = dash.parse_sort(request.args.get("sort"))
        rows = dash.sort_rows(dash.round_dashboard(rnd.id), sort_key, descending)
    return render_template(
        "programmes/dashboard.html",
        rounds=rounds,
        rnd=rnd,
        rows=rows,
        totals=dash.totals(rows),
        columns=dash.visible_columns(rows),
        sort_key=sort_key,
        descending=descending,
        chart=dash.quota_chart(rows),
    )


def _export_name(rnd: Round, extension: str) -> str:
    slug = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-.") else "-" for ch in rnd.programme.code)
    return f"quotas-{slug}-round-{rnd.number}-{riga_today().isoformat()}.{extension}"


def _export_rows(round_id: int) -> tuple[Round, list[dash.DashboardRow]]:
    require(permissions.can_view_dashboard(current_user), area="programmes")
    rnd = db.session.get(Round, round_id)
    if rnd is None:
        abort(404)
    sort_key, descending = dash.parse_sort(request.args.get("sort"))
    return rnd, dash.sort_rows(dash.round_dashboard(rnd.id), sort_key, descending)


@bp.route("/dashboard/<int:round_id>.csv")
@login_required
def export_dashboard_csv(round_id: int):
    rnd, rows = _export_rows(round_id)
    return Response(
        dash.to_csv(rows, current_language()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_export_name(rnd, "csv")}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


@bp.route("/dashboard/<int:round_id>.xlsx")
@login_required
def export_dashboard_xlsx(round_id: int):
    rnd, rows = _export_rows(round_id)
    language = current_language()
    body = dash.to_xlsx(
        rows,
        title=f"{rnd.programme.name(language)} — {rnd.number}",
        sheet_name=_("Quotas, round %(number)d", number=rnd.number),
        total_label=_("Total"),
    )
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(rnd, "xlsx")}"'},
    )
