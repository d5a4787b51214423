"""Contract pages (issue 7): the contract of a funded application (generate, send, sign, countersign,
terminate), the municipality's contract template with a preview, and amendments. All routes hang on the
one `contracts` blueprint, mounted at /contracts."""

from flask import Blueprint

from portal.contracts.models import AmendmentStatus, ContractStatus

bp = Blueprint("contracts", __name__)


@bp.app_template_filter("contract_status")
def contract_status(value) -> str:
    """A contract status's translated name."""
    return str(ContractStatus(value).label)


@bp.app_template_filter("amendment_status")
def amendment_status(value) -> str:
    """An amendment status's translated name."""
    return str(AmendmentStatus(value).label)


# The route modules register themselves on `bp` when imported.
from portal.contracts.views import amendments, contracts, template  # noqa: E402, F401
