"""Application statuses and the transition table (DESIGN §4)."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.core.enums import Role
from portal.core.workflow import Transition, Workflow


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CLARIFICATION_REQUESTED = "clarification_requested"
    ADMISSIBLE = "admissible"
    REJECTED = "rejected"
    SCORED = "scored"
    FUNDED = "funded"
    RESERVE = "reserve"
    NOT_FUNDED = "not_funded"
    CONTRACT_SENT = "contract_sent"
    CONTRACT_SIGNED = "contract_signed"
    IN_PROGRESS = "in_progress"
    REPORT_SUBMITTED = "report_submitted"
    REPORT_RETURNED = "report_returned"
    REPORT_APPROVED = "report_approved"
    FORWARDED = "forwarded"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    TERMINATED = "terminated"

    @property
    def label(self):
        return APPLICATION_STATUS_LABELS[self]


APPLICATION_STATUS_LABELS = {
    ApplicationStatus.DRAFT: lazy_pgettext("application", "Draft"),
    ApplicationStatus.SUBMITTED: lazy_pgettext("application", "Submitted"),
    ApplicationStatus.CLARIFICATION_REQUESTED: lazy_pgettext("application", "Clarification requested"),
    ApplicationStatus.ADMISSIBLE: lazy_pgettext("application", "Admissible"),
    ApplicationStatus.REJECTED: lazy_pgettext("application", "Rejected"),
    ApplicationStatus.SCORED: lazy_pgettext("application", "Scored"),
    ApplicationStatus.FUNDED: lazy_pgettext("application", "Funded"),
    ApplicationStatus.RESERVE: lazy_pgettext("application", "Reserve list"),
    ApplicationStatus.NOT_FUNDED: lazy_pgettext("application", "Not funded"),
    ApplicationStatus.CONTRACT_SENT: lazy_pgettext("application", "Contract sent"),
    ApplicationStatus.CONTRACT_SIGNED: lazy_pgettext("application", "Contract signed"),
    ApplicationStatus.IN_PROGRESS: lazy_pgettext("application", "In progress"),
    ApplicationStatus.REPORT_SUBMITTED: lazy_pgettext("application", "Report submitted"),
    ApplicationStatus.REPORT_RETURNED: lazy_pgettext("application", "Report returned"),
    ApplicationStatus.REPORT_APPROVED: lazy_pgettext("application", "Report approved"),
    ApplicationStatus.FORWARDED: lazy_pgettext("application", "Forwarded"),
    ApplicationStatus.CLOSED: lazy_pgettext("application", "Closed"),
    ApplicationStatus.WITHDRAWN: lazy_pgettext("application", "Withdrawn"),
    ApplicationStatus.TERMINATED: lazy_pgettext("application", "Terminated"),
}


# --- transitions (issue 4 part; evaluation, contracts and reports add theirs) ---------------------

# Funded applications and everything after: each one uses a project of its municipality's quota.
FUNDED_STATUSES = frozenset(
    {
        ApplicationStatus.FUNDED,
        ApplicationStatus.CONTRACT_SENT,
        ApplicationStatus.CONTRACT_SIGNED,
        ApplicationStatus.IN_PROGRESS,
        ApplicationStatus.REPORT_SUBMITTED,
        ApplicationStatus.REPORT_RETURNED,
        ApplicationStatus.REPORT_APPROVED,
        ApplicationStatus.FORWARDED,
        ApplicationStatus.CLOSED,
    }
)
# Applications that reached the municipality: submitted, whatever happened to them after.
RECEIVED_EXCLUDED = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN})

APPLICANT = frozenset({"applicant"})
WITHDRAWABLE = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.CLARIFICATION_REQUESTED,
    ApplicationStatus.ADMISSIBLE,
    ApplicationStatus.SCORED,
)

TRANSITIONS = {
    ApplicationStatus.DRAFT: {"submit": Transition(ApplicationStatus.SUBMITTED, APPLICANT, _l("Submit"))},
}
for _status in WITHDRAWABLE:
    TRANSITIONS.setdefault(_status, {})["withdraw"] = Transition(
        ApplicationStatus.WITHDRAWN, APPLICANT, _l("Withdraw"), requires_reason=False
    )


def roles_for(application, actor) -> set[str]:
    """The actor's roles on this application: a member of the applying organisation is its applicant."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    roles = set()
    if actor.has_role(Role.APPLICANT, organisation_id=application.organisation_id):
        roles.add("applicant")
    if actor.has_role(Role.COORDINATOR, municipality_id=application.call.municipality_id):
        roles.add("coordinator")
    return roles


WORKFLOW = Workflow(
    name="application",
    status_enum=ApplicationStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda a: {"municipality_id": a.call.municipality_id, "organisation_id": a.organisation_id},
)
