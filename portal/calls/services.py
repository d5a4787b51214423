"""Call use cases (issue 4): create within the remaining quota, publish with regulations, change
after publication only with a reason, close at the deadline. Callers commit."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l
from jinja2.sandbox import SandboxedEnvironment

from portal.calls.models import Call, CallCriterion
from portal.calls.workflow import WORKFLOW, CallStatus
from portal.core import audit, pdf, storage
from portal.core.enums import Role
from portal.core.i18n import riga_datetime
from portal.core.mail import queue_email
from portal.core.timeutil import utcnow
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db
from portal.programmes.models import Quota, Round

# Facts applicants rely on: after publication they change only with a reason, an audit event and an
# e-mail to everyone with a draft.
RELIED_ON_FIELDS = ("closes_at", "projects", "criteria")
EDITABLE_FIELDS = (
    "title",
    "description",
    "projects",
    "opens_at",
    "closes_at",
    "contact_name",
    "contact_email",
    "contact_phone",
)
CRITERION_FIELDS = (
    "title_lv",
    "title_en",
    "description_lv",
    "description_en",
    "weight",
    "essential",
    "levels",
)
# A signed regulations PDF is a scan or an e-signed document of a few pages.
REGULATIONS_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class CallData:
    title: str
    description: str
    projects: int
    opens_at: datetime
    closes_at: datetime
    contact_name: str
    contact_email: str
    contact_phone: str | None = None

    @classmethod
    def of(cls, call: Call, **changes) -> CallData:
        """Return the call's current facts, with some of them changed."""
        return cls(**({f: getattr(call, f) for f in EDITABLE_FIELDS} | changes))


def _require_coordinator(actor, municipality_id: int) -> None:
    if actor is None or not actor.has_role(Role.COORDINATOR, municipality_id=municipality_id):
        raise TransitionDenied("only the municipality's coordinator may manage its calls")


def _reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    return reason or None


def quota_for(rnd: Round, municipality_id: int) -> Quota | None:
    return db.session.scalar(
        sa.select(Quota).where(Quota.round_id == rnd.id, Quota.municipality_id == municipality_id)
    )


def remaining_quota(rnd: Round, municipality_id: int, *, excluding: Call | None = None) -> int:
    """Projects the municipality may still put into calls of this round (its quota minus its calls')."""
    quota = quota_for(rnd, municipality_id)
    if quota is None:
        return 0
    used = sa.select(sa.func.coalesce(sa.func.sum(Call.projects), 0)).where(
        Call.round_id == rnd.id, Call.municipality_id == municipality_id
    )
    if excluding is not None and excluding.id is not None:
        used = used.where(Call.id != excluding.id)
    return quota.total - int(db.session.scalar(used))


def _check(call: Call, rnd: Round) -> None:
    """Raise WorkflowError for the first rule the call's facts break."""
    # The quota query must not autoflush the changed call: a broken value (closing before opening)
    # would reach the database's CHECK constraint before the rule below could explain it.
    with db.session.no_autoflush:
        _check_rules(call, rnd)


def _check_rules(call: Call, rnd: Round) -> None:
    programme = rnd.programme
    if rnd.status == "closed":
        raise WorkflowError(str(_l("The round is closed.")), field="round")
    if call.projects is None or call.projects < 1:
        raise WorkflowError(str(_l("A call funds at least one project.")), field="projects")
    left = remaining_quota(rnd, call.municipality_id, excluding=call)
    if call.projects > left:
        raise WorkflowError(
            str(
                lazy_ngettext(
                    "The municipality's remaining quota in this round is %(num)d project.",
                    "The municipality's remaining quota in this round is %(num)d projects.",
                    max(left, 0),
                )
            ),
            field="projects",
        )
    if call.closes_at <= call.opens_at:
        raise WorkflowError(str(_l("The call must close after it opens.")), field="closes_at")
    if call.closes_at - call.opens_at < timedelta(days=programme.min_call_window_days):
        raise WorkflowError(
            str(
                lazy_ngettext(
                    "The call must stay open at least %(num)d day.",
                    "The call must stay open at least %(num)d days.",
                    programme.min_call_window_days,
                )
            ),
            field="closes_at",
        )


def create_call(rnd: Round, municipality, data: CallData, *, actor) -> Call:
    """Create a draft call in the round, copying the programme's criteria and amount."""
    _require_coordinator(actor, municipality.id)
    programme = rnd.programme
    if not programme.is_active:
        raise WorkflowError(str(_l("The programme takes no new calls.")), field="round")
    call = Call(
        municipality_id=municipality.id,
        programme_id=programme.id,
        round_id=rnd.id,
        amount=programme.amount,
        created_by_id=actor.id,
        **{f: getattr(data, f) for f in EDITABLE_FIELDS},
    )
    _check(call, rnd)
    call.criteria = [CallCriterion.copy_of(t) for t in programme.criteria]
    db.session.add(call)
    db.session.flush()
    audit.record(
        "call.created",
        actor=actor,
        obj=call,
        municipality_id=call.municipality_id,
        after={f: getattr(call, f) for f in EDITABLE_FIELDS},
    )
    return call


