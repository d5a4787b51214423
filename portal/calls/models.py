"""Calls for proposals: a municipality's competition within a programme round (DESIGN §4)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.calls.workflow import CallStatus
from portal.core.db import Money, TimestampMixin, UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.programmes.models import CriterionColumns


class Call(TimestampMixin, db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="window_ordered"),
        sa.CheckConstraint("projects >= 1", name="projects_positive"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("(status = 'draft') = (published_at IS NULL)", name="published_at_iff_published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    projects: Mapped[int] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Money)  # per project, copied from the programme
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    contact_name: Mapped[str] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default=CallStatus.DRAFT, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff opened the sealed applications before the call closed (DESIGN §7): recorded, never silent.
    unsealed_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    regulations_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    regulations_signed_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    municipality = relationship("Municipality")
    programme = relationship("Programme")
    round = relationship("Round")
    criteria: Mapped[list[CallCriterion]] = relationship(
        back_populates="call", order_by="CallCriterion.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def is_accepting(self, now: datetime | None = None) -> bool:
        """Say whether applications can be submitted now (the server's clock, never the client's)."""
        # Whole seconds: a deadline of 23:59:59 accepts everything until 00:00:00.
        now = (now or utcnow()).replace(microsecond=0)
        return self.status == CallStatus.OPEN and self.opens_at <= now <= self.closes_at

    @property
    def is_sealed(self) -> bool:
        """Applications stay sealed for staff until the call closes (DESIGN §7)."""
        return self.status in (CallStatus.DRAFT, CallStatus.OPEN)


class CallCriterion(CriterionColumns, db.Model):
    """A call's own copy of a programme criterion: editable until publication."""

    __tablename__ = "call_criteria"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('administrative', 'eligibility', 'quality')", name="kind_known"),
        sa.CheckConstraint("weight >= 0", name="weight_not_negative"),
        sa.UniqueConstraint("call_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)

    call: Mapped[Call] = relationship(back_populates="criteria")
