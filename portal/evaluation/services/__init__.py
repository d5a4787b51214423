"""Evaluation use cases (issue 5), one module per stage: the committee and its declarations, the
administrative check and clarification, scoring, and consolidation with the decision."""

from flask_babel import lazy_gettext as _l

from portal.calls.workflow import WORKFLOW as CALL_WORKFLOW
from portal.core.workflow import WorkflowError, transition
from portal.evaluation import queries, rules


def start_evaluation(call, *, actor):
    """Move a closed call into evaluation: its committee needs at least three voting members (quorum)."""
    voting = queries.voting_members(call.id)
    if len(voting) < rules.MIN_QUORUM:
        raise WorkflowError(
            str(
                _l(
                    "The committee needs at least %(n)d voting members who have accepted their appointment.",
                    n=rules.MIN_QUORUM,
                )
            )
        )
    return transition(CALL_WORKFLOW, call, "start_evaluation", actor)
