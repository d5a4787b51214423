"""Contract amendments (issue 7): the applicant's representative asks to change the project's dates
(within the programme's duration limits) or its activities; a coordinator of the contract's municipality
approves it, which applies the new dates to the contract and produces the next numbered annex
("Vienošanās Nr. N"), or refuses it with a reason. The amount and the goals are never changeable: no
form field and no parameter here can reach them. Callers commit.

Statuses: requested → approved | refused, through `WORKFLOW` and portal.core.workflow.transition (which
writes the StatusChange row and the audit events "amendment.approve" / "amendment.refuse"). The request
itself is recorded as "amendment.requested", and the change of the contract's dates on approval as
"contract.amended" (on the contract, with the dates before and after).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.applications.rules import duration_ok
from portal.applications.services import notify_organisation
from portal.applications.workflow import ApplicationStatus
from portal.contracts.models import Amendment, AmendmentStatus, Contract, ContractStatus
from portal.contracts.workflow import roles_for as contract_roles_for
from portal.core import audit, storage
from portal.core.mail import queue_email
from portal.core.pdf import render_pdf
from portal.core.timeutil import to_riga, utcnow
from portal.core.workdays import add_working_days
from portal.core.workflow import Transition, TransitionDenied, Workflow, WorkflowError, transition
from portal.extensions import db
from portal.organisations.services import public_url

PDF_TEMPLATE = "contracts/pdf/amendment.html"
TEXT_MAX = 4000
# The application statuses in which a signed contract can still be changed: signed but not started,
# and running. After the final report nothing is left to change.
OPEN_STATUSES = (ApplicationStatus.CONTRACT_SIGNED, ApplicationStatus.IN_PROGRESS)

COORDINATOR = frozenset({"coordinator"})

TRANSITIONS = {
    AmendmentStatus.REQUESTED: {
        "approve": Transition(AmendmentStatus.APPROVED, COORDINATOR, _l("Approve the change")),
        "refuse": Transition(
            AmendmentStatus.REFUSED, COORDINATOR, _l("Refuse the change"), requires_reason=True
        ),
    },
}


def roles_for(amendment: Amendment, actor) -> set[str]:
    """The actor's roles on the amendment are their roles on its contract."""
    return contract_roles_for(amendment.contract, actor)


def _scope(contract: Contract) -> dict[str, int | None]:
    return {
        "municipality_id": contract.municipality_id,
        "organisation_id": contract.application.organisation_id,
    }


WORKFLOW = Workflow(
    name="amendment",
    status_enum=AmendmentStatus,
    transitions=TRANSITIONS,
    roles_for=roles_for,
    scope_for=lambda a: _scope(a.contract),
)


# --- rules ----------------------------------------------------------------------------------------------


def open_request(contract: Contract) -> Amendment | None:
    """The contract's amendment waiting for a decision, if any (there is at most one)."""
    return db.session.scalar(
        sa.select(Amendment).where(
            Amendment.contract_id == contract.id, Amendment.status == AmendmentStatus.REQUESTED
        )
    )


def request_blocker(contract: Contract):
    """Say why no amendment can be requested for the contract now (a translated message), or None."""
    if contract.status != ContractStatus.SIGNED or contract.application.status not in OPEN_STATUSES:
        return _l("Changes can be requested for a signed contract of a project that has not ended.")
    if open_request(contract) is not None:
        return _l("A change requested earlier is waiting for the municipality's decision.")
    return None


def _check_period(contract: Contract, start: date | None, end: date | None, today: date) -> None:
    """Check the period that the change would give the contract (only the dates that change are new).

    - the start date moves only before the project has started (application "contract signed"), and
      not into the past: a change cannot rewrite days already gone;
    - the end date is not before today;
    - the whole period keeps the programme's rules: the same duration rule an application is checked
      with (portal.applications.rules.duration_ok, min/max months) and within the programme's period.
    """
    programme = contract.application.call.programme
    new_start, new_end = start or contract.start_date, end or contract.end_date
    if start is not None:
        if contract.application.status != ApplicationStatus.CONTRACT_SIGNED:
            raise WorkflowError(
                str(_l("The start date cannot change once the project is in progress.")),
                field="new_start_date",
            )
        if start < today:
            raise WorkflowError(str(_l("The new start date cannot be in the past.")), field="new_start_date")
        if start < programme.period_start:
            raise WorkflowError(
                str(_l("The project cannot start before the programme does.")), field="new_start_date"
            )
    if end is not None and end < today:
        raise WorkflowError(str(_l("The new end date cannot be in the past.")), field="new_end_date")
    if new_end < new_start:
        raise WorkflowError(str(_l("The project cannot end before it starts.")), field="new_end_date")
    long_enough, short_enough = duration_ok(new_start, new_end, programme.min_months, programme.max_months)
    field = "new_end_date" if end is not None else "new_start_date"
    if not long_enough:
        raise WorkflowError(
            str(_l("The project must last at least %(n)d months.", n=programme.min_months)), field=field
        )
    if not short_enough:
        raise WorkflowError(
            str(_l("The project may last at most %(n)d months.", n=programme.max_months)), field=field
        )
    if new_end > programme.period_end:
        raise WorkflowError(
            str(
                _l(
                    "The whole project must end within the programme, by %(day)s.",
                    day=programme.period_end.isoformat(),
                )
            ),
            field="new_end_date",
        )


