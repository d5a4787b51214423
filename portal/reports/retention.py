"""The retention job (QUALITY F4, issue 8): what the retention period no longer allows keeping about a
project is anonymised; what the programme must account for stays.

**Which applications.** Those whose story is over — status *closed*, *terminated*, *not funded*,
*rejected* or *withdrawn* — whose last status change (the workflow's `StatusChange` rows; the row's
`updated_at` where there is none) is more than `RETENTION_YEARS` (config, default 10) calendar years
before now, and that are not anonymised yet (`Application.anonymised_at` is NULL). Exactly on the
boundary is not "longer than": it waits for the next run. A *reserve* application is not over (it may
still be funded) and a draft never reached anyone; neither is touched.

**What is anonymised.**
- Contact persons: the activity plan's *responsible* person, on the application and in every frozen
  version's data, becomes "[anonimizēts]". The application holds no other person's name, e-mail or phone
  (participants are counts only; the organisation's contacts belong to the organisation).
- Files: the bytes of every file kept with the application — attachments, the final report's photos,
  evidence and publicity files, the frozen versions' PDFs, the report's PDF, the contract's generated and
  signed files and its annexes (they carry signatories' names and the bank account the money was paid
  to) — are dropped; the row keeps its SHA-256 and size, so the audit trail can still prove what was
  held, and its file name becomes "[anonimizēts]" (a file name can carry a person's name).
  A file can no longer be downloaded after this (`storage.read_file` refuses bytes that do not match).
- The organisation's own IBAN is not touched: the organisation is a legal person, usually still active,
  and its account is its current data, not a copy kept with the project. The council's decision and the
  evaluation protocol belong to the call, not to one project, and stay.

**What stays**: every amount, count, status, date, score and decision, so the ledger, the monitoring
table and the audit export give the same figures before and after.

Each anonymised application gets one audit event `retention.anonymised`; a run that changed anything
adds a summary `retention.run`. Running again changes nothing (idempotent). The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from portal.applications.models import Application, ApplicationActivity, ApplicationVersion, Attachment
from portal.applications.workflow import ApplicationStatus
from portal.calls.models import Call
from portal.contracts.models import Amendment, Contract
from portal.core import audit
from portal.core.storage import StoredFile
from portal.core.timeutil import utcnow
from portal.core.workflow import StatusChange
from portal.extensions import db
from portal.reports.models import FinalReport, ReportFile

ANONYMISED = "[anonimizēts]"
FINAL_STATUSES = (
    ApplicationStatus.CLOSED.value,
    ApplicationStatus.TERMINATED.value,
    ApplicationStatus.NOT_FUNDED.value,
    ApplicationStatus.REJECTED.value,
    ApplicationStatus.WITHDRAWN.value,
)


@dataclass
class RetentionReport:
    cutoff: datetime
    years: int
    dry_run: bool = False
    application_ids: list[int] = field(default_factory=list)
    contact_fields: int = 0  # person fields replaced (application and versions)
    files: int = 0  # stored files whose bytes were dropped

    @property
    def applications(self) -> int:
        return len(self.application_ids)

    def summary(self) -> str:
        verb = "would anonymise" if self.dry_run else "anonymised"
        ids = ", ".join(str(i) for i in self.application_ids) or "-"
        return (
            f"Retention ({self.years} years, closed before {self.cutoff.date().isoformat()}): {verb} "
            f"{self.applications} application(s) [{ids}], {self.contact_fields} contact field(s), "
            f"{self.files} file(s)."
        )


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def due_applications(cutoff: datetime) -> list[int]:
    """Ids of the applications over, not anonymised, whose last status change is before `cutoff`."""
    last_change = (
        sa.select(StatusChange.object_id.label("application_id"), sa.func.max(StatusChange.at).label("at"))
        .where(StatusChange.object_type == "application")
        .group_by(StatusChange.object_id)
        .subquery("last_change")
    )
    closed_at = sa.func.coalesce(last_change.c.at, Application.updated_at)
    stmt = (
        sa.select(Application.id)
        .outerjoin(last_change, last_change.c.application_id == Application.id)
        .where(
            Application.status.in_(FINAL_STATUSES),
            Application.anonymised_at.is_(None),
            closed_at < cutoff,
        )
        .order_by(Application.id)
    )
    return list(db.session.scalars(stmt))


def _file_ids(application_id: int) -> set[str]:
    """Every stored file kept with the application (its contract and report included)."""
    contract_ids = sa.select(Contract.id).where(Contract.application_id == application_id)
    report_ids = sa.select(FinalReport.id).where(FinalReport.application_id == application_id)
    selects = [
        sa.select(Attachment.file_id).where(Attachment.application_id == application_id),
        sa.select(ApplicationVersion.pdf_file_id).where(ApplicationVersion.application_id == application_id),
        sa.select(FinalReport.pdf_file_id).where(FinalReport.application_id == application_id),
        sa.select(ReportFile.file_id).where(ReportFile.report_id.in_(report_ids)),
        sa.select(Contract.pdf_file_id).where(Contract.application_id == application_id),
        sa.select(Contract.applicant_file_id).where(Contract.application_id == application_id),
        sa.select(Contract.countersigned_file_id).where(Contract.application_id == application_id),
        sa.select(Amendment.pdf_file_id).where(Amendment.contract_id.in_(contract_ids)),
    ]
    rows = db.session.execute(sa.union_all(*selects)).scalars()
    return {file_id for file_id in rows if file_id is not None}


def _anonymise_version_data(data: dict) -> tuple[dict, int]:
    replaced = 0
    activities = []
    for row in data.get("activities") or []:
        row = dict(row)
        if row.get("responsible") not in (None, "", ANONYMISED):
            row["responsible"] = ANONYMISED
            replaced += 1
        activities.append(row)
    if not replaced:
        return data, 0
    return {**data, "activities": activities}, replaced


def _anonymise(application_id: int, *, now: datetime, dry_run: bool) -> tuple[int, int]:
    """Anonymise one application (or count what would be); return (contact fields, files)."""
    replaced = 0
    activities = db.session.scalars(
        sa.select(ApplicationActivity).where(ApplicationActivity.application_id == application_id)
    ).all()
    for activity in activities:
        if activity.responsible not in (None, "", ANONYMISED):
            replaced += 1
            if not dry_run:
                activity.responsible = ANONYMISED
    versions = db.session.scalars(
        sa.select(ApplicationVersion).where(ApplicationVersion.application_id == application_id)
    ).all()
    for version in versions:
        data, count = _anonymise_version_data(version.data or {})
        replaced += count
        if count and not dry_run:
            version.data = data  # a new dict: the JSON column sees the change
    file_ids = _file_ids(application_id)
    files = 0
    if file_ids:
        files = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StoredFile)
            .where(StoredFile.id.in_(file_ids), sa.func.length(StoredFile.data) > 0)
        )
        if not dry_run:
            db.session.execute(
                sa.update(StoredFile)
                .where(StoredFile.id.in_(file_ids))
                .values(data=b"", filename=ANONYMISED)
                .execution_options(synchronize_session=False)
            )
    if not dry_run:
        application = db.session.get(Application, application_id)
        application.anonymised_at = now
        municipality_id = db.session.scalar(
            sa.select(Call.municipality_id).where(Call.id == application.call_id)
        )
        audit.record(
            "retention.anonymised",
            obj=application,
            municipality_id=municipality_id,
            organisation_id=application.organisation_id,
            after={"contact_fields": replaced, "files": files, "status": application.status},
        )
    return replaced, files


def run_retention(
    now: datetime | None = None, *, years: int | None = None, dry_run: bool = False
) -> RetentionReport:
    """Anonymise every application due (see the module's docstring); `dry_run` only counts."""
    now = now or utcnow()
    years = current_app.config.get("RETENTION_YEARS", 10) if years is None else years
    report = RetentionReport(cutoff=years_before(now, years), years=years, dry_run=dry_run)
    for application_id in due_applications(report.cutoff):
        replaced, files = _anonymise(application_id, now=now, dry_run=dry_run)
        report.application_ids.append(application_id)
        report.contact_fields += replaced
        report.files += files
    if not dry_run:
        db.session.flush()
        # The files' bytes were changed by an UPDATE statement: forget any copy loaded before it.
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, StoredFile):
                db.session.expire(obj)
        if report.application_ids:
            audit.record(
                "retention.run",
                object_type="retention",
                after={
                    "years": years,
                    "cutoff": report.cutoff,
                    "applications": report.applications,
                    "contact_fields": report.contact_fields,
                    "files": report.files,
                },
            )
        db.session.flush()
    return report
