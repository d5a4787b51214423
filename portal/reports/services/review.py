"""Reviewing a final report (DESIGN §4, issue 8): the coordinator of the call's municipality returns it
once for correction with comments per section, or approves it (optionally with a reduced final payment);
the approved report is rendered as a Latvian PDF, stored with its SHA-256 and forwarded at once to the
national administrators, who acknowledge it (the project is closed).

Every step goes through the application workflow (`transition()` writes the status change and its
audit event); callers commit. The actor's role is checked before the status, so a refusal says the
same thing whatever the report's state: TransitionDenied (not yours) or WorkflowError (not now)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Membership, User
from portal.applications.models import Application
from portal.applications.services import notify_organisation
from portal.applications.workflow import WORKFLOW, ApplicationStatus, roles_for
from portal.calls.models import Call
from portal.contracts.models import Contract
from portal.contracts.services import contract_of
from portal.core import audit, storage
from portal.core.enums import Role
from portal.core.mail import queue_email
from portal.core.pdf import render_pdf
from portal.core.privacy import contains_personal_code
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.organisations.models import Organisation
from portal.organisations.services import public_url
from portal.payments import services as payments
from portal.reports.models import REPORT_SECTIONS, SECTION_TITLES, FinalReport

PDF_TEMPLATE = "reports/pdf/report.html"
COMMENT_MAX = 4000


# The statuses in which a project has a report to write, to review or to keep (the overview lists).
REPORT_STATUSES = (
    ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.REPORT_SUBMITTED,
    ApplicationStatus.REPORT_RETURNED,
    ApplicationStatus.REPORT_APPROVED,
    ApplicationStatus.FORWARDED,
    ApplicationStatus.CLOSED,
)
# The report is still to be (re)submitted: late once the due date has passed.
OPEN_STATUSES = (ApplicationStatus.IN_PROGRESS, ApplicationStatus.REPORT_RETURNED)


# --- who may do what ---------------------------------------------------------------------------------


def is_coordinator(user, report: FinalReport) -> bool:
    return "coordinator" in roles_for(report.application, user)


def can_review_page(user, report: FinalReport) -> bool:
    """The review page: the municipality's coordinators, and the national administrators (to acknowledge)."""
    return bool({"coordinator", "national_admin"} & roles_for(report.application, user))


def can_read_pdf(user, report: FinalReport) -> bool:
    """The approved report's PDF: coordinators, the organisation's members, national administrators."""
    return bool({"coordinator", "applicant", "national_admin"} & roles_for(report.application, user))


def _require(report: FinalReport, actor, role: str, action: str) -> Application:
    application = report.application
    if role not in roles_for(application, actor):
        raise TransitionDenied(f"report: '{action}' needs the role '{role}'")
    return application


def _require_status(application: Application, status: ApplicationStatus) -> None:
    if application.status != status:
        raise WorkflowError(str(_l("This action is not possible in the current status.")))


def _scope(application: Application) -> dict[str, int]:
    return {
        "municipality_id": application.call.municipality_id,
        "organisation_id": application.organisation_id,
    }


# --- returning for correction ------------------------------------------------------------------------


