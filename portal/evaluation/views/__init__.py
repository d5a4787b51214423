"""Evaluation pages (issue 5), one module per stage; all routes hang on the one `evaluation` blueprint."""

from flask import Blueprint

from portal.evaluation.models import CommitteeRole, Proposal

bp = Blueprint("evaluation", __name__)


@bp.app_template_filter("committee_role")
def committee_role(value) -> str:
    """A committee role's translated name."""
    return str(CommitteeRole(value).label)


@bp.app_template_filter("proposal")
def proposal(value) -> str:
    """A proposal's or decision's translated name."""
    return str(Proposal(value).label)


# The route modules register themselves on `bp` when imported.
from portal.evaluation.views import checks, committee, publication, results, scoring  # noqa: E402, F401
