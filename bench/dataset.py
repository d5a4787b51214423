"""Load a national dataset for the benchmark (issue 9): 43 municipalities, one programme, 5 rounds with
quotas, calls in every stage, organisations, applications in every status, committees with their
declarations and score sheets, contracts, payments and final reports in every state.

    .venv/bin/python bench/dataset.py --database-url URL [--scale 1|10 | --applications N] [--manifest PATH]

The database must be empty: the migrations are applied first. Rows go in with SQLAlchemy Core bulk
inserts in batches (scale 1 ≈ 4,000 applications and ≈ 100,000 criterion scores). The random seed is
fixed, so two runs give the same data. Writes a JSON manifest (users to log in as, the pages to time,
the drafts for the deadline-day test, contracts to render) and prints the rows per table.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20260909
PASSWORD = "Bench-parole-2026"  # noqa: S105 - the documented password of the generated accounts
BATCH = 2000
APPLICATIONS_PER_SCALE = 4000
EVALUATORS_PER_SCALE = 300
AUTOSAVE_APPLICANTS = 1050  # the deadline day: 300 autosave, 50 a minute for 15 minutes submit their own
MANIFEST_CONTRACTS = 20
COORDINATOR_CODE = "0001000"  # Rīga: the biggest municipality runs the timed ranking and results pages
AMOUNT = Decimal("4600.00")
ADVANCE = Decimal("3680.00")  # 80 % (programmes.seed advance_percent)
FINAL = AMOUNT - ADVANCE

# Call stages per round (round 5 is the current one), spread over the municipalities by their index.
STAGES = {
    1: ["archived"],
    2: ["results_published"] * 9 + ["archived"],
    3: ["results_published", "results_published", "decided"],
    4: ["evaluation", "evaluation", "evaluation", "closed", "decided"],
    5: ["open"] * 6 + ["draft"],
}
# Applications per round, relative (the current round's calls are still open).
ROUND_WEIGHT = {1: 1.0, 2: 1.0, 3: 1.1, 4: 1.1, 5: 0.7}
# Days from now to each round's calls' deadline.
CLOSES_IN_DAYS = {1: -1100, 2: -730, 3: -300, 4: -20, 5: 30}
# What happens to a funded project after the decision, in published calls (cycled).
PROJECT_STATES = [
    "funded",
    "draft",
    "sent",
    "signed_by_applicant",
    "signed",
    "in_progress",
    "report_draft",
    "report_overdue",
    "report_submitted",
    "report_returned",
    "report_approved",
    "forwarded",
    "closed",
    "lapsed",
    "terminated",
]


# --- small helpers --------------------------------------------------------------------------------------


def totp_secret(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(rng.choice(alphabet) for _ in range(32))


def reg_numbers(start: int = 40_200_000_000):
    """Distinct valid Latvian legal-entity registration numbers (a range the tests do not use)."""
    from stdnum.lv import pvn

    number = start
    while True:
        number += 1
        if pvn.is_valid(str(number)):
            yield str(number)


def month_start(day: date, months: int = 0) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def sample_pdf() -> bytes:
    """A small valid one-page PDF that stands in for the decision files and signed contracts."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def complete_form(title: str, start: date, end: date) -> dict:
    """The application's form columns filled so that it passes every rule of the programme."""
    return {
        "title": title,
        "start_date": start,
        "end_date": end,
        "places": "Skola un jauniešu centrs",
        "partners": "Novada vidusskola",
        "problem": "Kavējumi aug.",
        "plan_link": "Plāna 2.3. aktivitāte",
        "goal": "Mazināt kavējumus",
        "objectives": "1) darbnīcas; 2) mentori",
        "participants_total": 40,
        "participants_risk": 6,
        "participants_grades_5_9": 25,
        "participants_grades_10_12": 10,
        "participants_vocational": 5,
        "risk_by_category": {"learning": 4, "family": 2},
        "schools": "Novada vidusskola",
        "youth_involvement": "Jaunieši paši plāno",
        "results": "30 dalībnieki pabeidz",
        "indicators": "Kavējumu skaits",
        "publicity": "Sociālie tīkli",
        "risks": "Slimības — rezerves datumi",
        "declaration_truth": True,
        "declaration_no_double_funding": True,
        "declaration_participant_lists": True,
    }


BUDGET = {
    "trainers": Decimal("1500.00"),
    "catering": Decimal("900.00"),
    "transport": Decimal("700.00"),
    "accommodation": Decimal("0.00"),
    "materials": Decimal("600.00"),
    "venue": Decimal("300.00"),
    "equipment": Decimal("200.00"),
    "publicity": Decimal("150.00"),
    "coordination": Decimal("250.00"),
}
ACTIVITY = {
    "activity": "Darbnīcas",
    "method": "Neformālā izglītība",
    "months": "3–11",
    "participants": 40,
    "responsible": "Jauniešu grupa",
}
EMPTY_FORM = {
    k: None
    for k in complete_form("", date.today(), date.today())
    if k not in ("risk_by_category", "declaration_truth")
}
EMPTY_FORM.update(
    risk_by_category={},
    declaration_truth=False,
    declaration_no_double_funding=False,
    declaration_participant_lists=False,
)


def version_data(form: dict) -> dict:
    """What submitting freezes (applications.services.form_values as JSON)."""
    from portal.applications.services import SCALAR_FIELDS, _jsonable

    values = {name: form.get(name) for name in SCALAR_FIELDS}
    values["plan_activity"] = None
    values["risk_by_category"] = dict(form.get("risk_by_category") or {})
    values["activities"] = [dict(ACTIVITY)]
    values["budget"] = dict(BUDGET)
    return _jsonable(values)


# --- the generator --------------------------------------------------------------------------------------


