"""Payment statuses (DESIGN §4): planned → approved → paid, by the coordinators of the contract's
municipality. The row's version counter makes two simultaneous changes of one payment end with one
winner; the unique (contract, kind) constraint makes a second advance or final payment impossible."""

from flask_babel import lazy_gettext as _l

from portal.core.enums import Role
from portal.core.workflow import Transition, Workflow
from portal.payments.models import PaymentStatus

COORDINATOR = frozenset({"coordinator"})

TRANSITIONS = {
    PaymentStatus.PLANNED: {"approve": Transition(PaymentStatus.APPROVED, COORDINATOR, _l("Approve"))},
    PaymentStatus.APPROVED: {"mark_paid": Transition(PaymentStatus.PAID, COORDINATOR, _l("Mark as paid"))},
}


def roles_for(payment, actor) -> set[str]:
    """A coordinator of the contract's municipality."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    if actor.has_role(Role.COORDINATOR, municipality_id=payment.contract.municipality_id):
        return {"coordinator"}
    return set()


WORKFLOW = Workflow(
    name="payment",
    status_enum=PaymentStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda p: {
        "municipality_id": p.contract.municipality_id,
        "organisation_id": p.contract.application.organisation_id,
    },
)
