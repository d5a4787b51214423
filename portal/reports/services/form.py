"""The applicant's side of the final report (issue 8): start it (prefilled from the application), save it
as it is typed (optimistic lock), attach photos and evidence, and submit it (the representative only).

Services check permission and rules, audit and queue e-mails, and flush; the view commits.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Membership
from portal.applications.workflow import WORKFLOW, ApplicationStatus
from portal.core import audit, storage, uploads
from portal.core.enums import Role
from portal.core.mail import queue_email
from portal.core.privacy import contains_personal_code
from portal.core.timeutil import utcnow
from portal.core.workflow import WorkflowError, transition
from portal.extensions import db
from portal.organisations.services import public_url
from portal.reports import rules
from portal.reports.models import FinalReport, ReportFile

# The application statuses in which its organisation writes (or corrects) the report.
EDITABLE = frozenset({ApplicationStatus.IN_PROGRESS, ApplicationStatus.REPORT_RETURNED})
FILE_KINDS = ("photo", "evidence", "publicity")
PHOTO_TYPES = ("png", "jpeg")
DESCRIPTION_MAX = 300
MAX_FILES = 40


class ReportConflict(WorkflowError):
    """Someone saved the report since this copy was loaded: `changed` says what differs ({field: stored})."""

    def __init__(self, report: FinalReport, changed: dict):
        super().__init__(str(_l("This report was changed in another window or by another member.")))
        self.report = report
        self.changed = changed


class ReportRefused(WorkflowError):
    """The report cannot be submitted: `problems` is {field: message}."""

    def __init__(self, problems: dict):
        super().__init__(str(_l("The report cannot be submitted yet.")))
        self.problems = problems


# --- who ---------------------------------------------------------------------------------------------


def is_member(user, application) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.has_role(Role.APPLICANT, organisation_id=application.organisation_id)
    )


def is_representative(user, application) -> bool:
    if not is_member(user, application):
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(Membership.id)).where(
                Membership.user_id == user.id,
                Membership.organisation_id == application.organisation_id,
                Membership.role == Role.APPLICANT,
                Membership.is_representative.is_(True),
            )
        )
    )


def can_view_report(user, application) -> bool:
    """The organisation's members, the coordinators of the call's municipality, national administrators."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        is_member(user, application)
        or user.has_role(Role.COORDINATOR, municipality_id=application.call.municipality_id)
        or bool(user.is_national_admin)
    )


def is_editable(application) -> bool:
    return application.status in EDITABLE


def _require_editable(report_or_application, actor) -> None:
    application = getattr(report_or_application, "application", report_or_application)
    if not is_member(actor, application):
        raise WorkflowError(str(_l("Only the organisation's members write its final report.")))
    if not is_editable(application):
        raise WorkflowError(str(_l("The report has been submitted; it can no longer be changed.")))


# --- reading -----------------------------------------------------------------------------------------


def report_for(application) -> FinalReport | None:
    return db.session.scalar(sa.select(FinalReport).where(FinalReport.application_id == application.id))


def report_values(report: FinalReport) -> dict:
    """The report as one dict of the shape `rules` checks (counts, rows, texts, flags)."""
    data = report.data or {}
    values = {name: getattr(report, name) for name in rules.COUNT_FIELDS}
    values["risk_by_category"] = dict(report.risk_by_category or {})
    for name in (*rules.ROW_KEYS, "publicity_links"):
        values[name] = list(data.get(name) or [])
    for name in rules.TEXT_FIELDS:
        values[name] = data.get(name) or ""
    values["evidence_consent"] = bool(report.evidence_consent)
    values["declaration"] = bool(report.declaration)
    values["activity_hours"] = report.activity_hours
    return values


def has_photos(report: FinalReport) -> bool:
    return any(f.kind == "photo" for f in report.files)


def problems_of(report: FinalReport) -> dict:
    programme = report.application.call.programme
    return rules.submission_problems(
        report_values(report),
        programme,
        has_photos=has_photos(report),
        publicity_files=sum(1 for f in report.files if f.kind == "publicity"),
    )


# --- start and save ----------------------------------------------------------------------------------


def _prefill(application) -> dict:
    activities = [
        {
            "planned": (a.activity or "").strip(),
            "carried_out": "",
            "dates": "",
            "place": "",
            "hours": None,
            "methods": (a.method or "").strip(),
            "change_reason": "",
        }
        for a in application.activities
        if (a.activity or "").strip()
    ][: rules.MAX_ROWS]
    indicators = [
        line.strip(" \t-•*–") for line in (application.indicators or "").splitlines() if line.strip(" \t-•*–")
    ][:10]
    results = [{"indicator": line, "planned": "", "achieved": "", "comment": ""} for line in indicators]
    data: dict = {"activities": activities, "results": results}
    # Strip anything a personal code check would refuse (the application's own rules refuse them too).
    data["activities"] = [r for r in activities if not contains_personal_code(" ".join(map(str, r.values())))]
    data["results"] = [r for r in results if not contains_personal_code(r["indicator"])]
    return data


def start_report(application, *, actor) -> FinalReport:
    """Create the organisation's final report, prefilled with the planned activities and indicators
    (or return the one that exists)."""
    existing = report_for(application)
    if existing is not None:
        if not is_member(actor, application):
            raise WorkflowError(str(_l("Only the organisation's members write its final report.")))
        return existing
    _require_editable(application, actor)
    report = FinalReport(application_id=application.id, data=_prefill(application), risk_by_category={})
    report.application = application
    db.session.add(report)
    db.session.flush()
    audit.record(
        "report.started",
        actor=actor,
        obj=report,
        municipality_id=application.call.municipality_id,
        organisation_id=application.organisation_id,
    )
    return report


