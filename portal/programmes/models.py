"""Programmes carry their rules as data (DESIGN §2); rounds, pupil counts and quotas (DESIGN §3)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import Money, TimestampMixin, UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db


class Programme(TimestampMixin, db.Model):
    """A funding programme and its rules. A second programme is a second row, not new code."""

    __tablename__ = "programmes"
    __table_args__ = (
        sa.CheckConstraint("funding_mode IN ('fixed', 'cap')", name="funding_mode_known"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("min_months >= 1 AND max_months >= min_months", name="months_ordered"),
        sa.CheckConstraint("min_risk_share >= 0 AND min_risk_share <= 100", name="risk_share_percent"),
        sa.CheckConstraint("grade_min <= grade_max", name="grades_ordered"),
        sa.CheckConstraint("vocational_min <= vocational_max", name="vocational_ordered"),
        sa.CheckConstraint("advance_percent >= 0 AND advance_percent <= 100", name="advance_percent"),
        sa.CheckConstraint("period_end > period_start", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_lv: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    operator: Mapped[str] = mapped_column(sa.String(200))
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    funding_mode: Mapped[str] = mapped_column(sa.String(10), default="fixed")
    amount: Mapped[Decimal] = mapped_column(Money)
    min_months: Mapped[int] = mapped_column(default=3)
    max_months: Mapped[int] = mapped_column(default=18)
    min_risk_share: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("10.00"))
    grade_min: Mapped[int] = mapped_column(default=5)
    grade_max: Mapped[int] = mapped_column(default=12)
    vocational_min: Mapped[int] = mapped_column(default=1)
    vocational_max: Mapped[int] = mapped_column(default=4)
    eligible_legal_forms: Mapped[list] = mapped_column(sa.JSON, default=list)
    risk_categories: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{code, lv, en}]
    advance_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("80.00"))
    min_call_window_days: Mapped[int] = mapped_column(default=30)
    report_due_working_days: Mapped[int] = mapped_column(default=10)
    report_review_working_days: Mapped[int] = mapped_column(default=10)
    pass_share: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("50.00"))
    applications_per_organisation: Mapped[int] = mapped_column(default=1)
    is_active: Mapped[bool] = mapped_column(default=True)

    criteria: Mapped[list[CriterionTemplate]] = relationship(
        back_populates="programme", order_by="CriterionTemplate.position", cascade="all, delete-orphan"
    )
    texts: Mapped[list[ProgrammeText]] = relationship(
        back_populates="programme", cascade="all, delete-orphan"
    )
    rounds: Mapped[list[Round]] = relationship(back_populates="programme", order_by="Round.number")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_lv

    @property
    def final_percent(self) -> Decimal:
        return Decimal("100.00") - self.advance_percent

    @property
    def max_score(self) -> Decimal:
        """The highest weighted total a quality evaluation can give (3 × Σ weights)."""
        return sum((3 * c.weight for c in self.criteria if c.kind == "quality"), Decimal("0"))

    def text(self, kind: str, locale: str) -> str:
        for t in self.texts:
            if t.kind == kind and t.locale == locale:
                return t.body
        return ""


class CriterionColumns:
    """What a criterion is; a programme's template and a call's copy share it (the copy stays editable)."""

    COPIED = (
        "kind",
        "code",
        "position",
        "title_lv",
        "title_en",
        "description_lv",
        "description_en",
        "weight",
        "essential",
        "tie_break_order",
        "levels",
        "auto_check",
    )

    kind: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str] = mapped_column(sa.String(40))
    position: Mapped[int] = mapped_column(default=0)
    title_lv: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str] = mapped_column(sa.String(300))
    description_lv: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("1.00"))
    essential: Mapped[bool] = mapped_column(default=False)
    tie_break_order: Mapped[int | None] = mapped_column(sa.Integer)
    # Level descriptors for quality criteria: {"0": {"lv": ..., "en": ...}, ..., "3": {...}}
    levels: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # For administrative/eligibility criteria the portal can pre-check: on_time, amount, duration, ...
    auto_check: Mapped[str | None] = mapped_column(sa.String(30))

    @classmethod
    def copy_of(cls, other: CriterionColumns, **extra):
        """Return a new criterion with the same content as `other`."""
        return cls(**{name: getattr(other, name) for name in cls.COPIED}, **extra)

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_lv

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_lv


class CriterionTemplate(CriterionColumns, db.Model):
    """An evaluation criterion of a programme; calls copy them (editable until publication)."""

    __tablename__ = "criterion_templates"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('administrative', 'eligibility', 'quality')", name="kind_known"),
        sa.CheckConstraint("weight >= 0", name="weight_not_negative"),
        sa.UniqueConstraint("programme_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True)

    programme: Mapped[Programme] = relationship(back_populates="criteria")


class ProgrammeText(db.Model):
    """A template text of a programme (regulations, contract, e-mail) in one language."""

    __tablename__ = "programme_texts"
    __table_args__ = (sa.UniqueConstraint("programme_id", "kind", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    locale: Mapped[str] = mapped_column(sa.String(5))
    body: Mapped[str] = mapped_column(sa.Text)

    programme: Mapped[Programme] = relationship(back_populates="texts")


class Round(TimestampMixin, db.Model):
    """A round of a programme: how many projects (or what budget), when, and what happens to unused quota."""

    __tablename__ = "rounds"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "number"),
        sa.CheckConstraint("unused_policy IN ('carry_over', 'redistribute')", name="unused_policy_known"),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name="status_known"),
        sa.CheckConstraint("(budget IS NOT NULL) OR (projects IS NOT NULL)", name="budget_or_projects"),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    number: Mapped[int] = mapped_column()
    budget: Mapped[Decimal | None] = mapped_column(Money)
    projects: Mapped[int | None] = mapped_column(sa.Integer)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    unused_policy: Mapped[str] = mapped_column(sa.String(20), default="carry_over")
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    programme: Mapped[Programme] = relationship(back_populates="rounds")
    pupil_counts: Mapped[list[PupilCount]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )
    quotas: Mapped[list[Quota]] = relationship(back_populates="round", cascade="all, delete-orphan")

    def label(self, locale: str) -> str:
        return f"{self.programme.name(locale)} — {self.number}"


class PupilCount(db.Model):
    """Target-group pupils of a municipality for a round (an aggregate count, no personal data)."""

    __tablename__ = "pupil_counts"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "municipality_id"),
        sa.CheckConstraint("pupils >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    pupils: Mapped[int] = mapped_column()
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    round: Mapped[Round] = relationship(back_populates="pupil_counts")
    municipality = relationship("Municipality")


class QuotaSnapshot(db.Model):
    """One quota computation, stored whole for audit: inputs, method, result, who and when."""

    __tablename__ = "quota_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    computed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(sa.String(200))
    projects: Mapped[int] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Money)
    inputs: Mapped[list] = mapped_column(sa.JSON)  # [{"code", "pupils"}]
    result: Mapped[list] = mapped_column(sa.JSON)  # [{"code", "quota", "amount"}]

    computed_by = relationship("User")


class Quota(db.Model):
    """A municipality's ceiling of projects in a round; an override keeps the computed value beside it."""

    __tablename__ = "quotas"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "municipality_id"),
        sa.CheckConstraint(
            "quota >= 0 AND computed_quota >= 0 AND carried_in >= 0 AND redistributed_in >= 0",
            name="counts_not_negative",
        ),
        sa.CheckConstraint("(override_reason IS NULL) = (overridden_at IS NULL)", name="override_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    snapshot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("quota_snapshots.id"))
    computed_quota: Mapped[int] = mapped_column()
    quota: Mapped[int] = mapped_column()
    carried_in: Mapped[int] = mapped_column(default=0)  # unused quota brought from the previous round
    # Unused quota of other municipalities given to this one at round close, for its reserve list.
    redistributed_in: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[Decimal] = mapped_column(Money)
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overridden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    round: Mapped[Round] = relationship(back_populates="quotas")
    municipality = relationship("Municipality")

    @property
    def total(self) -> int:
        """Projects the municipality may fund in this round, carried-over and redistributed quota included."""
        return self.quota + self.carried_in + self.redistributed_in
