"""Read-only questions about a call's evaluation, each answered in a fixed number of SQL statements."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import ObjectDeletedError

from portal.applications.models import Application
from portal.applications.workflow import RECEIVED_EXCLUDED, ApplicationStatus
from portal.evaluation.models import (
    VOTING_ROLES,
    CommitteeMember,
    CommitteeRole,
    ConflictDeclaration,
    EligibilityAnswer,
    EvaluationResult,
    Score,
    ScoreSheet,
)
from portal.extensions import db

# Applications that the committee scores (and, after consolidation, has scored).
SCORABLE = (ApplicationStatus.ADMISSIBLE, ApplicationStatus.SCORED)
# Applications whose administrative check is not finished.
UNCHECKED = (ApplicationStatus.SUBMITTED, ApplicationStatus.CLARIFICATION_REQUESTED)


def _remembered(model, key: tuple, find, still_matches):
    """Return `find()`'s row, remembered in the session: a page asks for the same seat, declaration
    or sheet several times (the permission check, the view, the template), and the next asks are
    answered from what the session holds instead of a query. A remembered row is used only while the
    session still holds it and it still matches the question (an expired row reloads itself, a deleted
    one is looked up again); "none found" is never remembered."""
    seen = db.session.info.setdefault("evaluation.remembered", {})
    row = seen.get((model.__name__, *key))
    if row is not None:
        state = sa.inspect(row)
        if state.persistent and state.session_id == db.session().hash_key:
            try:
                if still_matches(row):
                    return row
            except ObjectDeletedError:
                pass
    row = find()
    if row is not None:
        seen[(model.__name__, *key)] = row
    return row


def member_for(user, call_id: int) -> CommitteeMember | None:
    """Return the user's (accepted) seat on the call's committee, if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    user_id = user.id
    return _remembered(
        CommitteeMember,
        (user_id, call_id),
        lambda: db.session.scalar(
            sa.select(CommitteeMember).where(
                CommitteeMember.call_id == call_id, CommitteeMember.user_id == user_id
            )
        ),
        lambda m: m.call_id == call_id and m.user_id == user_id,
    )


def is_secretary(user, call_id: int) -> bool:
    """Say whether the user is the call committee's secretary (who checks with the coordinator)."""
    member = member_for(user, call_id)
    return member is not None and member.role == CommitteeRole.SECRETARY


def committee(call_id: int) -> list[CommitteeMember]:
    """Return the call's committee: chair first, then members, then the secretary, by name or e-mail."""
    order = sa.case({"chair": 0, "member": 1, "secretary": 2}, value=CommitteeMember.role)
    return list(
        db.session.scalars(
            sa.select(CommitteeMember)
            .where(CommitteeMember.call_id == call_id)
            .options(joinedload(CommitteeMember.user))
            .order_by(order, CommitteeMember.email)
        )
    )


def voting_members(call_id: int) -> list[CommitteeMember]:
    """Return the accepted voting members (chair and members)."""
    return [m for m in committee(call_id) if m.role in VOTING_ROLES and m.user_id is not None]


def received_applications(call_id: int) -> list[Application]:
    """Return the call's applications that reached the municipality, in submission order."""
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.call_id == call_id, Application.status.not_in(list(RECEIVED_EXCLUDED)))
            .options(joinedload(Application.organisation))
            .order_by(Application.submitted_at, Application.id)
        )
    )


def received_summaries(call_id: int) -> list[sa.Row]:
    """Return (id, status, title) of the call's received applications in submission order: what a
    check over all of them needs, without loading each application's texts."""
    return list(
        db.session.execute(
            sa.select(Application.id, Application.status, Application.title)
            .where(Application.call_id == call_id, Application.status.not_in(list(RECEIVED_EXCLUDED)))
            .order_by(Application.submitted_at, Application.id)
        )
    )


