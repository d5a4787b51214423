"""Due dates and reminders of final reports (issue 8).

The due date is the contract's `report_due` (working days after the project's end, Latvian public
holidays included; set when the contract is created or amended). `send_reminders()` is run by cron
(`flask reports remind`) and e-mails the organisation's members 14 and 3 days before the due date and
once it has passed, each reminder at most once per project: the ReportReminder row is inserted in the
same transaction as the e-mails, and its unique (application, kind) constraint makes a second run, or a
concurrent one, send nothing.

Which reminder: on a given Riga day the project is in one window — overdue (after the due date), due_3
(0–3 days before, the due day included), due_14 (4–14 days before) or none (15 days or more). Only that
window's reminder is sent. So a late first run (say the portal went live 2 days before a project's
due date) sends only the most relevant reminder (due_3), never due_14 and due_3 at once; and a project
whose report is submitted (or returned and then resubmitted) gets nothing. A returned report keeps the
contract's due date: its reminders continue from where they were (each kind still at most once)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.applications.models import Application
from portal.applications.services import notify_organisation
from portal.applications.workflow import ApplicationStatus
from portal.contracts.models import Contract
from portal.contracts.services import contract_of
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db
from portal.organisations.services import public_url
from portal.reports.models import ReportReminder

WAITING = (ApplicationStatus.IN_PROGRESS.value, ApplicationStatus.REPORT_RETURNED.value)
FIRST_REMINDER_DAYS = 14
LAST_REMINDER_DAYS = 3


def due_date(application) -> date | None:
    """The report's due date: the contract's (None before there is a contract)."""
    contract = contract_of(application)
    return contract.report_due if contract is not None else None


def reminder_kind(due: date, today: date) -> str | None:
    """The reminder that fits the day: overdue, due_3, due_14, or none."""
    days_left = (due - today).days
    if days_left < 0:
        return "overdue"
    if days_left <= LAST_REMINDER_DAYS:
        return "due_3"
    if days_left <= FIRST_REMINDER_DAYS:
        return "due_14"
    return None


def _sent_before(application_ids: list[int]) -> set[tuple[int, str]]:
    """The reminders already sent to these projects (a shortcut: the unique constraint is the guarantee)."""
    return set(
        db.session.execute(
            sa.select(ReportReminder.application_id, ReportReminder.kind).where(
                ReportReminder.application_id.in_(application_ids)
            )
        ).all()
    )


def send_reminders(now: datetime | None = None) -> int:
    """Queue the reminders due today (Riga date); return how many projects were reminded. Idempotent."""
    today = to_riga(now or utcnow()).date()
    rows = db.session.execute(
        sa.select(Application, Contract.report_due)
        .join(Contract, Contract.application_id == Application.id)
        .where(
            Application.status.in_(WAITING),
            Contract.report_due.is_not(None),
            Contract.report_due <= today + timedelta(days=FIRST_REMINDER_DAYS),
        )
        .order_by(Application.id)
    ).all()
    if not rows:
        return 0
    sent_before = _sent_before([application.id for application, _due in rows])
    count = 0
    for application, due in rows:
        kind = reminder_kind(due, today)
        if kind is None or (application.id, kind) in sent_before:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(ReportReminder(application_id=application.id, kind=kind, sent_at=utcnow()))
                db.session.flush()
                notify_organisation(
                    application.organisation_id,
                    f"report_reminder_{kind}",
                    application=application,
                    due=due,
                    days_left=(due - today).days,
                    link=public_url("applications.show", application_id=application.id),
                )
        except IntegrityError:
            continue  # another run sent this reminder at the same moment: never twice
        count += 1
    return count
