"""Subject access (QUALITY F8; GDPR Art. 15 and 20): everything the portal stores about one person.

`export_personal_data(user)` returns a JSON-ready dict. It runs a fixed number of queries whatever
the amount of data (no N+1), gives every time in UTC ISO 8601, and writes one audit row. Secrets are
never exported: the export says that a password hash and a TOTP secret exist, not what they are.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from portal.accounts.models import LoginAttempt, Membership, User, UserSession
from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.timeutil import utcnow
from portal.extensions import db

FORMAT_VERSION = 1


def _time(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat()


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def _account(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "language": user.locale,
        "email_confirmed_at": _time(user.email_confirmed_at),
        "is_disabled": user.is_disabled,
        "created_at": _time(user.created_at),
        "updated_at": _time(user.updated_at),
        "password_changed_at": _time(user.password_changed_at),
        "two_step_login_enabled_at": _time(user.totp_confirmed_at),
        # Kept but not exported: they would let anyone holding this file into the account.
        "stored_secrets": {
            "password_hash": "stored (a one-way hash; not exported)",
            "totp_secret": ("stored (not exported)" if user.totp_secret else "none"),
        },
    }


def _memberships(user: User) -> tuple[list[dict], list[int]]:
    from portal.municipalities.models import Municipality
    from portal.organisations.models import Organisation

    rows = db.session.execute(
        sa.select(Membership, Organisation, Municipality)
        .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Municipality, Municipality.id == Membership.municipality_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    ).all()
    memberships = [
        {
            "role": _value(m.role),
            "organisation": {"id": org.id, "name": org.name} if org is not None else None,
            "municipality": {"id": mun.id, "name": mun.name} if mun is not None else None,
            "is_representative": m.is_representative,
            "since": _time(m.created_at),
        }
        for m, org, mun in rows
    ]
    return memberships, [org.id for _m, org, _mun in rows if org is not None]


def _organisations(user: User, ids: list[int]) -> list[dict]:
    from portal.organisations.models import Organisation

    if not ids:
        return []
    orgs = db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.id)
    )
    return [
        {
            "id": org.id,
            "name": org.name,
            "legal_form": _value(org.legal_form),
            "registration_number": org.reg_number,
            "address": org.address,
            "email": org.email,
            "phone": org.phone,
            "website": org.website,
            "bank_name": org.bank_name,
            "bank_account": org.masked_iban if org.iban else None,
            "municipality_id": org.municipality_id,
            "created_by_you": org.created_by_id == user.id,
        }
        for org in orgs
    ]


def _search_terms(user: User) -> list[str]:
    """The strings that name the user in stored JSON: the e-mail, and the name as typed and escaped."""
    terms = {user.email.lower()}
    name = (user.full_name or "").strip().lower()
    if len(name) >= 3:
        terms.add(name)
        terms.add(json.dumps(name)[1:-1])  # SQLite keeps JSON with non-ASCII letters as \\u escapes
    return sorted(terms)


def _mentions(data: Any, needles: tuple[str, ...], path: str = "") -> list[dict]:
    """Every string in `data` that contains the user's e-mail or name, with where it is."""
    found: list[dict] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _mentions(value, needles, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _mentions(value, needles, f"{path}[{index}]")
    elif isinstance(data, str) and any(needle in data.lower() for needle in needles):
        found.append({"path": path, "value": data})
    return found


def _applications(user: User) -> list[dict]:
    from portal.applications.models import Application, ApplicationActivity, ApplicationVersion

    terms = _search_terms(user)
    needles = (user.email.lower(), (user.full_name or "").strip().lower())
    needles = tuple(n for n in needles if len(n) >= 3)
    text = sa.func.lower(sa.cast(ApplicationVersion.data, sa.Text))
    versions = db.session.execute(
        sa.select(ApplicationVersion, Application)
        .join(Application, Application.id == ApplicationVersion.application_id)
        .where(
            sa.or_(
                ApplicationVersion.created_by_id == user.id,
                *(text.contains(term, autoescape=True) for term in terms),
            )
        )
        .order_by(ApplicationVersion.application_id, ApplicationVersion.number)
    ).all()
    responsible = sa.func.lower(sa.func.coalesce(ApplicationActivity.responsible, ""))
    named_in_activity = (
        sa.select(ApplicationActivity.application_id)
        .where(sa.or_(*(responsible.contains(n, autoescape=True) for n in needles)))
        .scalar_subquery()
        if needles
        else None
    )
    condition = Application.created_by_id == user.id
    if named_in_activity is not None:
        condition = sa.or_(condition, Application.id.in_(named_in_activity))
    live = db.session.scalars(sa.select(Application).where(condition)).all()
    activities = db.session.scalars(
        sa.select(ApplicationActivity).where(
            ApplicationActivity.application_id.in_([a.id for a in live] or [-1])
        )
    ).all()

    result: dict[int, dict] = {}

    def entry(app) -> dict:
        return result.setdefault(
            app.id,
            {
                "id": app.id,
                "title": app.title,
                "status": _value(app.status),
                "organisation_id": app.organisation_id,
                "call_id": app.call_id,
                "created_by_you": app.created_by_id == user.id,
                "submitted_at": _time(app.submitted_at),
                "named_in_activities": [],
                "versions": [],
            },
        )

    for app in live:
        entry(app)
    for activity in activities:
        if needles and any(n in (activity.responsible or "").lower() for n in needles):
            result[activity.application_id]["named_in_activities"].append(
                {"position": activity.position, "responsible": activity.responsible}
            )
    for version, app in versions:
        entry(app)["versions"].append(
            {
                "number": version.number,
                "kind": version.kind,
                "created_at": _time(version.created_at),
                "created_by_you": version.created_by_id == user.id,
                "mentions": _mentions(version.data, needles) if needles else [],
            }
        )
    return [result[key] for key in sorted(result)]


def _audit_events(user: User) -> tuple[list[dict], list[dict]]:
    by_you = db.session.execute(
        sa.select(
            AuditEvent.at, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.ip
        )
        .where(AuditEvent.actor_id == user.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    about_you = db.session.execute(
        sa.select(AuditEvent.at, AuditEvent.action)
        .where(
            AuditEvent.object_type == User.__tablename__,
            AuditEvent.object_id == user.id,
            sa.or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != user.id),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return (
        [
            {"at": _time(at), "action": action, "object_type": otype, "object_id": oid, "ip": ip}
            for at, action, otype, oid, ip in by_you
        ],
        [{"at": _time(at), "action": action} for at, action in about_you],
    )


def _emails(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(
            OutboxMessage.subject, OutboxMessage.created_at, OutboxMessage.status, OutboxMessage.sent_at
        )
        .where(sa.func.lower(OutboxMessage.recipient) == user.email.lower())
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    return [
        {"subject": subject, "queued_at": _time(created), "status": status, "sent_at": _time(sent)}
        for subject, created, status, sent in rows
    ]


def _committees(user: User) -> list[dict]:
    """The user's committee seats with their declarations and score sheets (an evaluator's opinions are
    their personal data too): three statements whatever the number of seats."""
    from portal.evaluation.models import CommitteeMember, ConflictDeclaration, Score, ScoreSheet

    seats = db.session.scalars(
        sa.select(CommitteeMember)
        .where(
            sa.or_(
                CommitteeMember.user_id == user.id, sa.func.lower(CommitteeMember.email) == user.email.lower()
            )
        )
        .order_by(CommitteeMember.id)
    ).all()
    ids = [m.id for m in seats]
    declarations = db.session.execute(
        sa.select(
            ConflictDeclaration.member_id,
            ConflictDeclaration.application_id,
            ConflictDeclaration.recused,
            ConflictDeclaration.reason,
            ConflictDeclaration.declared_at,
        )
        .where(ConflictDeclaration.member_id.in_(ids))
        .order_by(ConflictDeclaration.id)
    ).all()
    scores = db.session.execute(
        sa.select(
            ScoreSheet.member_id,
            ScoreSheet.application_id,
            ScoreSheet.status,
            ScoreSheet.submitted_at,
            Score.criterion_id,
            Score.value,
            Score.comment,
        )
        .join(Score, Score.sheet_id == ScoreSheet.id, isouter=True)
        .where(ScoreSheet.member_id.in_(ids))
        .order_by(ScoreSheet.id, Score.id)
    ).all()
    result = []
    for m in seats:
        sheets: dict[int, dict] = {}
        for member_id, application_id, status, submitted_at, criterion_id, value, comment in scores:
            if member_id != m.id:
                continue
            sheet = sheets.setdefault(
                application_id,
                {
                    "application_id": application_id,
                    "status": status,
                    "submitted_at": _time(submitted_at),
                    "scores": [],
                },
            )
            if criterion_id is not None:
                sheet["scores"].append({"criterion_id": criterion_id, "value": value, "comment": comment})
        result.append(
            {
                "call_id": m.call_id,
                "email": m.email,
                "role": m.role,
                "appointed_at": _time(m.appointed_at),
                "accepted_at": _time(m.accepted_at),
                "declared_at": _time(m.declared_at),
                "declaration_text": m.declaration_text,
                "conflict_declarations": [
                    {"application_id": a, "recused": r, "reason": why, "declared_at": _time(at)}
                    for member_id, a, r, why, at in declarations
                    if member_id == m.id
                ],
                "score_sheets": list(sheets.values()),
            }
        )
    return result


def _sessions(user: User) -> list[dict]:
    rows = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at)
    ).all()
    return [
        {
            "created_at": _time(s.created_at),
            "last_seen_at": _time(s.last_seen_at),
            "ip": s.ip,
            "browser": s.user_agent,
        }
        for s in rows
    ]


def _login_attempts(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(LoginAttempt.at, LoginAttempt.ip, LoginAttempt.success, LoginAttempt.stage)
        .where(LoginAttempt.email == user.email.lower())
        .order_by(LoginAttempt.at, LoginAttempt.id)
    ).all()
    return [{"at": _time(at), "ip": ip, "success": ok, "stage": stage} for at, ip, ok, stage in rows]


def export_personal_data(user: User, *, actor: User) -> dict:
    """Collect the user's personal data and record the export in the audit trail (flushes)."""
    memberships, organisation_ids = _memberships(user)
    by_you, about_you = _audit_events(user)
    data = {
        "format_version": FORMAT_VERSION,
        "exported_at": _time(utcnow()),
        "account": _account(user),
        "memberships": memberships,
        "organisations": _organisations(user, sorted(set(organisation_ids))),
        "applications": _applications(user),
        "committees": _committees(user),
        "audit_events_by_you": by_you,
        "audit_events_about_your_account": about_you,
        "emails_to_you": _emails(user),
        "sessions": _sessions(user),
        "login_attempts": _login_attempts(user),
    }
    audit.record("personal_data_exported", actor=actor, obj=user)
    db.session.flush()
    return data
