"""Evaluation (DESIGN §4, issue 5): the committee, its declarations, the administrative and
eligibility check, clarification requests, score sheets, consolidated results and the decision."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import TimestampMixin, UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db


class CommitteeRole(StrEnum):
    CHAIR = "chair"
    MEMBER = "member"
    SECRETARY = "secretary"

    @property
    def label(self):
        return COMMITTEE_ROLE_LABELS[self]

    @property
    def votes(self) -> bool:
        """The chair and the members score; the secretary keeps the record and does not vote."""
        return self is not CommitteeRole.SECRETARY


COMMITTEE_ROLE_LABELS = {
    CommitteeRole.CHAIR: lazy_pgettext("committee", "Chair"),
    CommitteeRole.MEMBER: lazy_pgettext("committee", "Voting member"),
    CommitteeRole.SECRETARY: lazy_pgettext("committee", "Secretary (non-voting)"),
}

VOTING_ROLES = (CommitteeRole.CHAIR.value, CommitteeRole.MEMBER.value)


class CommitteeMember(db.Model):
    """A person appointed to a call's evaluation committee: a user, or an e-mail invited to become one."""

    __tablename__ = "committee_members"
    __table_args__ = (
        sa.UniqueConstraint("call_id", "user_id"),
        sa.UniqueConstraint("call_id", "email"),
        sa.CheckConstraint("role IN ('chair', 'member', 'secretary')", name="role_known"),
        sa.CheckConstraint("(accepted_at IS NULL) = (user_id IS NULL)", name="user_iff_accepted"),
        sa.Index(
            "uq_committee_one_chair",
            "call_id",
            unique=True,
            sqlite_where=sa.text("role = 'chair'"),
            postgresql_where=sa.text("role = 'chair'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[str] = mapped_column(sa.String(12), default=CommitteeRole.MEMBER)
    appointed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # An invitation by e-mail: the hash of the link's token until someone accepts it.
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The impartiality and confidentiality declaration for the call, signed in the portal.
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declaration_text: Mapped[str | None] = mapped_column(sa.Text)

    call = relationship("Call")
    user = relationship("User", foreign_keys=[user_id])

    @property
    def votes(self) -> bool:
        return CommitteeRole(self.role).votes

    @property
    def display_name(self) -> str:
        return self.user.full_name if self.user is not None else self.email


class ConflictDeclaration(db.Model):
    """A member's statement on one application: no conflict of interest, or a recusal with its reason."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "application_id"),
        sa.CheckConstraint("NOT recused OR reason IS NOT NULL", name="recusal_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("committee_members.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    recused: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    member: Mapped[CommitteeMember] = relationship()


class EligibilityAnswer(db.Model):
    """The administrative/eligibility check of one criterion for one application: yes or no, and why.

    `suggested` is what the portal decided by itself from the submitted data (None where it cannot);
    the coordinator or secretary confirms it or overrides it with a reason."""

    __tablename__ = "eligibility_answers"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "criterion_id"),
        sa.CheckConstraint("passed OR reason IS NOT NULL", name="failure_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("call_criteria.id", ondelete="CASCADE"))
    passed: Mapped[bool] = mapped_column()
    suggested: Mapped[bool | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(sa.Text)
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    criterion = relationship("CallCriterion")
    checked_by = relationship("User")


class Clarification(db.Model):
    """The one request to fix a defect: what to fix, by when, and the applicant's answer (a new version)."""

    __tablename__ = "clarifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per application: a defect can be sent back once (DESIGN §4).
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    message: Mapped[str] = mapped_column(sa.Text)
    working_days: Mapped[int] = mapped_column()
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("application_versions.id"))
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application = relationship("Application")


class ScoreSheet(db.Model):
    """One voting member's scores for one application: a draft autosaved, then submitted and locked."""

    __tablename__ = "score_sheets"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "application_id"),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name="status_known"),
        sa.CheckConstraint(
            "(status = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_at_iff_submitted"
        ),
        sa.Index("ix_score_sheets_application_status", "application_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("committee_members.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    member: Mapped[CommitteeMember] = relationship()
    application = relationship("Application")
    scores: Mapped[list[Score]] = relationship(back_populates="sheet", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_submitted(self) -> bool:
        return self.status == "submitted"


class Score(db.Model):
    """One criterion's score (0–3) on a sheet, with the comment that a 0 or 1 must carry."""

    __tablename__ = "scores"
    __table_args__ = (
        sa.UniqueConstraint("sheet_id", "criterion_id"),
        sa.CheckConstraint("value IS NULL OR (value >= 0 AND value <= 3)", name="value_0_to_3"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("call_criteria.id", ondelete="CASCADE"))
    value: Mapped[int | None] = mapped_column(sa.SmallInteger)
    comment: Mapped[str | None] = mapped_column(sa.Text)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    criterion = relationship("CallCriterion")


class Proposal(StrEnum):
    FUNDED = "funded"
    RESERVE = "reserve"
    NOT_FUNDED = "not_funded"

    @property
    def label(self):
        return PROPOSAL_LABELS[self]


PROPOSAL_LABELS = {
    Proposal.FUNDED: lazy_pgettext("proposal", "Fund"),
    Proposal.RESERVE: lazy_pgettext("proposal", "Reserve list"),
    Proposal.NOT_FUNDED: lazy_pgettext("proposal", "Do not fund"),
}


class EvaluationResult(db.Model):
    """The consolidated result of one application: average, pass/fail, rank, proposal and decision."""

    __tablename__ = "evaluation_results"
    __table_args__ = (
        sa.CheckConstraint("proposal IN ('funded', 'reserve', 'not_funded')", name="proposal_known"),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('funded', 'reserve', 'not_funded')", name="decision_known"
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision = proposal OR deviation_reason IS NOT NULL",
            name="deviation_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    average: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2))
    scorers: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    fail_reason: Mapped[str | None] = mapped_column(sa.String(30))  # 'threshold' | 'essential'
    rank: Mapped[int | None] = mapped_column(sa.Integer)  # among passed applications, 1 = best
    proposal: Mapped[str] = mapped_column(sa.String(12))
    decision: Mapped[str | None] = mapped_column(sa.String(12))
    deviation_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Criteria codes where members' scores differ by 2 or more: flagged for the committee to discuss.
    disagreements: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Average per criterion code, as strings of two decimals (for the protocol and the applicant).
    criterion_averages: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    application = relationship("Application")


class Decision(TimestampMixin, db.Model):
    """The council's decision on a call and the evaluation protocol, each stored with its SHA-256."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(sa.String(100))
    decided_on: Mapped[date] = mapped_column(sa.Date)
    file_id: Mapped[str] = mapped_column(sa.ForeignKey("stored_files.id"))
    protocol_file_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    protocol_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    call = relationship("Call")
    file = relationship("StoredFile", foreign_keys=[file_id])
    protocol_file = relationship("StoredFile", foreign_keys=[protocol_file_id])
