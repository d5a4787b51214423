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
    ("vertetajs3@ropazi.demo.jip.lv", "Ieva Priede", Role.EVALUATOR, "0044000", None),
    ("sekretare@ropazi.demo.jip.lv", "Santa Eglīte", Role.EVALUATOR, "0044000", None),
    ("zibens@demo.jip.lv", "Kristaps Zariņš", Role.APPLICANT, None, "zibens"),
    ("sprints@demo.jip.lv", "Elīna Krūmiņa", Role.APPLICANT, None, "sprints"),
    ("zakumuiza@demo.jip.lv", "Roberts Lapiņš", Role.APPLICANT, None, "zakumuiza"),
    ("vangazi@demo.jip.lv", "Laura Vītola", Role.APPLICANT, None, "vangazi"),
    ("kangari@demo.jip.lv", "Toms Ozoliņš", Role.APPLICANT, None, "kangari"),
    ("teatris@demo.jip.lv", "Anna Jansone", Role.APPLICANT, None, "teatris"),
    ("koknese@demo.jip.lv", "Mārtiņš Kalns", Role.APPLICANT, None, "koknese"),
    ("plavinas@demo.jip.lv", "Zane Rozīte", Role.APPLICANT, None, "plavinas"),
    # Rīga (issue 7): a decided call whose funded projects show contracts and payments in every state.
    ("koordinators@riga.demo.jip.lv", "Inese Kalnača", Role.COORDINATOR, "0001000", None),
    ("vertetajs1@riga.demo.jip.lv", "Pēteris Vanags", Role.EVALUATOR, "0001000", None),
    ("vertetajs2@riga.demo.jip.lv", "Agnese Strautiņa", Role.EVALUATOR, "0001000", None),
    ("kvartals@riga.demo.jip.lv", "Raivis Sproģis", Role.APPLICANT, None, "kvartals"),
    ("tilts@riga.demo.jip.lv", "Evija Dzene", Role.APPLICANT, None, "tilts"),
    ("parks@riga.demo.jip.lv", "Kārlis Mednis", Role.APPLICANT, None, "parks"),
    ("skatuve@riga.demo.jip.lv", "Sintija Auziņa", Role.APPLICANT, None, "skatuve"),
    ("darbnica@riga.demo.jip.lv", "Oskars Grīnbergs", Role.APPLICANT, None, "darbnica"),
    ("kompass@riga.demo.jip.lv", "Madara Lūse", Role.APPLICANT, None, "kompass"),
    ("vilnis@riga.demo.jip.lv", "Gints Celmiņš", Role.APPLICANT, None, "vilnis"),
    ("ritms@riga.demo.jip.lv", "Linda Ābele", Role.APPLICANT, None, "ritms"),
    ("laiva@riga.demo.jip.lv", "Artūrs Putniņš", Role.APPLICANT, None, "laiva"),
    # Rīga (issue 8): final reports in every state.
    ("solis@riga.demo.jip.lv", "Ilona Pētersone", Role.APPLICANT, None, "solis"),
    ("zvaigzne@riga.demo.jip.lv", "Rihards Krastiņš", Role.APPLICANT, None, "zvaigzne"),
    ("celsme@riga.demo.jip.lv", "Beāte Leimane", Role.APPLICANT, None, "celsme"),
]

