"""Contract statuses (issue 7): draft → sent → signed by the applicant → signed (counter-signed);
a sent contract not signed in time lapses; a signed one may be terminated with a reason."""

from flask_babel import lazy_gettext as _l

from portal.contracts.models import ContractStatus
from portal.core.enums import Role
from portal.core.workflow import Transition, Workflow

COORDINATOR = frozenset({"coordinator"})
REPRESENTATIVE = frozenset({"representative"})

TRANSITIONS = {
    ContractStatus.DRAFT: {"send": Transition(ContractStatus.SENT, COORDINATOR, _l("Send for signature"))},
    ContractStatus.SENT: {
        "upload_signed": Transition(
            ContractStatus.SIGNED_BY_APPLICANT, REPRESENTATIVE, _l("Upload the signed contract")
        ),
        "lapse": Transition(
            ContractStatus.LAPSED,
            frozenset({"coordinator", "system"}),
            _l("Not signed in time"),
            requires_reason=True,
        ),
    },
    ContractStatus.SIGNED_BY_APPLICANT: {
        "countersign": Transition(ContractStatus.SIGNED, COORDINATOR, _l("Confirm the counter-signature"))
    },
    ContractStatus.SIGNED: {
        "terminate": Transition(ContractStatus.TERMINATED, COORDINATOR, _l("Terminate"), requires_reason=True)
    },
}


def roles_for(contract, actor) -> set[str]:
    """The system (no actor), a coordinator of the contract's municipality, or the applicant
    organisation's representative (the person entitled to sign for it)."""
    if actor is None:
        return {"system"}
    if not getattr(actor, "is_authenticated", False):
        return set()
    roles = set()
    if actor.has_role(Role.COORDINATOR, municipality_id=contract.municipality_id):
        roles.add("coordinator")
    organisation_id = contract.application.organisation_id
    if any(
        m.role == Role.APPLICANT and m.organisation_id == organisation_id and m.is_representative
        for m in actor.memberships
    ):
        roles.add("representative")
    return roles


WORKFLOW = Workflow(
    name="contract",
    status_enum=ContractStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda c: {
        "municipality_id": c.municipality_id,
        "organisation_id": c.application.organisation_id,
    },
)
