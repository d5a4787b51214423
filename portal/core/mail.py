"""The e-mail outbox (DESIGN §7).

Services call `queue_email`, which renders the message in the recipient's language and writes it to
the outbox in the same transaction as the change that causes it. After the transaction commits the
messages are sent through Flask-Mail; failures are retried with exponential back-off by
`flask mail send-queued` and dead-lettered after MAIL_MAX_ATTEMPTS. Concurrent senders never send a
message twice: each one claims rows with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.db import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db, mail

log = logging.getLogger(__name__)

QUEUED, SENT, DEAD = "queued", "sent", "dead"
_PENDING_KEY = "outbox_pending_ids"
_COMMITTED_KEY = "outbox_committed_ids"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'sent', 'dead')", name="status_known"),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_at_iff_sent"),
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(5))
    template: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)


def queue_email(recipient: str, template: str, *, locale: str = "lv", **context) -> OutboxMessage:
    """Render `emails/<template>.{txt,html}` in the recipient's language and put it in the outbox.

    The subject is the template's first line ("Subject: ..."). The message is sent only if the
    surrounding transaction commits.
    """
    with force_locale(locale):
        text = render_template(f"emails/{template}.txt", **context)
        try:
            html = render_template(f"emails/{template}.html", **context)
        except Exception as exc:  # an HTML part is optional
            if exc.__class__.__name__ != "TemplateNotFound":
                raise
            html = None
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"emails/{template}.txt must start with a 'Subject:' line")
    message = OutboxMessage(
        recipient=recipient,
        subject=first.removeprefix("Subject:").strip(),
        body_text=body.lstrip("\n"),
        body_html=html,
        locale=locale,
        template=template,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
    return message


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        session.info.setdefault(_COMMITTED_KEY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def send_committed() -> int:
    """Send the messages whose transaction has committed in this session (called after a request)."""
    ids = db.session.info.pop(_COMMITTED_KEY, None)
    if not ids or not current_app.config.get("MAIL_SEND_AFTER_COMMIT", True):
        return 0
    return send_queued(ids=ids)


def _backoff(attempts: int) -> timedelta:
    base = current_app.config["MAIL_RETRY_BASE_SECONDS"]
    return timedelta(seconds=base * (2 ** max(attempts - 1, 0)))


def _deliver(message: OutboxMessage) -> None:
    mail.send(
        Message(
            subject=message.subject,
            recipients=[message.recipient],
            body=message.body_text,
            html=message.body_html,
        )
    )


def send_queued(*, ids: list[int] | None = None, limit: int = 100, now: datetime | None = None) -> int:
    """Send due messages one by one, each in its own short transaction; return how many were sent.

    A row is claimed with FOR UPDATE SKIP LOCKED, so two senders running at once skip each other's
    rows instead of sending them twice.
    """
    now = now or utcnow()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    sent = 0
    for _ in range(limit):
        query = (
            sa.select(OutboxMessage)
            .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        message = db.session.execute(query).scalar_one_or_none()
        if message is None:
            db.session.rollback()
            break
        message.attempts += 1
        try:
            _deliver(message)
        except Exception as exc:  # any SMTP or network failure: retry later
            message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.status = DEAD
                log.error("outbox message %s dead after %s attempts", message.id, message.attempts)
            else:
                message.next_attempt_at = now + _backoff(message.attempts)
            db.session.commit()
            if ids is not None:
                ids = [i for i in ids if i != message.id]
            continue
        message.status = SENT
        message.sent_at = utcnow()
        message.last_error = None
        db.session.commit()
        sent += 1
        if ids is not None:
            ids = [i for i in ids if i != message.id]
    return sent


def retry_dead(message: OutboxMessage) -> None:
    """Put a dead-lettered message back in the queue (an administrator's decision)."""
    message.status = QUEUED
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