def scorable_applications(call_id: int) -> list[Application]:
    """Return the applications the committee scores (admissible or already scored)."""
    return [a for a in received_applications(call_id) if a.status in SCORABLE]


def conflicts_of(member_id: int) -> dict[int, ConflictDeclaration]:
    """Return the member's declarations by application id."""
    rows = db.session.scalars(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.member_id == member_id)
    )
    return {d.application_id: d for d in rows}


def conflict(member_id: int, application_id: int) -> ConflictDeclaration | None:
    return _remembered(
        ConflictDeclaration,
        (member_id, application_id),
        lambda: db.session.scalar(
            sa.select(ConflictDeclaration).where(
                ConflictDeclaration.member_id == member_id,
                ConflictDeclaration.application_id == application_id,
            )
        ),
        lambda d: d.member_id == member_id and d.application_id == application_id,
    )


def sheet(member_id: int, application_id: int) -> ScoreSheet | None:
    return _remembered(
        ScoreSheet,
        (member_id, application_id),
        lambda: db.session.scalar(
            sa.select(ScoreSheet)
            .where(ScoreSheet.member_id == member_id, ScoreSheet.application_id == application_id)
            .options(selectinload(ScoreSheet.scores))
        ),
        lambda s: s.member_id == member_id and s.application_id == application_id,
    )


def sheets_of(member_id: int) -> dict[int, ScoreSheet]:
    """Return the member's score sheets by application id."""
    rows = db.session.scalars(sa.select(ScoreSheet).where(ScoreSheet.member_id == member_id))
    return {s.application_id: s for s in rows}


def submitted_sheets(call_id: int) -> list[ScoreSheet]:
    """Return every submitted sheet of the call with its scores and member (for consolidation)."""
    return list(
        db.session.scalars(
            sa.select(ScoreSheet)
            .join(CommitteeMember, ScoreSheet.member_id == CommitteeMember.id)
            .where(CommitteeMember.call_id == call_id, ScoreSheet.status == "submitted")
            .options(
                selectinload(ScoreSheet.scores).joinedload(Score.criterion),
                joinedload(ScoreSheet.member).joinedload(CommitteeMember.user),
            )
            .order_by(ScoreSheet.application_id, CommitteeMember.id)
        )
    )


def submitted_counts(call_id: int) -> dict[int, int]:
    """Return the number of submitted sheets per application of the call (one aggregate statement)."""
    rows = db.session.execute(
        sa.select(ScoreSheet.application_id, sa.func.count())
        .join(CommitteeMember, ScoreSheet.member_id == CommitteeMember.id)
        .where(CommitteeMember.call_id == call_id, ScoreSheet.status == "submitted")
        .group_by(ScoreSheet.application_id)
    )
    return {application_id: n for application_id, n in rows}


def submitted_sheets_for(application_id: int) -> list[ScoreSheet]:
    """Return the application's submitted sheets with their scores and members."""
    return list(
        db.session.scalars(
            sa.select(ScoreSheet)
            .where(ScoreSheet.application_id == application_id, ScoreSheet.status == "submitted")
            .options(
                selectinload(ScoreSheet.scores).joinedload(Score.criterion),
                joinedload(ScoreSheet.member).joinedload(CommitteeMember.user),
            )
            .order_by(ScoreSheet.member_id)
        )
    )


def progress(call_id: int) -> dict[tuple[int, int], str]:
    """Return the state of each (member id, application id) cell of the progress matrix:
    'recused', 'submitted', 'draft', 'declared' (no conflict, not started) — missing means nothing yet."""
    cells: dict[tuple[int, int], str] = {}
    declarations = db.session.execute(
        sa.select(
            ConflictDeclaration.member_id, ConflictDeclaration.application_id, ConflictDeclaration.recused
        )
        .join(CommitteeMember, ConflictDeclaration.member_id == CommitteeMember.id)
        .where(CommitteeMember.call_id == call_id)
    )
    for member_id, application_id, recused in declarations:
        cells[(member_id, application_id)] = "recused" if recused else "declared"
    sheets = db.session.execute(
        sa.select(ScoreSheet.member_id, ScoreSheet.application_id, ScoreSheet.status)
        .join(CommitteeMember, ScoreSheet.member_id == CommitteeMember.id)
        .where(CommitteeMember.call_id == call_id)
    )
    for member_id, application_id, status in sheets:
        if cells.get((member_id, application_id)) != "recused":
            cells[(member_id, application_id)] = status
    return cells


