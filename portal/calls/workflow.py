"""Call statuses and transitions (DESIGN §4): draft → open → closed → evaluation → decided →
results published → archived."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.core.enums import Role
from portal.core.workflow import Transition, Workflow


class CallStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    EVALUATION = "evaluation"
    DECIDED = "decided"
    RESULTS_PUBLISHED = "results_published"
    ARCHIVED = "archived"

    @property
    def label(self):
        return CALL_STATUS_LABELS[self]


CALL_STATUS_LABELS = {
    CallStatus.DRAFT: lazy_pgettext("call", "Draft"),
    CallStatus.OPEN: lazy_pgettext("call", "Open"),
    CallStatus.CLOSED: lazy_pgettext("call", "Closed"),
    CallStatus.EVALUATION: lazy_pgettext("call", "Being evaluated"),
    CallStatus.DECIDED: lazy_pgettext("call", "Decided"),
    CallStatus.RESULTS_PUBLISHED: lazy_pgettext("call", "Results published"),
    CallStatus.ARCHIVED: lazy_pgettext("call", "Archived"),
}

COORDINATOR = frozenset({"coordinator"})
SYSTEM_OR_COORDINATOR = frozenset({"system", "coordinator"})

TRANSITIONS = {
    CallStatus.DRAFT: {"publish": Transition(CallStatus.OPEN, COORDINATOR, _l("Publish"))},
    CallStatus.OPEN: {"close": Transition(CallStatus.CLOSED, SYSTEM_OR_COORDINATOR, _l("Close"))},
    CallStatus.CLOSED: {
        "start_evaluation": Transition(CallStatus.EVALUATION, COORDINATOR, _l("Start evaluation"))
    },
    CallStatus.EVALUATION: {
        "record_decision": Transition(CallStatus.DECIDED, COORDINATOR, _l("Record decision"))
    },
    CallStatus.DECIDED: {
        "publish_results": Transition(CallStatus.RESULTS_PUBLISHED, COORDINATOR, _l("Publish results"))
    },
    CallStatus.RESULTS_PUBLISHED: {"archive": Transition(CallStatus.ARCHIVED, COORDINATOR, _l("Archive"))},
}


def roles_for(call, actor) -> set[str]:
    """The actor's roles on this call: the system (no actor) or a coordinator of its municipality."""
    if actor is None:
        return {"system"}
    if not getattr(actor, "is_authenticated", False):
        return set()
    if actor.has_role(Role.COORDINATOR, municipality_id=call.municipality_id):
        return {"coordinator"}
    return set()


WORKFLOW = Workflow(
    name="call",
    status_enum=CallStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda call: {"municipality_id": call.municipality_id},
)
