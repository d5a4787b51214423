"""Payments (DESIGN §2, §4; issue 7): exactly one advance and one final payment per contract — the
database says so (a unique constraint), whatever the browser does — recovery claims, payment-order
exports and the municipality's paying account."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import Money, TimestampMixin, UTCDateTime
from portal.extensions import db


class PaymentKind(StrEnum):
    ADVANCE = "advance"
    FINAL = "final"

    @property
    def label(self):
        return {
            PaymentKind.ADVANCE: lazy_pgettext("payment", "Advance"),
            PaymentKind.FINAL: lazy_pgettext("payment", "Final payment"),
        }[self]


class PaymentStatus(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    PAID = "paid"

    @property
    def label(self):
        return {
            PaymentStatus.PLANNED: lazy_pgettext("payment", "Planned"),
            PaymentStatus.APPROVED: lazy_pgettext("payment", "Approved"),
            PaymentStatus.PAID: lazy_pgettext("payment", "Paid"),
        }[self]


class Payment(TimestampMixin, db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        # QUALITY H3: one advance and one final per contract, enforced here and not only by the pages.
        sa.UniqueConstraint("contract_id", "kind", name="uq_payments_one_per_kind"),
        sa.CheckConstraint("kind IN ('advance', 'final')", name="kind_known"),
        sa.CheckConstraint("status IN ('planned', 'approved', 'paid')", name="status_known"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("(status = 'paid') = (paid_on IS NOT NULL)", name="paid_on_iff_paid"),
        sa.CheckConstraint("status = 'planned' OR approved_at IS NOT NULL", name="approved_at_when_approved"),
        sa.CheckConstraint(
            "reduced_from IS NULL OR (reduction_reason IS NOT NULL AND amount < reduced_from)",
            name="reduction_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default=PaymentStatus.PLANNED, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    # A reduced final payment (results partly achieved) keeps the scheduled amount and the reason.
    reduced_from: Mapped[Decimal | None] = mapped_column(Money)
    reduction_reason: Mapped[str | None] = mapped_column(sa.Text)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_on: Mapped[date | None] = mapped_column(sa.Date)
    bank_reference: Mapped[str | None] = mapped_column(sa.String(100))
    paid_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    export_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_exports.id"))
    lock_version: Mapped[int] = mapped_column(default=1)

    contract = relationship("Contract")

    __mapper_args__ = {"version_id_col": lock_version}


class Recovery(TimestampMixin, db.Model):
    """A claim to pay money back (e.g. the project was not carried out), with its reason."""

    __tablename__ = "payment_recoveries"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('claimed', 'recovered', 'written_off')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12), default="claimed")
    claimed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recovered_on: Mapped[date | None] = mapped_column(sa.Date)

    contract = relationship("Contract")


class PaymentExport(db.Model):
    """One export of approved payments as a payment order (CSV or ISO 20022 pain.001.001.03)."""

    __tablename__ = "payment_exports"
    __table_args__ = (sa.CheckConstraint("format IN ('csv', 'pain001')", name="format_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    format: Mapped[str] = mapped_column(sa.String(10))
    message_id: Mapped[str] = mapped_column(sa.String(35), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column()
    total: Mapped[Decimal] = mapped_column(Money)
    file_id: Mapped[str] = mapped_column(sa.ForeignKey("stored_files.id"))
    sha256: Mapped[str] = mapped_column(sa.String(64))

    file = relationship("StoredFile")


class PayingAccount(TimestampMixin, db.Model):
    """The municipality's account that payments are made from (the debtor of a payment order)."""

    __tablename__ = "paying_accounts"

    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(140))
    iban: Mapped[str] = mapped_column(sa.String(34))
    bic: Mapped[str] = mapped_column(sa.String(11))
    reg_number: Mapped[str | None] = mapped_column(sa.String(11))
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
