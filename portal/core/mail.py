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
from flask_mail import Connection, Message
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
    # Files to attach (ids of StoredFile rows), e.g. the PDF of a submitted application.
    attachment_file_ids: Mapped[list] = mapped_column(sa.JSON, default=list)


SUBJECT_MAX = 300  # the column's length; a subject quoting a long title is shortened, never refused


def _fit(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, ending with "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def queue_email(
    recipient: str, template: str, *, locale: str = "lv", attachments: list | None = None, **context
) -> OutboxMessage:
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
        subject=_fit(first.removeprefix("Subject:").strip(), SUBJECT_MAX),
        body_text=body.lstrip("\n"),
        body_html=html,
        locale=locale,
        template=template,
        attachment_file_ids=[f.id for f in attachments or []],
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


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    # Only the end of the outermost transaction matters: after a commit `_remember_committed` has
    # already moved the ids away, so whatever is still pending was rolled back. (Listening to
    # after_rollback instead would also fire for a rolled-back SAVEPOINT and forget messages whose
    # outer transaction still commits.)
    if transaction.parent is None:
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
    """Send one message over SMTP with the configuration as it is now.

    Flask-Mail copies MAIL_* into its state once, in `init_app`; reading the settings at send time
    lets tests (and an operator changing the environment of a long-running worker's app) point the
    outbox at another server or switch suppression on and off.
    """
    config = current_app.config
    state = mail.init_mail(config, current_app.debug, current_app.testing)
    email = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html,
        sender=config["MAIL_DEFAULT_SENDER"],
        charset="utf-8",
    )
    if message.attachment_file_ids:
        from portal.core.storage import StoredFile, read_file

        for file_id in message.attachment_file_ids:
            stored = db.session.get(StoredFile, file_id)
            email.attach(stored.filename, stored.content_type, read_file(stored))
    with Connection(state) as connection:
        email.send(connection)


def send_queued(*, ids: list[int] | None = None, limit: int = 100, now: datetime | None = None) -> int:
    """Send due messages one by one, each in its own short transaction; return how many were sent.

    A row is claimed with FOR UPDATE SKIP LOCKED, so two senders running at once skip each other's
    rows instead of sending them twice. A message that fails is retried with exponential back-off;
    after MAIL_MAX_ATTEMPTS it is dead-lettered and every national administrator is alerted.
    """
    now = now or utcnow()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    remaining = None if ids is None else list(ids)
    sent = 0
    for _ in range(limit):
        if remaining is not None and not remaining:
            break
        query = (
            sa.select(OutboxMessage)
            .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if remaining is not None:
            query = query.where(OutboxMessage.id.in_(remaining))
        message = db.session.execute(query).scalar_one_or_none()
        if message is None:
            db.session.rollback()
            break
        if remaining is not None:
            remaining.remove(message.id)
        message.attempts += 1
        try:
            _deliver(message)
        except Exception as exc:  # any SMTP or network failure: retry later
            message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.status = DEAD
                log.error("outbox message %s dead after %s attempts", message.id, message.attempts)
                alerts = _alert_administrators(message, now)
                if remaining is not None:
                    remaining.extend(alerts)
            else:
                message.next_attempt_at = now + _backoff(message.attempts)
                log.warning("outbox message %s failed (attempt %s), retrying", message.id, message.attempts)
            db.session.commit()
            continue
        message.status = SENT
        message.sent_at = utcnow()
        message.last_error = None
        db.session.commit()
        sent += 1
    return sent


ALERT_TEMPLATE = "admin_mail_dead"


def _alert_administrators(dead: OutboxMessage, now: datetime) -> list[int]:
    """Queue an `admin_mail_dead` alert to every active national administrator; return the new ids.

    An alert about an alert is never queued: if the alert itself cannot be delivered, mailing the
    administrators about it would fail the same way, and loop.
    """
    if dead.template == ALERT_TEMPLATE:
        return []
    from portal.accounts.models import Membership, User
    from portal.core.enums import Role

    admins = db.session.scalars(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.NATIONAL_ADMIN, User.is_disabled.is_(False))
        .order_by(User.id)
    ).unique()
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    ids = []
    for admin in admins:
        try:
            alert = queue_email(
                admin.email,
                ALERT_TEMPLATE,
                locale=admin.locale or "lv",
                message=dead,
                outbox_url=f"{base_url}/admin/outbox",
            )
        except Exception:  # a broken alert template must never keep the message from being dead-lettered
            log.exception("could not queue the dead-letter alert for message %s", dead.id)
            continue
        # Due at once, in this run too (the run's clock may be ahead of the wall clock in tests).
        alert.next_attempt_at = min(now, alert.next_attempt_at)
        ids.append(alert.id)
    return ids


def dead_count() -> int:
    """Return how many messages are dead-lettered (for the administrators' banner)."""
    return db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == DEAD)) or 0


def retry_dead(message: OutboxMessage) -> None:
    """Put a dead-lettered message back in the queue (an administrator's decision)."""
    if message.status != DEAD:
        raise ValueError(f"outbox message {message.id} is not dead-lettered")
    message.status = QUEUED
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
