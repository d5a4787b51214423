"""QUALITY D3: user text never becomes markup or template code.

Every user text column of a whole project's objects (organisation, call, application and its activity
rows and submitted version, conflict statements, checks, clarification, scores, results, decision,
contract, amendment, final report, prevention plan, users' names) holds the payload set; every page
that can show them, crawled from `app.url_map` as every persona, shows it escaped. A grep gate keeps
`|safe`, `Markup(` and `autoescape false` off user data in templates and code.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.core.timeutil import utcnow
from tests import factories
from tests.helpers import browser_client, log_in

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>X{{7*7}}Y{% raw %}'
SHORTER = ("<script>alert(1)</script>", "X{{7*7}}Y")
# What must never reach a page: live markup from the payload, or the template expression evaluated.
RAW = ("<script>alert(1)", "<img src=x onerror", "X49Y")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Columns that are not free text a user types (codes, states, identifiers, hashes, addresses that are
# validated as such): left alone so that the pages still work.
_STRUCTURAL = re.compile(
    r"(^id$|_id$|hash|sha256|^status$|^kind$|^role$|^category$|^proposal$|^decision$|^fail_reason$|"
    r"level_scheme|locale|email|iban|reg_number|^phone$|contact_phone|website|^months$|^number$|"
    r"content_type|filename|token|secret|password|user_agent|^ip$|baseline|targets)"
)
_MODELS = (
    "Organisation",
    "User",
    "Call",
    "Application",
    "ApplicationActivity",
    "CommitteeMember",
    "ConflictDeclaration",
    "EligibilityAnswer",
    "Clarification",
    "Score",
    "EvaluationResult",
    "Contract",
    "Amendment",
    "FinalReport",
    "ReportFile",
    "PreventionPlan",
    "PlanGoal",
    "PlanActivity",
    "PlanIndicator",
    "ActivityMonitoring",
)


def _fitting(length: int | None) -> str | None:
    for text in (PAYLOAD, *SHORTER):
        if length is None or len(text) <= length:
            return text
    return None


def _poison_json(value):
    if isinstance(value, str):
        return PAYLOAD if value and not value.startswith("http") else value
    if isinstance(value, list):
        return [_poison_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _poison_json(v) for k, v in value.items()}
    return value


def _poison(obj) -> list[str]:
    """Put the payload into every free-text column of `obj`; return the columns changed."""
    changed = []
    for column in sa.inspect(type(obj)).columns:
        if _STRUCTURAL.search(column.key) or column.primary_key or column.foreign_keys:
            continue
        if (
            isinstance(column.type, sa.String)
            and not isinstance(column.type, sa.Enum)
            and getattr(obj, column.key)
        ):
            text = _fitting(column.type.length)
            if text:
                setattr(obj, column.key, text)
                changed.append(f"{type(obj).__name__}.{column.key}")
        elif isinstance(column.type, sa.JSON) and column.key in ("data", "return_comments"):
            setattr(obj, column.key, _poison_json(getattr(obj, column.key)))
            changed.append(f"{type(obj).__name__}.{column.key}")
    return changed


@pytest.fixture()
def scene(app, db):
    """A funded project with a submitted final report, its amendment, clarification, and a plan."""
    from portal.contracts.models import Amendment
    from portal.evaluation.models import Clarification, EligibilityAnswer
    from portal.evaluation.services import publication

    report, contract, ev = factories.submitted_report()
    publication.publish_results(ev["call"], actor=ev["coordinator"])
    application = contract.application
    now = utcnow()
    db.session.add(
        Clarification(
            application_id=ev["applications"][1].id,
            message="Lūdzu precizēt",
            working_days=3,
            requested_by_id=ev["coordinator"].id,
            due_at=now + timedelta(days=5),
            answer="Precizēts",
            answered_at=now,
        )
    )
    db.session.add(
        Amendment(contract_id=contract.id, requested_at=now, activities_change="Cits", reason="Slimība")
    )
    plan = factories.prevention_plan(factories.municipality())
    admin = factories.national_admin()
    db.session.flush()
    changed = []
    models = {m.class_.__name__: m.class_ for m in db.Model.registry.mappers}
    for name in _MODELS:
        for obj in db.session.scalars(sa.select(models[name])):
            changed += _poison(obj)
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EligibilityAnswer)) > 0
    ids = {
        "application_id": application.id,
        "call_id": application.call_id,
        "org_id": application.organisation_id,
        "contract_id": contract.id,
        "report_id": report.id,
        "plan_id": plan.id,
        "activity_id": plan.activities[0].id,
        "amendment_id": db.session.scalar(sa.select(Amendment.id)),
        "year": now.year,
    }
    personas = {
        "applicant": ev["applicants"][0],
        "coordinator": ev["coordinator"],
        "chair": ev["committee"]["chair"].user,
        "admin": admin,
        "anonymous": None,
    }
    return {"ids": ids, "personas": personas, "changed": set(changed)}


def _urls(app, ids) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or "logout" in rule.endpoint:
            continue
        if any(rule.rule.endswith(ext) for ext in (".pdf", ".xlsx", ".csv", ".json")):
            continue
        if not set(rule.arguments) <= {k for k, v in ids.items() if v is not None}:
            continue
        with app.test_request_context():
            urls.append(app.url_for(rule.endpoint, **{k: ids[k] for k in rule.arguments}))
    return sorted(set(urls))


def test_every_page_shows_the_payload_escaped(app, scene):
    for name in ("Organisation.name", "Call.title", "Call.description", "Application.title",
                 "ApplicationActivity.activity", "Score.comment", "Clarification.message",
                 "Clarification.answer", "Amendment.reason", "FinalReport.data", "PlanActivity.title",
                 "User.full_name"):  # fmt: skip
        assert name in scene["changed"], name
    urls = _urls(app, scene["ids"])
    shown, broken = {}, []
    for persona, user in scene["personas"].items():
        client = browser_client(app)
        if user is not None:
            log_in(client, user)
        for url in urls:
            response = client.get(url)
            kind = response.mimetype or ""
            if response.status_code >= 500:
                broken.append((persona, url, response.status_code))
            if kind not in ("text/html", "application/atom+xml", "application/xml"):
                continue
            html = response.get_data(as_text=True)
            for raw in RAW:
                assert raw not in html, f"{raw!r} unescaped on {url} as {persona}"
            if ESCAPED in html:
                shown.setdefault(url, set()).add(persona)
    assert not broken, broken
    # The crawl saw the payload where the objects are shown (else the test proves nothing).
    ids = scene["ids"]
    for url, persona in (
        (f"/applications/{ids['application_id']}", "applicant"),
        (f"/organisations/{ids['org_id']}", "applicant"),
        (f"/calls/{ids['call_id']}", "anonymous"),
        (f"/results/{ids['call_id']}", "anonymous"),
        (f"/evaluation/applications/{ids['application_id']}/score", "chair"),
        (f"/reports/{ids['report_id']}", "coordinator"),
        (f"/plans/{ids['plan_id']}", "coordinator"),
    ):
        assert persona in shown.get(url, set()), (url, persona, sorted(shown))
    assert len(shown) >= 15, sorted(shown)


# --- the grep gate -------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
_UNSAFE = re.compile(r"\|\s*safe\b|Markup\(|autoescape\s+false|\|\s*safe\s*\}")
# Each legitimate use, with why it is not user data reaching markup.
ALLOWED = {
    # Contract paragraphs: the coordinator's body is escaped before it is compiled in a sandbox that
    # allows only {{ placeholder }} nodes, and autoescape escapes every value (tests/contracts cover it).
    ("portal/contracts/generation.py", "return [Markup(p.strip"),
}


def test_no_safe_filter_or_markup_on_user_data():
    found = set()
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("portal/**/*.py")]:
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # template comments
        for code in text.splitlines():
            if _UNSAFE.search(code) and not code.lstrip().startswith("#"):
                rel = str(path.relative_to(ROOT))
                if not any(rel == a and snippet in code for a, snippet in ALLOWED):
                    found.add(f"{rel}: {code.strip()}")
    # A new |safe / Markup( / autoescape false: remove it, or review it and allow-list it with a reason.
    assert not found, sorted(found)
    for rel, snippet in ALLOWED:  # an allow-list entry that no longer matches must be removed
        assert snippet in (ROOT / rel).read_text(encoding="utf-8"), rel