# What to try with an account (printed by `describe`).
NOTES = {
    "admin@demo.jip.lv": "/reports/national: a report forwarded to acknowledge (and one closed);"
    " /reports/export: the audit workbook; /plans/: every municipality's prevention plan",
    "koordinators@aizkraukle.demo.jip.lv": "an open call; a call with published results (see /results/);"
    " the Aizkraukle prevention plan (/plans/)",
    "koordinators@ropazi.demo.jip.lv": "runs the Ropaži evaluation; a decided call with its protocol;"
    " the Ropaži prevention plan of seed 004 (/plans/)",
    "vertetajs1@ropazi.demo.jip.lv": "committee chair: has scored everything",
    "vertetajs2@ropazi.demo.jip.lv": "has a score sheet in draft: finish it and score the other application",
    "vertetajs3@ropazi.demo.jip.lv": "recused from one application",
    "sekretare@ropazi.demo.jip.lv": "committee secretary: does the administrative check",
    "sprints@demo.jip.lv": "has a clarification request to answer; a funded application",
    "zibens@demo.jip.lv": "an application on the reserve list (versions 1 and 2)",
    "teatris@demo.jip.lv": "a funded project in the public register (/projects/)",
    "koknese@demo.jip.lv": "on the reserve list of a call with published results",
    "koordinators@riga.demo.jip.lv": "contracts and payments in every state: /contracts/, /payments/,"
    " /payments/orders (an approved advance to export), /payments/ledger; final reports to review:"
    " /reports/ (one submitted, one returned, one overdue); the prevention plan and its monitoring"
    " table with figures and notes: /plans/",
    "vertetajs1@riga.demo.jip.lv": "member of the Rīga committee (a call with published results)",
    "kvartals@riga.demo.jip.lv": "a contract being prepared (draft: not sent yet)",
    "tilts@riga.demo.jip.lv": "a contract to sign: download it and upload the signed file",
    "parks@riga.demo.jip.lv": "a signed contract waiting for the coordinator's confirmation",
    "skatuve@riga.demo.jip.lv": "a signed contract; the advance is approved, not yet paid",
    "darbnica@riga.demo.jip.lv": "a project in progress (advance paid); a final report being written",
    "kompass@riga.demo.jip.lv": "a finished project: report approved and forwarded, final payment approved",
    "vilnis@riga.demo.jip.lv": "a closed project: report acknowledged, paid in full (advance and final)",
    "solis@riga.demo.jip.lv": "a final report submitted, waiting for the coordinator's review",
    "zvaigzne@riga.demo.jip.lv": "a final report returned for correction: correct it and submit it again",
    "celsme@riga.demo.jip.lv": "a final report to write: overdue (the reminder is in the outbox)",
    "ritms@riga.demo.jip.lv": "a contract that lapsed (not signed by its deadline)",
    "laiva@riga.demo.jip.lv": "funded from the reserve list after a contract lapsed; no contract yet",
}

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
    "zakumuiza": {
        "name": "Biedrība \u201cZaķumuižas jaunieši\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008999902",
        "iban": "LV87HABA0551000000003",
        "bank_name": "Demo banka",
        "address": "Skolas iela 2, Zaķumuiža, Ropažu novads, LV-2133",
        "email": "info@zakumuiza.demo.jip.lv",
        "municipality": "0044000",
    },
    "vangazi": {
        "name": "Nodibinājums \u201cVangažu jauniešu fonds\u201d",
        "legal_form": LegalForm.FOUNDATION,
        "reg_number": "40008999917",
        "iban": "LV74UNLA0050000000004",
        "bank_name": "Demo banka",
        "address": "Gaujas iela 3, Vangaži, Ropažu novads, LV-2136",
        "email": "info@vangazi.demo.jip.lv",
        "municipality": "0044000",
    },
    "kangari": {
        "name": "Biedrība \u201cKangaru piedzīvojumu klubs\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008999921",
        "iban": "LV33HABA0551000000005",
        "bank_name": "Demo banka",
        "address": "Meža iela 4, Kangari, Ropažu novads, LV-2135",
        "email": "info@kangari.demo.jip.lv",
        "municipality": "0044000",
    },
    "teatris": {
        "name": "Biedrība \u201cAizkraukles jauniešu teātris\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008999936",
        "iban": "LV06HABA0551000000006",
        "bank_name": "Demo banka",
        "address": "Gaismas iela 5, Aizkraukle, LV-5101",
        "email": "info@teatris.demo.jip.lv",
        "municipality": "0020000",
    },
    "koknese": {
        "name": "Biedrība \u201cKokneses jauniešu iniciatīvas\u201d",
        "legal_form": LegalForm.YOUTH_ORGANISATION,
        "reg_number": "40008999940",
        "iban": "LV90UNLA0050000000007",
        "bank_name": "Demo banka",
        "address": "Parka iela 6, Koknese, Aizkraukles novads, LV-5113",
        "email": "info@koknese.demo.jip.lv",
        "municipality": "0020000",
    },
    "plavinas": {
        "name": "Nodibinājums \u201cPļaviņu jauniešu fonds\u201d",
        "legal_form": LegalForm.FOUNDATION,
        "reg_number": "40008999955",
        "iban": "LV49HABA0551000000008",
        "bank_name": "Demo banka",
        "address": "Daugavas iela 7, Pļaviņas, Aizkraukles novads, LV-5120",
        "email": "info@plavinas.demo.jip.lv",
        "municipality": "0020000",
    },
    "kvartals": {
        "name": "Biedrība \u201cKvartāla jaunieši\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008998803",
        "iban": "LV13HABA0550000000011",
        "bank_name": "Swedbank",
        "address": "Avotu iela 12, Rīga, LV-1011",
        "email": "info@kvartals.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "tilts": {
        "name": "Biedrība \u201cJauniešu tilts\u201d",
        "legal_form": LegalForm.YOUTH_ORGANISATION,
        "reg_number": "40008998818",
        "iban": "LV56UNLA0550000000012",
        "bank_name": "SEB banka",
        "address": "Kalnciema iela 30, Rīga, LV-1046",
        "email": "info@tilts.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "parks": {
        "name": "Biedrība \u201cGrīziņkalna parka jaunieši\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008998822",
        "iban": "LV27PARX0550000000013",
        "bank_name": "Citadele",
        "address": "Pērnavas iela 5, Rīga, LV-1009",
        "email": "info@parks.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "skatuve": {
        "name": "Biedrība \u201cJaunā skatuve\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008998837",
        "iban": "LV17RIKO0550000000014",
        "bank_name": "Luminor",
        "address": "Lāčplēša iela 60, Rīga, LV-1011",
        "email": "info@skatuve.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "darbnica": {
        "name": "Nodibinājums \u201cPurvciema jauniešu darbnīca\u201d",
        "legal_form": LegalForm.FOUNDATION,
        "reg_number": "40008998841",
        "iban": "LV02HABA0550000000015",
        "bank_name": "Swedbank",
        "address": "Dzelzavas iela 40, Rīga, LV-1084",
        "email": "info@darbnica.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "kompass": {
        "name": "Biedrība \u201cJauniešu kompass\u201d",
        "legal_form": LegalForm.YOUTH_ORGANISATION,
        "reg_number": "40008998856",
        "iban": "LV45UNLA0550000000016",
        "bank_name": "SEB banka",
        "address": "Brīvības iela 100, Rīga, LV-1001",
        "email": "info@kompass.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "vilnis": {
        "name": "Biedrība \u201cDaugavgrīvas vilnis\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008998860",
        "iban": "LV16PARX0550000000017",
        "bank_name": "Citadele",
        "address": "Birzes iela 3, Rīga, LV-1016",
        "email": "info@vilnis.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "ritms": {
        "name": "Biedrība \u201cImantas ritms\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008998875",
        "iban": "LV06RIKO0550000000018",
        "bank_name": "Luminor",
        "address": "Zolitūdes iela 20, Rīga, LV-1029",
        "email": "info@ritms.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "laiva": {
        "name": "Nodibinājums \u201cĶengaraga laiva\u201d",
        "legal_form": LegalForm.FOUNDATION,
        "reg_number": "40008998894",
        "iban": "LV88HABA0550000000019",
        "bank_name": "Swedbank",
        "address": "Maskavas iela 250, Rīga, LV-1063",
        "email": "info@laiva.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "solis": {
        "name": "Biedrība \u201cBolderājas jauniešu solis\u201d",
        "legal_form": LegalForm.ASSOCIATION,
        "reg_number": "40008998907",
        "iban": "LV61HABA0550000000020",
        "bank_name": "Swedbank",
        "address": "Lielupes iela 15, Rīga, LV-1016",
        "email": "info@solis.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "zvaigzne": {
        "name": "Biedrība \u201cZiepniekkalna zvaigznes\u201d",
        "legal_form": LegalForm.YOUTH_ORGANISATION,
        "reg_number": "40008998911",
        "iban": "LV07UNLA0550000000021",
        "bank_name": "SEB banka",
        "address": "Ozolciema iela 20, Rīga, LV-1058",
        "email": "info@zvaigzne.riga.demo.jip.lv",
        "municipality": "0001000",
    },
    "celsme": {
        "name": "Nodibinājums \u201cPļavnieku celsme\u201d",
        "legal_form": LegalForm.FOUNDATION,
        "reg_number": "40008998926",
        "iban": "LV75PARX0550000000022",
        "bank_name": "Citadele",
        "address": "Ilūkstes iela 30, Rīga, LV-1082",
        "email": "info@celsme.riga.demo.jip.lv",
        "municipality": "0001000",
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
    """Calls in every stage: a draft; an open call with a draft and a submitted application; a call in
    evaluation (committee, checks, declarations, a recusal, scores submitted and in draft, a clarification
    request waiting for its answer); a decided call (decision, ranking, reserve list, protocol) whose
    results the coordinator can publish; and an Aizkraukle call from earlier in the year whose results are
    published (on /results/, /projects/, /statistics and /api/v1/).

    No archived call: the two Aizkraukle calls already use the municipality's whole quota (2 projects), as
    the three Ropaži calls use Ropaži's (3), and a call funds at least one project.

    Everything goes through the services, so each status change has its history row and audit event; only
    the calls' closing times are moved into the past (the way the demo makes calls that closed weeks ago)."""
    from datetime import timedelta

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

    def published(municipality, title, opens, coordinator):
        # Every call is created open until tomorrow (applications can only be started in an open call);
        # the ones that closed in the past get their closing time moved back once the applications are in.
        call = calls.create_call(
            rnd, municipality, data(title, opens, now + timedelta(days=1), 1, coordinator), actor=coordinator
        )
        return calls.publish_call(call, actor=coordinator, now=call.opens_at)

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
    results_call = published(
        aizkraukle,
        "Aizkraukles novada jauniešu pavasara iniciatīvu konkurss 2026",
        now - timedelta(days=200),
        coordinator_a,
    )
    evaluation_call = published(
        ropazi,
        "Ropažu novada jauniešu iniciatīvu projektu konkurss 2026",
        now - timedelta(days=40),
        coordinator_r,
    )
    decided_call = published(
        ropazi,
        "Ropažu novada jauniešu vasaras iniciatīvu konkurss 2026",
        now - timedelta(days=80),
        coordinator_r,
    )
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

    orgs = {key: _organisation(key, users[_applicant_email(key)]) for key in ORGANISATIONS}
    group = db.session.scalar(sa.select(Organisation).where(Organisation.name == GROUP["name"]))
    zibens_user = users["zibens@demo.jip.lv"]
    _apply(open_call, orgs["zibens"], zibens_user, submit_at=now)
    _apply(open_call, group, zibens_user, submit_at=None)

    results_closes = now - timedelta(days=170)
    results_apps = _apply_all(
        results_call, PUBLISHED_APPLICATIONS, orgs, users, first_at=results_closes - timedelta(days=4)
    )
    decided_closes = now - timedelta(days=35)
    decided_apps = _apply_all(
        decided_call, DECIDED_APPLICATIONS, orgs, users, first_at=decided_closes - timedelta(days=3, hours=5)
    )
    evaluation_closes = now - timedelta(days=8)
    evaluation_apps = _apply_all(
        evaluation_call,
        EVALUATION_APPLICATIONS,
        orgs,
        users,
        first_at=evaluation_closes - timedelta(days=2, hours=5),
    )

    # The deadlines pass: the calls close the way cron closes them, a minute after their closing time.
    results_call.closes_at = results_closes
    decided_call.closes_at = decided_closes
    evaluation_call.closes_at = evaluation_closes
    for closes in (results_closes, decided_closes, evaluation_closes):
        calls.close_due_calls(closes + timedelta(minutes=1))

    _seed_published(results_call, results_apps, users)
    _seed_decided(decided_call, decided_apps, users, now)
    _seed_evaluation(evaluation_call, evaluation_apps, users, now)


def _applicant_email(org_key: str) -> str:
    return next(email for email, _n, _r, _c, key in ACCOUNTS if key == org_key)


def _apply_all(call, applications: dict, orgs: dict, users: dict, *, first_at) -> dict:
    """Submit the applications ({organisation key: overrides}) an hour apart, the first at `first_at`."""
    from datetime import timedelta

    return {
        key: _apply(
            call,
            orgs[key],
            users[_applicant_email(key)],
            submit_at=first_at + timedelta(hours=i),
            **overrides,
        )
        for i, (key, overrides) in enumerate(applications.items())
    }


def _apply(call, organisation, user, *, submit_at, **overrides):
    """Start an application, fill it in and (unless submit_at is None) submit it at that instant."""
    from portal.applications import services as applications
    from portal.plans.demo_plans import youth_activity

    application = applications.start_application(call, organisation, actor=user)
    values = demo_application_values(organisation.name) | overrides
    if (activity := youth_activity(call.municipality.code)) is not None:
        values.setdefault("plan_activity_id", activity.id)
    if submit_at is None:
        values = {k: values[k] for k in ("title", "start_date", "end_date", "places", "problem")}
    applications.save_draft(application, values, actor=user, expected_version=application.lock_version)
    if submit_at is not None:
        applications.submit_application(application, actor=user, now=submit_at)
    return application


# --- evaluation ------------------------------------------------------------------------------------

# The Ropaži committee: the same people sit on both Ropaži committees.
COMMITTEE = [
    ("vertetajs1@ropazi.demo.jip.lv", "chair"),
    ("vertetajs2@ropazi.demo.jip.lv", "member"),
    ("vertetajs3@ropazi.demo.jip.lv", "member"),
    ("sekretare@ropazi.demo.jip.lv", "secretary"),
]
# The Aizkraukle committee: the coordinator chairs it (appointing grants the evaluator role); no secretary.
AIZKRAUKLE_COMMITTEE = [
    ("koordinators@aizkraukle.demo.jip.lv", "chair"),
    ("vertetajs1@aizkraukle.demo.jip.lv", "member"),
    ("vertetajs2@aizkraukle.demo.jip.lv", "member"),
]


def _voting(committee: list) -> list[str]:
    return [email for email, role in committee if role != "secretary"]


VOTING = _voting(COMMITTEE)

DECIDED_APPLICATIONS = {
    "sprints": {"title": "Skrien un mācies"},
    "zibens": {
        "title": "Pārgājienu skola",
        "plan_link": "PMP plāns",  # too vague: the check asks for a clarification
    },
    "zakumuiza": {"title": "Vasaras radošā nometne"},
    "vangazi": {
        "title": "Vangažu jauniešu festivāls",
        "youth_involvement": "Festivālu organizē fonda valde; jaunieši piedalās kā apmeklētāji.",
    },
    "kangari": {
        "title": "Kangaru piedzīvojumu parks",
        "plan_link": "Sporta sacensību sērija",
    },
}

PUBLISHED_APPLICATIONS = {
    # Three of thirty participants at risk: the public pages show "<5", not the count.
    "teatris": {
        "title": "Forumteātris pret kavējumiem",
        "participants_risk": 3,
        "risk_by_category": {"learning": 2, "family": 1},
    },
    "koknese": {"title": "Kokneses jauniešu podkāsts"},
    "plavinas": {"title": "Pļaviņu jauniešu sporta diena"},
    "zibens": {"title": "Ekskursiju cikls pa Latviju", "plan_link": "Ekskursijas"},
}

EVALUATION_APPLICATIONS = {
    "zibens": {"title": "Vienaudžu mentori"},
    "zakumuiza": {"title": "Zaķumuižas jauniešu darbnīcas"},
    "sprints": {"title": "Sprints pēc stundām", "partners": ""},
}

# The quality criteria in order: relevance, youth_led, activities, reach, results, realism, capacity.
# Weights 2, 2, 2, 1.5, 1, 1, 0.5: at most 30 points, 15 to pass.
DECIDED_SCORES = {
    "sprints": [[3, 3, 3, 2, 2, 3, 2], [3, 2, 3, 3, 2, 2, 2], [2, 3, 3, 2, 3, 2, 3]],  # 26.00: funded
    # The youth_led scores 3 and 1 are two points apart: flagged for discussion.
    "zibens": [[2, 2, 3, 2, 2, 2, 2], [2, 3, 2, 2, 1, 2, 2], [3, 1, 2, 2, 2, 2, 2]],  # 21.00: reserve
    "zakumuiza": [[1, 2, 1, 1, 1, 2, 1], [2, 1, 1, 1, 1, 1, 2], [1, 1, 2, 1, 2, 1, 1]],  # 12.83: below 15
    "vangazi": [[2, 0, 2, 2, 2, 2, 2], [3, 0, 2, 2, 2, 2, 1], [2, 0, 2, 1, 2, 2, 2]],  # youth_led 0: fails
}

PUBLISHED_SCORES = {
    "teatris": [[3, 3, 2, 3, 2, 3, 2], [3, 3, 3, 2, 2, 2, 3], [2, 3, 3, 3, 2, 3, 2]],  # 26.50: funded
    "koknese": [[2, 2, 2, 2, 2, 2, 2], [2, 2, 3, 2, 2, 2, 2], [2, 2, 2, 2, 1, 2, 2]],  # 20.33: reserve
    "plavinas": [[1, 1, 2, 1, 1, 1, 1], [1, 2, 1, 1, 1, 1, 2], [2, 1, 1, 1, 2, 1, 1]],  # 12.50: below 15
}

# Why a 0 or 1 was given (the comment a low score needs), per criterion.
LOW_SCORE_COMMENTS = {
    "relevance": "Saistība ar PMP riskiem minēta, bet nav pamatota ar novada datiem.",
    "youth_led": "Jaunieši projektā ir tikai dalībnieki; aktivitātes plāno pieaugušie.",
    "activities": "Aktivitātes vāji saistītas ar projekta mērķi.",
    "reach": "Nav aprakstīts, kā tiks piesaistīti un noturēti PMP riska jaunieši.",
    "results": "Rezultāti nav izmērāmi: nav sākumstāvokļa un datu avota.",
    "realism": "Laika plāns ir pārāk saspringts vasaras mēnešiem.",
    "capacity": "Biedrībai ir maza pieredze darbā ar jauniešiem, partneri nav apstiprinājuši dalību.",
}
NO_YOUTH_COMMENT = "Festivālu organizē fonda valde; jaunieši to neplāno un nevada."
RECUSAL_REASON = "Biedrības \u201cJauniešu centrs Zibens\u201d valdes loceklis ir mans brālis."

DECISION_TEMPLATE = """{% extends "pdf/base.html" %}
{% block title %}Lēmums {{ number }}{% endblock %}
{% block body %}
<p class="meta">{{ council }} · demonstrācijas dati, izdomāts dokuments</p>
<h1>Lēmums {{ number }}</h1>
<p>{{ decided_on.strftime("%d.%m.%Y.") }} · Par konkursa “{{ call.title }}” rezultātiem</p>
<table>
<thead><tr><th>Vieta</th><th>Projekts</th><th>Punkti</th><th>Lēmums</th></tr></thead>
<tbody>
{% for r in results %}<tr><td>{{ r.rank or "–" }}</td><td>{{ r.application.title }}</td>
<td class="num">{{ r.average }}</td><td>{{ labels[r.proposal] }}</td></tr>
{% endfor %}
</tbody>
</table>
<p>Domes priekšsēdētājs (paraksts)</p>
{% endblock %}
"""
COUNCILS = {
    "0020000": "Aizkraukles novada pašvaldības dome",
    "0044000": "Ropažu novada pašvaldības dome",
    "0001000": "Rīgas valstspilsētas pašvaldības dome",
}
DECISION_LABELS = {"funded": "finansēt", "reserve": "rezerves saraksts", "not_funded": "nefinansēt"}


def _committee(call, users: dict, coordinator, people: list = COMMITTEE) -> dict:
    """Appoint the committee ([(email, role)]) through the service; `_sign` has them sign the declaration."""
    from portal.evaluation.services import committee

    members = {}
    for email, role in people:
        members[email] = committee.appoint_member(call, users[email], role, actor=coordinator)
    return members


def _sign(members: dict, users: dict) -> None:
    from portal.evaluation.services import committee

    for email, member in members.items():
        committee.sign_declaration(member, actor=users[email])


def _check(application, actor, *, failed: dict[str, str] | None = None) -> None:
    """Answer every check criterion: what the portal suggests (a person confirms the rest as met),
    except the `failed` ones ({criterion code: reason})."""
    from portal.evaluation.services import checks

    failed = failed or {}
    suggested = checks.suggestions(application)
    answers = {}
    for criterion in checks.check_criteria(application.call):
        if criterion.code in failed:
            answers[criterion.id] = (False, failed[criterion.code])
        else:
            answers[criterion.id] = (suggested[criterion.id] is not False, None)
    checks.record_check(application, answers, actor=actor)


def _admit(application, actor) -> None:
    from portal.evaluation.services import checks

    _check(application, actor)
    checks.admit(application, actor=actor)


def _score(member, application, user, values, *, submit=True, comments=None) -> None:
    """Declare no conflict, then give `values` (None: not yet) with a comment on every 0 or 1."""
    from portal.evaluation.services import committee, scoring

    committee.declare_conflict(member, application, recused=False, reason=None, actor=user)
    sheet = scoring.open_sheet(application, actor=user)
    criteria = scoring.quality_criteria(application.call)
    comments = comments or {}
    entered = {}
    for criterion, value in zip(criteria, values, strict=False):
        comment = comments.get(criterion.code)
        if comment is None and value is not None and value < scoring.COMMENT_REQUIRED_BELOW:
            comment = LOW_SCORE_COMMENTS[criterion.code]
        entered[criterion.id] = (value, comment)
    scoring.save_scores(sheet, entered, actor=user, expected_version=sheet.lock_version)
    if submit:
        scoring.submit_scores(sheet, actor=user)


def _score_all(members: dict, apps: dict, users: dict, scores: dict, *, voting: list, comments=None) -> None:
    """Every voting member scores every application of `scores` ({key: one list of values per member})."""
    comments = comments or {}
    for key, sheets in scores.items():
        for email, values in zip(voting, sheets, strict=True):
            _score(members[email], apps[key], users[email], values, comments=comments.get(key))


def _decide(call, coordinator, number: str, decided_on: date) -> None:
    """Consolidate the scores and record the decision as proposed (its PDF; the protocol is rendered)."""
    from portal.evaluation.services import decisions

    decisions.consolidate_call(call, actor=coordinator)
    decisions.record_decision(
        call,
        number=number,
        decided_on=decided_on,
        file_data=_decision_pdf(call, number, decided_on),
        filename=f"lemums-{number.removeprefix('Nr. ').replace('/', '-')}.pdf",
        outcomes={},
        actor=coordinator,
    )


def _decision_pdf(call, number: str, decided_on: date) -> bytes:
    from flask import render_template_string

    from portal.core import pdf
    from portal.evaluation import queries

    html = render_template_string(
        DECISION_TEMPLATE,
        call=call,
        number=number,
        decided_on=decided_on,
        results=queries.results(call.id),
        labels=DECISION_LABELS,
        council=COUNCILS[call.municipality.code],
        locale="lv",
    )
    return pdf.html_to_pdf(html)


def _seed_decided(call, apps: dict, users: dict, now) -> None:
    """The summer call: checked (one rejected, one clarified), scored by three members, consolidated and
    decided: one funded within the quota, one on the reserve list, two not funded; protocol stored."""
    from datetime import timedelta

    from portal.applications import services as applications
    from portal.core.timeutil import to_riga
    from portal.evaluation import services as evaluation
    from portal.evaluation.services import checks

    coordinator = users["koordinators@ropazi.demo.jip.lv"]
    secretary = users["sekretare@ropazi.demo.jip.lv"]
    members = _committee(call, users, coordinator)

    for key in ("sprints", "zakumuiza", "vangazi"):
        _admit(apps[key], secretary)
    reason = "Projekts ir sporta sacensību sērija, nevis neformālās izglītības aktivitātes; tas nav saistīts "
    reason += "ar Ropažu novada PMP prevencijas plānu."
    _check(apps["kangari"], coordinator, failed={"plan_link": reason})
    checks.reject(apps["kangari"], reason, actor=coordinator)

    # A fixable defect goes back once; the applicant corrects the application (version 2) and answers.
    zibens, zibens_user = apps["zibens"], users["zibens@demo.jip.lv"]
    vague = "Nav norādīts, kuru pašvaldības PMP prevencijas plāna aktivitāti projekts īsteno."
    _check(zibens, coordinator, failed={"plan_link": vague})
    checks.request_clarification(
        zibens,
        vague + " Lūdzu, precizējiet sadaļu par saistību ar plānu.",
        5,
        actor=coordinator,
        now=now - timedelta(days=3),
    )
    applications.save_draft(
        zibens,
        {
            "plan_link": "Ropažu novada PMP prevencijas plāna 2.3. aktivitāte "
            "“Ārpusskolas aktivitātes PMP riska grupas jauniešiem”"
        },
        actor=zibens_user,
        expected_version=zibens.lock_version,
    )
    checks.answer_clarification(
        zibens,
        "Papildinājām sadaļu “Saistība ar PMP plānu”: projekts īsteno plāna 2.3. aktivitāti.",
        actor=zibens_user,
        now=now - timedelta(days=2),
    )
    _admit(zibens, coordinator)

    evaluation.start_evaluation(call, actor=coordinator)
    _sign(members, users)
    _score_all(
        members,
        apps,
        users,
        DECIDED_SCORES,
        voting=VOTING,
        comments={"vangazi": {"youth_led": NO_YOUTH_COMMENT}},
    )
    _decide(call, coordinator, "12/2026", to_riga(now).date())


def _seed_published(call, apps: dict, users: dict) -> None:
    """The Aizkraukle spring call, decided three weeks after its deadline and its results published: one
    application rejected at the check, one funded (the municipality's remaining quota), one on the reserve
    list, one below the threshold. The coordinator chairs the committee; the two evaluators are members."""
    from datetime import timedelta

    from portal.core.timeutil import to_riga
    from portal.evaluation import services as evaluation
    from portal.evaluation.services import checks, publication

    coordinator = users["koordinators@aizkraukle.demo.jip.lv"]
    members = _committee(call, users, coordinator, AIZKRAUKLE_COMMITTEE)
    for key in PUBLISHED_SCORES:
        _admit(apps[key], coordinator)
    reason = "Projekts ir ekskursiju cikls, nevis neformālās izglītības aktivitātes; tas nav saistīts ar "
    reason += "Aizkraukles novada PMP prevencijas plānu."
    _check(apps["zibens"], coordinator, failed={"plan_link": reason})
    checks.reject(apps["zibens"], reason, actor=coordinator)

    evaluation.start_evaluation(call, actor=coordinator)
    _sign(members, users)
    _score_all(members, apps, users, PUBLISHED_SCORES, voting=_voting(AIZKRAUKLE_COMMITTEE))
    _decide(call, coordinator, "5/2026", to_riga(call.closes_at + timedelta(days=21)).date())
    publication.publish_results(call, actor=coordinator)


def _seed_evaluation(call, apps: dict, users: dict, now) -> None:
    """The spring call, being scored: two applications admitted, one waiting for the applicant's answer
    to a clarification request; the chair has scored both, the third member recused from one and scored
    the other, the second member has a draft (log in as vertetajs2@ropazi… to finish it)."""
    from portal.evaluation import services as evaluation
    from portal.evaluation.services import checks, committee

    coordinator = users["koordinators@ropazi.demo.jip.lv"]
    members = _committee(call, users, coordinator)
    _admit(apps["zibens"], users["sekretare@ropazi.demo.jip.lv"])
    _admit(apps["zakumuiza"], coordinator)
    missing = "Nav norādīti projekta partneri, lai gan aktivitātes notiks skolās."
    _check(apps["sprints"], coordinator, failed={"complete": missing})
    checks.request_clarification(
        apps["sprints"],
        missing + " Lūdzu, norādiet sadarbības skolas un citus partnerus.",
        5,
        actor=coordinator,
        now=now,
    )

    evaluation.start_evaluation(call, actor=coordinator)
    _sign(members, users)
    chair, second, third = VOTING
    _score(members[chair], apps["zibens"], users[chair], [3, 2, 2, 2, 2, 3, 1])
    _score(members[chair], apps["zakumuiza"], users[chair], [2, 2, 2, 1, 2, 2, 2])
    committee.declare_conflict(
        members[third], apps["zibens"], recused=True, reason=RECUSAL_REASON, actor=users[third]
    )
    _score(members[third], apps["zakumuiza"], users[third], [2, 3, 2, 2, 2, 2, 2])
    _score(members[second], apps["zibens"], users[second], [3, 2, 3], submit=False)


# --- Rīga: contracts and payments (issue 7) ---------------------------------------------------------

RIGA = "0001000"
RIGA_CALL_TITLE = "Rīgas jauniešu iniciatīvu projektu konkurss 2026"
RIGA_COMMITTEE = [
    ("koordinators@riga.demo.jip.lv", "chair"),
    ("vertetajs1@riga.demo.jip.lv", "member"),
    ("vertetajs2@riga.demo.jip.lv", "member"),
]
RIGA_PAYING_ACCOUNT = {
    "name": "Rīgas valstspilsētas pašvaldība",
    "iban": "LV20PARX0012345678901",  # fictional account at Citadele
    "bic": "PARXLV22",
    "reg_number": "90011524360",
}
# The applications in ranking order, each with the state its funded project reaches (the key is the
# organisation's): they show a contract in every state and a final report in every state, "ritms"
# lapses (not signed in time) and "laiva", put on the reserve list by the decision, is offered its place.
RIGA_APPLICATIONS = {
    "vilnis": {"title": "Daugavgrīvas jauniešu burāšanas skola"},  # report closed, paid in full
    "kompass": {"title": "Karjeras kompass vidusskolēniem"},  # report forwarded, final approved
    "solis": {"title": "Bolderājas mācību atbalsta klubs"},  # report submitted, waiting for review
    "zvaigzne": {"title": "Ziepniekkalna jauniešu radio"},  # report returned for correction
    "celsme": {"title": "Pļavnieku pagalmu iniciatīvas"},  # ended, report overdue
    "darbnica": {"title": "Purvciema darbnīca pēc stundām"},  # in progress, advance paid, report draft
    "skatuve": {"title": "Skolēnu teātris bez kavējumiem"},  # signed, advance approved
    "parks": {"title": "Grīziņkalna vasaras iniciatīvas"},  # signed by the applicant
    "tilts": {"title": "Tilts starp skolu un ielu"},  # sent, waiting for the signature
    "kvartals": {"title": "Kvartāla jauniešu klubs"},  # draft contract
    "ritms": {"title": "Imantas bungu ritms"},  # lapsed
    "laiva": {"title": "Ķengaraga jauniešu laivu darbnīca"},  # reserve → funded
}
# Weighted averages 28.67 … 19.5, strictly falling, no two scores of a criterion two points apart.
RIGA_SCORES = {
    "vilnis": [[3, 3, 3, 3, 3, 3, 2], [3, 3, 3, 2, 3, 3, 3], [3, 3, 2, 3, 3, 3, 3]],
    "kompass": [[3, 3, 3, 2, 3, 2, 3], [3, 2, 3, 3, 2, 3, 3], [3, 3, 3, 2, 2, 3, 2]],
    "solis": [[3, 3, 3, 2, 2, 3, 2], [3, 3, 2, 3, 2, 2, 3], [3, 2, 3, 3, 2, 3, 2]],
    "zvaigzne": [[3, 3, 2, 3, 2, 3, 3], [3, 2, 3, 2, 3, 2, 2], [2, 3, 3, 2, 3, 2, 3]],
    "celsme": [[3, 2, 3, 2, 3, 2, 2], [3, 3, 2, 2, 2, 3, 3], [2, 3, 3, 3, 2, 2, 2]],
    "darbnica": [[3, 2, 3, 2, 2, 3, 2], [2, 3, 3, 2, 3, 2, 2], [3, 3, 2, 2, 2, 2, 3]],
    "skatuve": [[2, 3, 2, 3, 2, 2, 2], [3, 2, 2, 2, 2, 3, 2], [2, 3, 3, 2, 2, 2, 2]],
    "parks": [[2, 2, 3, 2, 2, 2, 3], [2, 3, 2, 2, 2, 2, 2], [3, 2, 2, 2, 2, 2, 2]],
    "tilts": [[2, 2, 2, 2, 3, 2, 2], [2, 2, 2, 3, 2, 2, 2], [2, 2, 3, 2, 2, 2, 2]],
    "kvartals": [[2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 3, 2], [2, 2, 2, 2, 2, 2, 3]],
    "ritms": [[2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2]],
    "laiva": [[2, 2, 2, 2, 2, 2, 1], [2, 2, 2, 2, 2, 1, 2], [2, 2, 2, 2, 2, 2, 2]],
}
RIGA_RESERVE_REASON = (
    "Konkursa nolikumā paredzēti vienpadsmit projekti; projekts iekļauts rezerves sarakstā un saņems "
    "finansējumu, ja kāds no atbalstītajiem projektiem atteiksies."
)


def _month_start(day: date, months: int = 0) -> date:
    """The first day of the month `months` after the one that holds `day` (or after it, if `day` is not
    the first)."""
    from portal.applications.rules import add_months

    first = day.replace(day=1)
    return add_months(first if first == day else add_months(first, 1), months)


def _period(start: date, months: int) -> dict:
    from datetime import timedelta

    from portal.applications.rules import add_months

    return {"start_date": start, "end_date": add_months(start, months) - timedelta(days=1)}


def _seed_riga(users: dict) -> None:
    """The Rīga call of round 1: opened ~300 days ago, closed ~270 days ago, evaluated by the coordinator
    (chair) and two evaluators, decided ~255 days ago (eleven funded, one on the reserve list) and its
    results published. Its projects show the contract and payment life cycle and the final report's, one
    in each state (see RIGA_APPLICATIONS); six ran in the first months after the decision (five have
    ended, one still runs), the others start after their contracts are signed in the last weeks.
    Everything goes through the services with past times where they take one (`now=`); an approval's
    time is moved back afterwards the way the calls' closing times are."""
    from datetime import timedelta

    from portal.calls import services as calls
    from portal.calls.models import Call
    from portal.core.timeutil import to_riga
    from portal.evaluation import services as evaluation
    from portal.evaluation.services import decisions, publication
    from portal.programmes.models import Programme

    if db.session.scalar(sa.select(Call.id).where(Call.title == RIGA_CALL_TITLE)) is not None:
        return
    programme = db.session.scalar(sa.select(Programme).where(Programme.code == "pumpurs-jip"))
    rnd = next(r for r in programme.rounds if r.number == 1)
    now = utcnow().replace(microsecond=0)
    riga = _municipality(RIGA)
    coordinator = users["koordinators@riga.demo.jip.lv"]
    orgs = {key: _organisation(key, users[_applicant_email(key)]) for key in RIGA_APPLICATIONS}

    opens, closes, decided = now - timedelta(days=300), now - timedelta(days=270), now - timedelta(days=255)
    call = calls.create_call(
        rnd,
        riga,
        calls.CallData(
            title=RIGA_CALL_TITLE,
            description="Jauniešu iniciatīvu projekti priekšlaicīgas mācību pārtraukšanas mazināšanai "
            "Rīgas apkaimēs.",
            projects=len(RIGA_APPLICATIONS) - 1,
            opens_at=opens,
            closes_at=now + timedelta(days=1),
            contact_name=coordinator.full_name,
            contact_email=coordinator.email,
            contact_phone="+371 67000000",
        ),
        actor=coordinator,
    )
    calls.publish_call(call, actor=coordinator, now=opens)

    # Three projects ran right after the decision; the others start once their contracts are signed.
    early = _month_start(to_riga(decided).date() + timedelta(days=20))
    later = _month_start(to_riga(now).date() + timedelta(days=10))
    today = to_riga(now).date()
    periods = {
        "vilnis": _period(early, 5),
        "kompass": _period(early, 6),
        # Ended six weeks ago (the report is overdue), three weeks ago (reported) and this week (the
        # returned report's due date has not passed yet).
        "celsme": {"start_date": early, "end_date": today - timedelta(days=45)},
        "solis": {"start_date": early, "end_date": today - timedelta(days=20)},
        "zvaigzne": {"start_date": early, "end_date": today - timedelta(days=5)},
        "darbnica": _period(early, 12),
        "ritms": _period(early, 9),
        "skatuve": _period(later, 10),
        "parks": _period(later, 9),
        "tilts": _period(_month_start(later, 1), 12),
        "kvartals": _period(_month_start(later, 1), 9),
        "laiva": _period(_month_start(later, 2), 9),
    }
    apps = _apply_all(
        call,
        {key: overrides | periods[key] for key, overrides in RIGA_APPLICATIONS.items()},
        orgs,
        users,
        first_at=closes - timedelta(days=4, hours=6),
    )
    call.closes_at = closes
    calls.close_due_calls(closes + timedelta(minutes=1))

    members = _committee(call, users, coordinator, RIGA_COMMITTEE)
    for application in apps.values():
        _admit(application, coordinator)
    evaluation.start_evaluation(call, actor=coordinator)
    _sign(members, users)
    _score_all(members, apps, users, RIGA_SCORES, voting=_voting(RIGA_COMMITTEE))
    decisions.consolidate_call(call, actor=coordinator)
    decided_on = to_riga(decided).date()
    decisions.record_decision(
        call,
        number="RD-1234",
        decided_on=decided_on,
        file_data=_decision_pdf(call, "RD-1234", decided_on),
        filename="lemums-RD-1234.pdf",
        outcomes={apps["laiva"].id: ("reserve", RIGA_RESERVE_REASON)},
        actor=coordinator,
    )
    publication.publish_results(call, actor=coordinator)
    _seed_paying_account(riga, coordinator)
    _seed_contracts(apps, users, coordinator, decided=decided, now=now)
    _seed_reports(apps, users, coordinator, now=now)
    _seed_monitoring(apps["vilnis"], coordinator)


def _seed_paying_account(municipality, coordinator) -> None:
    from portal.payments.accounts import paying_account, save_paying_account

    if paying_account(municipality.id) is None:
        save_paying_account(municipality.id, **RIGA_PAYING_ACCOUNT, actor=coordinator)


def _seed_contracts(apps: dict, users: dict, coordinator, *, decided, now) -> None:
    """One contract in each state (RIGA_APPLICATIONS), through the contract and payment services; the
    projects that have started run (their final reports: `_seed_reports`)."""
    from datetime import timedelta

    from portal.contracts import generation, lifecycle, signing
    from portal.contracts.services import create_contract
    from portal.core import storage
    from portal.payments import orders
    from portal.payments import services as payments

    def user(key):
        return users[_applicant_email(key)]

    def prepare(key, at):
        contract = create_contract(apps[key], actor=coordinator, now=at)
        generation.render_contract_pdf(contract, actor=coordinator)
        return contract

    def sign(contract, key, sent, uploaded, confirmed=None):
        signing.send_contract(contract, actor=coordinator, sign_days=10, now=sent)
        # The representative signs the PDF they downloaded (the demo uploads it back as the "scan").
        data = storage.read_file(contract.pdf_file)
        signing.upload_signed(contract, data, "ligums-parakstits.pdf", actor=user(key), now=uploaded)
        if confirmed is not None:
            signing.countersign(contract, actor=coordinator, now=confirmed)

    def approve(payment, at):
        return _approve_payment(payment, coordinator, at)

    # The contracts made right after the decision (numbers 1–7 of the year's sequence).
    start = decided + timedelta(days=3)
    running = ("vilnis", "kompass", "solis", "zvaigzne", "celsme", "darbnica")
    early = {key: prepare(key, start + timedelta(hours=i)) for i, key in enumerate((*running, "ritms"))}
    for i, key in enumerate(running):
        at = start + timedelta(days=1, hours=i)
        sign(early[key], key, at, at + timedelta(days=4), confirmed=at + timedelta(days=6))
    # "ritms" never signs: once its deadline passes (cron, the next night) the contract lapses and
    # the place goes to the reserve list ("laiva" is offered funding; its contract is not made yet).
    lapsed = early["ritms"]
    signing.send_contract(lapsed, actor=coordinator, sign_days=10, now=start + timedelta(days=1, hours=7))
    signing.lapse_unsigned(lapsed.sign_by + timedelta(hours=6))

    # The advances: "vilnis" paid through an exported payment order, the others marked paid by hand.
    paid = start + timedelta(days=9)
    advances = {key: payments.payments_of(early[key])["advance"] for key in running}
    for advance in advances.values():
        approve(advance, paid - timedelta(days=1))
    export = orders.export_pain001(
        early["vilnis"].municipality_id, [advances["vilnis"].id], actor=coordinator, now=paid
    )
    orders.mark_exported_paid(export, paid_on=_day(paid + timedelta(days=1)), actor=coordinator)
    for i, key in enumerate(running[1:]):
        payments.mark_paid(
            advances[key],
            paid_on=_day(paid + timedelta(days=1)),
            bank_reference=f"RIGA-{_day(paid):%Y%m%d}-{i + 2:03d}",
            actor=coordinator,
        )
    # The projects start on their start date (cron).
    lifecycle.start_due(now)

    # The contracts of the projects starting next month, made in the last weeks (numbers 8–11).
    skatuve = prepare("skatuve", now - timedelta(days=21))
    sign(
        skatuve,
        "skatuve",
        now - timedelta(days=20),
        now - timedelta(days=14),
        confirmed=now - timedelta(days=12),
    )
    approve(payments.payments_of(skatuve)["advance"], now - timedelta(days=2))
    parks = prepare("parks", now - timedelta(days=9))
    sign(parks, "parks", now - timedelta(days=8), now - timedelta(days=1))
    tilts = prepare("tilts", now - timedelta(days=3))
    signing.send_contract(tilts, actor=coordinator, sign_days=10, now=now - timedelta(days=2))
    prepare("kvartals", now - timedelta(hours=5))


# --- Rīga: final reports, the prevention plan and its monitoring (issue 8) ---------------------------


# The final reports (counts only: no names of young people), per organisation key.
RIGA_REPORTS = {
    "vilnis": {
        "participants_total": 28,
        "participants_grades_5_9": 17,
        "participants_grades_10_12": 9,
        "participants_vocational": 2,
        "participants_risk": 8,
        "risk_by_category": {"learning": 5, "family": 3, "economic": 2},
        "activities": [
            (
                "Burāšanas teorijas nodarbības",
                "12 nodarbības jahtklubā",
                "2026. gada aprīlis–maijs",
                "Daugavgrīvas jahtklubs",
                36,
                "Neformālā izglītība, vienaudžu mācīšanās",
            ),
            (
                "Burāšanas prakse",
                "8 prakses dienas uz ūdens ar instruktoru",
                "2026. gada jūnijs–jūlijs",
                "Buļļupe un Rīgas līcis",
                48,
                "Piedzīvojumu pedagoģija",
            ),
            (
                "Jauniešu regate",
                "Regate apkaimes skolām, 6 komandas",
                "2026. gada 22. augusts",
                "Daugavgrīva",
                8,
                "Jauniešu pašu organizēts pasākums",
            ),
        ],
        "results": [
            ("Regulāri iesaistīti dalībnieki", "25", "28", "Pieteicās vairāk jauniešu, nekā plānots."),
            ("Neattaisnoto kavējumu skaits (kopsummā)", "−20 %", "−24 %", "Skolas e-klases dati kopsummā."),
        ],
        "schools": [("Daugavgrīvas vidusskola", 19), ("Bolderājas pamatskola", 7), ("Rīgas tehnikums", 2)],
        "youth_led": "Jauniešu padome izvēlējās nodarbību laikus, sastādīja regates nolikumu un vadīja "
        "komandas; vecākie dalībnieki kļuva par palīginstruktoriem.",
        "problems": "Divas prakses dienas pārcēlām vēja dēļ.",
        "lessons": "Prakses dienas jāplāno ar rezerves datumiem; regate vislabāk piesaistīja jaunus "
        "dalībniekus.",
        "publicity_links": ["https://www.riga.lv/lv/jaunumi/demo-burasanas-skola"],
    },
    "kompass": {
        "participants_total": 34,
        "participants_grades_5_9": 6,
        "participants_grades_10_12": 24,
        "participants_vocational": 4,
        "participants_risk": 9,
        "risk_by_category": {"learning": 6, "social": 4},
        "activities": [
            (
                "Karjeras darbnīcas",
                "10 darbnīcas par profesiju izvēli",
                "2026. gada aprīlis–jūnijs",
                "Jauniešu centrs “Kompass”",
                30,
                "Neformālā izglītība, darbs grupās",
            ),
            (
                "Ēnu dienas uzņēmumos",
                "Ēnu dienas 9 uzņēmumos",
                "2026. gada jūlijs–augusts",
                "Rīgas uzņēmumi",
                27,
                "Pieredzes mācīšanās",
            ),
            (
                "Noslēguma forums",
                "Jauniešu vadīts forums ar 60 apmeklētājiem",
                "2026. gada 25. septembris",
                "Rīgas Centrālā bibliotēka",
                4,
                "Jauniešu pašu organizēts pasākums",
            ),
        ],
        "results": [
            ("Dalībnieki, kuri sastādījuši savu karjeras plānu", "30", "31", ""),
            ("Dalībnieki, kuri turpina mācības nākamajā mācību gadā", "90 %", "94 %", "Skolu dati kopsummā."),
        ],
        "schools": [("Rīgas 1. vidusskola", 20), ("Rīgas Valsts tehnikums", 4), ("Teikas vidusskola", 10)],
        "youth_led": "Darbnīcu tēmas un uzņēmumus ēnu dienām izvēlējās jaunieši; forumu vadīja četri "
        "dalībnieki.",
        "problems": "Vasarā daļa uzņēmumu nevarēja uzņemt ēnotājus, tāpēc ēnu dienas pārcēlām uz augustu.",
        "lessons": "Uzņēmumi jāuzrunā vismaz divus mēnešus iepriekš.",
        "publicity_links": ["https://www.riga.lv/lv/jaunumi/demo-karjeras-kompass"],
    },
    "solis": {
        "participants_total": 24,
        "participants_grades_5_9": 20,
        "participants_grades_10_12": 4,
        "participants_vocational": 0,
        "participants_risk": 10,
        "risk_by_category": {"learning": 8, "family": 4},
        "activities": [
            (
                "Mācību atbalsta klubs pēc stundām",
                "Klubs divas reizes nedēļā, 52 tikšanās",
                "2026. gada aprīlis–oktobris",
                "Bolderājas bibliotēka",
                104,
                "Vienaudžu mācīšanās",
            ),
            (
                "Vasaras mācību nometne",
                "Piecu dienu dienas nometne",
                "2026. gada 10.–14. augusts",
                "Bolderājas pamatskola",
                30,
                "Neformālā izglītība",
            ),
        ],
        "results": [
            ("Dalībnieki, kuri uzlabojuši sekmes vismaz vienā priekšmetā", "15", "17", ""),
            ("Neattaisnoto kavējumu skaits (kopsummā)", "−15 %", "−18 %", "Skolas e-klases dati kopsummā."),
        ],
        "schools": [("Bolderājas pamatskola", 20), ("Daugavgrīvas vidusskola", 4)],
        "youth_led": "Vidusskolēni vadīja kluba tikšanās kā vienaudžu mentori; nometnes programmu "
        "sastādīja jauniešu padome.",
        "problems": "Oktobrī kluba telpas bija remontā; tikšanās notika skolā.",
        "lessons": "Vienaudžu mentoriem vajag īsas apmācības pirms darba sākuma.",
        "publicity_links": ["https://www.riga.lv/lv/jaunumi/demo-bolderajas-klubs"],
    },
    "zvaigzne": {
        "participants_total": 18,
        "participants_grades_5_9": 10,
        "participants_grades_10_12": 8,
        "participants_vocational": 0,
        "participants_risk": 4,
        "risk_by_category": {"social": 3, "learning": 2},
        "activities": [
            (
                "Radio darbnīcas",
                "Darbnīcas notika",
                "2026. gada aprīlis–oktobris",
                "Ziepniekkalns",
                40,
                "Neformālā izglītība",
            ),
            (
                "Raidījumu cikls",
                "Sagatavoti raidījumi par apkaimi",
                "2026. gada jūnijs–novembris",
                "Ziepniekkalna jauniešu centrs",
                24,
                "Jauniešu mediju projekts",
            ),
        ],
        "results": [("Sagatavotie raidījumi", "12", "notika", "")],
        "schools": [],
        "youth_led": "Raidījumu tēmas izvēlējās un raidījumus vadīja jaunieši.",
        "problems": "",
        "lessons": "Ierakstu tehnika jārezervē laikus.",
        "publicity_links": ["https://www.riga.lv/lv/jaunumi/demo-ziepniekkalna-radio"],
    },
    "darbnica": {
        "participants_total": 22,
        "activities": [
            (
                "Jauniešu kluba tikšanās",
                "16 tikšanās darbnīcā",
                "2026. gada aprīlis–novembris",
                "Purvciema jauniešu darbnīca",
                48,
                "Neformālā izglītība",
            ),
            ("Pārgājiens un komandas saliedēšana", "", "", "", None, "Piedzīvojumu pedagoģija"),
        ],
    },
}
RIGA_RETURN_COMMENTS = {
    "results": "Norādiet sasniegto skaitliski: cik raidījumu tika sagatavoti un cik klausītāju tos "
    "noklausījās (plānoti 12 raidījumi).",
    "participants": "Norādiet, no kurām skolām bija dalībnieki (skaits pa skolām).",
}
RIGA_MONITORING = {
    "achieved_note": "Jauniešu iniciatīvu projektos iesaistīti jaunieši no Daugavgrīvas, Bolderājas, "
    "Purvciema un centra apkaimēm; divi projekti pabeigti un to atskaites apstiprinātas.",
    "impact_assessment": "Projektu dalībniekiem samazinājies neattaisnoto kavējumu skaits (skolu dati "
    "kopsummā −20 %); vairums PMP riska dalībnieku turpina mācības. Sasniegtais ir mazāk par gada "
    "mērķi, jo pirmajā kārtā finansēti 11 projekti un lielākā daļa vēl turpinās.",
    "factors_analysis": "Veicināja: jauniešu padomju iesaiste, sadarbība ar skolu atbalsta komandām, "
    "avansa maksājums projekta sākumā. Kavēja: līgumu parakstīšana ieilga, vienam projektam līgums "
    "netika parakstīts termiņā; vasarā grūtāk noturēt dalībniekus.",
}


def _seed_plans(users: dict) -> None:
    """The demo prevention plans of Ropaži, Aizkraukle and Rīga (portal/plans/demo_plans.py)."""
    from portal.plans import demo_plans

    demo_plans.load_demo_plans(users)


def _report_values(spec: dict) -> dict:
    """A RIGA_REPORTS entry as the values the report form saves."""
    values = {k: v for k, v in spec.items() if k not in ("activities", "results", "schools")}
    keys = ("planned", "carried_out", "dates", "place", "hours", "methods")
    values["activities"] = [
        dict(zip(keys, row, strict=True)) | {"change_reason": ""} for row in spec["activities"]
    ]
    if "results" in spec:
        keys = ("indicator", "planned", "achieved", "comment")
        values["results"] = [dict(zip(keys, row, strict=True)) for row in spec["results"]]
    if "schools" in spec:
        values["schools"] = [{"name": name, "count": count} for name, count in spec["schools"]]
    return values


def _write_report(application, user, *, complete: bool = True):
    """The organisation writes its report through the form's services (and the representative confirms
    the declaration)."""
    from portal.core.workflow import WorkflowError
    from portal.reports.services import form

    report = form.start_report(application, actor=user)
    values = _report_values(RIGA_REPORTS[_org_key(application)])
    if complete:
        values |= {"declaration": True}
    problems = form.save_report(report, values, actor=user, expected_version=report.lock_version)
    if problems:
        raise WorkflowError(f"demo report {application.title}: {problems}")
    return report


def _org_key(application) -> str:
    return next(k for k, v in ORGANISATIONS.items() if v["reg_number"] == application.organisation.reg_number)


def _seed_reports(apps: dict, users: dict, coordinator, *, now) -> None:
    """The final reports of the Rīga projects, one in each state, through the report services: being
    written (the project still runs), submitted, returned for correction, approved and forwarded (final
    payment approved), closed (acknowledged by the national administrator; paid in full), and one overdue
    (ended, no report: the reminder is in the outbox)."""
    from datetime import timedelta

    from portal.contracts.services import contract_of
    from portal.payments import services as payments
    from portal.reports.services import form, reminders, review

    def user(key):
        return users[_applicant_email(key)]

    def submitted(key, days_after_end):
        application = apps[key]
        report = _write_report(application, user(key))
        form.submit_report(
            report, actor=user(key), now=datetime_of(application.end_date + timedelta(days=days_after_end))
        )
        return report

    # Approved 18 days after the end, forwarded at once; "vilnis" was acknowledged and paid in full.
    for key in ("vilnis", "kompass"):
        report = submitted(key, 6)
        reviewed = datetime_of(apps[key].end_date + timedelta(days=18))
        review.approve_report(report, actor=coordinator, now=reviewed)
        final = payments.payments_of(contract_of(apps[key]))["final"]
        _approve_payment(final, coordinator, reviewed)
        if key == "vilnis":
            payments.mark_paid(
                final,
                paid_on=_day(reviewed + timedelta(days=3)),
                bank_reference=f"RIGA-{_day(reviewed):%Y%m%d}-001",
                actor=coordinator,
            )
            review.acknowledge_report(
                report, actor=users["admin@demo.jip.lv"], now=reviewed + timedelta(days=5)
            )
    submitted("solis", 8)  # waiting for the coordinator's review
    returned = submitted("zvaigzne", 1)
    review.return_report(returned, RIGA_RETURN_COMMENTS, actor=coordinator, now=now - timedelta(days=2))
    _write_report(apps["darbnica"], user("darbnica"), complete=False)  # the project still runs
    # "celsme" ended six weeks ago and wrote nothing: tonight's cron sends the overdue reminder.
    reminders.send_reminders(now)


def _seed_monitoring(application, coordinator) -> None:
    """The coordinator's notes on the youth activity for the year the first Rīga projects ran."""
    from portal.contracts.services import contract_of
    from portal.plans import monitoring
    from portal.plans.models import PlanActivity

    activity = db.session.get(PlanActivity, application.plan_activity_id)
    year = contract_of(application).start_date.year
    if activity is not None and year in activity.plan.years:
        monitoring.save_notes(activity, year, **RIGA_MONITORING, actor=coordinator)


def _approve_payment(payment, coordinator, at):
    from portal.payments import services as payments

    payments.approve_payment(payment, actor=coordinator)
    payment.approved_at = at  # the approval happened then (the service stamps the present)
    return payment


def _day(at) -> date:
    from portal.core.timeutil import to_riga

    return to_riga(at).date()


def datetime_of(day: date):
    """Noon in Riga on that day, as the UTC datetime the services take."""
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(12), ZoneInfo("Europe/Riga")).astimezone(UTC)


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
    _seed_plans(users)
    _seed_calls(users)
    _seed_riga(users)
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
        if email in NOTES:
            lines.append(f"  {'':<15} {'':<40} \u2192 {NOTES[email]}")
    if created.get("users"):
        lines.append(f"Created {len(created['users'])} demo users now.")
    lines.append("Open http://127.0.0.1:5000")
    return "\n".join(lines)
