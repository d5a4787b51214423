"""Consolidation, the council's decision, the evaluation protocol and the reserve list
(DESIGN §3–§4, issue 5). Callers commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.applications.models import Application
from portal.applications.services import notify_organisation
from portal.applications.workflow import FUNDED_STATUSES, WORKFLOW, ApplicationStatus
from portal.calls.models import Call
from portal.calls.permissions import can_manage_call
from portal.calls.services import quota_for
from portal.calls.workflow import WORKFLOW as CALL_WORKFLOW
from portal.calls.workflow import CallStatus
from portal.core import audit, pdf, storage, uploads
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.evaluation import queries, rules
from portal.evaluation.models import Decision, EvaluationResult, Proposal
from portal.evaluation.services.scoring import quality_criteria
from portal.extensions import db
from portal.organisations.services import public_url

MIN_SCORES_PER_APPLICATION = 2  # an average of one opinion is not a committee's judgement


def _require_coordinator(call: Call, actor) -> None:
    if not can_manage_call(actor, call):
        raise TransitionDenied("only the municipality's coordinators run the evaluation")


def _scope(call: Call) -> dict:
    return {"municipality_id": call.municipality_id}


# --- quota ------------------------------------------------------------------------------------------


def funding_capacity(call: Call) -> int:
    """Return how many projects the call may fund: its own projects plus any quota the municipality has
    not put into a call (e.g. redistributed to it), never more than its quota minus what its other calls
    of the round fund (DESIGN §3: a quota is a ceiling)."""
    quota = quota_for(call.round, call.municipality_id)
    if quota is None:
        return 0
    allocated = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Call.projects), 0)).where(
            Call.round_id == call.round_id, Call.municipality_id == call.municipality_id
        )
    )
    funded_elsewhere = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .join(Call, Application.call_id == Call.id)
        .where(
            Call.round_id == call.round_id,
            Call.municipality_id == call.municipality_id,
            Call.id != call.id,
            Application.status.in_([s.value for s in FUNDED_STATUSES]),
        )
    )
    unallocated = max(0, quota.total - int(allocated))
    return max(0, min(call.projects + unallocated, quota.total - int(funded_elsewhere)))


def funded_in(call: Call) -> int:
    """Return how many of the call's applications hold funding now."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Application)
        .where(Application.call_id == call.id, Application.status.in_([s.value for s in FUNDED_STATUSES]))
    )


# --- quorum and consolidation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Quorum:
    voting: int  # accepted voting members
    scored: int  # voting members who submitted every sheet they owe
    needed: int

    @property
    def reached(self) -> bool:
        return self.voting >= rules.MIN_QUORUM and self.scored >= self.needed


def quorum(call: Call, received: list | None = None) -> Quorum:
    """Count the voting members who have done their part: declared, and submitted a sheet for every
    scorable application they did not recuse from. `received`: the call's `queries.received_summaries`
    when the caller has them already."""
    members = queries.voting_members(call.id)
    # After consolidation the scored applications move on (funded, reserve, …): count over the results.
    applications = queries.result_application_ids(call.id) or [
        a.id
        for a in (queries.received_summaries(call.id) if received is None else received)
        if a.status in queries.SCORABLE
    ]
    finished = queries.finished_counts(call.id, applications)
    scored = sum(
        1
        for m in members
        if m.declared_at is not None and applications and finished.get(m.id, 0) == len(applications)
    )
    return Quorum(voting=len(members), scored=scored, needed=rules.quorum_needed(len(members)))


def consolidation_problems(call: Call) -> list[str]:
    """Return every reason the scores cannot be consolidated yet (empty when they can)."""
    problems = []
    if call.status != CallStatus.EVALUATION:
        return [str(_l("Scores are consolidated while the call is being evaluated."))]
    received = queries.received_summaries(call.id)
    if any(a.status in queries.UNCHECKED for a in received):
        problems.append(str(_l("Finish the administrative check of every application first.")))
    if not any(a.status in queries.SCORABLE for a in received):
        return problems  # nothing to score (all rejected or withdrawn): nothing to wait for
    q = quorum(call, received)
    if not q.reached:
        problems.append(
            str(
                _l(
                    "No quorum: %(scored)d of %(voting)d voting members have submitted all their scores; "
                    "%(needed)d are needed (two thirds, and at least three).",
                    scored=q.scored,
                    voting=q.voting,
                    needed=q.needed,
                )
            )
        )
    counts = queries.submitted_counts(call.id)
    for application in received:
        if (
            application.status in queries.SCORABLE
            and counts.get(application.id, 0) < MIN_SCORES_PER_APPLICATION
        ):
            problems.append(
                str(
                    _l(
                        "“%(title)s” has fewer than %(n)d submitted scores.",
                        title=application.title or application.id,
                        n=MIN_SCORES_PER_APPLICATION,
                    )
                )
            )
    return problems


