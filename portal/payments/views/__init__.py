"""Payment pages (issue 7): a municipality's payments (approve, mark paid, reduce the final payment,
recovery claims), payment orders (CSV and ISO 20022 pain.001 exports) with the paying account, and the
ledger. All routes hang on the one `payments` blueprint, mounted at /payments."""

from flask import Blueprint

from portal.payments.models import PaymentKind, PaymentStatus

bp = Blueprint("payments", __name__)


@bp.app_template_filter("payment_kind")
def payment_kind(value) -> str:
    """A payment kind's translated name (advance, final payment)."""
    return str(PaymentKind(value).label)


@bp.app_template_filter("payment_status")
def payment_status(value) -> str:
    """A payment status's translated name."""
    return str(PaymentStatus(value).label)


# The route modules register themselves on `bp` when imported.
from portal.payments.views import account, ledger, orders, payments  # noqa: E402, F401
