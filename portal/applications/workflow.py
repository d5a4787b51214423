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
CHECKERS = frozenset({"coordinator", "secretary"})  # the administrative and eligibility check
CHECKERS_OR_SYSTEM = CHECKERS | {"system"}
COORDINATOR = frozenset({"coordinator"})
COORDINATOR_OR_SYSTEM = frozenset({"coordinator", "system"})
NATIONAL_OR_SYSTEM = frozenset({"national_admin", "system"})
WITHDRAWABLE = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.CLARIFICATION_REQUESTED,
    ApplicationStatus.ADMISSIBLE,
    ApplicationStatus.SCORED,
    ApplicationStatus.RESERVE,
    ApplicationStatus.FUNDED,
    ApplicationStatus.CONTRACT_SENT,
)

TRANSITIONS = {
    ApplicationStatus.DRAFT: {"submit": Transition(ApplicationStatus.SUBMITTED, APPLICANT, _l("Submit"))},
    # --- evaluation (issue 5) ---
    ApplicationStatus.SUBMITTED: {
        "admit": Transition(ApplicationStatus.ADMISSIBLE, CHECKERS, _l("Admit to scoring")),
        "request_clarification": Transition(
            ApplicationStatus.CLARIFICATION_REQUESTED,
            CHECKERS,
            _l("Ask for a clarification"),
            requires_reason=True,
        ),
        "reject": Transition(ApplicationStatus.REJECTED, CHECKERS, _l("Reject"), requires_reason=True),
    },
    ApplicationStatus.CLARIFICATION_REQUESTED: {
        "answer_clarification": Transition(ApplicationStatus.SUBMITTED, APPLICANT, _l("Send the answer")),
        # By a checker, or by the system when the answer did not come in time.
        "reject": Transition(
            ApplicationStatus.REJECTED, CHECKERS_OR_SYSTEM, _l("Reject"), requires_reason=True
        ),
    },
    ApplicationStatus.ADMISSIBLE: {
        "consolidate": Transition(ApplicationStatus.SCORED, COORDINATOR, _l("Consolidate the scores")),
        "reject": Transition(ApplicationStatus.REJECTED, CHECKERS, _l("Reject"), requires_reason=True),
    },
    ApplicationStatus.SCORED: {
        "fund": Transition(ApplicationStatus.FUNDED, COORDINATOR, lazy_pgettext("decision", "Fund")),
        "reserve": Transition(ApplicationStatus.RESERVE, COORDINATOR, lazy_pgettext("decision", "Reserve")),
        "not_fund": Transition(
            ApplicationStatus.NOT_FUNDED, COORDINATOR, lazy_pgettext("decision", "Do not fund")
        ),
    },
    # The reserve list: the next project is offered funding when a funded one drops out.
    ApplicationStatus.RESERVE: {
        "offer_funding": Transition(ApplicationStatus.FUNDED, COORDINATOR_OR_SYSTEM, _l("Offer funding")),
    },
    ApplicationStatus.FUNDED: {
        # --- contracts (issue 7) ---
        "send_contract": Transition(ApplicationStatus.CONTRACT_SENT, COORDINATOR, _l("Send the contract")),
        "cancel_funding": Transition(
            ApplicationStatus.NOT_FUNDED,
            COORDINATOR_OR_SYSTEM,
            _l("Cancel the funding"),
            requires_reason=True,
        ),
    },
    ApplicationStatus.CONTRACT_SENT: {
        "sign_contract": Transition(
            ApplicationStatus.CONTRACT_SIGNED, COORDINATOR, _l("Confirm the signatures")
        ),
        # Not signed in time: the place goes to the reserve list (evaluation's offer_next_reserve).
        "cancel_funding": Transition(
            ApplicationStatus.NOT_FUNDED,
            COORDINATOR_OR_SYSTEM,
            _l("Cancel the funding"),
            requires_reason=True,
        ),
    },
    ApplicationStatus.CONTRACT_SIGNED: {
        "start": Transition(ApplicationStatus.IN_PROGRESS, COORDINATOR_OR_SYSTEM, _l("Start the project")),
        "terminate": Transition(
            ApplicationStatus.TERMINATED, COORDINATOR, _l("Terminate the contract"), requires_reason=True
        ),
    },
    ApplicationStatus.IN_PROGRESS: {
        # --- closing reports (issue 8) ---
        "submit_report": Transition(ApplicationStatus.REPORT_SUBMITTED, APPLICANT, _l("Submit the report")),
        "terminate": Transition(
            ApplicationStatus.TERMINATED, COORDINATOR, _l("Terminate the contract"), requires_reason=True
        ),
    },
    ApplicationStatus.REPORT_SUBMITTED: {
        "return_report": Transition(
            ApplicationStatus.REPORT_RETURNED, COORDINATOR, _l("Return for correction"), requires_reason=True
        ),
        "approve_report": Transition(
            ApplicationStatus.REPORT_APPROVED, COORDINATOR, _l("Approve the report")
        ),
    },
    ApplicationStatus.REPORT_RETURNED: {
        "submit_report": Transition(
            ApplicationStatus.REPORT_SUBMITTED, APPLICANT, _l("Submit the corrected report")
        ),
        "terminate": Transition(
            ApplicationStatus.TERMINATED, COORDINATOR, _l("Terminate the contract"), requires_reason=True
        ),
    },
    ApplicationStatus.REPORT_APPROVED: {
        "forward": Transition(
            ApplicationStatus.FORWARDED, COORDINATOR_OR_SYSTEM, _l("Forward to the programme")
        ),
    },
    ApplicationStatus.FORWARDED: {
        "close": Transition(ApplicationStatus.CLOSED, NATIONAL_OR_SYSTEM, _l("Acknowledge and close")),
    },
}
for _status in WITHDRAWABLE:
    TRANSITIONS.setdefault(_status, {})["withdraw"] = Transition(
        ApplicationStatus.WITHDRAWN, APPLICANT, _l("Withdraw"), requires_reason=False
    )


def roles_for(application, actor) -> set[str]:
    """The actor's roles on this application: the system (no actor), a member of the applying
    organisation (applicant), a coordinator of the call's municipality, the committee's secretary."""
    if actor is None:
        return {"system"}
    if not getattr(actor, "is_authenticated", False):
        return set()
    roles = set()
    if actor.has_role(Role.APPLICANT, organisation_id=application.organisation_id):
        roles.add("applicant")
    if actor.has_role(Role.COORDINATOR, municipality_id=application.call.municipality_id):
        roles.add("coordinator")
    from portal.evaluation.queries import is_secretary  # evaluation builds on applications

    if is_secretary(actor, application.call_id):
        roles.add("secretary")
    if actor.is_national_admin:
        roles.add("national_admin")
    return roles


WORKFLOW = Workflow(
    name="application",
    status_enum=ApplicationStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda a: {"municipality_id": a.call.municipality_id, "organisation_id": a.organisation_id},
)
