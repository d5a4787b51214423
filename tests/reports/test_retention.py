"""The retention job (QUALITY F4, issue 8): applications closed longer than RETENTION_YEARS lose their
contact persons and their files' bytes (SHA-256 and size kept); aggregates stay; idempotent, dry run,
CLI, audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.applications.models import ApplicationVersion, Attachment
from portal.core import storage
from portal.core.audit import AuditEvent
from portal.core.timeutil import utcnow
from portal.core.workflow import StatusChange
from portal.extensions import db as _db
from portal.payments import ledger
from portal.reports.models import ReportFile
from portal.reports.retention import ANONYMISED, run_retention, years_before
from tests.factories import sample_pdf, sample_png, submitted_report

YEARS = 10


def _closed_project():
    """A project with a final report, closed now: an attachment, a report photo and the contract files.
    Returns (application, closed_at, files {name: StoredFile})."""
    report, contract, ev = submitted_report()
    application = contract.application
    attachment = storage.save_file(
        sample_pdf(b"cv"), filename="Janis_Berzins.pdf", content_type="application/pdf"
    )
    _db.session.add(Attachment(application_id=application.id, file_id=attachment.id, kind="other"))
    photo = storage.save_file(sample_png(), filename="foto.png", content_type="image/png")
    _db.session.add(ReportFile(report_id=report.id, file_id=photo.id, kind="photo"))
    closed_at = utcnow()
    application.status = "closed"
    _db.session.add(
        StatusChange(
            object_type="application",
            object_id=application.id,
            action="close",
            from_status="forwarded",
            to_status="closed",
            at=closed_at,
        )
    )
    _db.session.flush()
    files = {"attachment": attachment, "photo": photo, "contract": contract.pdf_file}
    return application, closed_at, files, ev


def _after(closed_at, days: int):
    """`days` after the retention period of an application closed at `closed_at` ends."""
    return years_before(closed_at, -YEARS) + timedelta(days=days)


def _responsibles(application) -> tuple[list, list]:
    versions = _db.session.scalars(
        sa.select(ApplicationVersion).where(ApplicationVersion.application_id == application.id)
    ).all()
    return (
        [a.responsible for a in application.activities],
        [row["responsible"] for v in versions for row in v.data["activities"]],
    )


def _events(action: str) -> list[AuditEvent]:
    return list(_db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_one_day_before_the_period_ends_nothing_changes(db):
    application, closed_at, files, _ev = _closed_project()
    report = run_retention(_after(closed_at, -1), years=YEARS)
    assert report.application_ids == []
    _db.session.expire_all()
    assert application.anonymised_at is None
    assert _responsibles(application) == (["Jauniešu grupa"], ["Jauniešu grupa"])
    assert storage.read_file(files["attachment"]) == sample_pdf(b"cv")
    assert _events("retention.anonymised") == []


def test_one_day_after_contacts_and_file_bytes_go_aggregates_stay(db):
    application, closed_at, files, ev = _closed_project()
    call = ev["call"]
    money_before = ledger.ledger_by_municipality(call.round_id, {call.municipality_id})
    hashes = {name: (f.sha256, f.size) for name, f in files.items()}
    counts = (application.participants_total, application.budget_total, application.title)
    report = run_retention(_after(closed_at, 1), years=YEARS)
    assert report.application_ids == [application.id]
    assert report.files >= 3 and report.contact_fields == 2
    _db.session.expire_all()
    assert application.anonymised_at is not None
    assert _responsibles(application) == ([ANONYMISED], [ANONYMISED])
    for name, stored in files.items():
        assert stored.data == b"", name
        assert (stored.sha256, stored.size) == hashes[name]  # the audit trail can still prove what was held
        assert stored.filename == ANONYMISED
    assert hashes["attachment"][0] == hashlib.sha256(sample_pdf(b"cv")).hexdigest()
    # Aggregates untouched: the ledger, the counts, the status and the report's counts.
    assert ledger.ledger_by_municipality(call.round_id, {call.municipality_id}) == money_before
    assert (application.participants_total, application.budget_total, application.title) == counts
    assert application.status == "closed"
    assert application.organisation.iban  # the organisation's own account stays
    [event] = _events("retention.anonymised")
    assert event.object_id == application.id and event.after_data()["files"] == report.files
    assert event.municipality_id == call.municipality_id
    [summary] = _events("retention.run")
    assert summary.after_data()["applications"] == 1


def test_second_run_does_nothing(db):
    application, closed_at, _files, _ev = _closed_project()
    now = _after(closed_at, 1)
    run_retention(now, years=YEARS)
    again = run_retention(now + timedelta(days=30), years=YEARS)
    assert again.application_ids == [] and again.files == 0
    assert len(_events("retention.anonymised")) == 1 and len(_events("retention.run")) == 1


def test_open_projects_are_never_touched(db):
    application, closed_at, _files, _ev = _closed_project()
    application.status = "reserve"  # not over: it may still be funded
    _db.session.flush()
    assert run_retention(_after(closed_at, 400), years=YEARS).application_ids == []


def test_dry_run_changes_nothing(db):
    application, closed_at, files, _ev = _closed_project()
    report = run_retention(_after(closed_at, 1), years=YEARS, dry_run=True)
    assert report.application_ids == [application.id] and report.files >= 3
    _db.session.expire_all()
    assert application.anonymised_at is None
    assert storage.read_file(files["photo"]) == sample_png()
    assert _events("retention.anonymised") == [] and _events("retention.run") == []


def test_cli_runs_with_the_configured_period(app, db, monkeypatch):
    application, closed_at, _files, _ev = _closed_project()
    runner = app.test_cli_runner()
    monkeypatch.setitem(app.config, "RETENTION_YEARS", 0)  # everything closed before now is due
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would anonymise 1 application(s)" in result.output and str(application.id) in result.output
    _db.session.expire_all()
    assert application.anonymised_at is None
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "anonymised 1 application(s)" in result.output
    _db.session.expire_all()
    assert application.anonymised_at is not None
    monkeypatch.setitem(app.config, "RETENTION_YEARS", YEARS)
    assert "0 application(s)" in runner.invoke(args=["retention", "run"]).output


def test_a_removed_file_answers_410_with_a_calm_page(db, client, login_as):
    application, closed_at, files, ev = _closed_project()
    run_retention(_after(closed_at, 1), years=YEARS)
    _db.session.commit()
    with pytest.raises(storage.FileRemoved):
        storage.read_file(files["contract"])
    login_as(ev["coordinator"])
    response = client.get(f"/contracts/{_contract_id(application)}/files/pdf")
    assert response.status_code == 410
    assert "no longer kept" in response.get_data(as_text=True)


def _contract_id(application) -> int:
    from portal.contracts.services import contract_of

    return contract_of(application).id