def finished_counts(call_id: int, application_ids: list[int]) -> dict[int, int]:
    """Return, per member of the call's committee, how many of the given applications they are done
    with: recused from, or scored and submitted (the cells 'recused' and 'submitted' of `progress`)."""
    if not application_ids:
        return {}
    recused = (
        sa.select(ConflictDeclaration.member_id, ConflictDeclaration.application_id)
        .join(CommitteeMember, ConflictDeclaration.member_id == CommitteeMember.id)
        .where(
            CommitteeMember.call_id == call_id,
            ConflictDeclaration.recused.is_(True),
            ConflictDeclaration.application_id.in_(application_ids),
        )
    )
    submitted = (
        sa.select(ScoreSheet.member_id, ScoreSheet.application_id)
        .join(CommitteeMember, ScoreSheet.member_id == CommitteeMember.id)
        .where(
            CommitteeMember.call_id == call_id,
            ScoreSheet.status == "submitted",
            ScoreSheet.application_id.in_(application_ids),
        )
    )
    done = sa.union(recused, submitted).subquery("done")  # UNION: a pair counts once
    rows = db.session.execute(sa.select(done.c.member_id, sa.func.count()).group_by(done.c.member_id))
    return {member_id: n for member_id, n in rows}


def eligibility_answers(application_id: int) -> dict[int, EligibilityAnswer]:
    """Return the recorded check answers by criterion id."""
    rows = db.session.scalars(
        sa.select(EligibilityAnswer).where(EligibilityAnswer.application_id == application_id)
    )
    return {a.criterion_id: a for a in rows}


def results(call_id: int, *, ranking_only: bool = False) -> list[EvaluationResult]:
    """Return the consolidated results: ranked (passing) first, then the failing ones by average.

    `ranking_only` loads of each application only what the ranking shows (title, status, organisation
    name), not its texts: for a read-only page that touches nothing else of them."""
    application = joinedload(EvaluationResult.application)
    if ranking_only:
        shown = (Application.id, Application.call_id, Application.title, Application.status)
        application = application.load_only(*shown, Application.lock_version)
    return list(
        db.session.scalars(
            sa.select(EvaluationResult)
            .where(EvaluationResult.call_id == call_id)
            .options(application.joinedload(Application.organisation))
            .order_by(EvaluationResult.rank.is_(None), EvaluationResult.rank, EvaluationResult.average.desc())
        )
    )


def result_application_ids(call_id: int) -> list[int]:
    """Return the ids of the applications with a consolidated result (none before consolidation)."""
    return list(
        db.session.scalars(
            sa.select(EvaluationResult.application_id).where(EvaluationResult.call_id == call_id)
        )
    )


def result_for(application_id: int) -> EvaluationResult | None:
    return db.session.scalar(
        sa.select(EvaluationResult).where(EvaluationResult.application_id == application_id)
    )


def calls_of_member(user) -> list[CommitteeMember]:
    """Return the user's committee seats with their calls, newest call first (the evaluator's home)."""
    from portal.calls.models import Call

    return list(
        db.session.scalars(
            sa.select(CommitteeMember)
            .join(Call, CommitteeMember.call_id == Call.id)
            .where(CommitteeMember.user_id == user.id)
            .options(joinedload(CommitteeMember.call).joinedload(Call.municipality))
            .order_by(Call.closes_at.desc())
        )
    )
