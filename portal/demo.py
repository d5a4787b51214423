"""Demo data for `make run` (`flask seed-demo`): idempotent, refused outside DEMO_MODE.

Everything here is fictional: the organisations, people and numbers are made up for demonstration.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import Membership, User
from portal.accounts.passwords import hash_password
from portal.core import audit
from portal.core.enums import LegalForm, Role
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.municipalities.models import Municipality
from portal.organisations.models import Organisation

DEMO_PASSWORD = "Demo-parole-2026"  # noqa: S105 - the documented demo password

# (email, full name, role, municipality code or None, organisation key or None)
ACCOUNTS = [
    ("admin@demo.jip.lv", "Ilze Valstiņa", Role.NATIONAL_ADMIN, None, None),
    ("koordinators@aizkraukle.demo.jip.lv", "Jānis Bērziņš", Role.COORDINATOR, "0020000", None),
    ("koordinators@ropazi.demo.jip.lv", "Līga Ozola", Role.COORDINATOR, "0044000", None),
    ("vertetajs1@aizkraukle.demo.jip.lv", "Andris Kalniņš", Role.EVALUATOR, "0020000", None),
    ("vertetajs2@aizkraukle.demo.jip.lv", "Marta Liepa", Role.EVALUATOR, "0020000", None),
    ("vertetajs1@ropazi.demo.jip.lv", "Edgars Kļaviņš", Role.EVALUATOR, "0044000", None),
    ("vertetajs2@ropazi.demo.jip.lv", "Dace Siliņa", Role.EVALUATOR, "0044000", None),
    ("zibens@demo.jip.lv", "Kristaps Zariņš", Role.APPLICANT, None, "zibens"),
    ("sprints@demo.jip.lv", "Elīna Krūmiņa", Role.APPLICANT, None, "sprints"),
]

ORGANISATIONS = {
    "zibens": {
        "name": "Biedrība \u201cJauniešu centrs Zibens\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008999993",
        "iban": "LV44HABA0551000000001",
        "bank_name": "Demo banka",
        "address": "Lāčplēša iela 1, Aizkraukle, LV-5101",
        "email": "info@zibens.demo.jip.lv",
        "municipality": "0020000",
    },
    "sprints": {
        "name": "Biedrība \u201cRopažu jauniešu klubs Sprints\u201d",
        "legal_form": LegalForm.YOUTH_ORGANISATION,
        "reg_number": "40008999989",
        "iban": "LV31UNLA0050000000002",
        "bank_name": "Demo banka",
        "address": "Institūta iela 1, Ulbroka, Ropažu novads, LV-2130",
        "email": "info@sprints.demo.jip.lv",
        "municipality": "0044000",
    },
}

GROUP = {
    "name": "Jauniešu iniciatīvas grupa \u201cSkolas sols\u201d",
    "representative": "zibens",
    "members": 6,
    "municipality": "0020000",
    "email": "skolassols@demo.jip.lv",
}

# Target-group pupils per municipality for the demo round (fictional, roughly by population).
DEMO_PUPILS = {
    "0001000": 52000,
    "0002000": 8100,
    "0003000": 5600,
    "0004000": 4300,
    "0005000": 6800,
    "0006000": 2600,
    "0007000": 3000,
    "0020000": 2200,
    "0021000": 1200,
    "0022000": 2000,
    "0023000": 3300,
    "0024000": 1100,
    "0025000": 3900,
    "0026000": 3900,
    "0027000": 2700,
    "0028000": 2400,
    "0029000": 1500,
    "0030000": 3700,
    "0031000": 3300,
    "0032000": 1400,
    "0033000": 2700,
    "0034000": 4600,
    "0035000": 2800,
    "0036000": 900,
    "0037000": 1500,
    "0038001": 2800,
    "0039000": 5200,
    "0040000": 4800,
    "0041000": 1700,
    "0042000": 1300,
    "0043000": 2300,
    "0044000": 4200,
    "0045000": 2600,
    "0046000": 2300,
    "0047000": 500,
    "0048000": 3800,
    "0049000": 1800,
    "0051000": 3200,
    "0052000": 3800,
    "0053000": 700,
    "0054000": 5600,
    "0055000": 300,
    "0056000": 1200,
}


class DemoRefused(RuntimeError):
    """Demo data is loaded only where DEMO_MODE is on (never in production)."""


def _municipality(code: str) -> Municipality:
    return db.session.scalars(sa.select(Municipality).where(Municipality.code == code)).one()


def _user(email: str, name: str, password_hash: str) -> tuple[User, bool]:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None:
        return user, False
    user = User(
        email=email,
        full_name=name,
        password_hash=password_hash,
        locale="lv",
        email_confirmed_at=utcnow(),
        is_demo=True,
    )
    db.session.add(user)
    db.session.flush()
    return user, True


def _organisation(key: str, creator: User) -> Organisation:
    data = ORGANISATIONS[key]
    org = db.session.scalar(sa.select(Organisation).where(Organisation.reg_number == data["reg_number"]))
    if org is None:
        fields = {k: v for k, v in data.items() if k != "municipality"}
        org = Organisation(
            **fields, municipality=_municipality(data["municipality"]), created_by_id=creator.id
        )
        db.session.add(org)
        db.session.flush()
        audit.record(
            "organisation.registered",
            actor=creator,
            obj=org,
            organisation_id=org.id,
            municipality_id=org.municipality_id,
            after={"name": org.name, "demo": True},
        )
    return org


def _seed_programme(admin: User) -> None:
    from portal.programmes import services as programmes

    programme = programmes.ensure_pumpurs_programme()
    if any(r.number == 1 for r in programme.rounds):
        return
    rnd = programmes.create_round(
        programme,
        actor=admin,
        number=1,
        projects=120,
        period_start=date(2026, 1, 1),
        period_end=date(2027, 6, 30),
    )
    names = dict(db.session.execute(sa.select(Municipality.code, Municipality.name)).all())
    csv = "municipality;pupils\n" + "".join(f"{names[c]};{n}\n" for c, n in DEMO_PUPILS.items())
    report = programmes.import_pupil_counts(rnd, csv.encode("utf-8-sig"), actor=admin)
    assert report.ok, report.problems
    programmes.compute_round_quotas(rnd, actor=admin)
    programmes.open_round(rnd, actor=admin)


def _seed_calls(users: dict) -> None:
    """Calls in several stages: a draft, an open call with a draft and a submitted application, and a
    closed call with submitted applications waiting for evaluation."""
    from datetime import timedelta

    from portal.applications import services as applications
    from portal.calls import services as calls
    from portal.calls.models import Call
    from portal.programmes.models import Programme

    if db.session.scalar(sa.select(sa.func.count()).select_from(Call)):
        return
    programme = db.session.scalar(sa.select(Programme).where(Programme.code == "pumpurs-jip"))
    rnd = next(r for r in programme.rounds if r.number == 1)
    now = utcnow().replace(microsecond=0)
    aizkraukle, ropazi = _municipality("0020000"), _municipality("0044000")
    coordinator_a = users["koordinators@aizkraukle.demo.jip.lv"]
    coordinator_r = users["koordinators@ropazi.demo.jip.lv"]

    def data(title, opens, closes, projects, contact):
        return calls.CallData(
            title=title,
            description="Jauniešu iniciatīvu projekti priekšlaicīgas mācību pārtraukšanas mazināšanai.",
            projects=projects,
            opens_at=opens,
            closes_at=closes,
            contact_name=contact.full_name,
            contact_email=contact.email,
            contact_phone="+371 60000000",
        )

    open_call = calls.create_call(
        rnd,
        aizkraukle,
        data(
            "Aizkraukles novada jauniešu iniciatīvu projektu konkurss 2026",
            now - timedelta(days=10),
            now + timedelta(days=25),
            1,
            coordinator_a,
        ),
        actor=coordinator_a,
    )
    calls.publish_call(open_call, actor=coordinator_a, now=open_call.opens_at)
    closed_call = calls.create_call(
        rnd,
        ropazi,
        data(
            "Ropažu novada jauniešu iniciatīvu projektu konkurss 2026",
            now - timedelta(days=40),
            now + timedelta(days=1),
            1,
            coordinator_r,
        ),
        actor=coordinator_r,
    )
    calls.publish_call(closed_call, actor=coordinator_r, now=closed_call.opens_at)
    calls.create_call(
        rnd,
        ropazi,
        data(
            "Ropažu novada konkursa 2. kārta (melnraksts)",
            now + timedelta(days=30),
            now + timedelta(days=70),
            1,
            coordinator_r,
        ),
        actor=coordinator_r,
    )

    zibens_user, sprints_user = users["zibens@demo.jip.lv"], users["sprints@demo.jip.lv"]
    zibens = _organisation("zibens", zibens_user)
    sprints = _organisation("sprints", sprints_user)
    group = db.session.scalar(sa.select(Organisation).where(Organisation.name == GROUP["name"]))
    for call, org, user, submit in (
        (open_call, zibens, zibens_user, True),
        (open_call, group, zibens_user, False),
        (closed_call, sprints, sprints_user, True),
        (closed_call, zibens, zibens_user, True),
    ):
        application = applications.start_application(call, org, actor=user)
        values = demo_application_values(org.name)
        if not submit:
            values = {k: values[k] for k in ("title", "start_date", "end_date", "places", "problem")}
        applications.save_draft(application, values, actor=user, expected_version=application.lock_version)
        if submit:
            applications.submit_application(application, actor=user)
    # The Ropaži call's deadline passes: it closes the way cron closes calls.
    closed_call.closes_at = now - timedelta(days=1)
    calls.close_due_calls(now)


def demo_application_values(organisation_name: str) -> dict:
    """A complete, rule-abiding application (fictional)."""
    from decimal import Decimal

    amounts = {
        "trainers": "1500.00",
        "catering": "900.00",
        "transport": "700.00",
        "accommodation": "0.00",
        "materials": "600.00",
        "venue": "300.00",
        "equipment": "200.00",
        "publicity": "150.00",
        "coordination": "250.00",
    }
    return {
        "title": f"Skolas sols — {organisation_name.split(chr(0x201C))[-1].rstrip(chr(0x201D))}",
        "start_date": date(2026, 9, 1),
        "end_date": date(2027, 5, 31),
        "places": "Novada skolas un jauniešu centrs",
        "partners": "Novada vidusskola; sociālais dienests",
        "problem": "Pamatskolas klasēs pieaug neattaisnoto kavējumu skaits.",
        "plan_link": "PMP prevencijas plāna universālās prevencijas aktivitāte 1.2",
        "goal": "Mazināt neattaisnotos kavējumus, iesaistot jauniešus pašu veidotās aktivitātēs.",
        "objectives": "Izveidot jauniešu vadītu klubu; noturēt PMP riska skolēnus mācībās.",
        "participants_total": 30,
        "participants_risk": 6,
        "participants_grades_5_9": 20,
        "participants_grades_10_12": 8,
        "participants_vocational": 2,
        "risk_by_category": {"learning": 4, "family": 3},
        "schools": "Novada vidusskola; pamatskola",
        "youth_involvement": "Jauniešu padome ierosināja un vada projektu.",
        "results": "25 dalībnieki regulāri piedalās; kavējumi samazinās par 20 %.",
        "indicators": "Apmeklējums; kavējumu skaits skolas e-klasē (kopsummā).",
        "publicity": "Skolas mājaslapa un sociālie tīkli.",
        "risks": "Dalībnieku atbirums — individuāls atbalsts.",
        "declaration_truth": True,
        "declaration_no_double_funding": True,
        "declaration_participant_lists": True,
        "activities": [
            {
                "activity": "Jauniešu kluba tikšanās",
                "method": "Neformālā izglītība, vienaudžu mācīšanās",
                "months": "1–9",
                "participants": 30,
                "responsible": "Jauniešu padome",
            },
            {
                "activity": "Pārgājiens un komandas saliedēšana",
                "method": "Piedzīvojumu pedagoģija",
                "months": "2",
                "participants": 20,
                "responsible": "Projekta koordinators",
            },
        ],
        "budget": {k: Decimal(v) for k, v in amounts.items()},
    }


def seed() -> dict:
    """Load the demo data that is missing; return what was created."""
    if not current_app.config.get("DEMO_MODE"):
        raise DemoRefused("Demo data is refused: DEMO_MODE is off (it is never on in production).")
    created: dict[str, list[str]] = {"users": []}
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for email, name, role, code, org_key in ACCOUNTS:
        user, new = _user(email, name, password_hash)
        users[email] = user
        if new:
            created["users"].append(email)
        municipality_id = _municipality(code).id if code else None
        organisation_id = _organisation(org_key, user).id if org_key else None
        exists = db.session.scalar(
            sa.select(Membership).where(
                Membership.user_id == user.id,
                Membership.role == role,
                Membership.municipality_id.is_(municipality_id)
                if municipality_id is None
                else Membership.municipality_id == municipality_id,
                Membership.organisation_id.is_(organisation_id)
                if organisation_id is None
                else Membership.organisation_id == organisation_id,
            )
        )
        if exists is None:
            db.session.add(
                Membership(
                    user_id=user.id,
                    role=role,
                    municipality_id=municipality_id,
                    organisation_id=organisation_id,
                    is_representative=role == Role.APPLICANT,
                )
            )
    db.session.flush()
    representative = _organisation(GROUP["representative"], users["zibens@demo.jip.lv"])
    group = db.session.scalar(sa.select(Organisation).where(Organisation.name == GROUP["name"]))
    if group is None:
        group = Organisation(
            name=GROUP["name"],
            legal_form=LegalForm.INITIATIVE_GROUP,
            representative_organisation=representative,
            group_members_count=GROUP["members"],
            municipality=_municipality(GROUP["municipality"]),
            email=GROUP["email"],
            created_by_id=users["zibens@demo.jip.lv"].id,
        )
        db.session.add(group)
        db.session.flush()
        db.session.add(
            Membership(
                user_id=users["zibens@demo.jip.lv"].id,
                role=Role.APPLICANT,
                organisation_id=group.id,
                is_representative=True,
            )
        )
    _seed_programme(users["admin@demo.jip.lv"])
    _seed_calls(users)
    db.session.flush()
    return created


def describe(created: dict) -> str:
    """Return the demo accounts as a table for the terminal."""
    lines = [
        "",
        f"Demo accounts (password for all: {DEMO_PASSWORD};"
        " TOTP is skipped for demo accounts in DEMO_MODE only):",
    ]
    from portal.municipalities.data import rows

    names = {r["code"]: r["name"] for r in rows()}
    for email, name, role, code, org_key in ACCOUNTS:
        scope = ORGANISATIONS[org_key]["name"] if org_key else names.get(code, "Latvija")
        lines.append(f"  {role.value:<15} {email:<40} {name} ({scope})")
    if created.get("users"):
        lines.append(f"Created {len(created['users'])} demo users now.")
    lines.append("Open http://127.0.0.1:5000")
    return "\n".join(lines)