def update_call(call: Call, data: CallData, *, actor, reason: str | None = None) -> Call:
    """Change a call. After publication, a change to what applicants rely on needs a reason, is
    audited and e-mailed to every organisation with a draft; a closed call cannot change."""
    _require_coordinator(actor, call.municipality_id)
    if call.status not in (CallStatus.DRAFT, CallStatus.OPEN):
        raise WorkflowError(str(_l("The call is closed; it can no longer change.")))
    reason = _reason(reason)
    before = {f: getattr(call, f) for f in EDITABLE_FIELDS}
    changed = {f for f in EDITABLE_FIELDS if getattr(data, f) != before[f]}
    published = call.status == CallStatus.OPEN
    relied_on = changed & set(RELIED_ON_FIELDS)
    if published and "opens_at" in changed:
        raise WorkflowError(str(_l("A published call's opening time cannot change.")), field="opens_at")
    if published and relied_on and not reason:
        raise WorkflowError(
            str(_l("Say why the published call changes: applicants with a draft are told.")), field="reason"
        )
    if published and "closes_at" in changed and data.closes_at <= utcnow():
        raise WorkflowError(
            str(_l("The new closing time has already passed. To close the call now, use “Close now”.")),
            field="closes_at",
        )
    for f in changed:
        setattr(call, f, getattr(data, f))
    _check(call, call.round)
    db.session.flush()
    if changed:
        audit.record(
            "call.changed",
            actor=actor,
            obj=call,
            municipality_id=call.municipality_id,
            before={f: before[f] for f in sorted(changed)},
            after={f: getattr(call, f) for f in sorted(changed)},
            reason=reason if published else None,
        )
    if published and changed:
        _refresh_regulations(call, actor)
    if published and relied_on:
        _tell_drafters(call, reason, "call_changed")
    return call


def update_criterion(
    criterion: CallCriterion, *, actor, reason: str | None = None, **values
) -> CallCriterion:
    """Change a call's criterion: freely before publication, with a reason after (applicants are told)."""
    call = criterion.call
    _require_coordinator(actor, call.municipality_id)
    if call.status not in (CallStatus.DRAFT, CallStatus.OPEN):
        raise WorkflowError(str(_l("The call is closed; its criteria can no longer change.")))
    reason = _reason(reason)
    before = {k: getattr(criterion, k) for k in values if k in CRITERION_FIELDS}
    changed = {k for k, v in values.items() if k in CRITERION_FIELDS and v != before[k]}
    if not changed:
        return criterion
    published = call.status == CallStatus.OPEN
    if published and not reason:
        raise WorkflowError(
            str(_l("Say why the published call's criteria change: applicants with a draft are told.")),
            field="reason",
        )
    if "weight" in changed and (values["weight"] is None or values["weight"] < 0):
        raise WorkflowError(str(_l("The weight cannot be negative.")), field="weight")
    for key in changed:
        setattr(criterion, key, values[key])
    db.session.flush()
    audit.record(
        "call.criterion_changed",
        actor=actor,
        obj=call,
        municipality_id=call.municipality_id,
        before={"code": criterion.code, **{k: before[k] for k in sorted(changed)}},
        after={"code": criterion.code, **{k: getattr(criterion, k) for k in sorted(changed)}},
        reason=reason if published else None,
    )
    if published:
        _refresh_regulations(call, actor)
        _tell_drafters(call, reason, "call_changed")
    return criterion


def _refresh_regulations(call: Call, actor) -> None:
    """Regenerate the published regulations from the changed facts (a signed upload stays as it is)."""
    if call.regulations_signed_file_id is None:
        call.regulations_file_id = render_regulations(call, actor=actor).id
        db.session.flush()


def _tell_drafters(call: Call, reason: str, template: str) -> None:
    """E-mail every applicant member of an organisation with a draft in the call, in their language."""
    from portal.accounts.models import Membership, User
    from portal.applications.models import Application
    from portal.applications.workflow import ApplicationStatus

    recipients = db.session.execute(
        sa.select(User.email, User.locale)
        .distinct()
        .join(Membership, Membership.user_id == User.id)
        .join(Application, Application.organisation_id == Membership.organisation_id)
        .where(
            Application.call_id == call.id,
            Application.status == ApplicationStatus.DRAFT,
            Membership.role == Role.APPLICANT,
            User.is_disabled.is_(False),
        )
    ).all()
    for email, locale in recipients:
        queue_email(email, template, locale=locale, call=call, reason=reason, url=public_url(call))