def _undecided(amendment: Amendment) -> None:
    if amendment.status != AmendmentStatus.REQUESTED:
        raise WorkflowError(str(_l("This change has already been decided.")))


def _lock(contract: Contract, amendment: Amendment | None = None) -> None:
    """Serialise the amendments of one contract (a PostgreSQL row lock; SQLite serialises writers
    anyway), then re-read the amendment: a decision taken meanwhile by someone else is seen."""
    db.session.execute(sa.select(Contract.id).where(Contract.id == contract.id).with_for_update())
    if amendment is not None:
        db.session.refresh(amendment)


# --- use cases ------------------------------------------------------------------------------------------


def request_amendment(
    contract: Contract,
    *,
    actor,
    new_start_date: date | None = None,
    new_end_date: date | None = None,
    activities_change: str | None = None,
    reason: str,
    now: datetime | None = None,
) -> Amendment:
    """The organisation's representative asks to change the dates and/or the activities of a signed
    contract (see `_check_period` for the date rules), giving a reason. A date equal to the contract's
    current one is no change. One request waits for a decision at a time. The municipality's contact
    address is told."""
    now = now or utcnow()
    if "representative" not in contract_roles_for(contract, actor):
        raise TransitionDenied("only the organisation's representative requests contract changes")
    _lock(contract)
    blocker = request_blocker(contract)
    if blocker is not None:
        raise WorkflowError(str(blocker))
    if new_start_date == contract.start_date:
        new_start_date = None
    if new_end_date == contract.end_date:
        new_end_date = None
    activities_change = (activities_change or "").strip() or None
    reason = (reason or "").strip()
    if new_start_date is None and new_end_date is None and activities_change is None:
        raise WorkflowError(str(_l("Change the start date, the end date or the activities.")))
    if activities_change is not None and len(activities_change) > TEXT_MAX:
        raise WorkflowError(str(_l("Keep it under %(n)d characters.", n=TEXT_MAX)), field="activities_change")
    if not reason:
        raise WorkflowError(str(_l("Say why the change is needed.")), field="reason")
    if len(reason) > TEXT_MAX:
        raise WorkflowError(str(_l("Keep it under %(n)d characters.", n=TEXT_MAX)), field="reason")
    _check_period(contract, new_start_date, new_end_date, to_riga(now).date())

    amendment = Amendment(
        contract=contract,
        status=AmendmentStatus.REQUESTED,
        requested_by_id=actor.id,
        requested_at=now,
        new_start_date=new_start_date,
        new_end_date=new_end_date,
        activities_change=activities_change,
        reason=reason,
    )
    db.session.add(amendment)
    db.session.flush()
    audit.record(
        "amendment.requested",
        actor=actor,
        obj=amendment,
        object_type="amendment",
        after={
            "contract": contract.number,
            "new_start_date": new_start_date,
            "new_end_date": new_end_date,
            "activities_change": activities_change is not None,
        },
        reason=reason,
        **_scope(contract),
    )
    queue_email(
        contract.application.call.contact_email,
        "amendment_requested",
        locale="lv",
        amendment=amendment,
        contract=contract,
        link=public_url("contracts.decide_amendment", amendment_id=amendment.id),
    )
    return amendment


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _render_annex(amendment: Amendment, before: dict, today: date) -> bytes:
    contract = amendment.contract
    application = contract.application
    with force_locale("lv"):  # a Latvian document whatever the coordinator's interface language
        return render_pdf(
            PDF_TEMPLATE,
            locale="lv",
            amendment=amendment,
            contract=contract,
            municipality=contract.municipality.name,
            organisation=application.organisation.name,
            title=application.title or "",
            day=_day(today),
            requested_day=_day(to_riga(amendment.requested_at).date()),
            before={key: _day(value) for key, value in before.items()},
            after={
                "start_date": _day(contract.start_date),
                "end_date": _day(contract.end_date),
                "report_due": _day(contract.report_due),
            },
            dates_changed=before["start_date"] != contract.start_date
            or before["end_date"] != contract.end_date,
        )