def _changed(report: FinalReport, taken: dict) -> dict:
    """Which of the values differ from the stored report ({field: stored value})."""
    stored = report_values(report)
    return {name: stored.get(name) for name, value in taken.items() if stored.get(name) != value}


def _apply(report: FinalReport, taken: dict) -> None:
    data = dict(report.data or {})
    for name, value in taken.items():
        if name in rules.COUNT_FIELDS or name in rules.FLAGS:
            setattr(report, name, value)
        elif name == "risk_by_category":
            report.risk_by_category = value
        else:
            data[name] = value
    report.data = data
    hours = [row.get("hours") for row in data.get("activities") or [] if row.get("hours") is not None]
    report.activity_hours = sum(hours) if hours else None


def save_report(report: FinalReport, values: dict, *, actor, expected_version: int | None) -> dict:
    """Store what is valid of `values` (only the keys given); return {field: message} for the rest.

    Raises ReportConflict when the report was saved since `expected_version` (nothing is stored), and
    WorkflowError when the actor may not change it now."""
    _require_editable(report, actor)
    programme = report.application.call.programme
    taken, problems = rules.clean(values, programme)
    # The declaration is the representative's: a member's save leaves it as it is.
    if "declaration" in taken and not is_representative(actor, report.application):
        taken.pop("declaration")
    if expected_version is not None and expected_version != report.lock_version:
        raise ReportConflict(report, _changed(report, taken))
    merged = {**report_values(report), **taken}
    for field, message in rules.count_problems(merged, programme, complete=False).items():
        problems[field] = message
        taken.pop("participants_total", None)
        taken.pop("participants_risk", None)
    if taken:
        _apply(report, taken)
        db.session.flush()
    return problems


# --- files -------------------------------------------------------------------------------------------


def add_file(report: FinalReport, data: bytes, filename: str, kind: str, description: str | None, *, actor):
    """Attach a photo, evidence file or publicity material (checked by its content)."""
    _require_editable(report, actor)
    if kind not in FILE_KINDS:
        raise WorkflowError(str(_l("Choose what the file is.")), field="kind")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise WorkflowError(
            str(_l("Shorten the description to %(n)d characters.", n=DESCRIPTION_MAX)), field="description"
        )
    if contains_personal_code(description):
        raise WorkflowError(str(rules.PERSONAL_CODE), field="description")
    if len(report.files) >= MAX_FILES:
        raise WorkflowError(str(_l("A report can have at most %(n)d files.", n=MAX_FILES)), field="file")
    file_type, content_type = uploads.check_upload(data, filename, actor=actor)
    if kind == "photo" and file_type not in PHOTO_TYPES:
        raise WorkflowError(str(_l("A photo must be a PNG or JPEG image.")), field="file")
    stored = storage.save_file(
        data, filename=uploads.sanitise_filename(filename), content_type=content_type, actor=actor
    )
    item = ReportFile(
        report=report, file_id=stored.id, kind=kind, description=description or None, uploaded_by_id=actor.id
    )
    db.session.add(item)
    db.session.flush()
    audit.record(
        "report.file_added",
        actor=actor,
        obj=report,
        after={"file": stored.filename, "kind": kind, "sha256": stored.sha256},
        municipality_id=report.application.call.municipality_id,
        organisation_id=report.application.organisation_id,
    )
    return item


def remove_file(report: FinalReport, item: ReportFile, *, actor) -> None:
    _require_editable(report, actor)
    if item.report_id != report.id:
        raise WorkflowError(str(_l("The file is not part of this report.")))
    filename = item.file.filename if item.file is not None else None
    report.files.remove(item)
    db.session.flush()
    audit.record(
        "report.file_removed",
        actor=actor,
        obj=report,
        before={"file": filename, "kind": item.kind},
        municipality_id=report.application.call.municipality_id,
        organisation_id=report.application.organisation_id,
    )


# --- submit ------------------------------------------------------------------------------------------


def submit_report(report: FinalReport, *, actor, now: datetime | None = None) -> FinalReport:
    """The representative submits the report (again, after a return): every rule is checked."""
    application = report.application
    _require_editable(report, actor)
    if not is_representative(actor, application):
        raise WorkflowError(
            str(_l("Only the organisation's representative can submit the report.")), field="declaration"
        )
    problems = problems_of(report)
    if problems:
        raise ReportRefused(problems)
    resubmission = application.status == ApplicationStatus.REPORT_RETURNED
    transition(WORKFLOW, application, "submit_report", actor)
    report.submitted_at = now or utcnow()
    report.submitted_by_id = actor.id
    # return_comments stay: they are the history of the one correction round.
    db.session.flush()
    audit.record(
        "report.submitted",
        actor=actor,
        obj=report,
        after={
            "participants_total": report.participants_total,
            "participants_risk": report.participants_risk,
            "resubmission": resubmission,
        },
        municipality_id=application.call.municipality_id,
        organisation_id=application.organisation_id,
    )
    call = application.call
    if call.contact_email:
        queue_email(
            call.contact_email,
            "report_submitted",
            locale="lv",
            application=application,
            report=report,
            organisation=application.organisation,
            call=call,
            resubmission=resubmission,
            link=public_url("reports.show", report_id=report.id),
        )
    return report