def return_report(report: FinalReport, comments: dict[str, str], *, actor, now: datetime | None = None):
    """Return the submitted report for correction, once, with a comment on at least one section; the
    organisation's members get the comments by e-mail."""
    application = _require(report, actor, "coordinator", "return_report")
    _require_status(application, ApplicationStatus.REPORT_SUBMITTED)
    if report.times_returned >= 1:
        raise WorkflowError(
            str(
                _l(
                    "This report was already returned once and cannot be returned again. Approve it, "
                    "approve it with a reduced final payment, or terminate the contract."
                )
            )
        )
    cleaned = {}
    for section in REPORT_SECTIONS:
        text = (comments.get(section) or "").strip()
        if not text:
            continue
        if len(text) > COMMENT_MAX:
            raise WorkflowError(
                str(_l("Keep a comment under %(max)d characters.", max=COMMENT_MAX)),
                field=f"comment_{section}",
            )
        if contains_personal_code(text):
            raise WorkflowError(
                str(_l("Do not enter a person's identity code here: the portal stores no personal codes.")),
                field=f"comment_{section}",
            )
        cleaned[section] = text
    if not cleaned:
        raise WorkflowError(str(_l("Write a comment on at least one section of the report.")))

    now = now or utcnow()
    report.times_returned = report.times_returned + 1
    report.returned_at, report.returned_by_id = now, actor.id
    report.return_comments = cleaned
    reason = "\n".join(f"{section}: {text}" for section, text in cleaned.items())
    transition(WORKFLOW, application, "return_report", actor, reason)
    notify_organisation(
        application.organisation_id,
        "report_returned",
        application=application,
        comments=[(SECTION_TITLES[s], text) for s, text in cleaned.items()],
        link=public_url("applications.show", application_id=application.id),
    )
    db.session.flush()
    return report


# --- approving, the PDF, forwarding --------------------------------------------------------------------


def _national_admins():
    return db.session.execute(
        sa.select(User.email, User.locale)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.NATIONAL_ADMIN, User.is_disabled.is_(False))
        .distinct()
    ).all()


def risk_share(report: FinalReport) -> Decimal | None:
    if not report.participants_total or report.participants_risk is None:
        return None
    return (Decimal(report.participants_risk) * 100 / Decimal(report.participants_total)).quantize(
        Decimal("0.1")
    )


def _risk_rows(report: FinalReport, programme) -> list[tuple[str, int]]:
    names = {c.get("code"): c.get("lv") or c.get("code") for c in (programme.risk_categories or [])}
    return [(names.get(code, code), count) for code, count in (report.risk_by_category or {}).items()]


def render_report_pdf(report: FinalReport, contract: Contract, final_payment, day: date) -> bytes:
    """The approved report as a Latvian document (whatever the coordinator's interface language)."""
    application = report.application
    with force_locale("lv"):
        return render_pdf(
            PDF_TEMPLATE,
            locale="lv",
            report=report,
            data=report.data or {},
            application=application,
            contract=contract,
            municipality=application.call.municipality.name,
            organisation=application.organisation.name,
            risk_share=risk_share(report),
            risk_rows=_risk_rows(report, application.call.programme),
            evidence_count=len(report.files),
            final_payment=final_payment,
            approver=db.session.get(User, report.approved_by_id),
            day=day,
        )


