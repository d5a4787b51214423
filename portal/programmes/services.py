"""Programme, round, pupil-count and quota use cases (DESIGN §2–3). Callers commit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from portal.applications.models import Application
from portal.applications.workflow import FUNDED_STATUSES, ApplicationStatus
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.core import audit
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.programmes import seed
from portal.programmes.dashboard import latvian_key
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
from portal.programmes.quotas import (
    METHOD,
    REDISTRIBUTION_METHOD,
    QuotaError,
    QuotaInput,
    Recipient,
    compute_quotas,
    projects_from_budget,
    redistribute,
)


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


# --- Closing a round: unused quota carried over or redistributed (DESIGN §3.4) --------------------

# Calls whose funding decision is still to come: the round cannot close before they are decided.
UNDECIDED_CALL_STATUSES = (CallStatus.DRAFT, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.EVALUATION)


@dataclass(frozen=True)
class CloseLine:
    """One municipality at round close: its ceiling, what it used, and where the rest goes."""

    municipality_id: int
    code: str
    name: str
    pupils: int
    total: int  # quota + carried in + redistributed in
    used: int  # funded applications and those further on
    reserve: int  # applications on the reserve list
    carried: int = 0  # carried to the programme's next round (policy carry_over)
    redistributed: int = 0  # extra projects from the others' unused quota (policy redistribute)

    @property
    def unused(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def own_reserve_covered(self) -> int:
        """Reserve-list projects the municipality's own unused quota already pays for (redistribute)."""
        return min(self.unused, self.reserve)


@dataclass(frozen=True)
class ClosePlan:
    """What closing a round does, computed without writing (the page previews it, the service applies it)."""

    policy: str
    lines: list[CloseLine]
    next_round: Round | None = None
    next_number: int | None = None
    unallocated: int = 0  # redistribute: unused quota no municipality has reserve projects for
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unused(self) -> int:
        return sum(line.unused for line in self.lines)

    @property
    def carried(self) -> int:
        return sum(line.carried for line in self.lines)

    @property
    def redistributed(self) -> int:
        return sum(line.redistributed for line in self.lines)


def _usage(rnd: Round) -> dict[int, tuple[int, int]]:
    """Return {municipality_id: (used, reserve)} for the round's calls, in one aggregate query."""
    used = sa.func.sum(sa.case((Application.status.in_(list(FUNDED_STATUSES)), 1), else_=0))
    reserve = sa.func.sum(sa.case((Application.status == ApplicationStatus.RESERVE, 1), else_=0))
    rows = db.session.execute(
        sa.select(Call.municipality_id, used, reserve)
        .join(Call, Application.call_id == Call.id)
        .where(Call.round_id == rnd.id)
        .group_by(Call.municipality_id)
    ).all()
    return {m: (int(u or 0), int(r or 0)) for m, u, r in rows}


def plan_round_close(rnd: Round) -> ClosePlan:
    """Work out what closing the round would do, without changing anything (the page's preview).

    `problems` lists why the round cannot be closed yet; `close_round` refuses with the first of them,
    having written nothing.
    """
    problems: list[str] = []
    if rnd.status == "closed":
        problems.append(str(_l("The round is already closed.")))
    undecided = db.session.scalar(
        sa.select(sa.func.count(Call.id)).where(
            Call.round_id == rnd.id, Call.status.in_([s.value for s in UNDECIDED_CALL_STATUSES])
        )
    )
    if undecided:
        problems.append(
            str(
                lazy_ngettext(
                    "%(num)d call of this round has no funding decision yet (it is a draft, open, closed "
                    "or being evaluated). Close the round after every call is decided.",
                    "%(num)d calls of this round have no funding decision yet (they are drafts, open, "
                    "closed or being evaluated). Close the round after every call is decided.",
                    undecided,
                )
            )
        )
    usage = _usage(rnd)
    quotas = {
        q.municipality_id: q for q in db.session.scalars(sa.select(Quota).where(Quota.round_id == rnd.id))
    }
    ids = set(quotas) | set(usage)
    pupils = dict(
        db.session.execute(
            sa.select(PupilCount.municipality_id, PupilCount.pupils).where(PupilCount.round_id == rnd.id)
        ).all()
    )
    names = (
        {m.id: m for m in db.session.scalars(sa.select(Municipality).where(Municipality.id.in_(ids)))}
        if ids
        else {}
    )
    lines = [
        CloseLine(
            municipality_id=m,
            code=names[m].code,
            name=names[m].name,
            pupils=pupils.get(m, 0),
            total=quotas[m].total if m in quotas else 0,
            used=usage.get(m, (0, 0))[0],
            reserve=usage.get(m, (0, 0))[1],
        )
        for m in ids
    ]
    lines.sort(key=lambda line: latvian_key(line.name))

    if rnd.unused_policy == "carry_over":
        number = rnd.number + 1
        following = db.session.scalar(
            sa.select(Round).where(Round.programme_id == rnd.programme_id, Round.number == number)
        )
        if following is None:
            problems.append(
                str(
                    _l(
                        "Create round %(number)d of the programme first: "
                        "the unused quota is carried over to it.",
                        number=number,
                    )
                )
            )
        elif following.status == "closed":
            problems.append(
                str(
                    _l(
                        "Round %(number)d is already closed, so nothing can be carried over to it.",
                        number=number,
                    )
                )
            )
        lines = [replace(line, carried=line.unused) for line in lines]
        return ClosePlan(
            rnd.unused_policy, lines, next_round=following, next_number=number, problems=problems
        )

    # Redistribute. A municipality's own unused quota first pays for its own reserve list; only the rest
    # goes into the pool, and only reserve projects nobody pays for yet count as need. Otherwise the same
    # free place could be used twice: once by its owner and once by the municipality it was given to.
    pool = sum(line.unused - line.own_reserve_covered for line in lines)
    recipients = [
        Recipient(line.code, line.pupils, line.reserve - line.own_reserve_covered)
        for line in lines
        if line.reserve > line.own_reserve_covered
    ]
    extras, unallocated = redistribute(pool, recipients)
    lines = [replace(line, redistributed=extras.get(line.code, 0)) for line in lines]
    return ClosePlan(rnd.unused_policy, lines, unallocated=unallocated, problems=problems)


