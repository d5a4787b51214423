"""One storage interface for uploaded files and generated PDFs (DESIGN §7).

The database is the default backend, so one backup holds everything and app servers stay stateless.
Files are addressed by a random UUID, never by the name a user gave; the SHA-256 is kept for audit.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal.core.db import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db


class StoredFile(db.Model):
    __tablename__ = "stored_files"
    __table_args__ = (sa.CheckConstraint("size >= 0", name="size_not_negative"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    filename: Mapped[str] = mapped_column(sa.String(255))  # for Content-Disposition only
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Loaded only when the bytes are asked for: listing files never pulls their content.
    data: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))


def save_file(data: bytes, *, filename: str, content_type: str, actor=None) -> StoredFile:
    """Store bytes and return the row (flushed, so it has its id)."""
    stored = StoredFile(
        filename=filename[:255],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_by_id=getattr(actor, "id", None),
        data=data,
    )
    db.session.add(stored)
    db.session.flush()
    return stored


class FileRemoved(OSError):
    """The file's bytes were removed under the retention rules (its name, size and hash stay for audit)."""


def read_file(stored: StoredFile) -> bytes:
    """Return the stored bytes, checking them against the recorded hash; FileRemoved when the retention
    job removed them."""
    data = stored.data
    if not data and stored.size > 0:
        raise FileRemoved(f"stored file {stored.id} was removed under the retention rules")
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        raise OSError(f"stored file {stored.id} does not match its SHA-256")
    return data