def _criteria(call: Call) -> list[rules.Criterion]:
    return [
        rules.Criterion(
            code=c.code, weight=c.weight, essential=c.essential, tie_break_order=c.tie_break_order
        )
        for c in quality_criteria(call)
    ]


def max_score(call: Call) -> Decimal:
    """Return the highest weighted total a member can give in the call (3 × Σ weights)."""
    return rules.max_total(_criteria(call))


def consolidate_call(call: Call, *, actor) -> list[EvaluationResult]:
    """Average, pass/fail, rank and propose (funded within the quota, reserve, not funded).

    May be run again until the decision (e.g. after a sheet was reopened and resubmitted): the results
    are recomputed from the submitted sheets."""
    _require_coordinator(call, actor)
    problems = consolidation_problems(call)
    if problems:
        raise WorkflowError(" ".join(problems))
    criteria = _criteria(call)
    codes = {c.id: c.code for c in quality_criteria(call)}
    sheets_by_application: dict[int, list[dict[str, int]]] = {}
    for sheet in queries.submitted_sheets(call.id):
        values = {codes[s.criterion_id]: s.value for s in sheet.scores if s.criterion_id in codes}
        sheets_by_application.setdefault(sheet.application_id, []).append(values)
    applications = queries.scorable_applications(call.id)
    outcomes = [
        rules.consolidate(
            a.id,
            sheets_by_application.get(a.id, []),
            criteria,
            pass_share=call.programme.pass_share,
            risk_share=a.risk_share or Decimal("0"),
            submitted_at=a.submitted_at,
        )
        for a in applications
    ]
    capacity = funding_capacity(call)
    ranked = rules.rank_and_propose(outcomes, capacity)
    db.session.execute(sa.delete(EvaluationResult).where(EvaluationResult.call_id == call.id))
    results = []
    for outcome in ranked:
        result = EvaluationResult(
            call_id=call.id,
            application_id=outcome.application_id,
            average=outcome.average,
            scorers=outcome.scorers,
            passed=outcome.passed,
            fail_reason=outcome.fail_reason,
            rank=outcome.rank,
            proposal=outcome.proposal,
            disagreements=outcome.disagreements,
            criterion_averages={k: f"{v:.2f}" for k, v in outcome.criterion_averages.items()},
        )
        db.session.add(result)
        results.append(result)
    for application in applications:
        if application.status == ApplicationStatus.ADMISSIBLE:
            transition(WORKFLOW, application, "consolidate", actor)
    audit.record(
        "evaluation.consolidated",
        actor=actor,
        obj=call,
        after={
            "capacity": capacity,
            "ranked": [[o.application_id, str(o.average), o.proposal] for o in ranked],
        },
        **_scope(call),
    )
    db.session.flush()
    return results


# --- decision --------------------------------------------------------------------------------------

ACTION_FOR = {Proposal.FUNDED: "fund", Proposal.RESERVE: "reserve", Proposal.NOT_FUNDED: "not_fund"}


