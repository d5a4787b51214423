"""Programme, round, pupil-count and quota use cases (DESIGN §2–3). Callers commit."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.core import audit
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes import seed
from portal.programmes.models import CriterionTemplate, Programme, ProgrammeText, PupilCount, Quota, QuotaSnapshot, Round
from portal.programmes.pupil_counts import ParseResult, parse_pupil_counts, resolver_from_pairs
from portal.programmes.quotas import METHOD, QuotaError, QuotaInput, compute_quotas, projects_from_budget


def ensure_pumpurs_programme() -> Programme:
    """Create the PuMPuRS youth initiative programme with its criteria and texts, once."""
    existing = db.session.scalar(sa.select(Programme).where(Programme.code == seed.PUMPURS["code"]))
    if existing is not None:
        return existing
    programme = Programme(**seed.PUMPURS)
    programme.criteria = [CriterionTemplate(**row) for row in seed.criteria_rows()]
    programme.texts = [ProgrammeText(kind=k, locale=loc, body=body) for (k, loc), body in seed.TEXTS.items()]
    db.session.add(programme)
    db.session.flush()
    return programme


def create_round(programme: Programme, *, actor, number: int, period_start, period_end,
                 projects: int | None = None, budget: Decimal | None = None,
                 unused_policy: str = "carry_over") -> Round:
    """Open a new round of a programme (draft until its quotas are computed)."""
    if projects is None and budget is None:
        raise WorkflowError(str(_l("Give the number of projects or the budget.")), field="projects")
    if period_end < period_start:
        raise WorkflowError(str(_l("The round cannot end before it starts.")), field="period_end")
    taken = db.session.scalar(
        sa.select(sa.func.count()).select_from(Round).where(Round.programme_id == programme.id, Round.number == number)
    )
    if taken:
        raise WorkflowError(str(_l("This programme already has a round with that number.")), field="number")
    rnd = Round(programme=programme, number=number, projects=projects, budget=budget,
                period_start=period_start, period_end=period_end, unused_policy=unused_policy)
    db.session.add(rnd)
    db.session.flush()
    audit.record("round.created", actor=actor, obj=rnd,
                 after={"programme": programme.code, "number": number, "projects": projects, "budget": budget})
    return rnd


def municipality_resolver(day):
    """Resolve codes or names of the municipalities that exist on the day."""
    rows = db.session.execute(sa.select(Municipality.code, Municipality.name).where(
        Municipality.valid_from <= day, sa.or_(Municipality.valid_to.is_(None), Municipality.valid_to >= day)))
    return resolver_from_pairs(rows)


def import_pupil_counts(rnd: Round, data: bytes, *, actor) -> ParseResult:
    """Replace the round's pupil counts with the file's, all or nothing; return the parse report."""
    parsed = parse_pupil_counts(data, municipality_resolver(rnd.period_start))
    if not parsed.ok:
        return parsed
    ids = dict(db.session.execute(sa.select(Municipality.code, Municipality.id)).all())
    before = {pc.municipality.code: pc.pupils for pc in rnd.pupil_counts}
    rnd.pupil_counts.clear()
    db.session.flush()
    for row in parsed.rows:
        rnd.pupil_counts.append(PupilCount(municipality_id=ids[row.code], pupils=row.pupils,
                                           imported_by_id=getattr(actor, "id", None)))
    db.session.flush()
    audit.record("round.pupil_counts_imported", actor=actor, obj=rnd, before=before or None,
                 after={r.code: r.pupils for r in parsed.rows})
    return parsed


def round_projects(rnd: Round) -> int:
    """Return P for the round: its number of projects, or floor(budget / amount)."""
    if rnd.projects is not None:
        return rnd.projects
    return projects_from_budget(rnd.budget, rnd.programme.amount)


def compute_round_quotas(rnd: Round, *, actor) -> QuotaSnapshot:
    """Compute every municipality's quota from the round's pupil counts and store it with a snapshot.

    Overrides made before are replaced by the new computation (and the audit trail keeps them).
    """
    if rnd.status == "closed":
        raise WorkflowError(str(_l("The round is closed; its quotas can no longer change.")))
    counts = sorted(rnd.pupil_counts, key=lambda pc: pc.municipality.code)
    if not counts:
        raise WorkflowError(str(_l("Import the pupil counts first.")), field="counts")
    amount = rnd.programme.amount
    try:
        projects = round_projects(rnd)
        results = compute_quotas(projects, [QuotaInput(pc.municipality.code, pc.pupils) for pc in counts], amount)
    except QuotaError as exc:
        raise WorkflowError(str(exc)) from exc
    snapshot = QuotaSnapshot(
        round_id=rnd.id, computed_by_id=getattr(actor, "id", None), method=METHOD, projects=projects,
        amount=amount, inputs=[{"code": pc.municipality.code, "pupils": pc.pupils} for pc in counts],
        result=[{"code": r.code, "quota": r.quota, "amount": str(r.amount)} for r in results],
    )
    db.session.add(snapshot)
    db.session.flush()
    existing = {q.municipality_id: q for q in rnd.quotas}
    by_code = {pc.municipality.code: pc.municipality_id for pc in counts}
    for r in results:
        quota = existing.get(by_code[r.code])
        if quota is None:
            quota = Quota(round_id=rnd.id, municipality_id=by_code[r.code], carried_in=0)
            rnd.quotas.append(quota)
        quota.snapshot_id = snapshot.id
        quota.computed_quota = quota.quota = r.quota
        quota.reserved = r.amount
        quota.override_reason = quota.overridden_at = quota.overridden_by_id = None
    db.session.flush()
    audit.record("round.quotas_computed", actor=actor, obj=rnd,
                 after={"snapshot": snapshot.id, "projects": projects, "method": METHOD})
    return snapshot


def override_quota(quota: Quota, new_quota: int, *, reason: str, actor) -> Quota:
    """Set a municipality's quota by hand; the reason is mandatory and the change is audited."""
    if not reason or not reason.strip():
        raise WorkflowError(str(_l("Give the reason for changing the quota.")), field="reason")
    if new_quota < 0:
        raise WorkflowError(str(_l("A quota cannot be negative.")), field="quota")
    if quota.round.status == "closed":
        raise WorkflowError(str(_l("The round is closed; its quotas can no longer change.")))
    before = {"quota": quota.quota}
    quota.quota = new_quota
    quota.reserved = (quota.round.programme.amount * new_quota).quantize(Decimal("0.01"))
    quota.override_reason = reason.strip()
    quota.overridden_at = utcnow()
    quota.overridden_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record("quota.overridden", actor=actor, obj=quota, municipality_id=quota.municipality_id,
                 before=before, after={"quota": new_quota}, reason=quota.override_reason)
    return quota
