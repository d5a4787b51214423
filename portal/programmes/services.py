"""Programme, round, pupil-count and quota use cases (DESIGN §2–3). Callers commit."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.core import audit
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes import seed
from portal.programmes.models import (
    CriterionTemplate,
    Programme,
    ProgrammeText,
    PupilCount,
    Quota,
    QuotaSnapshot,
    Round,
)
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


def create_round(
    programme: Programme,
    *,
    actor,
    number: int,
    period_start,
    period_end,
    projects: int | None = None,
    budget: Decimal | None = None,
    unused_policy: str = "carry_over",
) -> Round:
    """Open a new round of a programme (draft until its quotas are computed)."""
    if projects is None and budget is None:
        raise WorkflowError(str(_l("Give the number of projects or the budget.")), field="projects")
    if period_end < period_start:
        raise WorkflowError(str(_l("The round cannot end before it starts.")), field="period_end")
    taken = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Round)
        .where(Round.programme_id == programme.id, Round.number == number)
    )
    if taken:
        raise WorkflowError(str(_l("This programme already has a round with that number.")), field="number")
    rnd = Round(
        programme=programme,
        number=number,
        projects=projects,
        budget=budget,
        period_start=period_start,
        period_end=period_end,
        unused_policy=unused_policy,
    )
    db.session.add(rnd)
    db.session.flush()
    audit.record(
        "round.created",
        actor=actor,
        obj=rnd,
        after={"programme": programme.code, "number": number, "projects": projects, "budget": budget},
    )
    return rnd


def municipality_resolver(day):
    """Resolve codes or names of the municipalities that exist on the day."""
    rows = db.session.execute(
        sa.select(Municipality.code, Municipality.name).where(
            Municipality.valid_from <= day,
            sa.or_(Municipality.valid_to.is_(None), Municipality.valid_to >= day),
        )
    )
    return resolver_from_pairs(rows)


def import_pupil_counts(rnd: Round, data: bytes, *, actor) -> ParseResult:
    """Replace the round's pupil counts with the file's, all or nothing; return the parse report."""
    if rnd.status == "closed":
        raise WorkflowError(str(_l("The round is closed; its pupil counts can no longer change.")))
    parsed = parse_pupil_counts(data, municipality_resolver(rnd.period_start))
    if not parsed.ok:
        return parsed
    ids = dict(db.session.execute(sa.select(Municipality.code, Municipality.id)).all())
    before = {pc.municipality.code: pc.pupils for pc in rnd.pupil_counts}
    rnd.pupil_counts.clear()
    db.session.flush()
    for row in parsed.rows:
        rnd.pupil_counts.append(
            PupilCount(
                municipality_id=ids[row.code], pupils=row.pupils, imported_by_id=getattr(actor, "id", None)
            )
        )
    db.session.flush()
    audit.record(
        "round.pupil_counts_imported",
        actor=actor,
        obj=rnd,
        before=before or None,
        after={r.code: r.pupils for r in parsed.rows},
    )
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
        results = compute_quotas(
            projects, [QuotaInput(pc.municipality.code, pc.pupils) for pc in counts], amount
        )
    except QuotaError as exc:
        raise WorkflowError(str(exc)) from exc
    snapshot = QuotaSnapshot(
        round_id=rnd.id,
        computed_by_id=getattr(actor, "id", None),
        method=METHOD,
        projects=projects,
        amount=amount,
        inputs=[{"code": pc.municipality.code, "pupils": pc.pupils} for pc in counts],
        result=[{"code": r.code, "quota": r.quota, "amount": str(r.amount)} for r in results],
    )
    db.session.add(snapshot)
    db.session.flush()
    by_code = {pc.municipality.code: pc.municipality_id for pc in counts}
    # A municipality dropped from the counts keeps no quota (only what it carried in, if anything).
    for quota in list(rnd.quotas):
        if quota.municipality_id not in by_code.values():
            if quota.carried_in:
                quota.quota = quota.computed_quota = 0
                quota.reserved = Decimal("0.00")
                quota.snapshot_id = snapshot.id
            else:
                rnd.quotas.remove(quota)
    db.session.flush()
    existing = {q.municipality_id: q for q in rnd.quotas}
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
    audit.record(
        "round.quotas_computed",
        actor=actor,
        obj=rnd,
        after={"snapshot": snapshot.id, "projects": projects, "method": METHOD},
    )
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
    audit.record(
        "quota.overridden",
        actor=actor,
        obj=quota,
        municipality_id=quota.municipality_id,
        before=before,
        after={"quota": new_quota},
        reason=quota.override_reason,
    )
    return quota


# --- Editing programmes and criteria from the web (issue 3, national administrator) ---------------

PROGRAMME_RULE_FIELDS = (
    "name_lv",
    "name_en",
    "operator",
    "period_start",
    "period_end",
    "funding_mode",
    "amount",
    "min_months",
    "max_months",
    "min_risk_share",
    "grade_min",
    "grade_max",
    "vocational_min",
    "vocational_max",
    "eligible_legal_forms",
    "risk_categories",
    "advance_percent",
    "min_call_window_days",
    "report_due_working_days",
    "report_review_working_days",
    "pass_share",
    "applications_per_organisation",
    "is_active",
)
"""The programme columns a national administrator may set; anything else given is ignored."""

CRITERION_TEXT_FIELDS = ("title_lv", "title_en", "description_lv", "description_en")
CRITERION_SCORING_FIELDS = ("weight", "essential", "tie_break_order", "levels")
MAX_MONEY = Decimal("9999999999.99")  # Numeric(12, 2)
# A project's amount times a quota must fit Numeric(12, 2): with at most MAX_PROJECTS in a round, so it does.
MAX_AMOUNT = Decimal("999999.99")
MAX_PROJECTS = 10_000
MAX_WEIGHT = Decimal("99.99")  # Numeric(4, 2)
LEVELS = ("0", "1", "2", "3")
PROGRAMME_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")


def _present(values, *names) -> bool:
    return all(values.get(n) is not None for n in names)


def programme_rule_problems(values) -> list[tuple[str, str]]:
    """Return (field, message) for every value the database's CHECK constraints would refuse.

    The form shows these next to the fields and the services refuse the same, so an IntegrityError
    never reaches the user. Missing values are skipped: the form reports them as missing.
    """
    from portal.core.enums import LegalForm

    problems: list[tuple[str, str]] = []
    if values.get("funding_mode") is not None and values["funding_mode"] not in ("fixed", "cap"):
        problems.append(("funding_mode", str(_l("Choose a fixed lump sum or a cap."))))
    amount = values.get("amount")
    if amount is not None and not amount > 0:
        problems.append(("amount", str(_l("The amount must be greater than zero."))))
    elif amount is not None and amount > MAX_AMOUNT:
        problems.append(("amount", str(_l("The amount is too large."))))
    if values.get("min_months") is not None and values["min_months"] < 1:
        problems.append(("min_months", str(_l("A project lasts at least one month."))))
    elif _present(values, "min_months", "max_months") and values["max_months"] < values["min_months"]:
        problems.append(("max_months", str(_l("The longest duration cannot be shorter than the shortest."))))
    for name in ("min_risk_share", "advance_percent", "pass_share"):
        value = values.get(name)
        if value is not None and not (0 <= value <= 100):
            problems.append((name, str(_l("Enter a percentage from 0 to 100."))))
    if _present(values, "grade_min", "grade_max") and values["grade_min"] > values["grade_max"]:
        problems.append(("grade_max", str(_l("The highest grade cannot be lower than the lowest."))))
    vocational = _present(values, "vocational_min", "vocational_max")
    if vocational and values["vocational_min"] > values["vocational_max"]:
        problems.append(("vocational_max", str(_l("The highest course cannot be lower than the lowest."))))
    if _present(values, "period_start", "period_end") and values["period_end"] <= values["period_start"]:
        problems.append(("period_end", str(_l("The programme must end after it starts."))))
    forms = values.get("eligible_legal_forms")
    if forms is not None:
        known = {f.value for f in LegalForm}
        if not forms:
            problems.append(("eligible_legal_forms", str(_l("Choose at least one eligible applicant type."))))
        elif not set(forms) <= known:
            problems.append(("eligible_legal_forms", str(_l("Choose only the applicant types listed."))))
    categories = values.get("risk_categories")
    if categories is not None:
        codes = [c.get("code") for c in categories]
        if not categories:
            problems.append(("risk_categories", str(_l("Give at least one risk category."))))
        elif len(set(codes)) != len(codes):
            problems.append(("risk_categories", str(_l("Each risk category needs its own code."))))
        elif not all(c.get("code") and c.get("lv") and c.get("en") for c in categories):
            message = _l("Each risk category needs a code and names in both languages.")
            problems.append(("risk_categories", str(message)))
    return problems


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise WorkflowError(message, field=field)


def _changes(obj, values: dict) -> tuple[dict, dict]:
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = old, value
    return before, after


def update_programme(programme: Programme, *, actor, values: dict) -> dict:
    """Change a programme's rules; return the changed values (audited with before and after).

    Only PROGRAMME_RULE_FIELDS are read, so a posted `code` or `id` never changes anything.
    """
    values = {k: v for k, v in values.items() if k in PROGRAMME_RULE_FIELDS}
    merged = {name: getattr(programme, name) for name in PROGRAMME_RULE_FIELDS} | values
    _refuse(programme_rule_problems(merged))
    before, after = _changes(programme, values)
    if not after:
        return after
    for name, value in after.items():
        setattr(programme, name, value)
    db.session.flush()
    audit.record("programme.updated", actor=actor, obj=programme, before=before, after=after)
    return after


def create_programme(*, actor, code: str, values: dict, copy_from: Programme | None = None) -> Programme:
    """Create a programme from its rules, copying the criteria and template texts of another one.

    A second programme (e.g. the 4.2.3.1 successor) is data: its numbers come from the form and its
    criteria start as a copy that the administrator then edits.
    """
    code = (code or "").strip().lower()
    if not PROGRAMME_CODE.match(code):
        raise WorkflowError(str(_l("Use 1–40 lower-case letters, digits, dots or hyphens.")), field="code")
    taken = db.session.scalar(sa.select(sa.func.count()).select_from(Programme).where(Programme.code == code))
    if taken:
        raise WorkflowError(str(_l("A programme with this code already exists.")), field="code")
    values = {k: v for k, v in values.items() if k in PROGRAMME_RULE_FIELDS}
    missing = [n for n in PROGRAMME_RULE_FIELDS if values.get(n) is None and n != "is_active"]
    if missing:
        raise WorkflowError(str(_l("This value is required.")), field=missing[0])
    _refuse(programme_rule_problems(values))
    programme = Programme(code=code, **values)
    if copy_from is not None:
        programme.criteria = [CriterionTemplate.copy_of(source) for source in copy_from.criteria]
        programme.texts = [ProgrammeText(kind=t.kind, locale=t.locale, body=t.body) for t in copy_from.texts]
    db.session.add(programme)
    db.session.flush()
    audit.record(
        "programme.created",
        actor=actor,
        obj=programme,
        after={"code": code, **values, "copied_from": copy_from.code if copy_from else None},
    )
    return programme


def criterion_problems(criterion: CriterionTemplate, values) -> list[tuple[str, str]]:
    """Return (field, message) for a criterion's values the rules refuse (weights, tie-breaks, levels)."""
    problems: list[tuple[str, str]] = []
    for name in ("title_lv", "title_en"):
        if name in values and not (values[name] or "").strip():
            problems.append((name, str(_l("Enter the title."))))
    weight = values.get("weight")
    if weight is not None and not (0 <= weight <= MAX_WEIGHT):
        problems.append(("weight", str(_l("Enter a weight from 0 to 99.99."))))
    order = values.get("tie_break_order")
    if order is not None:
        if order < 1:
            problems.append(("tie_break_order", str(_l("The tie-break order starts at 1."))))
        else:
            clash = db.session.scalar(
                sa.select(CriterionTemplate.code).where(
                    CriterionTemplate.programme_id == criterion.programme_id,
                    CriterionTemplate.id != criterion.id,
                    CriterionTemplate.tie_break_order == order,
                )
            )
            if clash is not None:
                message = _l("Another criterion already has this place in the tie-break order.")
                problems.append(("tie_break_order", str(message)))
    levels = values.get("levels")
    if levels is not None:
        for level in LEVELS:
            for lang in ("lv", "en"):
                if not (levels.get(level, {}).get(lang) or "").strip():
                    problems.append((f"level_{level}_{lang}", str(_l("Describe this level."))))
    return problems


def update_criterion(criterion: CriterionTemplate, *, actor, values: dict) -> dict:
    """Change a criterion template's titles and, for quality criteria, its scoring; audited.

    Administrative and eligibility criteria are yes/no checks: their weight and levels stay as they are.
    """
    allowed = CRITERION_TEXT_FIELDS + (CRITERION_SCORING_FIELDS if criterion.kind == "quality" else ())
    values = {k: v for k, v in values.items() if k in allowed}
    _refuse(criterion_problems(criterion, values))
    before, after = _changes(criterion, values)
    if not after:
        return after
    for name, value in after.items():
        setattr(criterion, name, value)
    db.session.flush()
    audit.record("criterion.updated", actor=actor, obj=criterion, before=before, after=after)
    return after


def next_round_number(programme: Programme) -> int:
    """Return the number the programme's next round would get."""
    highest = db.session.scalar(
        sa.select(sa.func.max(Round.number)).where(Round.programme_id == programme.id)
    )
    return (highest or 0) + 1