def approve_amendment(amendment: Amendment, *, actor, now: datetime | None = None) -> Amendment:
    """A coordinator of the contract's municipality approves the change: it gets the contract's next
    annex number (1, 2, …; UNIQUE(contract_id, number) guards a race), the new dates and the report's
    due date go into the contract, and the numbered annex is rendered and stored with its SHA-256. The
    organisation's members are told, with the annex attached."""
    now = now or utcnow()
    contract = amendment.contract
    if "coordinator" not in roles_for(amendment, actor):
        raise TransitionDenied("only the municipality's coordinators decide contract changes")
    _lock(contract, amendment)
    _undecided(amendment)
    if contract.status != ContractStatus.SIGNED or contract.application.status not in OPEN_STATUSES:
        raise WorkflowError(str(_l("The contract can no longer be changed: refuse the request instead.")))
    # The rules again, as they stand today (the project may have started since the request).
    _check_period(contract, amendment.new_start_date, amendment.new_end_date, to_riga(now).date())

    before = {
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "report_due": contract.report_due,
    }
    number = (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(Amendment.number), 0)).where(
                Amendment.contract_id == contract.id
            )
        )
        + 1
    )
    with db.session.no_autoflush:  # status, number and decision reach the database together (CHECKs)
        amendment.number = number
        amendment.decided_at = now
        amendment.decided_by_id = actor.id
        transition(WORKFLOW, amendment, "approve", actor)
    if amendment.new_start_date is not None:
        contract.start_date = amendment.new_start_date
    if amendment.new_end_date is not None:
        contract.end_date = amendment.new_end_date
        contract.report_due = add_working_days(
            contract.end_date, contract.application.call.programme.report_due_working_days
        )
    db.session.flush()

    data = _render_annex(amendment, before, to_riga(now).date())
    stored = storage.save_file(
        data,
        filename=f"vienosanas-{number}-{contract.number.replace('/', '-')}.pdf",
        content_type="application/pdf",
        actor=actor,
    )
    amendment.pdf_file_id, amendment.pdf_sha256 = stored.id, stored.sha256
    audit.record(
        "contract.amended",
        actor=actor,
        obj=contract,
        before=before,
        after={
            "amendment": number,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            "report_due": contract.report_due,
            "pdf_sha256": stored.sha256,
        },
        **_scope(contract),
    )
    notify_organisation(
        contract.application.organisation_id,
        "amendment_approved",
        amendment=amendment,
        contract=contract,
        link=public_url("contracts.decide_amendment", amendment_id=amendment.id),
        attachments=[stored],
    )
    db.session.flush()
    return amendment


def refuse_amendment(amendment: Amendment, reason: str, *, actor, now: datetime | None = None) -> Amendment:
    """A coordinator of the contract's municipality refuses the change, with a reason the organisation's
    members read (by e-mail and in the portal). The contract stays as it was."""
    now = now or utcnow()
    contract = amendment.contract
    if "coordinator" not in roles_for(amendment, actor):
        raise TransitionDenied("only the municipality's coordinators decide contract changes")
    _lock(contract, amendment)
    _undecided(amendment)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(
            str(_l("Give the reason for the refusal: the applicant reads it.")), field="reason"
        )
    if len(reason) > TEXT_MAX:
        raise WorkflowError(str(_l("Keep it under %(n)d characters.", n=TEXT_MAX)), field="reason")
    with db.session.no_autoflush:
        amendment.decided_at = now
        amendment.decided_by_id = actor.id
        amendment.decision_reason = reason
        transition(WORKFLOW, amendment, "refuse", actor, reason)
    notify_organisation(
        contract.application.organisation_id,
        "amendment_refused",
        amendment=amendment,
        contract=contract,
        link=public_url("contracts.decide_amendment", amendment_id=amendment.id),
    )
    return amendment
