"""Users, their server-side sessions, one-time tokens, login attempts and role memberships."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import TimestampMixin, UTCDateTime
from portal.core.enums import STAFF_ROLES, Role
from portal.core.timeutil import utcnow
from portal.extensions import db


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, index=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(5), default="lv")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # TOTP (QUALITY A6): the seed, and the last accepted time step so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Demo accounts may skip TOTP only when the app runs with DEMO_MODE (never in production).
    is_demo: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users are logged out everywhere
        return not self.is_disabled

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    def roles(self) -> set[Role]:
        return {m.role for m in self.memberships}

    def has_role(self, role: Role, *, municipality_id=None, organisation_id=None) -> bool:
        """Say whether the user holds the role, in the given scope where one is given."""
        for m in self.memberships:
            if m.role != role:
                continue
            if municipality_id is not None and m.municipality_id != municipality_id:
                continue
            if organisation_id is not None and m.organisation_id != organisation_id:
                continue
            return True
        return False

    @property
    def is_staff(self) -> bool:
        return bool(self.roles() & STAFF_ROLES)

    @property
    def is_national_admin(self) -> bool:
        return Role.NATIONAL_ADMIN in self.roles()

    def coordinated_municipality_ids(self) -> set[int]:
        return {m.municipality_id for m in self.memberships if m.role == Role.COORDINATOR}

    def organisation_ids(self) -> set[int]:
        return {m.organisation_id for m in self.memberships if m.role == Role.APPLICANT}


class Membership(TimestampMixin, db.Model):
    """A role held within a scope: an organisation (applicant), a municipality (coordinator, evaluator)
    or the whole country (national administrator)."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'national_admin' AND municipality_id IS NULL AND organisation_id IS NULL)"
            " OR (role IN ('coordinator', 'evaluator') AND municipality_id IS NOT NULL"
            "     AND organisation_id IS NULL)"
            " OR (role = 'applicant' AND organisation_id IS NOT NULL AND municipality_id IS NULL)",
            name="scope_matches_role",
        ),
        sa.UniqueConstraint("user_id", "role", "municipality_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # Within an organisation: the person entitled to sign for it (applications, contracts).
    is_representative: Mapped[bool] = mapped_column(default=False)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    municipality = relationship("Municipality")
    organisation = relationship("Organisation", back_populates="memberships")


class UserSession(db.Model):
    """A login, held on the server: logout, disabling and timeouts end it (QUALITY B2, B4, B5).

    The browser's cookie carries only a random token; its SHA-256 is stored here.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User] = relationship()


class AccountToken(db.Model):
    """A single-use token sent by e-mail: confirm an address, reset a password (QUALITY A7)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Every login attempt, for throttling (QUALITY A3) and the security log."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_email_ip_at", "email", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    ip: Mapped[str] = mapped_column(sa.String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(default=False)
    stage: Mapped[str] = mapped_column(sa.String(10), default="password")
