"""The scene of the authorization matrix test (QUALITY C1): two municipalities, three organisations,
nine personas, and objects of every kind a URL can name, each marked with a string no other object has.

"Own" objects belong to municipality A and its organisation "own"; "other" to the other organisation of
A; "foreign" to the organisation of municipality B. Objects scoped to a municipality only (a call, a
plan, a payment order) have no "other" variant: the probe uses the own municipality's object again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import sqlalchemy as sa

from portal.core import pdf
from portal.core.timeutil import riga_today, utcnow
from portal.extensions import db
from tests import factories

VARIANTS = ("own", "other", "foreign")

PERSONAS = (
    "anonymous",
    "applicant_own",
    "applicant_other",
    "applicant_b",
    "evaluator_a",
    "evaluator_b",
    "coordinator_a",
    "coordinator_b",
    "national_admin",
)


MARKERS: dict[str, set[str]] = {v: set() for v in VARIANTS}


def marker(variant: str, kind: str) -> str:
    """A string only this object carries (the body of a refused probe must not contain it)."""
    value = f"AUTHZ{variant.upper()}{kind.upper().replace('_', '')}"
    MARKERS[variant].add(value)
    return value


def lv_iban(n: int) -> str:
    """A valid Latvian IBAN (LVkk BANK + 13 digits), different for every n."""
    bban = f"BANK{n:013d}"
    digits = "".join(str(int(c, 36)) for c in bban + "LV00")
    return f"LV{98 - int(digits) % 97:02d}{bban}"


@dataclass
class Scene:
    users: dict = field(default_factory=dict)  # persona -> User id
    emails: dict = field(default_factory=dict)  # persona -> e-mail
    ids: dict = field(default_factory=dict)  # (kind, variant) -> id
    markers: dict = field(default_factory=dict)  # variant -> [strings of that variant's objects]

    def put(self, kind: str, variant: str, obj_id) -> None:
        self.ids[(kind, variant)] = obj_id


def _org(variant: str, muni, n: int):
    org = factories.OrganisationFactory(
        name=f"Biedrība {marker(variant, 'org')}",
        reg_number=factories.valid_reg_number(90_000 + n),
        iban=lv_iban(7_700_000 + n),
        municipality=muni,
    )
    return org


def _evaluating_call(muni, coordinator, evaluator, entrants, *, title: str, projects: int):
    """A call in evaluation: an admitted application per entrant (org, user, title), the persona
    evaluator chairing its declared committee. Returns (call, applications, committee)."""
    from portal.calls.workflow import CallStatus
    from portal.evaluation.services import checks

    rnd = factories.round_with_quota(muni, quota=projects)
    call = factories.open_call(muni, round=rnd, projects=projects, title=title)
    applications = []
    for i, (org, user, app_title) in enumerate(entrants):
        application, _ = factories.submitted_application(
            call, org, user=user, at=utcnow() - timedelta(hours=len(entrants) - i + 1), title=app_title
        )
        applications.append(application)
    factories.close_call(call)
    for application in applications:
        checks.record_check(
            application, {c: (True, None) for c in checks.suggestions(application)}, actor=coordinator
        )
        checks.admit(application, actor=coordinator)
    call.status = CallStatus.EVALUATION
    board = factories.committee(call, voting=3)
    board["chair"].user_id, board["chair"].email = evaluator.id, evaluator.email
    db.session.flush()
    return call, applications, board


def _world(scene: Scene, muni, coordinator, evaluator, entrants: list[tuple[str, object, object]]):
    """Build one municipality's objects; `entrants` are (variant, organisation, representative)."""
    from portal.applications.attachments import add_attachment
    from portal.contracts.amendments import request_amendment
    from portal.core import storage
    from portal.evaluation.services import checks, decisions
    from portal.organisations.services import invite_member
    from portal.payments import orders, recoveries
    from portal.payments import services as payments
    from portal.payments.accounts import save_paying_account
    from portal.reports.models import ReportFile

    mv = entrants[0][0]  # the municipality's variant: "own" for A, "foreign" for B

    # An open call with a draft (and an attachment) per organisation.
    call = factories.open_call(muni, title=f"Konkurss {marker(mv, 'opencall')}")
    scene.put("open_call", mv, call.id)
    for variant, org, user in entrants:
        draft, _ = factories.draft_application(call, org, complete=True, user=user)
        draft.title = marker(variant, "draft")
        db.session.flush()
        scene.put("draft", variant, draft.id)
        attachment = add_attachment(draft, factories.sample_pdf(), "pielikums.pdf", "other", user)
        scene.put("attachment", variant, attachment.id)
        invitation, _token = invite_member(user, org, f"invitee-{variant}@example.lv")
        scene.put("invitation", variant, invitation.id)
        scene.put("org", variant, org.id)
        scene.put("membership", variant, user.memberships[0].id)
        scene.put("user", variant, user.id)

    # A call in evaluation: one admitted application per organisation and one waiting for a clarification.
    from portal.calls.workflow import CallStatus

    rnd = factories.round_with_quota(muni, quota=2)
    ecall = factories.open_call(muni, round=rnd, projects=2, title=f"Konkurss {marker(mv, 'evalcall')}")
    admitted, clarified = [], []
    for variant, org, user in entrants:
        for title, bucket in (("evaluated", admitted), ("clarified", clarified)):
            application, _ = factories.submitted_application(
                ecall, org, user=user, title=marker(variant, title)
            )
            bucket.append((variant, application))
    factories.close_call(ecall)
    for _variant, application in admitted:
        checks.record_check(
            application, {c: (True, None) for c in checks.suggestions(application)}, actor=coordinator
        )
        checks.admit(application, actor=coordinator)
    for _variant, application in clarified:
        checks.request_clarification(application, "Precizējiet plānu.", 5, actor=coordinator)
    ecall.status = CallStatus.EVALUATION
    board = factories.committee(ecall, voting=3)
    board["chair"].user_id, board["chair"].email = evaluator.id, evaluator.email
    db.session.flush()
    scene.put("eval_call", mv, ecall.id)
    for variant, application in admitted:
        scene.put("evaluated", variant, application.id)
        sheet = factories.score(board["members"][1], application, 2, submit=False)
        scene.put("sheet", variant, sheet.id)
    for variant, application in clarified:
        scene.put("clarified", variant, application.id)
    scene.put("member", mv, board["members"][1].id)

    # A decided call: two funded applications per organisation, one with its final report submitted, one
    # in progress (paid through an exported payment order, an amendment requested, a recovery claimed).
    funded = 2 * len(entrants)
    dcall_entrants = []
    for variant, org, user in entrants:
        dcall_entrants += [(org, user, marker(variant, "reported")), (org, user, marker(variant, "progress"))]
    dcall, apps, board = _evaluating_call(
        muni, coordinator, evaluator, dcall_entrants, title=f"Konkurss {marker(mv, 'call')}", projects=funded
    )
    for member in board["members"]:
        for application in apps:
            factories.score(member, application, 3)
    decisions.consolidate_call(dcall, actor=coordinator)
    with mock.patch.object(pdf, "html_to_pdf", lambda html: factories.sample_pdf()):
        decisions.record_decision(
            dcall,
            number=f"{muni.id}/2026",
            decided_on=riga_today(),
            file_data=factories.sample_pdf(),
            filename="l.pdf",
            outcomes={},
            actor=coordinator,
        )
    scene.put("call", mv, dcall.id)
    scene.put("criterion", mv, dcall.criteria[0].id)
    ev = {
        "coordinator": coordinator,
        "applications": apps,
        "applicants": [user for _o, user, _t in dcall_entrants],
    }
    save_paying_account(
        muni.id,
        name="Pašvaldība",
        iban=lv_iban(8_800_000 + muni.id),
        bic="HABALV22",
        reg_number=None,
        actor=coordinator,
    )
    for i, (variant, _org, user) in enumerate(entrants):
        # The reported project.
        contract, _ = factories.contract_in("advance_paid", ev, index=2 * i)
        from portal.applications.workflow import WORKFLOW
        from portal.core.workflow import transition

        transition(WORKFLOW, contract.application, "start", coordinator)
        report, _c, _e = factories.submitted_report(
            contract, {"applicants": [user], "coordinator": coordinator}
        )
        stored = storage.save_file(
            factories.sample_pdf(), filename="foto.pdf", content_type="application/pdf"
        )
        item = ReportFile(report_id=report.id, file_id=stored.id, kind="evidence", uploaded_by_id=user.id)
        db.session.add(item)
        db.session.flush()
        scene.put("reported", variant, contract.application_id)
        scene.put("contract", variant, contract.id)
        scene.put("report", variant, report.id)
        scene.put("report_file", variant, item.id)
        scene.put("payment", variant, payments.payments_of(contract)["advance"].id)
        # The project in progress.
        contract, _ = factories.contract_in("advance_approved", ev, index=2 * i + 1)
        advance = payments.payments_of(contract)["advance"]
        export = orders.export_pain001(muni.id, [advance.id], actor=coordinator)
        orders.mark_exported_paid(export, paid_on=riga_today(), actor=coordinator)
        transition(WORKFLOW, contract.application, "start", coordinator)
        amendment = request_amendment(
            contract, actor=user, activities_change="Vēl viena darbnīca", reason="Laiks"
        )
        recovery = recoveries.claim_recovery(contract, Decimal("100.00"), "Neizlietots", actor=coordinator)
        db.session.flush()
        scene.put("progress", variant, contract.application_id)
        scene.put("progress_contract", variant, contract.id)
        scene.put("amendment", variant, amendment.id)
        scene.put("recovery", variant, recovery.id)
        scene.put("final_payment", variant, payments.payments_of(contract)["final"].id)
        if variant == mv:
            scene.put("export", mv, export.id)

    plan = factories.prevention_plan(muni)
    plan.title = f"Plāns {marker(mv, 'plan')}"
    db.session.flush()
    scene.put("plan", mv, plan.id)
    scene.put("goal", mv, plan.goals[0].id)
    scene.put("activity", mv, plan.activities[0].id)
    scene.put("indicator", mv, plan.indicators[0].id)
    scene.put("coordinator_user", mv, coordinator.id)
    from portal.programmes.models import Quota

    quota = db.session.scalar(
        sa.select(Quota).where(Quota.round_id == rnd.id, Quota.municipality_id == muni.id)
    )
    scene.put("quota", mv, quota.id)
    scene.put("round", mv, rnd.id)


