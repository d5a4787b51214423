"""Municipalities as data with validity dates (DESIGN §3: mergers happen)."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class Municipality(db.Model):
    __tablename__ = "municipalities"
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
        sa.CheckConstraint("kind IN ('novads', 'valstspilseta')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(7), unique=True)  # ATVK code
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20))
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_to: Mapped[date | None] = mapped_column(sa.Date)

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name}>"

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @classmethod
    def valid_on(cls, day: date):
        """Return a query of the municipalities that exist on the day."""
        return (
            sa.select(cls)
            .where(cls.valid_from <= day, sa.or_(cls.valid_to.is_(None), cls.valid_to >= day))
            .order_by(cls.name)
        )