def approve_report(
    report: FinalReport,
    *,
    actor,
    reduced_amount: Decimal | None = None,
    reduction_reason: str | None = None,
    now: datetime | None = None,
) -> FinalReport:
    """Approve the submitted report (the final payment becomes approvable), optionally lowering the final
    payment with a reason; render and store the PDF and forward it to the national administrators."""
    application = _require(report, actor, "coordinator", "approve_report")
    _require_status(application, ApplicationStatus.REPORT_SUBMITTED)
    now = now or utcnow()
    contract = contract_of(application)
    final = payments.payments_of(contract).get("final") if contract is not None else None
    reduction_reason = (reduction_reason or "").strip() or None
    if reduced_amount is None and reduction_reason:
        raise WorkflowError(
            str(_l("Give the reduced amount, or leave the reason empty to approve the full payment.")),
            field="amount",
        )
    if reduced_amount is not None:
        if final is None:
            raise WorkflowError(str(_l("This project has no final payment to reduce.")), field="amount")
        if reduction_reason and contains_personal_code(reduction_reason):
            raise WorkflowError(
                str(_l("Do not enter a person's identity code here: the portal stores no personal codes.")),
                field="reason",
            )
        payments.reduce_final_payment(final, reduced_amount, reduction_reason, actor=actor)

    report.approved_at, report.approved_by_id = now, actor.id
    transition(WORKFLOW, application, "approve_report", actor)

    data = render_report_pdf(report, contract, final, to_riga(now).date())
    number = contract.number.replace("/", "-") if contract is not None else str(application.id)
    stored = storage.save_file(
        data, filename=f"atskaite-{number}.pdf", content_type="application/pdf", actor=actor
    )
    report.pdf_file_id, report.pdf_sha256 = stored.id, stored.sha256
    audit.record(
        "report.approved",
        actor=actor,
        obj=report,
        after={
            "pdf_sha256": stored.sha256,
            "final_payment": final.amount if final is not None else None,
            "reduced_from": final.reduced_from if final is not None else None,
        },
        reason=reduction_reason,
        **_scope(application),
    )

    # Forwarded to the programme at once: the coordinator's approval is the municipality's last step.
    report.forwarded_at = now
    transition(WORKFLOW, application, "forward", actor)
    notify_organisation(
        application.organisation_id,
        "report_approved",
        application=application,
        final_payment=final,
        link=public_url("applications.show", application_id=application.id),
        attachments=[stored],
    )
    for email, locale in _national_admins():
        queue_email(
            email,
            "report_forwarded",
            locale=locale,
            application=application,
            municipality=application.call.municipality.name,
            link=public_url("reports.review", report_id=report.id),
            attachments=[stored],
        )
    db.session.flush()
    return report


# --- the national administrator's acknowledgement --------------------------------------------------


def acknowledge_report(report: FinalReport, *, actor, now: datetime | None = None) -> FinalReport:
    """The national administrator acknowledges the forwarded report: the project is closed."""
    application = _require(report, actor, "national_admin", "close")
    _require_status(application, ApplicationStatus.FORWARDED)
    report.acknowledged_at, report.acknowledged_by_id = now or utcnow(), actor.id
    transition(WORKFLOW, application, "close", actor)
    db.session.flush()
    return report


def read_report_pdf(report: FinalReport, *, actor) -> tuple[bytes, str]:
    """The stored PDF and its file name; a read by staff is written to the audit trail (QUALITY F5)."""
    from portal.applications.services import record_staff_read

    data = storage.read_file(report.pdf_file)
    record_staff_read(report.application, actor=actor, action="report.pdf_downloaded")
    return data, report.pdf_file.filename or f"atskaite-{report.id}.pdf"


# --- the lists: the coordinator's and the national administrator's -------------------------------


def overview_query(today: date, *, municipality_ids=None, status: str | None = None):
    """One statement listing the projects that have a report to write or keep, overdue ones first (the
    due date has passed and the report is not (re)submitted), then by due date."""
    overdue = sa.and_(Contract.report_due < today, Application.status.in_([s.value for s in OPEN_STATUSES]))
    query = (
        sa.select(
            Application.id.label("application_id"),
            Application.title,
            Application.status,
            Contract.number,
            Contract.report_due,
            Municipality.name.label("municipality"),
            Organisation.name.label("organisation"),
            FinalReport.id.label("report_id"),
            FinalReport.submitted_at,
            FinalReport.times_returned,
            FinalReport.approved_at,
            FinalReport.acknowledged_at,
            FinalReport.pdf_file_id,
            sa.case((overdue, True), else_=False).label("overdue"),
        )
        .join(Contract, Contract.application_id == Application.id)
        .join(Call, Call.id == Application.call_id)
        .join(Municipality, Municipality.id == Call.municipality_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(FinalReport, FinalReport.application_id == Application.id)
        .where(Application.status.in_([s.value for s in REPORT_STATUSES]))
        .order_by(sa.case((overdue, 0), else_=1), Contract.report_due, Application.id)
    )
    if municipality_ids is not None:
        query = query.where(Call.municipality_id.in_(municipality_ids))
    if status is not None:
        query = query.where(Application.status == status)
    return query