def public_url(call: Call) -> str:
    """The call page's absolute address, also outside a request (the CLI, cron)."""
    path = current_app.url_map.bind("localhost").build("calls.show_call", {"call_id": call.id})
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def publish_call(call: Call, *, actor, now: datetime | None = None) -> Call:
    """Publish the call: its regulations PDF is generated unless a signed one was uploaded.

    The window applicants really get runs from publication (or the later opening) to the closing, so a
    call published late must still stay open the programme's minimum.
    """
    now = now or utcnow()
    _check(call, call.round)
    window = call.closes_at - max(call.opens_at, now)
    if window < timedelta(days=call.programme.min_call_window_days):
        raise WorkflowError(
            str(
                lazy_ngettext(
                    "Published now, the call would stay open less than %(num)d day: move the closing time.",
                    "Published now, the call would stay open less than %(num)d days: move the closing time.",
                    call.programme.min_call_window_days,
                )
            ),
            field="closes_at",
        )
    call.published_at = now  # set first: the status and its timestamp change in one UPDATE (CHECK)
    transition(WORKFLOW, call, "publish", actor)
    if call.regulations_signed_file_id is None:
        call.regulations_file_id = render_regulations(call, actor=actor).id
    db.session.flush()
    return call


def close_call(call: Call, *, actor, reason: str | None, now: datetime | None = None) -> Call:
    """Close an open call before its deadline (a coordinator, with a reason that drafters are told)."""
    reason = _reason(reason)
    if not reason:
        raise WorkflowError(
            str(_l("Say why the call closes early: applicants with a draft are told.")), field="reason"
        )
    transition(WORKFLOW, call, "close", actor, reason)
    call.closed_at = now or utcnow()
    db.session.flush()
    _tell_drafters(call, reason, "call_closed_early")
    return call


def upload_signed_regulations(call: Call, data: bytes, filename: str, *, actor) -> Call:
    """Replace the generated regulations with a signed PDF the coordinator uploads."""
    _require_coordinator(actor, call.municipality_id)
    if call.status not in (CallStatus.DRAFT, CallStatus.OPEN):
        raise WorkflowError(str(_l("The call is closed; its regulations can no longer change.")))
    if len(data) > REGULATIONS_MAX_BYTES:
        raise WorkflowError(str(_l("The file is larger than 10 MB.")), field="file")
    if not data.startswith(b"%PDF-"):
        raise WorkflowError(str(_l("Upload the signed regulations as a PDF file.")), field="file")
    stored = storage.save_file(data, filename=_pdf_name(call), content_type="application/pdf", actor=actor)
    call.regulations_signed_file_id = stored.id
    db.session.flush()
    audit.record(
        "call.regulations_uploaded",
        actor=actor,
        obj=call,
        municipality_id=call.municipality_id,
        after={"sha256": stored.sha256, "size": stored.size, "uploaded_name": (filename or "")[:200]},
    )
    return call


def _pdf_name(call: Call) -> str:
    # The name a user gave is never reused: only for the audit trail (Content-Disposition is ours).
    return f"nolikums-{call.id}.pdf"


_SANDBOX = SandboxedEnvironment(autoescape=True)


def regulations_text(call: Call, locale: str) -> str:
    """Fill the programme's regulations template with the call's facts (a sandbox: the template is data)."""
    programme = call.programme
    body = programme.text("regulations", locale) or programme.text("regulations", "lv")
    with force_locale(locale):
        facts = {
            "municipality": call.municipality.name,
            "title": call.title,
            "amount": f"{call.amount:.2f} EUR".replace(".", ","),
            "min_months": programme.min_months,
            "max_months": programme.max_months,
            "min_risk_share": f"{programme.min_risk_share.normalize():f}",
            "deadline": riga_datetime(call.closes_at, "long"),
            "projects": call.projects,
        }
    # The sandbox escapes the facts (the template is data and must not inject markup), so its output is
    # HTML text; the PDF and web templates escape again, so return plain text, never Markup.
    return html.unescape(_SANDBOX.from_string(body).render(**facts))


def regulations_pdf(call: Call, locale: str = "lv") -> bytes:
    """Render the regulations PDF from the programme's template and the call's facts (not stored)."""
    paragraphs = [p for p in regulations_text(call, locale).split("\n") if p.strip()]
    with force_locale(locale):
        return pdf.render_pdf("calls/pdf/regulations.html", call=call, paragraphs=paragraphs, locale=locale)


def render_regulations(call: Call, *, actor, locale: str = "lv") -> storage.StoredFile:
    """Render the regulations PDF and store it."""
    data = regulations_pdf(call, locale)
    stored = storage.save_file(data, filename=_pdf_name(call), content_type="application/pdf", actor=actor)
    audit.record(
        "call.regulations_generated",
        actor=actor,
        obj=call,
        municipality_id=call.municipality_id,
        after={"sha256": stored.sha256},
    )
    return stored


def close_due_calls(now: datetime | None = None) -> list[Call]:
    """Close every open call whose closing instant has passed (cron and the server itself call this).

    When nothing is due this is one SELECT. Rows another worker is closing are skipped (PostgreSQL), so
    two servers never close one call twice.
    """
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Call)
        .where(Call.status == CallStatus.OPEN, Call.closes_at < now)
        .with_for_update(skip_locked=True)
    ).all()
    for call in due:
        transition(WORKFLOW, call, "close", None)
        call.closed_at = now
    if due:
        db.session.flush()
    return due
