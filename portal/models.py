"""Every model, imported in one place so Alembic and the app see the whole schema."""

from portal.accounts.models import AccountToken, LoginAttempt, Membership, User, UserSession
from portal.applications.models import (
    Application,
    ApplicationActivity,
    ApplicationVersion,
    Attachment,
    BudgetLine,
)
from portal.calls.models import Call, CallCriterion
from portal.contracts.models import Amendment, Contract, ContractCounter, ContractTemplate
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.pagecache import PublicDataVersion
from portal.core.storage import StoredFile
from portal.core.workflow import StatusChange
from portal.evaluation.models import (
    Clarification,
    CommitteeMember,
    ConflictDeclaration,
    Decision,
    EligibilityAnswer,
    EvaluationResult,
    Score,
    ScoreSheet,
)
from portal.municipalities.models import Municipality
from portal.organisations.models import Invitation, Organisation
from portal.payments.models import PayingAccount, Payment, PaymentExport, Recovery
from portal.plans.models import ActivityMonitoring, PlanActivity, PlanGoal, PlanIndicator, PreventionPlan
from portal.programmes.models import (
    CriterionTemplate,
    Programme,
    ProgrammeText,
    PupilCount,
    Quota,
    QuotaSnapshot,
    Round,
)
from portal.reports.models import FinalReport, ReportFile, ReportReminder

__all__ = [
    "ActivityMonitoring",
    "FinalReport",
    "PlanActivity",
    "PlanGoal",
    "PlanIndicator",
    "PreventionPlan",
    "ReportFile",
    "ReportReminder",
    "Amendment",
    "Contract",
    "ContractCounter",
    "ContractTemplate",
    "PayingAccount",
    "Payment",
    "PaymentExport",
    "Recovery",
    "Application",
    "ApplicationActivity",
    "ApplicationVersion",
    "Attachment",
    "BudgetLine",
    "Call",
    "CallCriterion",
    "Clarification",
    "CommitteeMember",
    "ConflictDeclaration",
    "Decision",
    "EligibilityAnswer",
    "EvaluationResult",
    "Score",
    "ScoreSheet",
    "StoredFile",
    "AccountToken",
    "AuditEvent",
    "CriterionTemplate",
    "Invitation",
    "LoginAttempt",
    "Membership",
    "Municipality",
    "Organisation",
    "OutboxMessage",
    "Programme",
    "ProgrammeText",
    "PublicDataVersion",
    "PupilCount",
    "Quota",
    "QuotaSnapshot",
    "Round",
    "StatusChange",
    "User",
    "UserSession",
]
