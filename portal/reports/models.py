"""Closing reports (DESIGN §4, §6; issue 8): the final report of a funded project, autosaved like the
application, submitted, returned once for correction, approved (its PDF forwarded to the national
administrator, who acknowledges it). Participants are counts only: no personal data of minors.

The report's status is the application's (in_progress → report_submitted ⇄ report_returned →
report_approved → forwarded → closed); the row holds the content and the times of each step."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import TimestampMixin, UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db

# The report's sections (each may get a comment when the report is returned for correction).
REPORT_SECTIONS = (
    "activities",
    "participants",
    "youth_led",
    "results",
    "publicity",
    "evidence",
    "lessons",
    "declaration",
)
# The sections' headings, as the applicant and the coordinator read them (a return comment's heading).
SECTION_TITLES = {
    "activities": _l("Activities carried out"),
    "participants": _l("Participants"),
    "youth_led": _l("How young people led the project"),
    "results": _l("Results"),
    "publicity": _l("Publicity"),
    "evidence": _l("Photos and evidence"),
    "lessons": _l("Problems and lessons"),
    "declaration": _l("Declaration"),
}


class FinalReport(TimestampMixin, db.Model):
    __tablename__ = "final_reports"
    __table_args__ = (
        sa.CheckConstraint("times_returned >= 0 AND times_returned <= 1", name="returned_at_most_once"),
        sa.CheckConstraint(
            "participants_total IS NULL OR participants_total >= 0", name="participants_not_negative"
        ),
        sa.CheckConstraint(
            "participants_risk IS NULL OR participants_total IS NULL "
            "OR participants_risk <= participants_total",
            name="risk_within_total",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    lock_version: Mapped[int] = mapped_column(default=1)

    # Free-form parts of the form, autosaved as they are typed:
    # activities: [{planned, carried_out, dates, place, hours, methods, change_reason}],
    # results: [{indicator, planned, achieved, comment}], publicity_links: [url], schools: [{name, count}],
    # youth_led, problems, lessons (text).
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    # Counts (aggregated in SQL by the monitoring table and the national export).
    participants_total: Mapped[int | None] = mapped_column(sa.Integer)
    participants_grades_5_9: Mapped[int | None] = mapped_column(sa.Integer)
    participants_grades_10_12: Mapped[int | None] = mapped_column(sa.Integer)
    participants_vocational: Mapped[int | None] = mapped_column(sa.Integer)
    participants_risk: Mapped[int | None] = mapped_column(sa.Integer)
    risk_by_category: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {category code: count}
    activity_hours: Mapped[int | None] = mapped_column(sa.Integer)

    evidence_consent: Mapped[bool] = mapped_column(default=False)  # consent for photos is held
    declaration: Mapped[bool] = mapped_column(default=False)  # the representative's declaration

    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    times_returned: Mapped[int] = mapped_column(default=0)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    return_comments: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {section: comment}
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    pdf_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    application = relationship("Application")
    pdf_file = relationship("StoredFile", foreign_keys=[pdf_file_id])
    files: Mapped[list[ReportFile]] = relationship(
        back_populates="report", order_by="ReportFile.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class ReportFile(db.Model):
    """A photo, evidence file or publicity material attached to the report."""

    __tablename__ = "final_report_files"
    __table_args__ = (sa.CheckConstraint("kind IN ('photo', 'evidence', 'publicity')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("final_reports.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(sa.ForeignKey("stored_files.id"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="evidence")
    description: Mapped[str | None] = mapped_column(sa.String(300))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[FinalReport] = relationship(back_populates="files")
    file = relationship("StoredFile")


class ReportReminder(db.Model):
    """A reminder sent about a report (14 and 3 days before the due date, overdue): sent once each."""

    __tablename__ = "report_reminders"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "kind", name="uq_report_reminders_once"),
        sa.CheckConstraint("kind IN ('due_14', 'due_3', 'overdue')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