def close_round(rnd: Round, *, actor) -> ClosePlan:
    """Close the round and pass its unused quota on, as the round's policy says (DESIGN §3.4).

    A quota is a ceiling: what a municipality did not use is either added to its quota in the
    programme's next round (carry_over) or shared, by largest remainder in proportion to pupils, among
    the municipalities with reserve-list projects, never more than their reserve list (redistribute).
    Refused while a call of the round awaits its funding decision, and for a closed round.
    """
    plan = plan_round_close(rnd)
    if not plan.ok:
        raise WorkflowError(plan.problems[0])
    status_before = rnd.status
    # Claim the round with a conditional UPDATE: of two administrators closing it at once, the second
    # finds it closed and nothing is passed on twice.
    claimed = db.session.execute(
        sa.update(Round)
        .where(Round.id == rnd.id, Round.status != "closed")
        .values(status="closed", closed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise WorkflowError(str(_l("The round is already closed.")))
    db.session.refresh(rnd)

    if plan.policy == "carry_over":
        target, column = plan.next_round, "carried_in"
        amounts = {line.municipality_id: line.carried for line in plan.lines if line.carried}
    else:
        target, column = rnd, "redistributed_in"
        amounts = {line.municipality_id: line.redistributed for line in plan.lines if line.redistributed}
    existing = {
        q.municipality_id: q for q in db.session.scalars(sa.select(Quota).where(Quota.round_id == target.id))
    }
    for municipality_id, extra in amounts.items():
        quota = existing.get(municipality_id)
        if quota is None:
            # Only what is passed on: the reserved amount stays quota × amount, here 0.
            quota = Quota(
                round_id=target.id,
                municipality_id=municipality_id,
                computed_quota=0,
                quota=0,
                carried_in=0,
                redistributed_in=0,
                reserved=Decimal("0.00"),
            )
            db.session.add(quota)
        setattr(quota, column, getattr(quota, column) + extra)
    db.session.flush()
    audit.record(
        "round.closed",
        actor=actor,
        obj=rnd,
        before={
            "status": status_before,
            "municipalities": {
                line.code: {
                    "quota": line.total,
                    "used": line.used,
                    "unused": line.unused,
                    "reserve": line.reserve,
                }
                for line in plan.lines
            },
        },
        after={
            "status": "closed",
            "policy": plan.policy,
            "next_round": plan.next_number,
            "method": REDISTRIBUTION_METHOD if plan.policy == "redistribute" else None,
            "unallocated": plan.unallocated,
            "municipalities": {
                line.code: {"carried": line.carried}
                if plan.policy == "carry_over"
                else {"redistributed_in": line.redistributed}
                for line in plan.lines
            },
        },
    )
    return plan


def open_round(rnd: Round, *, actor) -> Round:
    """Mark a draft round open once its quotas are computed (calls are created in open rounds)."""
    if rnd.status != "draft":
        raise WorkflowError(str(_l("Only a draft round can be opened.")))
    if not rnd.quotas:
        raise WorkflowError(str(_l("Compute the quotas before opening the round.")))
    rnd.status = "open"
    db.session.flush()
    audit.record("round.opened", actor=actor, obj=rnd, before={"status": "draft"}, after={"status": "open"})
    return rnd
