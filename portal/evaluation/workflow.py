"""The score sheet's statuses: a member's draft is submitted and locked; the coordinator may reopen it
(with a reason) until the scores are consolidated. Application and call statuses of the evaluation are
in their own tables (`applications.workflow`, `calls.workflow`)."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.calls.permissions import can_manage_call
from portal.core.workflow import Transition, Workflow


class SheetStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"

    @property
    def label(self):
        return SHEET_STATUS_LABELS[self]


SHEET_STATUS_LABELS = {
    SheetStatus.DRAFT: lazy_pgettext("scores", "Draft"),
    SheetStatus.SUBMITTED: lazy_pgettext("scores", "Submitted"),
}

TRANSITIONS = {
    SheetStatus.DRAFT: {
        "submit": Transition(SheetStatus.SUBMITTED, frozenset({"member"}), _l("Submit the scores"))
    },
    SheetStatus.SUBMITTED: {
        "reopen": Transition(
            SheetStatus.DRAFT, frozenset({"coordinator"}), _l("Reopen"), requires_reason=True
        )
    },
}


def roles_for(sheet, actor) -> set[str]:
    """The sheet's own member, or a coordinator of the call's municipality."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    roles = set()
    if sheet.member.user_id == actor.id:
        roles.add("member")
    if can_manage_call(actor, sheet.member.call):
        roles.add("coordinator")
    return roles


WORKFLOW = Workflow(
    name="score_sheet",
    status_enum=SheetStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda sheet: {"municipality_id": sheet.member.call.municipality_id},
)