def build() -> Scene:
    """Create the scene in the current session (flushed, not committed) and return it."""
    scene = Scene()
    programme = factories.programme()
    per_organisation = programme.applications_per_organisation
    programme.applications_per_organisation = 2  # an evaluated and a clarified one in the same call
    muni_a, muni_b = factories.municipality("0020000"), factories.municipality("0044000")
    org_own, org_other, org_b = _org("own", muni_a, 1), _org("other", muni_a, 2), _org("foreign", muni_b, 3)
    users = {
        "applicant_own": factories.applicant(org_own, email="authz-own@example.lv"),
        "applicant_other": factories.applicant(org_other, email="authz-other@example.lv"),
        "applicant_b": factories.applicant(org_b, email="authz-b@example.lv"),
        "evaluator_a": factories.evaluator(muni_a, email="authz-eval-a@example.lv"),
        "evaluator_b": factories.evaluator(muni_b, email="authz-eval-b@example.lv"),
        "coordinator_a": factories.coordinator(muni_a, email="authz-coord-a@example.lv"),
        "coordinator_b": factories.coordinator(muni_b, email="authz-coord-b@example.lv"),
        "national_admin": factories.national_admin(email="authz-admin@example.lv"),
    }
    _world(
        scene,
        muni_a,
        users["coordinator_a"],
        users["evaluator_a"],
        [("own", org_own, users["applicant_own"]), ("other", org_other, users["applicant_other"])],
    )
    _world(
        scene,
        muni_b,
        users["coordinator_b"],
        users["evaluator_b"],
        [("foreign", org_b, users["applicant_b"])],
    )
    programme.applications_per_organisation = per_organisation
    _national(scene, programme, users["national_admin"])
    db.session.flush()
    scene.markers = {v: sorted(MARKERS[v]) for v in VARIANTS}
    scene.users = {name: user.id for name, user in users.items()}
    scene.emails = {name: user.email for name, user in users.items()}
    return scene


def _national(scene: Scene, programme, admin) -> None:
    """Objects of the whole programme: only "own" variants (nobody's organisation or municipality)."""
    from portal.core.mail import OutboxMessage
    from portal.programmes.models import QuotaSnapshot

    snapshot = QuotaSnapshot(
        round_id=scene.ids[("round", "own")],
        computed_by_id=admin.id,
        method="Hamilton",
        projects=2,
        amount=Decimal("4600.00"),
        inputs=[],
        result=[],
    )
    db.session.add(snapshot)
    db.session.flush()
    scene.put("snapshot", "own", snapshot.id)
    scene.put("programme", "own", programme.id)
    scene.put("programme_criterion", "own", programme.criteria[0].id)
    scene.put("message", "own", db.session.scalar(sa.select(sa.func.min(OutboxMessage.id))))