class Generator:
    def __init__(self, applications: int):
        self.target = applications
        self.scale = applications / APPLICATIONS_PER_SCALE
        self.rng = random.Random(SEED)
        self.counts: Counter = Counter()
        self.next_id: dict[str, int] = {}
        self.now = None

    # -- inserting

    def insert(self, model, rows: list[dict], *, ids: bool = False) -> list[int]:
        """Insert the rows in batches (executemany); with ids=True give them consecutive ids after the
        table's highest one and return them (the sequences are moved past them at the end)."""
        import sqlalchemy as sa

        from portal.extensions import db

        table = model.__table__
        out: list[int] = []
        if ids:
            if table.name not in self.next_id:
                self.next_id[table.name] = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
            first = self.next_id[table.name]
            out = list(range(first, first + len(rows)))
            self.next_id[table.name] = first + len(rows)
            rows = [row | {"id": i} for row, i in zip(rows, out, strict=True)]
        for i in range(0, len(rows), BATCH):
            db.session.execute(sa.insert(table), rows[i : i + BATCH])
        self.counts[table.name] += len(rows)
        return out

    def fix_sequences(self) -> None:
        """On PostgreSQL, move each id sequence past the ids given here (SQLite needs nothing)."""
        import sqlalchemy as sa

        from portal.extensions import db

        if db.session.get_bind().dialect.name != "postgresql":
            return
        for name in self.next_id:
            db.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"  # noqa: S608 - our own table names
                )
            )

    # -- the steps

    def run(self) -> dict:
        from portal.core.timeutil import utcnow
        from portal.extensions import db

        self.now = utcnow().replace(microsecond=0)
        self.people()
        self.programme_and_rounds()
        self.organisations()
        self.calls()
        self.applications()
        self.evaluation()
        self.projects()
        self.autosave()
        self.fix_sequences()
        db.session.commit()
        return self.manifest()

    def people(self) -> None:
        import sqlalchemy as sa

        from portal.accounts.models import Membership, User
        from portal.accounts.passwords import hash_password
        from portal.core.enums import Role
        from portal.demo import DEMO_PUPILS
        from portal.extensions import db
        from portal.municipalities.models import Municipality
        from portal.municipalities.services import ensure_municipalities

        ensure_municipalities()
        self.municipalities = db.session.execute(
            sa.select(Municipality.id, Municipality.code, Municipality.name)
            .where(Municipality.valid_to.is_(None))
            .order_by(Municipality.code)
        ).all()
        self.pupils = {m.code: DEMO_PUPILS.get(m.code, 3000) for m in self.municipalities}
        total = sum(self.pupils.values())
        self.weight = {m.id: self.pupils[m.code] / total for m in self.municipalities}
        self.code_of = {m.id: m.code for m in self.municipalities}
        self.hash = hash_password(PASSWORD)
        self.secrets: dict[int, str] = {}

        staff = [("admin@bench.jip.lv", "Valsts administratore", Role.NATIONAL_ADMIN, None)]
        for m in self.municipalities:
            staff.append(
                (f"koordinators.{m.code}@bench.jip.lv", f"Koordinators {m.name}", Role.COORDINATOR, m.id)
            )
        evaluators = max(EVALUATORS_PER_SCALE * self.scale, 0)
        self.pool_size = {m.id: max(7, round(evaluators * self.weight[m.id])) for m in self.municipalities}
        for m in self.municipalities:
            for i in range(self.pool_size[m.id]):
                staff.append(
                    (f"vertetajs{i + 1}.{m.code}@bench.jip.lv", f"Vērtētājs {i + 1}", Role.EVALUATOR, m.id)
                )
        rows = []
        for email, name, _role, _m in staff:
            secret = totp_secret(self.rng)
            rows.append(self.user_row(email, name, totp_secret=secret, totp_confirmed_at=self.now))
        ids = self.insert(User, rows, ids=True)
        self.insert(
            Membership,
            [
                {
                    "user_id": uid,
                    "role": role,
                    "municipality_id": mid,
                    "organisation_id": None,
                    "is_representative": False,
                }
                for uid, (_e, _n, role, mid) in zip(ids, staff, strict=True)
            ],
        )
        self.admin_id = ids[0]
        self.coordinator_of: dict[int, int] = {}
        self.pool: dict[int, list[int]] = defaultdict(list)
        self.email_of: dict[int, str] = {}
        for uid, (email, _n, role, mid), row in zip(ids, staff, rows, strict=True):
            self.email_of[uid] = email
            self.secrets[uid] = row["totp_secret"]
            if role == Role.COORDINATOR:
                self.coordinator_of[mid] = uid
            elif role == Role.EVALUATOR:
                self.pool[mid].append(uid)

    def user_row(self, email: str, name: str, **extra) -> dict:
        row = {
            "email": email,
            "full_name": name,
            "password_hash": self.hash,
            "locale": "lv",
            "email_confirmed_at": self.now,
            "totp_secret": None,
            "totp_confirmed_at": None,
            "created_at": self.now,
            "updated_at": self.now,
            "password_changed_at": self.now,
        }
        row.update(extra)
        return row

    def programme_and_rounds(self) -> None:
        from portal.accounts.models import User
        from portal.extensions import db
        from portal.programmes.models import PupilCount, Round
        from portal.programmes.services import compute_round_quotas, ensure_pumpurs_programme

        self.programme = ensure_pumpurs_programme()
        admin = db.session.get(User, self.admin_id)
        projects_per_round = max(len(self.municipalities), round(self.target / 5 * 0.3))
        self.rounds: dict[int, int] = {}
        self.quota: dict[tuple[int, int], int] = {}
        for number in range(1, 6):
            year = (self.now + timedelta(days=CLOSES_IN_DAYS[number])).year
            closed = number <= 2
            rnd = Round(
                programme=self.programme,
                number=number,
                projects=projects_per_round,
                period_start=date(year, 1, 1),
                period_end=date(year + 1, 12, 31),
                status="open",
            )
            db.session.add(rnd)
            db.session.flush()
            for m in self.municipalities:
                db.session.add(
                    PupilCount(
                        round_id=rnd.id,
                        municipality_id=m.id,
                        pupils=round(self.pupils[m.code] * (0.96 + 0.02 * number)),
                        imported_by_id=self.admin_id,
                    )
                )
            db.session.flush()
            db.session.refresh(rnd)
            compute_round_quotas(rnd, actor=admin)
            if closed:
                rnd.status, rnd.closed_at = "closed", self.now
            self.rounds[number] = rnd.id
            for q in rnd.quotas:
                self.quota[(rnd.id, q.municipality_id)] = q.quota
        db.session.flush()
        self.criteria = [c for c in self.programme.criteria]
        self.quality = [c for c in self.criteria if c.kind == "quality"]
        for table, rows in (
            ("programmes", 1),
            ("criterion_templates", len(self.criteria)),
            ("programme_texts", len(self.programme.texts)),
            ("rounds", 5),
            ("pupil_counts", 5 * len(self.municipalities)),
            ("quota_snapshots", 5),
            ("quotas", 5 * len(self.municipalities)),
        ):
            self.counts[table] += rows

    def organisations(self) -> None:
        from portal.accounts.models import Membership, User
        from portal.core.enums import LegalForm, Role
        from portal.organisations.models import Organisation

        numbers = reg_numbers()
        forms = [
            LegalForm.ASSOCIATION,
            LegalForm.YOUTH_ORGANISATION,
            LegalForm.ASSOCIATION,
            LegalForm.FOUNDATION,
        ]
        count = 4 * len(self.municipalities) + round(self.target / 3)
        self.autosave_count = AUTOSAVE_APPLICANTS if self.target >= 2000 else max(5, self.target // 10)
        share = self.largest_remainder(count, self.weight, minimum=4)
        home = [mid for mid, n in share.items() for _ in range(n)]
        riga = self.municipality_id(COORDINATOR_CODE)
        home += [riga] * self.autosave_count  # the deadline-day applicants: one organisation each
        org_rows, user_rows = [], []
        for i, mid in enumerate(home):
            org_rows.append(
                {
                    "name": f"Biedrība “Jaunieši {i + 1}”",
                    "legal_form": forms[i % len(forms)],
                    "reg_number": next(numbers),
                    "iban": "LV80BANK0000435195001",
                    "bank_name": "Banka",
                    "address": f"Skolas iela {i % 90 + 1}",
                    "email": f"org{i + 1}@bench.jip.lv",
                    "municipality_id": mid,
                    "representative_organisation_id": None,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
            user_rows.append(self.user_row(f"pieteicejs{i + 1}@bench.jip.lv", f"Pieteicējs {i + 1}"))
        org_ids = self.insert(Organisation, org_rows, ids=True)
        user_ids = self.insert(User, user_rows, ids=True)
        self.insert(
            Membership,
            [
                {
                    "user_id": u,
                    "role": Role.APPLICANT,
                    "municipality_id": None,
                    "organisation_id": o,
                    "is_representative": True,
                }
                for o, u in zip(org_ids, user_ids, strict=True)
            ],
        )
        self.orgs: dict[int, list[int]] = defaultdict(list)
        self.user_of_org: dict[int, int] = {}
        for o, u, row in zip(org_ids, user_ids, user_rows, strict=True):
            self.user_of_org[o] = u
            self.email_of[u] = row["email"]
        regular = len(org_ids) - self.autosave_count
        for o, mid in zip(org_ids[:regular], home[:regular], strict=True):
            self.orgs[mid].append(o)
        self.autosave_orgs = org_ids[regular:]

    def municipality_id(self, code: str) -> int:
        return next(m.id for m in self.municipalities if m.code == code)

    @staticmethod
    def largest_remainder(total: int, weights: dict, minimum: int = 0) -> dict:
        keys = list(weights)
        rest = max(0, total - minimum * len(keys))
        whole = sum(weights.values()) or 1
        shares = {k: rest * weights[k] / whole for k in keys}
        out = {k: minimum + int(shares[k]) for k in keys}
        left = total - sum(out.values())
        for k in sorted(keys, key=lambda k: -(shares[k] - int(shares[k])))[: max(0, left)]:
            out[k] += 1
        return out

    def calls(self) -> None:
        from portal.calls.models import Call, CallCriterion

        riga = self.municipality_id(COORDINATOR_CODE)
        by_pupils = sorted(self.municipalities, key=lambda m: -self.pupils[m.code])
        self.scoring_muni = next(m.id for m in by_pupils if m.id != riga)
        per_slot = max(1, round(self.scale))
        rows, meta = [], []
        for number, round_id in self.rounds.items():
            for index, m in enumerate(self.municipalities):
                for j in range(per_slot):
                    stage = STAGES[number][(index + j) % len(STAGES[number])]
                    role = None
                    if j == 0 and m.id == riga:
                        role = {3: "results", 4: "ranking", 5: "autosave"}.get(number)
                        stage = {3: "results_published", 4: "evaluation", 5: "open"}.get(number, stage)
                    if j == 0 and m.id == self.scoring_muni and number == 4:
                        role, stage = "scoring", "evaluation"
                    closes = self.now + timedelta(days=CLOSES_IN_DAYS[number] + j)
                    if role == "autosave":
                        closes = self.now + timedelta(days=365)
                    opens = closes - timedelta(days=45)
                    if stage == "open":
                        opens = self.now - timedelta(days=15)
                    if stage == "draft":
                        opens = self.now + timedelta(days=10)
                        closes = opens + timedelta(days=40)
                    rows.append(
                        {
                            "municipality_id": m.id,
                            "programme_id": self.programme.id,
                            "round_id": round_id,
                            "title": f"Jauniešu iniciatīvu konkurss {closes.year} ({m.name}, {number}. k.)",
                            "description": "Konkursa apraksts.",
                            "projects": 1,  # set below from the quota
                            "amount": AMOUNT,
                            "opens_at": opens,
                            "closes_at": closes,
                            "contact_name": "Konkursa koordinators",
                            "contact_email": f"konkurss.{m.code}@bench.jip.lv",
                            "status": stage,
                            "published_at": None if stage == "draft" else opens,
                            "closed_at": closes if stage not in ("draft", "open") else None,
                            "created_by_id": self.coordinator_of[m.id],
                            "version": 1,
                            "created_at": opens - timedelta(days=5),
                            "updated_at": opens,
                        }
                    )
                    meta.append(
                        {
                            "municipality_id": m.id,
                            "round": number,
                            "round_id": round_id,
                            "role": role,
                            "slot": j,
                            "per_slot": per_slot,
                        }
                    )
        # Projects per call: the municipality's quota shared over its calls of the round.
        for row, info in zip(rows, meta, strict=True):
            quota = self.quota[(info["round_id"], info["municipality_id"])]
            share = quota // per_slot + (1 if info["slot"] < quota % per_slot else 0)
            info["capacity"] = share
            row["projects"] = max(1, share)
        ids = self.insert(Call, rows, ids=True)
        self.call_list = []
        for cid, row, info in zip(ids, rows, meta, strict=True):
            info.update(id=cid, status=row["status"], closes_at=row["closes_at"], opens_at=row["opens_at"])
            self.call_list.append(info)
        self.role_call = {c["role"]: c for c in self.call_list if c["role"]}
        crit_rows = []
        for cid in ids:
            for c in self.criteria:
                crit_rows.append({name: getattr(c, name) for name in CallCriterion.COPIED} | {"call_id": cid})
        crit_ids = self.insert(CallCriterion, crit_rows, ids=True)
        n = len(self.criteria)
        self.call_criteria = {}
        for k, cid in enumerate(ids):
            chunk = crit_ids[k * n : (k + 1) * n]
            self.call_criteria[cid] = {
                "checks": [i for i, c in zip(chunk, self.criteria, strict=True) if c.kind != "quality"],
                "quality": [(i, c) for i, c in zip(chunk, self.criteria, strict=True) if c.kind == "quality"],
            }

    def applications(self) -> None:
        from portal.applications.models import Application

        rng = self.rng
        regular = self.target - self.autosave_count
        active = [c for c in self.call_list if c["status"] != "draft"]
        weights = {c["id"]: self.weight[c["municipality_id"]] * ROUND_WEIGHT[c["round"]] for c in active}
        share = self.largest_remainder(regular, weights)
        for c in active:
            if c["role"] in ("ranking", "results", "scoring"):
                share[c["id"]] = max(share[c["id"]], 4)
        app_rows, meta = [], []
        for c in active:
            orgs = self.orgs[c["municipality_id"]]
            n = min(share[c["id"]], len(orgs))
            chosen = rng.sample(orgs, n)
            start = month_start((c["closes_at"] + timedelta(days=45)).date())
            end = month_start(start, 9) - timedelta(days=1)
            for k, org in enumerate(chosen):
                status = self.initial_status(c["status"], rng, k)
                complete = status != "draft" or rng.random() < 0.5
                form = complete_form(f"Projekts {len(app_rows) + 1}: jaunieši jauniešiem", start, end)
                if not complete:
                    form = EMPTY_FORM | {"title": form["title"], "goal": "Mazināt kavējumus"}
                submitted = None
                if status != "draft":
                    submitted = c["closes_at"] - timedelta(days=1, minutes=rng.randrange(0, 20000))
                    submitted = max(submitted, c["opens_at"] + timedelta(minutes=1))
                app_rows.append(
                    form
                    | {
                        "call_id": c["id"],
                        "organisation_id": org,
                        "status": status,
                        "created_by_id": self.user_of_org[org],
                        "submitted_at": submitted,
                        "withdrawn_at": submitted + timedelta(days=1) if status == "withdrawn" else None,
                        "lock_version": 1,
                        "created_at": c["opens_at"] + timedelta(days=1),
                        "updated_at": submitted or self.now,
                    }
                )
                meta.append({"call": c, "org": org, "complete": complete, "form": form})
        ids = self.insert(Application, app_rows, ids=True)
        self.apps = []
        for aid, row, info in zip(ids, app_rows, meta, strict=True):
            info.update(id=aid, status=row["status"], submitted_at=row["submitted_at"])
            self.apps.append(info)
        self.children(self.apps)

    def children(self, apps: list[dict]) -> None:
        """Budget lines and activities of every application; the frozen version of submitted ones."""
        from portal.applications.models import ApplicationActivity, ApplicationVersion, BudgetLine

        budget, activities, versions = [], [], []
        for a in apps:
            for category, amount in BUDGET.items():
                budget.append(
                    {
                        "application_id": a["id"],
                        "category": category,
                        "amount": amount if a["complete"] else Decimal("0.00"),
                    }
                )
            if a["complete"]:
                activities.append({"application_id": a["id"], "position": 0} | ACTIVITY)
            if a["submitted_at"] is not None:
                versions.append(
                    {
                        "application_id": a["id"],
                        "number": 1,
                        "kind": "submission",
                        "created_at": a["submitted_at"],
                        "created_by_id": self.user_of_org[a["org"]],
                        "data": version_data(a["form"]),
                    }
                )
        self.insert(BudgetLine, budget)
        self.insert(ApplicationActivity, activities)
        self.insert(ApplicationVersion, versions)

    @staticmethod
    def initial_status(call_status: str, rng: random.Random, k: int) -> str:
        """The status an application has before scoring (the evaluation step moves the rest on)."""
        draw = rng.random()
        if call_status == "open":
            return "draft" if draw < 0.7 else "submitted"
        if k == 0:
            return "submitted" if call_status == "closed" else "admissible"
        if draw < 0.04:
            return "draft"  # started and never submitted
        if call_status == "closed":
            return "clarification_requested" if draw < 0.1 else "submitted"
        if draw < 0.08:
            return "rejected"
        if draw < 0.09:
            return "withdrawn"
        return "admissible"

    def evaluation(self) -> None:
        from portal.applications.models import Application
        from portal.evaluation import rules
        from portal.evaluation.models import (
            Clarification,
            CommitteeMember,
            ConflictDeclaration,
            Decision,
            EligibilityAnswer,
            EvaluationResult,
            Score,
            ScoreSheet,
        )

        rng = self.rng
        pdf = self.stored_pdf()
        by_call = defaultdict(list)
        for a in self.apps:
            by_call[a["call"]["id"]].append(a)
        members, checks, clarifications, decisions = [], [], [], []
        member_meta = []
        for c in self.call_list:
            if c["status"] in ("draft", "open"):
                continue
            coordinator = self.coordinator_of[c["municipality_id"]]
            for a in by_call[c["id"]]:
                if a["status"] in ("admissible", "rejected") or (a["status"] == "withdrawn"):
                    failed = a["status"] == "rejected"
                    for k, crit in enumerate(self.call_criteria[c["id"]]["checks"]):
                        bad = failed and k == 1
                        checks.append(
                            {
                                "application_id": a["id"],
                                "criterion_id": crit,
                                "passed": not bad,
                                "suggested": None if k in (1, 2) else True,
                                "reason": "Nav pievienoti visi pielikumi" if bad else None,
                                "checked_by_id": coordinator,
                                "checked_at": c["closes_at"] + timedelta(days=3),
                            }
                        )
                elif a["status"] == "clarification_requested":
                    clarifications.append(
                        {
                            "application_id": a["id"],
                            "message": "Pievienojiet budžeta pamatojumu.",
                            "working_days": 5,
                            "requested_by_id": coordinator,
                            "requested_at": self.now - timedelta(days=2),
                            "due_at": self.now + timedelta(days=5),
                        }
                    )
            if c["status"] == "closed":
                continue
            voting = 4 + rng.randrange(3)
            people = rng.sample(self.pool[c["municipality_id"]], voting + 1)
            if c["role"] == "scoring":
                people = self.pool[c["municipality_id"]][: voting + 1]
            for k, uid in enumerate(people):
                role = "chair" if k == 0 else ("secretary" if k == voting else "member")
                members.append(
                    {
                        "call_id": c["id"],
                        "user_id": uid,
                        "email": self.email_of[uid],
                        "role": role,
                        "appointed_by_id": coordinator,
                        "appointed_at": c["closes_at"] - timedelta(days=5),
                        "accepted_at": c["closes_at"] - timedelta(days=4),
                        "declared_at": c["closes_at"] + timedelta(days=1),
                        "declaration_text": "Apliecinu savu objektivitāti un konfidencialitāti.",
                    }
                )
                member_meta.append((c["id"], uid, role))
        self.insert(EligibilityAnswer, checks)
        self.insert(Clarification, clarifications)
        member_ids = self.insert(CommitteeMember, members, ids=True)
        committee = defaultdict(list)
        for mid, (cid, uid, role) in zip(member_ids, member_meta, strict=True):
            committee[cid].append({"id": mid, "user_id": uid, "role": role})
        self.committee = committee

        declarations, sheets, sheet_scores = [], [], []
        results, status_updates = [], []
        rule_criteria = [
            rules.Criterion(
                code=c.code, weight=c.weight, essential=c.essential, tie_break_order=c.tie_break_order
            )
            for c in self.quality
        ]
        self.scoring_target = None
        for c in self.call_list:
            if c["status"] not in ("evaluation", "decided", "results_published", "archived"):
                continue
            consolidated = (
                c["status"] != "evaluation"
                or c["role"] == "ranking"
                or (c["role"] != "scoring" and c["municipality_id"] % 2 == 0)
            )
            voters = [m for m in committee[c["id"]] if m["role"] != "secretary"]
            quality = self.call_criteria[c["id"]]["quality"]
            outcomes = []
            admissible = [a for a in by_call[c["id"]] if a["status"] == "admissible"]
            for a in admissible:
                quality_level = rng.choice((1, 2, 2, 2, 3, 3))
                recusable = len(voters) > 3 and rng.random() < 0.1
                values_by_member = []
                for n, m in enumerate(voters):
                    recused = recusable and n == len(voters) - 1
                    if not consolidated and rng.random() < 0.15:
                        continue  # not declared yet
                    declarations.append(
                        {
                            "member_id": m["id"],
                            "application_id": a["id"],
                            "recused": recused,
                            "reason": "Radniecība ar pretendenta pārstāvi" if recused else None,
                            "declared_at": c["closes_at"] + timedelta(days=2),
                        }
                    )
                    if recused:
                        continue
                    if not consolidated:
                        draw = rng.random()
                        is_target = (
                            c["role"] == "scoring" and self.scoring_target is None and m["role"] == "chair"
                        )
                        if is_target:
                            self.scoring_target = (a["id"], m["user_id"])
                            continue
                        state = "submitted" if draw < 0.7 else ("draft" if draw < 0.85 else None)
                    else:
                        state = "submitted"
                    if state is None:
                        continue
                    values = [max(0, min(3, quality_level + rng.choice((-1, 0, 0, 1)))) for _ in quality]
                    if state == "draft":
                        values = values[:4] + [None] * (len(quality) - 4)
                    at = c["closes_at"] + timedelta(days=6, minutes=rng.randrange(0, 5000))
                    sheets.append(
                        {
                            "member_id": m["id"],
                            "application_id": a["id"],
                            "status": state,
                            "submitted_at": at if state == "submitted" else None,
                            "updated_at": at,
                            "lock_version": 2,
                        }
                    )
                    sheet_scores.append(values)
                    if state == "submitted":
                        values_by_member.append(
                            {c2.code: v for (_i, c2), v in zip(quality, values, strict=True)}
                        )
                if consolidated:
                    outcomes.append(
                        rules.consolidate(
                            a["id"],
                            values_by_member,
                            rule_criteria,
                            pass_share=Decimal("50.00"),
                            risk_share=Decimal("15.00"),
                            submitted_at=a["submitted_at"],
                        )
                    )
            if not consolidated:
                continue
            ranked = rules.rank_and_propose(outcomes, c["capacity"])
            decided = c["status"] != "evaluation"
            for o in ranked:
                results.append(
                    {
                        "call_id": c["id"],
                        "application_id": o.application_id,
                        "average": o.average,
                        "scorers": o.scorers,
                        "passed": o.passed,
                        "fail_reason": o.fail_reason,
                        "rank": o.rank,
                        "proposal": o.proposal,
                        "decision": o.proposal if decided else None,
                        "deviation_reason": None,
                        "disagreements": o.disagreements,
                        "criterion_averages": {k: f"{v:.2f}" for k, v in o.criterion_averages.items()},
                    }
                )
                status_updates.append((o.application_id, o.proposal if decided else "scored"))
            if decided:
                decisions.append(
                    {
                        "call_id": c["id"],
                        "number": f"{c['id']}/{c['closes_at'].year}",
                        "decided_on": (c["closes_at"] + timedelta(days=30)).date(),
                        "file_id": pdf,
                        "protocol_file_id": None,
                        "protocol_sha256": None,
                        "recorded_by_id": self.coordinator_of[c["municipality_id"]],
                        "created_at": c["closes_at"] + timedelta(days=30),
                        "updated_at": c["closes_at"] + timedelta(days=30),
                    }
                )
        self.insert(ConflictDeclaration, declarations)
        sheet_ids = self.insert(ScoreSheet, sheets, ids=True)
        score_rows = []
        call_of_member = {m["id"]: cid for cid, ms in committee.items() for m in ms}
        for sid, sheet, values in zip(sheet_ids, sheets, sheet_scores, strict=True):
            quality = self.call_criteria[call_of_member[sheet["member_id"]]]["quality"]
            for (crit_id, _c), v in zip(quality, values, strict=True):
                score_rows.append(
                    {
                        "sheet_id": sid,
                        "criterion_id": crit_id,
                        "value": v,
                        "comment": "Pamatojums" if v is not None and v <= 1 else None,
                    }
                )
        self.insert(Score, score_rows)
        self.insert(EvaluationResult, results)
        self.insert(Decision, decisions)
        self.set_statuses(Application, status_updates)
        new_status = dict(status_updates)
        for a in self.apps:
            a["status"] = new_status.get(a["id"], a["status"])

    def set_statuses(self, model, pairs) -> None:
        """UPDATE status by id, grouped by the new status (few statements)."""
        import sqlalchemy as sa

        from portal.extensions import db

        grouped = defaultdict(list)
        for rid, status in pairs:
            grouped[status].append(rid)
        for status, ids in grouped.items():
            for i in range(0, len(ids), BATCH):
                db.session.execute(
                    sa.update(model.__table__)
                    .where(model.__table__.c.id.in_(ids[i : i + BATCH]))
                    .values(status=status)
                )

    def stored_pdf(self) -> str:
        import hashlib
        import uuid

        from portal.core.storage import StoredFile

        data = sample_pdf()
        file_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        self.insert(
            StoredFile,
            [
                {
                    "id": file_id,
                    "filename": "lemums.pdf",
                    "content_type": "application/pdf",
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "created_at": self.now,
                    "data": data,
                }
            ],
        )
        self.pdf_id, self.pdf_sha = file_id, hashlib.sha256(data).hexdigest()
        return file_id

    def projects(self) -> None:
        """Contracts, payments and final reports of the funded applications of published calls."""
        from portal.applications.models import Application
        from portal.contracts.models import Contract, ContractCounter
        from portal.core.timeutil import to_riga
        from portal.core.workdays import add_working_days
        from portal.payments.models import Payment
        from portal.reports.models import FinalReport, ReportReminder

        riga = self.municipality_id(COORDINATOR_CODE)
        funded = [
            a
            for a in self.apps
            if a["status"] == "funded" and a["call"]["status"] in ("results_published", "archived")
        ]
        funded.sort(key=lambda a: (a["call"]["municipality_id"] != riga, a["call"]["round"] != 3, a["id"]))
        contracts, payments_meta, reports, reminders, updates = [], [], [], [], []
        sequence: Counter = Counter()
        drafts_for_manifest = 0
        cycle = 0
        for a in funded:
            call = a["call"]
            mid = call["municipality_id"]
            if call["status"] == "archived":
                state = "closed" if self.rng.random() < 0.9 else "terminated"
            elif mid == riga and call["round"] == 3 and drafts_for_manifest < MANIFEST_CONTRACTS:
                state = "draft"
                drafts_for_manifest += 1
            else:
                state = PROJECT_STATES[cycle % len(PROJECT_STATES)]
                cycle += 1
            if state == "funded":
                continue
            decided = call["closes_at"] + timedelta(days=30)
            created = decided + timedelta(days=3)
            year = to_riga(created).year
            sequence[(mid, year)] += 1
            seq = sequence[(mid, year)]
            start, end = a["form"]["start_date"], a["form"]["end_date"]
            sent = created + timedelta(days=1) if state != "draft" else None
            signed_states = (
                "signed",
                "in_progress",
                "report_draft",
                "report_overdue",
                "report_submitted",
                "report_returned",
                "report_approved",
                "forwarded",
                "closed",
                "terminated",
            )
            signed = created + timedelta(days=8) if state in signed_states else None
            status = {
                "draft": "draft",
                "sent": "sent",
                "signed_by_applicant": "signed_by_applicant",
                "lapsed": "lapsed",
                "terminated": "terminated",
            }.get(state, "signed")
            report_due = add_working_days(end, 10)
            if state == "report_overdue":
                report_due = min(report_due, (self.now - timedelta(days=5)).date())
            contracts.append(
                {
                    "application_id": a["id"],
                    "municipality_id": mid,
                    "year": year,
                    "sequence": seq,
                    "number": f"JIP/{self.code_of[mid]}/{year}/{seq:03d}",
                    "status": status,
                    "amount": AMOUNT,
                    "start_date": start,
                    "end_date": end,
                    "report_due": report_due,
                    "sign_by": sent + timedelta(days=10) if sent else None,
                    "pdf_file_id": self.pdf_id if sent else None,
                    "pdf_sha256": self.pdf_sha if sent else None,
                    "generated_by_id": self.coordinator_of[mid],
                    "sent_at": sent,
                    "applicant_file_id": self.pdf_id
                    if status in ("signed_by_applicant", "signed", "terminated")
                    else None,
                    "applicant_sha256": self.pdf_sha
                    if status in ("signed_by_applicant", "signed", "terminated")
                    else None,
                    "applicant_signed_at": created + timedelta(days=5)
                    if status in ("signed_by_applicant", "signed", "terminated")
                    else None,
                    "countersigned_file_id": self.pdf_id if signed else None,
                    "countersigned_sha256": self.pdf_sha if signed else None,
                    "signed_at": signed,
                    "terminated_at": self.now - timedelta(days=3) if state == "terminated" else None,
                    "termination_reason": "Projekts netika īstenots" if state == "terminated" else None,
                    "created_at": created,
                    "updated_at": created,
                    "lock_version": 1,
                }
            )
            payments_meta.append((state, signed, mid))
            app_status = {
                "draft": "funded",
                "sent": "contract_sent",
                "signed_by_applicant": "contract_sent",
                "signed": "contract_signed",
                "lapsed": "not_funded",
                "terminated": "terminated",
                "report_draft": "in_progress",
                "report_overdue": "in_progress",
                "in_progress": "in_progress",
            }.get(state, state)
            updates.append((a["id"], app_status))
            a["status"] = app_status
            rep = self.report_row(a, state, created)
            if rep is not None:
                reports.append(rep)
            if state == "report_overdue":
                reminders.append(
                    {"application_id": a["id"], "kind": "overdue", "sent_at": self.now - timedelta(days=4)}
                )
        contract_ids = self.insert(Contract, contracts, ids=True)
        self.insert(
            ContractCounter,
            [{"municipality_id": m, "year": y, "last_number": n} for (m, y), n in sorted(sequence.items())],
        )
        payment_rows = []
        for cid, (state, signed, mid) in zip(contract_ids, payments_meta, strict=True):
            coordinator = self.coordinator_of[mid]
            advance = "planned"
            if state == "signed":
                advance = "approved"
            elif signed is not None:
                advance = "paid"
            final = {"report_approved": "approved", "forwarded": "approved", "closed": "paid"}.get(
                state, "planned"
            )
            for kind, amount, status in (("advance", ADVANCE, advance), ("final", FINAL, final)):
                when = (signed or self.now) + timedelta(days=2 if kind == "advance" else 200)
                when = min(when, self.now)
                payment_rows.append(
                    {
                        "contract_id": cid,
                        "kind": kind,
                        "status": status,
                        "amount": amount,
                        "reduced_from": None,
                        "reduction_reason": None,
                        "approved_by_id": coordinator if status != "planned" else None,
                        "approved_at": when if status != "planned" else None,
                        "paid_on": when.date() if status == "paid" else None,
                        "bank_reference": f"BANK-{cid}-{kind}" if status == "paid" else None,
                        "paid_recorded_by_id": coordinator if status == "paid" else None,
                        "export_id": None,
                        "lock_version": 1,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
        self.insert(Payment, payment_rows)
        self.insert(FinalReport, reports)
        self.insert(ReportReminder, reminders)
        self.set_statuses(Application, updates)
        self.manifest_contracts = [
            cid
            for cid, row in zip(contract_ids, contracts, strict=True)
            if row["status"] == "draft" and row["municipality_id"] == riga
        ][:MANIFEST_CONTRACTS]

    def report_row(self, a: dict, state: str, created) -> dict | None:
        steps = (
            "report_draft",
            "report_submitted",
            "report_returned",
            "report_approved",
            "forwarded",
            "closed",
        )
        if state not in steps:
            return None
        user = self.user_of_org[a["org"]]
        at = min(self.now - timedelta(days=3), created + timedelta(days=300))
        submitted = state != "report_draft"
        approved = state in ("report_approved", "forwarded", "closed")
        counts = {
            "participants_total": 30,
            "participants_grades_5_9": 18,
            "participants_grades_10_12": 9,
            "participants_vocational": 3,
            "participants_risk": 6,
            "activity_hours": 40,
        }
        return counts | {
            "application_id": a["id"],
            "lock_version": 1,
            "data": {
                "activities": [
                    {
                        "planned": "Darbnīcas",
                        "carried_out": "Sešas darbnīcas",
                        "dates": "2026-02",
                        "place": "Skola",
                        "hours": 40,
                        "methods": "Neformālā izglītība",
                        "change_reason": "",
                    }
                ],
                "results": [{"indicator": "Dalībnieki", "planned": "30", "achieved": "30", "comment": ""}],
                "publicity_links": ["https://example.lv/projekts"],
                "schools": [{"name": "Skolas vidusskola", "count": 30}],
                "youth_led": "Jaunieši plānoja un vadīja darbnīcas.",
                "problems": "Nav.",
                "lessons": "Der plānot laikus.",
            },
            "risk_by_category": {"learning": 4, "family": 2},
            "evidence_consent": True,
            "declaration": submitted,
            "submitted_at": at if submitted else None,
            "submitted_by_id": user if submitted else None,
            "times_returned": 1 if state == "report_returned" else 0,
            "returned_at": at + timedelta(hours=1) if state == "report_returned" else None,
            "returned_by_id": self.coordinator_of[a["call"]["municipality_id"]]
            if state == "report_returned"
            else None,
            "return_comments": {"results": "Precizējiet rezultātus."} if state == "report_returned" else {},
            "approved_at": at + timedelta(hours=2) if approved else None,
            "approved_by_id": self.coordinator_of[a["call"]["municipality_id"]] if approved else None,
            "pdf_file_id": self.pdf_id if approved else None,
            "pdf_sha256": self.pdf_sha if approved else None,
            "forwarded_at": at + timedelta(hours=3) if state in ("forwarded", "closed") else None,
            "acknowledged_at": at + timedelta(hours=4) if state == "closed" else None,
            "acknowledged_by_id": self.admin_id if state == "closed" else None,
            "created_at": at,
            "updated_at": at,
        }

    def autosave(self) -> None:
        """One complete draft per deadline-day applicant, on the far-deadline open call."""
        from portal.applications.models import Application

        call = self.role_call["autosave"]
        start, end = date(self.now.year + 1, 3, 1), date(self.now.year + 1, 11, 30)
        rows, meta = [], []
        for org in self.autosave_orgs:
            form = complete_form(f"Termiņa dienas projekts {org}", start, end)
            rows.append(
                form
                | {
                    "call_id": call["id"],
                    "organisation_id": org,
                    "status": "draft",
                    "created_by_id": self.user_of_org[org],
                    "submitted_at": None,
                    "withdrawn_at": None,
                    "lock_version": 1,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
            meta.append({"call": call, "org": org, "complete": True, "form": form, "submitted_at": None})
        ids = self.insert(Application, rows, ids=True)
        for aid, info in zip(ids, meta, strict=True):
            info["id"] = aid
        self.children(meta)
        self.autosave_apps = meta
        self.apps.extend(meta)

    def manifest(self) -> dict:
        riga = self.municipality_id(COORDINATOR_CODE)
        target_app, evaluator = self.scoring_target or (None, None)
        return {
            "scale": round(self.scale, 4),
            "applications": len(self.apps),
            "password": PASSWORD,
            "load_seconds": None,
            "counts": dict(sorted(self.counts.items())),
            "users": {
                "coordinator": self.staff_entry(self.coordinator_of[riga]),
                "evaluator": self.staff_entry(evaluator) if evaluator else None,
                "national_admin": self.staff_entry(self.admin_id),
            },
            "pages": {
                "open_calls": "/calls/",
                "results": f"/results/{self.role_call['results']['id']}",
                "register": "/projects/",
                "api_list": "/api/v1/projects",
                "dashboard": "/programmes/dashboard",
                "ranking": f"/evaluation/calls/{self.role_call['ranking']['id']}/results",
                "scoring": f"/evaluation/applications/{target_app}/score",
            },
            "page_users": {
                "open_calls": None,
                "results": None,
                "register": None,
                "api_list": None,
                "dashboard": "national_admin",
                "ranking": "coordinator",
                "scoring": "evaluator",
            },
            "autosave": {
                "call_id": self.role_call["autosave"]["id"],
                "applicants": [
                    {"email": self.email_of[self.user_of_org[a["org"]]], "application_id": a["id"]}
                    for a in self.autosave_apps
                ],
            },
            "contracts": self.manifest_contracts,
        }

    def staff_entry(self, user_id: int) -> dict:
        return {"email": self.email_of[user_id], "totp_secret": self.secrets[user_id]}


def build(app, applications: int) -> dict:
    """Load the dataset into the app's (migrated, empty) database; return the manifest."""
    started = time.perf_counter()
    with app.app_context():
        manifest = Generator(applications).run()
    manifest["load_seconds"] = round(time.perf_counter() - started, 2)
    return manifest


def bench_app(database_url: str):
    from portal import create_app
    from portal.config import TestConfig, normalise_database_url

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
        TESTING = False

    return create_app(BenchConfig)


def main() -> int:
    import logging

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="an empty database (SQLAlchemy URL)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=1.0, help="1 = ~4,000 applications, 10 = ~40,000")
    size.add_argument("--applications", type=int, help="the number of applications instead of a scale")
    parser.add_argument("--manifest", default=str(ROOT / "bench" / "results" / "manifest.json"))
    args = parser.parse_args()
    applications = args.applications or round(args.scale * APPLICATIONS_PER_SCALE)

    logging.disable(logging.WARNING)
    from flask_migrate import upgrade

    app = bench_app(args.database_url)
    t0 = time.perf_counter()
    with app.app_context():
        upgrade()
    print(f"migrations applied in {time.perf_counter() - t0:.1f} s")
    manifest = build(app, applications)
    path = Path(args.manifest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    for table, rows in manifest["counts"].items():
        print(f"{table:<28} {rows:>9}")
    print(
        f"{manifest['applications']} applications loaded in {manifest['load_seconds']:.1f} s;",
        f"manifest: {path}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
