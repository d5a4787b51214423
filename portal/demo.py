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
]

# What to try with an account (printed by `describe`).
NOTES = {
    "koordinators@aizkraukle.demo.jip.lv": "an open call; a call with published results (see /results/)",
    "koordinators@ropazi.demo.jip.lv": "runs the Ropaži evaluation; a decided call with its protocol",
    "vertetajs1@ropazi.demo.jip.lv": "committee chair: has scored everything",
    "vertetajs2@ropazi.demo.jip.lv": "has a score sheet in draft: finish it and score the other application",
    "vertetajs3@ropazi.demo.jip.lv": "recused from one application",
    "sekretare@ropazi.demo.jip.lv": "committee secretary: does the administrative check",
    "sprints@demo.jip.lv": "has a clarification request to answer; a funded application",
    "zibens@demo.jip.lv": "an application on the reserve list (versions 1 and 2)",
    "teatris@demo.jip.lv": "a funded project in the public register (/projects/)",
    "koknese@demo.jip.lv": "on the reserve list of a call with published results",
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

    application = applications.start_application(call, organisation, actor=user)
    values = demo_application_values(organisation.name) | overrides
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
COUNCILS = {"0020000": "Aizkraukles novada pašvaldības dome", "0044000": "Ropažu novada pašvaldības dome"}
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
        if email in NOTES:
            lines.append(f"  {'':<15} {'':<40} \u2192 {NOTES[email]}")
    if created.get("users"):
        lines.append(f"Created {len(created['users'])} demo users now.")
    lines.append("Open http://127.0.0.1:5000")
    return "\n".join(lines)
