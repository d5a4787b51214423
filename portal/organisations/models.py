"""Applicant organisations, their youth initiative groups, and invitations to join them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import TimestampMixin, UTCDateTime
from portal.core.enums import LegalForm, Role
from portal.core.timeutil import utcnow
from portal.extensions import db


class Organisation(TimestampMixin, db.Model):
    """A registered youth organisation, association or foundation, or a youth initiative group
    represented by one of them (DESIGN §2)."""

    __tablename__ = "organisations"
    __table_args__ = (
        sa.CheckConstraint(
            "(legal_form = 'initiative_group' AND representative_organisation_id IS NOT NULL"
            "  AND reg_number IS NULL)"
            " OR (legal_form <> 'initiative_group' AND representative_organisation_id IS NULL"
            "  AND reg_number IS NOT NULL)",
            name="group_has_representative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    legal_form: Mapped[LegalForm] = mapped_column(
        sa.Enum(LegalForm, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])
    )
    reg_number: Mapped[str | None] = mapped_column(sa.String(11), unique=True)
    iban: Mapped[str | None] = mapped_column(sa.String(34))
    bank_name: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"), index=True)
    representative_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    # Youth initiative group: how many young people it has (a count, never their names: DESIGN §6).
    group_members_count: Mapped[int | None] = mapped_column(sa.Integer)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    municipality = relationship("Municipality")
    representative_organisation: Mapped[Organisation | None] = relationship(
        remote_side=[id], back_populates="initiative_groups"
    )
    initiative_groups: Mapped[list[Organisation]] = relationship(back_populates="representative_organisation")
    memberships = relationship("Membership", back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"

    @property
    def is_initiative_group(self) -> bool:
        return self.legal_form == LegalForm.INITIATIVE_GROUP

    @property
    def legal_entity(self) -> Organisation:
        """Return the organisation that signs for this one (itself, or a group's representative)."""
        return self.representative_organisation or self

    @property
    def masked_iban(self) -> str:
        """Show only the country, bank and last four characters (DESIGN §6)."""
        if not self.iban:
            return ""
        return f"{self.iban[:8]}…{self.iban[-4:]}"


class Invitation(db.Model):
    """An e-mailed invitation to join an organisation as a member."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.APPLICANT,
    )
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    invited_by = relationship("User", foreign_keys=[invited_by_id])