def record_decision(
    call: Call,
    *,
    number: str,
    decided_on: date,
    file_data: bytes,
    filename: str,
    outcomes: dict[int, tuple[str, str | None]],
    actor,
    now: datetime | None = None,
) -> Decision:
    """Record the council's decision: its number, date and PDF, and the outcome of each scored
    application (the proposal unless a written reason says otherwise), within the call's quota. Every
    applicant is told their own result; the evaluation protocol is rendered and stored with its hash."""
    _require_coordinator(call, actor)
    now = now or utcnow()
    if call.status != CallStatus.EVALUATION:
        raise WorkflowError(str(_l("The decision is recorded while the call is being evaluated.")))
    # Applications withdrawn since the consolidation keep their result row but get no decision.
    results = {
        r.application_id: r
        for r in queries.results(call.id)
        if r.application.status == ApplicationStatus.SCORED
    }
    received = queries.received_applications(call.id)
    if any(a.status in queries.UNCHECKED for a in received):
        raise WorkflowError(str(_l("Finish the administrative check of every application first.")))
    if any(a.status == ApplicationStatus.ADMISSIBLE for a in received):
        raise WorkflowError(str(_l("Consolidate the scores first.")))
    # The pages write "Nr. 12/2026" themselves: a typed "Nr." or "No." in front is not repeated.
    number = re.sub(r"^(nr|no)\.?\s*", "", (number or "").strip(), flags=re.IGNORECASE).strip()
    if not number:
        raise WorkflowError(str(_l("Give the decision's number.")), field="number")
    if decided_on is None or decided_on > to_riga(now).date():
        raise WorkflowError(str(_l("The decision's date cannot be in the future.")), field="decided_on")
    if decided_on < to_riga(call.closes_at).date():
        raise WorkflowError(
            str(_l("The decision cannot be older than the call's deadline.")), field="decided_on"
        )
    kind, content_type = uploads.check_upload(file_data, filename, actor=actor)
    if kind != "pdf":
        raise WorkflowError(str(_l("Upload the decision as a PDF file.")), field="file")

    chosen: dict[int, tuple[Proposal, str | None]] = {}
    for application_id, result in results.items():
        raw, reason = outcomes.get(application_id, (result.proposal, None))
        try:
            outcome = Proposal(raw or result.proposal)
        except ValueError:
            raise WorkflowError(str(_l("Choose an outcome.")), field=f"outcome_{application_id}") from None
        reason = (reason or "").strip() or None
        if outcome != result.proposal and not reason:
            raise WorkflowError(
                str(_l("A decision that differs from the proposal needs a written reason.")),
                field=f"reason_{application_id}",
            )
        if not result.passed and outcome != Proposal.NOT_FUNDED:
            raise WorkflowError(
                str(
                    _l(
                        "An application that did not pass the evaluation cannot be funded "
                        "or put on the reserve list."
                    )
                ),
                field=f"outcome_{application_id}",
            )
        chosen[application_id] = (outcome, reason)
    funded = sum(1 for outcome, _reason in chosen.values() if outcome == Proposal.FUNDED)
    capacity = funding_capacity(call)
    if funded > capacity:
        raise WorkflowError(
            str(
                _l(
                    "The decision funds %(funded)d projects; "
                    "the municipality's quota leaves room for %(capacity)d.",
                    funded=funded,
                    capacity=capacity,
                )
            )
        )

    stored = storage.save_file(file_data, filename=filename, content_type=content_type, actor=actor)
    decision = Decision(
        call_id=call.id, number=number, decided_on=decided_on, file_id=stored.id, recorded_by_id=actor.id
    )
    db.session.add(decision)
    for application_id, (outcome, reason) in chosen.items():
        result = results[application_id]
        result.decision, result.deviation_reason = outcome.value, reason
        transition(WORKFLOW, result.application, ACTION_FOR[outcome], actor, reason)
    transition(CALL_WORKFLOW, call, "record_decision", actor)
    db.session.flush()
    protocol = render_protocol(call, decision, actor=actor)
    decision.protocol_file_id, decision.protocol_sha256 = protocol.id, protocol.sha256
    db.session.flush()
    _notify_results(call, [r for r in results.values() if r.decision])
    return decision


def applicant_scores(application: Application) -> list[dict]:
    """Return the application's submitted scores for its applicant: per member (numbered, not named)
    each criterion's score and comment. Nothing of any other application."""
    sheets = queries.submitted_sheets_for(application.id)
    return [
        {
            "number": i,
            "scores": sorted(
                ({"criterion": s.criterion, "value": s.value, "comment": s.comment} for s in sheet.scores),
                key=lambda row: row["criterion"].position,
            ),
        }
        for i, sheet in enumerate(sheets, start=1)
    ]


