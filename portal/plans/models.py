"""PMP prevention plans (DESIGN §5; issue 8), shaped like the IKVD template (seed 001): goals grouped by
prevention level, activities with planned results, responsible and involved bodies, years and funding
sources; indicators with a baseline, targets per year and a data source; and the monitoring table
(seed 001, table 4.4) whose figures come from the funded projects and their approved reports, with the
municipality's own assessment per activity and year."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import TimestampMixin
from portal.extensions import db


class LevelScheme(StrEnum):
    """How a plan names its three prevention levels: seed 001 (universal / targeted / tailored) or seed
    004 (primary / secondary / tertiary)."""

    UNIVERSAL = "universal"
    PRIMARY = "primary"

    def level_label(self, level: int):
        return LEVEL_LABELS[self][level]


LEVEL_LABELS = {
    LevelScheme.UNIVERSAL: {
        1: _l("Universal prevention"),
        2: _l("Targeted prevention"),
        3: _l("Tailored prevention"),
    },
    LevelScheme.PRIMARY: {
        1: _l("Primary prevention"),
        2: _l("Secondary prevention"),
        3: _l("Tertiary prevention"),
    },
}
LEVELS = (1, 2, 3)


class PreventionPlan(TimestampMixin, db.Model):
    __tablename__ = "prevention_plans"
    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        sa.CheckConstraint("level_scheme IN ('universal', 'primary')", name="level_scheme_known"),
        # One plan in force per municipality.
        sa.Index(
            "uq_prevention_plans_one_active",
            "municipality_id",
            unique=True,
            sqlite_where=sa.text("is_active"),
            postgresql_where=sa.text("is_active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    period_start: Mapped[int] = mapped_column()  # year
    period_end: Mapped[int] = mapped_column()  # year
    level_scheme: Mapped[str] = mapped_column(sa.String(12), default=LevelScheme.UNIVERSAL)
    approved_on: Mapped[date | None] = mapped_column(sa.Date)
    approval_reference: Mapped[str | None] = mapped_column(sa.String(300))  # e.g. the council decision
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(default=1)

    municipality = relationship("Municipality")
    goals: Mapped[list[PlanGoal]] = relationship(
        back_populates="plan", order_by="(PlanGoal.level, PlanGoal.position)", cascade="all, delete-orphan"
    )
    activities: Mapped[list[PlanActivity]] = relationship(
        back_populates="plan",
        order_by="(PlanActivity.level, PlanActivity.position)",
        cascade="all, delete-orphan",
    )
    indicators: Mapped[list[PlanIndicator]] = relationship(
        back_populates="plan",
        order_by="(PlanIndicator.level, PlanIndicator.position)",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def years(self) -> list[int]:
        return list(range(self.period_start, self.period_end + 1))


class PlanGoal(db.Model):
    """A strategic goal at one prevention level with its expected results (seed 001 table 3.1)."""

    __tablename__ = "plan_goals"
    __table_args__ = (sa.CheckConstraint("level IN (1, 2, 3)", name="level_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("prevention_plans.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)
    number: Mapped[str] = mapped_column(sa.String(20), default="")
    title: Mapped[str] = mapped_column(sa.Text)
    expected_results: Mapped[str] = mapped_column(sa.Text, default="")

    plan: Mapped[PreventionPlan] = relationship(back_populates="goals")


class PlanActivity(db.Model):
    """A prevention activity (seed 001 table 4.1, seed 004 action plan): what, its planned result and
    result indicator, who is responsible and involved, in which years, funded from where."""

    __tablename__ = "plan_activities"
    __table_args__ = (
        sa.CheckConstraint("level IN (1, 2, 3)", name="level_known"),
        sa.CheckConstraint("year_to >= year_from", name="years_ordered"),
        sa.CheckConstraint("target_value IS NULL OR target_value >= 0", name="target_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("prevention_plans.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_goals.id", ondelete="SET NULL"))
    level: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)
    number: Mapped[str] = mapped_column(sa.String(20), default="")
    title: Mapped[str] = mapped_column(sa.Text)
    planned_result: Mapped[str] = mapped_column(sa.Text, default="")
    result_indicator: Mapped[str] = mapped_column(sa.Text, default="")  # what is counted
    target_value: Mapped[int | None] = mapped_column(sa.Integer)  # the planned count, when it is one
    responsible: Mapped[str] = mapped_column(sa.Text, default="")
    involved: Mapped[str] = mapped_column(sa.Text, default="")
    year_from: Mapped[int] = mapped_column()
    year_to: Mapped[int] = mapped_column()
    funding_sources: Mapped[str] = mapped_column(sa.Text, default="")

    plan: Mapped[PreventionPlan] = relationship(back_populates="activities")
    goal: Mapped[PlanGoal | None] = relationship()


class PlanIndicator(db.Model):
    """A policy result indicator (seed 001 table 3.2): baseline (year), targets per year, data source.
    Values are text as the plans write them ("72%", "< 1%", "tiks noteikta 2023. gadā")."""

    __tablename__ = "plan_indicators"
    __table_args__ = (sa.CheckConstraint("level IN (1, 2, 3)", name="level_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("prevention_plans.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_goals.id", ondelete="SET NULL"))
    level: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)
    number: Mapped[str] = mapped_column(sa.String(20), default="")
    title: Mapped[str] = mapped_column(sa.Text)
    baseline: Mapped[str] = mapped_column(sa.String(100), default="")
    baseline_year: Mapped[int | None] = mapped_column(sa.Integer)
    targets: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"2025": "74%", ...}
    data_source: Mapped[str] = mapped_column(sa.String(300), default="")

    plan: Mapped[PreventionPlan] = relationship(back_populates="indicators")


class ActivityMonitoring(db.Model):
    """The municipality's own words in the monitoring table for one activity and year (seed 001 table
    4.4: impact assessment and the analysis of what helped or hindered); the figures are computed."""

    __tablename__ = "plan_activity_monitoring"
    __table_args__ = (sa.UniqueConstraint("activity_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_activities.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column()
    achieved_note: Mapped[str] = mapped_column(sa.Text, default="")
    impact_assessment: Mapped[str] = mapped_column(sa.Text, default="")
    factors_analysis: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
