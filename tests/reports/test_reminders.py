"""Report due dates and reminders (issue 8): 14 and 3 days before the due date and when overdue, each at
most once per project (the database's unique constraint), nothing once the report is submitted."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from portal.core.mail import OutboxMessage
from portal.core.timeutil import riga_instant, to_riga, utcnow
from portal.extensions import db as _db
from portal.reports.models import ReportReminder
from portal.reports.services import reminders
from tests import factories

DUE = date(2027, 3, 31)


def _at(days_before_due: int, at: time = time(7, 0)):
    """A cron run at 07:00 Riga time, `days_before_due` days before the due date (negative: after)."""
    return riga_instant(DUE - timedelta(days=days_before_due), at)


def _kinds(application_id):
    return list(
        _db.session.scalars(
            sa.select(ReportReminder.kind)
            .where(ReportReminder.application_id == application_id)
            .order_by(ReportReminder.id)
        )
    )


def _mails():
    return list(
        _db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template.like("report_reminder_%"))
            .order_by(OutboxMessage.id)
        )
    )


@pytest.fixture()
def project(db):
    contract, ev = factories.project_in_progress()
    contract.report_due = DUE
    _db.session.flush()
    return contract, ev


def test_the_due_date_is_the_contracts(project):
    contract, ev = project
    assert reminders.due_date(contract.application) == DUE
    assert reminders.due_date(ev["applications"][1]) is None  # not funded: no contract


def test_reminders_at_their_boundaries_each_once(project):
    contract, ev = project
    application = contract.application
    assert reminders.send_reminders(now=_at(15, time(23, 30))) == 0  # late evening, still 15 days before
    assert _kinds(application.id) == []
    assert reminders.send_reminders(now=_at(14, time(0, 30))) == 1  # just after midnight in Riga
    assert reminders.send_reminders(now=_at(4)) == 0  # due_14 already sent
    assert reminders.send_reminders(now=_at(3)) == 1
    assert reminders.send_reminders(now=_at(0)) == 0  # the due day: due_3 already sent
    assert reminders.send_reminders(now=_at(-1)) == 1
    assert reminders.send_reminders(now=_at(-1)) == 0  # the second run the same day sends nothing
    assert reminders.send_reminders(now=_at(-30)) == 0
    assert _kinds(application.id) == ["due_14", "due_3", "overdue"]
    mails = _mails()
    assert [m.template for m in mails] == [
        "report_reminder_due_14",
        "report_reminder_due_3",
        "report_reminder_overdue",
    ]
    assert {m.recipient for m in mails} == {ev["applicants"][0].email}
    assert "in 14 days" in mails[0].body_text and "in 3 days" in mails[1].body_text
    assert "was due on" in mails[2].body_text


def test_a_late_first_run_sends_only_the_most_relevant_reminder(project):
    contract, ev = project
    assert reminders.send_reminders(now=_at(-5)) == 1
    assert _kinds(contract.application_id) == ["overdue"]


def test_a_returned_report_is_reminded_a_submitted_one_is_not(db):
    report, contract, ev = factories.submitted_report()
    contract.report_due = DUE
    _db.session.flush()
    assert reminders.send_reminders(now=_at(-1)) == 0
    assert _kinds(contract.application_id) == []
    report.application.status = "report_returned"  # returned for correction: the due date still holds
    _db.session.flush()
    assert reminders.send_reminders(now=_at(-1)) == 1
    assert _kinds(contract.application_id) == ["overdue"]


def test_a_concurrent_run_never_sends_twice(project, monkeypatch):
    contract, ev = project
    assert reminders.send_reminders(now=_at(14)) == 1
    # Another run that did not see the first one's row: the unique constraint refuses the duplicate.
    monkeypatch.setattr(reminders, "_sent_before", lambda ids: set())
    assert reminders.send_reminders(now=_at(14)) == 0
    assert _kinds(contract.application_id) == ["due_14"] and len(_mails()) == 1


def test_the_cli_sends_and_prints_how_many(app, project):
    contract, ev = project
    contract.report_due = to_riga(utcnow()).date() + timedelta(days=14)
    _db.session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "remind"])
    assert result.exit_code == 0, result.output
    assert "Reminders sent: 1" in result.output
    again = runner.invoke(args=["reports", "remind"])
    assert again.exit_code == 0 and "Reminders sent: 0" in again.output
    assert _kinds(contract.application_id) == ["due_14"]
