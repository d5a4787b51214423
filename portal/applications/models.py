"""Applications: a draft the applicant edits freely, then frozen versions (DESIGN §4)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.applications.workflow import ApplicationStatus
from portal.core.db import Money, TimestampMixin, UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db

BUDGET_CATEGORIES = (
    "trainers",
    "catering",
    "transport",
    "accommodation",
    "materials",
    "venue",
    "equipment",
    "publicity",
    "coordination",
)


class Application(TimestampMixin, db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        sa.CheckConstraint(
            "participants_risk IS NULL OR participants_total IS NULL"
            " OR participants_risk <= participants_total",
            name="risk_within_total",
        ),
        sa.CheckConstraint(
            "(participants_total IS NULL OR participants_total >= 0)"
            " AND (participants_risk IS NULL OR participants_risk >= 0)"
            " AND (participants_grades_5_9 IS NULL OR participants_grades_5_9 >= 0)"
            " AND (participants_grades_10_12 IS NULL OR participants_grades_10_12 >= 0)"
            " AND (participants_vocational IS NULL OR participants_vocational >= 0)"
            " AND (group_members IS NULL OR group_members >= 0)",
            name="counts_not_negative",
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'withdrawn') OR submitted_at IS NOT NULL", name="submitted_at_after_draft"
        ),
        # (call_id, status, id): the per-call counts and the ledger read applications from the index alone.
        sa.Index("ix_applications_call_status_id", "call_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(30), default=ApplicationStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking (QUALITY H2): a save carries the version it started from.
    lock_version: Mapped[int] = mapped_column(default=1)

    # --- the form; every field may be empty in a draft ---
    title: Mapped[str | None] = mapped_column(sa.String(300))
    start_date: Mapped[date | None] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    places: Mapped[str | None] = mapped_column(sa.Text)
    partners: Mapped[str | None] = mapped_column(sa.Text)
    group_members: Mapped[int | None] = mapped_column(sa.Integer)  # a youth initiative group's size (a count)
    problem: Mapped[str | None] = mapped_column(sa.Text)
    plan_link: Mapped[str | None] = mapped_column(sa.Text)
    # The activity of the municipality's PMP prevention plan the project serves (DESIGN §5).
    plan_activity_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_activities.id", ondelete="SET NULL"), index=True
    )
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the retention job (QUALITY F4)
    goal: Mapped[str | None] = mapped_column(sa.Text)
    objectives: Mapped[str | None] = mapped_column(sa.Text)
    participants_total: Mapped[int | None] = mapped_column(sa.Integer)
    participants_risk: Mapped[int | None] = mapped_column(sa.Integer)
    participants_grades_5_9: Mapped[int | None] = mapped_column(sa.Integer)
    participants_grades_10_12: Mapped[int | None] = mapped_column(sa.Integer)
    participants_vocational: Mapped[int | None] = mapped_column(sa.Integer)
    risk_by_category: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {category code: count}
    schools: Mapped[str | None] = mapped_column(sa.Text)
    youth_involvement: Mapped[str | None] = mapped_column(sa.Text)
    results: Mapped[str | None] = mapped_column(sa.Text)
    indicators: Mapped[str | None] = mapped_column(sa.Text)
    publicity: Mapped[str | None] = mapped_column(sa.Text)
    risks: Mapped[str | None] = mapped_column(sa.Text)
    declaration_truth: Mapped[bool] = mapped_column(default=False)
    declaration_no_double_funding: Mapped[bool] = mapped_column(default=False)
    declaration_participant_lists: Mapped[bool] = mapped_column(default=False)

    call = relationship("Call")
    organisation = relationship("Organisation")
    activities: Mapped[list[ApplicationActivity]] = relationship(
        back_populates="application", order_by="ApplicationActivity.position", cascade="all, delete-orphan"
    )
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )
    versions: Mapped[list[ApplicationVersion]] = relationship(
        back_populates="application", order_by="ApplicationVersion.number"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def risk_share(self) -> Decimal | None:
        """PMP-risk participants as a percentage of all planned ones (two decimals, never rounded up)."""
        if not self.participants_total or self.participants_risk is None:
            return None
        return (Decimal(self.participants_risk) * 100 / Decimal(self.participants_total)).quantize(
            Decimal("0.01"), rounding="ROUND_DOWN"
        )

    @property
    def latest_version(self) -> ApplicationVersion | None:
        """The last frozen version (the submission, or the answer to a clarification)."""
        return self.versions[-1] if self.versions else None

    @property
    def budget_total(self) -> Decimal:
        return sum((line.amount for line in self.budget_lines), Decimal("0.00"))


class ApplicationActivity(db.Model):
    """One row of the activity plan."""

    __tablename__ = "application_activities"
    __table_args__ = (sa.CheckConstraint("participants IS NULL OR participants >= 0", name="participants"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    activity: Mapped[str | None] = mapped_column(sa.Text)
    method: Mapped[str | None] = mapped_column(sa.Text)
    months: Mapped[str | None] = mapped_column(sa.String(100))
    participants: Mapped[int | None] = mapped_column(sa.Integer)
    responsible: Mapped[str | None] = mapped_column(sa.String(300))

    application: Mapped[Application] = relationship(back_populates="activities")


class BudgetLine(db.Model):
    """The indicative breakdown of the lump sum by category; it must add up to the programme amount."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "category"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(sa.String(30))
    amount: Mapped[Decimal] = mapped_column(Money)

    application: Mapped[Application] = relationship(back_populates="budget_lines")


class ApplicationVersion(db.Model):
    """A frozen copy of what was submitted (and of each clarification answer), with its PDF."""

    __tablename__ = "application_versions"
    __table_args__ = (sa.UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(20), default="submission")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    data: Mapped[dict] = mapped_column(sa.JSON)
    pdf_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    application: Mapped[Application] = relationship(back_populates="versions")
    pdf_file = relationship("StoredFile")


class Attachment(db.Model):
    """A file attached to an application (type checked by content; stored by UUID)."""

    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[str] = mapped_column(sa.ForeignKey("stored_files.id"))
    kind: Mapped[str] = mapped_column(sa.String(30), default="other")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="attachments")
    file = relationship("StoredFile")
