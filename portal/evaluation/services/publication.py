"""Publishing a call's results (issue 6): one click by the coordinator after the decision. Callers commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.calls.workflow import WORKFLOW as CALL_WORKFLOW
from portal.core.workflow import WorkflowError, transition
from portal.evaluation.models import Decision
from portal.extensions import db


def publish_results(call, *, actor):
    """Publish the decided call's results on the portal's public pages, feed and API."""
    if db.session.scalar(sa.select(Decision.id).where(Decision.call_id == call.id)) is None:
        raise WorkflowError(str(_l("Record the decision before publishing the results.")))
    return transition(CALL_WORKFLOW, call, "publish_results", actor)


def archive_call(call, *, actor):
    """Archive a call whose results are published (it stays public, read-only)."""
    return transition(CALL_WORKFLOW, call, "archive", actor)
