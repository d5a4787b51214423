"""Scoring: each voting member's sheet per application, autosaved, then submitted and locked
(DESIGN §4, QUALITY C4). Callers commit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core import audit
from portal.core.mail import queue_email
from portal.core.privacy import PERSONAL_CODE_MESSAGE, contains_personal_code
from portal.core.timeutil import utcnow
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.evaluation import permissions, queries
from portal.evaluation.models import Score, ScoreSheet
from portal.evaluation.workflow import WORKFLOW, SheetStatus
from portal.extensions import db
from portal.organisations.services import public_url

COMMENT_REQUIRED_BELOW = 2  # a 0 or a 1 must be explained


class SheetConflict(WorkflowError):
    """The sheet was saved elsewhere (another tab) since this copy was loaded (QUALITY H2)."""

    def __init__(self, sheet: ScoreSheet):
        super().__init__(str(_l("Your scores were changed in another window. Reload to see them.")))
        self.sheet = sheet


class ScoresIncomplete(WorkflowError):
    """Submitting needs every score and a comment on each 0 or 1; `problems` maps field → message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(str(_l("The scores cannot be submitted yet.")))
        self.problems = problems


class CommentsRefused(WorkflowError):
    """A comment holds a personal code (QUALITY F2): it was not stored, everything else was (the caller
    commits the rest). `problems` maps field → message, like `ScoresIncomplete`."""

    def __init__(self, sheet: ScoreSheet, problems: dict[str, str]):
        super().__init__(str(PERSONAL_CODE_MESSAGE))
        self.sheet = sheet
        self.problems = problems


def quality_criteria(call) -> list:
    """Return the call's quality criteria (the ones scored 0–3), in order."""
    return [c for c in call.criteria if c.kind == "quality"]


def open_sheet(application, *, actor) -> ScoreSheet:
    """Return the actor's sheet for the application, creating the draft on first opening."""
    if not permissions.can_open_for_scoring(actor, application):
        raise TransitionDenied("not a member who may score this application")
    member = queries.member_for(actor, application.call_id)
    sheet = queries.sheet(member.id, application.id)
    if sheet is None:
        if not permissions.can_score(actor, application):
            raise WorkflowError(str(_l("Scoring of this call has finished.")))
        sheet = ScoreSheet(member_id=member.id, application_id=application.id, status=SheetStatus.DRAFT)
        sheet.scores = [Score(criterion_id=c.id) for c in quality_criteria(application.call)]
        db.session.add(sheet)
        db.session.flush()
    return sheet


def _check_value(raw) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise WorkflowError(str(_l("A score is a whole number from 0 to 3.")))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise WorkflowError(str(_l("A score is a whole number from 0 to 3."))) from None
    if not 0 <= value <= 3:
        raise WorkflowError(str(_l("A score is a whole number from 0 to 3.")))
    return value


def save_scores(
    sheet: ScoreSheet, values: dict[int, tuple], *, actor, expected_version: int | None = None
) -> ScoreSheet:
    """Store the member's draft scores `{criterion_id: (value or None, comment)}` (autosave: anything may
    still be missing). With `expected_version`, a save from a stale copy is refused (QUALITY H2).

    A comment shaped like a personal code is not stored (the stored one stays); the rest is saved and
    `CommentsRefused` then names the refused comments (QUALITY F2)."""
    if actor is None or sheet.member.user_id != actor.id:
        raise TransitionDenied("only the member edits their scores")
    if not permissions.can_score(actor, sheet.application):
        raise WorkflowError(str(_l("Scoring of this application has finished.")))
    if sheet.is_submitted:
        raise WorkflowError(str(_l("Your scores are submitted and locked.")))
    if expected_version is not None and expected_version != sheet.lock_version:
        raise SheetConflict(sheet)
    by_criterion = {s.criterion_id: s for s in sheet.scores}
    refused = {}
    for criterion_id, (value, comment) in values.items():
        score = by_criterion.get(criterion_id)
        if score is None:
            continue  # not a quality criterion of this call: ignored, never stored
        score.value = _check_value(value)
        if contains_personal_code(comment):
            refused[f"comment_{criterion_id}"] = str(PERSONAL_CODE_MESSAGE)
        else:
            score.comment = (comment or "").strip() or None
    sheet.updated_at = utcnow()  # a save always bumps the version
    db.session.flush()
    if refused:
        raise CommentsRefused(sheet, refused)
    return sheet


def sheet_problems(sheet: ScoreSheet) -> dict[str, str]:
    """Return what stops the sheet from being submitted: a missing score, a 0 or 1 without a comment."""
    problems = {}
    for score in sorted(sheet.scores, key=lambda s: s.criterion.position):
        if score.value is None:
            problems[f"score_{score.criterion_id}"] = str(_l("Give a score from 0 to 3."))
        elif score.value < COMMENT_REQUIRED_BELOW and not score.comment:
            problems[f"comment_{score.criterion_id}"] = str(_l("Explain a score of 0 or 1 in a comment."))
    return problems


def submit_scores(sheet: ScoreSheet, *, actor) -> ScoreSheet:
    """Submit the sheet: complete, then locked (only the coordinator can reopen it, with a reason)."""
    if actor is None or sheet.member.user_id != actor.id:
        raise TransitionDenied("only the member submits their scores")
    if not permissions.can_score(actor, sheet.application):
        raise WorkflowError(str(_l("Scoring of this application has finished.")))
    problems = sheet_problems(sheet)
    if problems:
        raise ScoresIncomplete(problems)
    with db.session.no_autoflush:  # the time and the status reach the database together (a CHECK ties them)
        sheet.submitted_at = utcnow()
        transition(WORKFLOW, sheet, "submit", actor)
    # The scores themselves go into the audit trail once, as submitted (autosaved drafts are not events).
    audit.record(
        "score_sheet.scores",
        actor=actor,
        obj=sheet,
        after={str(s.criterion_id): {"value": s.value, "comment": s.comment} for s in sheet.scores},
        municipality_id=sheet.member.call.municipality_id,
    )
    return sheet


def reopen_sheet(sheet: ScoreSheet, reason: str, *, actor) -> ScoreSheet:
    """Give a submitted sheet back to its member (a mistake noticed), before consolidation."""
    if sheet.application.status != "admissible":
        raise WorkflowError(str(_l("The scores have been consolidated; they can no longer be reopened.")))
    if "coordinator" not in WORKFLOW.roles_for(sheet, actor):
        raise TransitionDenied("only the coordinators reopen a submitted sheet")
    if not sheet.is_submitted:
        raise WorkflowError(str(_l("These scores are not submitted.")))
    with db.session.no_autoflush:  # the time and the status reach the database together (a CHECK ties them)
        sheet.submitted_at = None
        transition(WORKFLOW, sheet, "reopen", actor, reason)
    member = sheet.member.user
    queue_email(
        member.email,
        "scores_reopened",
        locale=member.locale,
        sheet=sheet,
        reason=reason.strip(),
        link=public_url("evaluation.score_application", application_id=sheet.application_id),
    )
    return sheet
