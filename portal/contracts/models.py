"""Contracts (issue 7): the municipality's template, the gap-free number sequence, the contract with its
signed files, and numbered amendment annexes. Every file is kept with its SHA-256."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import Money, TimestampMixin, UTCDateTime
from portal.extensions import db


class ContractStatus(StrEnum):
    DRAFT = "draft"  # generated, not yet sent
    SENT = "sent"  # waiting for the applicant's signature
    SIGNED_BY_APPLICANT = "signed_by_applicant"  # waiting for the municipality's counter-signature
    SIGNED = "signed"
    LAPSED = "lapsed"  # not signed in time: the place goes to the reserve list
    TERMINATED = "terminated"

    @property
    def label(self):
        return CONTRACT_STATUS_LABELS[self]


CONTRACT_STATUS_LABELS = {
    ContractStatus.DRAFT: lazy_pgettext("contract", "Draft"),
    ContractStatus.SENT: lazy_pgettext("contract", "Sent for signature"),
    ContractStatus.SIGNED_BY_APPLICANT: lazy_pgettext("contract", "Signed by the applicant"),
    ContractStatus.SIGNED: lazy_pgettext("contract", "Signed"),
    ContractStatus.LAPSED: lazy_pgettext("contract", "Not signed in time"),
    ContractStatus.TERMINATED: lazy_pgettext("contract", "Terminated"),
}


class ContractTemplate(TimestampMixin, db.Model):
    """The contract text of a programme: the programme's default (no municipality) or a municipality's
    own version of it, edited with a preview."""

    __tablename__ = "contract_templates"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "municipality_id"),
        sa.Index(
            "uq_contract_templates_programme_default",
            "programme_id",
            unique=True,
            sqlite_where=sa.text("municipality_id IS NULL"),
            postgresql_where=sa.text("municipality_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("municipalities.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class ContractCounter(db.Model):
    """The last contract number given per municipality and year: incremented in the transaction that
    creates the contract, so a rolled-back contract leaves no gap and two at once never share a number."""

    __tablename__ = "contract_counters"

    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Contract(TimestampMixin, db.Model):
    __tablename__ = "contracts"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "year", "sequence"),
        sa.CheckConstraint("sequence >= 1", name="sequence_positive"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("end_date >= start_date", name="period_ordered"),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'signed_by_applicant', 'signed', 'lapsed', 'terminated')",
            name="status_known",
        ),
        sa.CheckConstraint("(status = 'draft') = (sent_at IS NULL)", name="sent_at_iff_sent"),
        sa.CheckConstraint("status <> 'signed' OR signed_at IS NOT NULL", name="signed_has_signed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    year: Mapped[int] = mapped_column()
    sequence: Mapped[int] = mapped_column()
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=ContractStatus.DRAFT, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    report_due: Mapped[date | None] = mapped_column(sa.Date)
    sign_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    generated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    applicant_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    applicant_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    applicant_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    countersigned_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    countersigned_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    termination_reason: Mapped[str | None] = mapped_column(sa.Text)
    lock_version: Mapped[int] = mapped_column(default=1)

    application = relationship("Application")
    municipality = relationship("Municipality")
    pdf_file = relationship("StoredFile", foreign_keys=[pdf_file_id])
    applicant_file = relationship("StoredFile", foreign_keys=[applicant_file_id])
    countersigned_file = relationship("StoredFile", foreign_keys=[countersigned_file_id])
    amendments: Mapped[list[Amendment]] = relationship(
        back_populates="contract", order_by="Amendment.requested_at"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class AmendmentStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self):
        return {
            AmendmentStatus.REQUESTED: lazy_pgettext("amendment", "Requested"),
            AmendmentStatus.APPROVED: lazy_pgettext("amendment", "Approved"),
            AmendmentStatus.REFUSED: lazy_pgettext("amendment", "Refused"),
        }[self]


class Amendment(db.Model):
    """A change the applicant asks for (dates within the programme's limits, activities; never the amount
    or the goals); an approved one becomes the contract's next numbered annex."""

    __tablename__ = "contract_amendments"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "number"),
        sa.CheckConstraint("status IN ('requested', 'approved', 'refused')", name="status_known"),
        sa.CheckConstraint("(status = 'approved') = (number IS NOT NULL)", name="number_iff_approved"),
        sa.CheckConstraint("status = 'requested' OR decided_at IS NOT NULL", name="decided_at_when_decided"),
        sa.CheckConstraint("status <> 'refused' OR decision_reason IS NOT NULL", name="refusal_has_reason"),
        # One open request per contract, whatever arrives at once.
        sa.Index(
            "uq_contract_amendments_one_open",
            "contract_id",
            unique=True,
            sqlite_where=sa.text("status = 'requested'"),
            postgresql_where=sa.text("status = 'requested'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    number: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(12), default=AmendmentStatus.REQUESTED)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    new_start_date: Mapped[date | None] = mapped_column(sa.Date)
    new_end_date: Mapped[date | None] = mapped_column(sa.Date)
    activities_change: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    contract: Mapped[Contract] = relationship(back_populates="amendments")