def _notify_results(call: Call, results: list[EvaluationResult]) -> None:
    for result in results:
        application = result.application
        members = applicant_scores(application)
        notify_organisation(
            application.organisation_id,
            "evaluation_result",
            application=application,
            result=result,
            members=members,
            max_score=max_score(call),
            link=public_url("applications.show", application_id=application.id),
        )


def protocol_context(call: Call, decision: Decision | None) -> dict:
    """Everything the protocol shows (also for a preview before the decision)."""
    from portal.evaluation.models import ConflictDeclaration

    members = queries.committee(call.id)
    declarations = db.session.scalars(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.member_id.in_([m.id for m in members]))
    ).all()
    sheets = queries.submitted_sheets(call.id)
    return {
        "call": call,
        "decision": decision,
        "members": members,
        "recusals": [d for d in declarations if d.recused],
        "declarations": declarations,
        "criteria": quality_criteria(call),
        "sheets": sheets,
        "results": queries.results(call.id),
        "rejected": [
            a for a in queries.received_applications(call.id) if a.status == ApplicationStatus.REJECTED
        ],
        "quorum": quorum(call),
        "capacity": funding_capacity(call),
        "max_score": max_score(call),
        "generated_at": utcnow(),
    }


def render_protocol(
    call: Call, decision: Decision | None, *, actor, locale: str = "lv"
) -> storage.StoredFile:
    """Render the evaluation protocol PDF (Latvian by default) and store it with its SHA-256."""
    with force_locale(locale):
        data = pdf.render_pdf(
            "evaluation/pdf/protocol.html", locale=locale, **protocol_context(call, decision)
        )
    return storage.save_file(
        data, filename=f"vertesanas-protokols-{call.id}.pdf", content_type="application/pdf", actor=actor
    )


# --- the reserve list -------------------------------------------------------------------------------


def next_reserve(call: Call) -> Application | None:
    """Return the best-ranked application on the call's reserve list, if any."""
    return db.session.scalar(
        sa.select(Application)
        .join(EvaluationResult, EvaluationResult.application_id == Application.id)
        .where(Application.call_id == call.id, Application.status == ApplicationStatus.RESERVE)
        .order_by(EvaluationResult.rank)
        .limit(1)
    )


def offer_next_reserve(call: Call, *, actor=None, because: Application | None = None) -> Application | None:
    """Offer funding to the next reserve application when the call has room under its quota.

    Nothing is offered once the round has closed with its unused quota carried over: that quota now
    belongs to the next round (DESIGN §3). Returns the application offered funding, or None."""
    if actor is not None:
        _require_coordinator(call, actor)
    if call.status not in (CallStatus.DECIDED, CallStatus.RESULTS_PUBLISHED, CallStatus.ARCHIVED):
        raise WorkflowError(str(_l("The reserve list is used after the decision.")))
    if call.round.status == "closed" and call.round.unused_policy == "carry_over":
        return None
    if funded_in(call) >= funding_capacity(call):
        return None
    candidate = next_reserve(call)
    if candidate is None:
        return None
    with force_locale("lv"):
        reason = (
            _(
                "Offered from the reserve list after “%(title)s” dropped out.",
                title=because.title or because.id,
            )
            if because is not None
            else _("Offered from the reserve list.")
        )
    transition(WORKFLOW, candidate, "offer_funding", actor, reason)
    notify_organisation(
        candidate.organisation_id,
        "funding_offered",
        application=candidate,
        link=public_url("applications.show", application_id=candidate.id),
    )
    return candidate


def cancel_funding(application: Application, reason: str, *, actor=None) -> Application | None:
    """Cancel a funded application's funding (e.g. the contract was not signed in time) and offer the
    place to the next reserve application. Returns the application offered funding, if any."""
    transition(WORKFLOW, application, "cancel_funding", actor, reason)
    notify_organisation(
        application.organisation_id, "funding_cancelled", application=application, reason=reason.strip()
    )
    return offer_next_reserve(application.call, actor=None, because=application)


def after_withdrawal(application: Application, from_status: str) -> Application | None:
    """A funded application was withdrawn (before its contract was signed): its place goes to the next
    reserve application."""
    if from_status not in (ApplicationStatus.FUNDED, ApplicationStatus.CONTRACT_SENT):
        return None
    return offer_next_reserve(application.call, actor=None, because=application)
