"""The national administrator's programme, round and quota pages, and the coordinator's read-only view.

Through the test client as national admin / coordinator / applicant / anonymous: per-object permissions
(404, nothing changes), errors by the field and never a 500, all-or-nothing uploads, mass assignment.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.core.audit import AuditEvent
from portal.programmes import services
from portal.programmes.models import CriterionTemplate, Programme, PupilCount, Quota, QuotaSnapshot, Round
from tests.factories import applicant, coordinator, evaluator, municipality, national_admin
from tests.helpers import Page, csrf_token

CSV = "municipality;pupils\nAizkraukles novads;2100\nRopažu novads;3900\nRīga;52000\n".encode()


@pytest.fixture()
def admin(db):
    return national_admin()


@pytest.fixture()
def programme(db):
    return services.ensure_pumpurs_programme()


@pytest.fixture()
def rnd(programme, admin):
    return services.create_round(
        programme,
        actor=admin,
        number=1,
        projects=10,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )


@pytest.fixture()
def computed(rnd, admin):
    services.import_pupil_counts(rnd, CSV, actor=admin)
    services.compute_round_quotas(rnd, actor=admin)
    return rnd


def _quota(rnd, code: str) -> Quota:
    return next(q for q in rnd.quotas if q.municipality.code == code)


def post(client, url, data=None, **kwargs):
    """POST with a CSRF token from the home page (any page of the user's session will do)."""
    data = {**(data or {}), "csrf_token": csrf_token(client, "/")}
    return client.post(url, data=data, **kwargs)


def programme_data(programme: Programme, **changes) -> dict:
    """The edit form as the browser would post it, with the programme's current values."""
    data = {
        "name_lv": programme.name_lv,
        "name_en": programme.name_en,
        "operator": programme.operator,
        "period_start": programme.period_start.isoformat(),
        "period_end": programme.period_end.isoformat(),
        "funding_mode": programme.funding_mode,
        "amount": str(programme.amount).replace(".", ","),
        "min_months": programme.min_months,
        "max_months": programme.max_months,
        "min_risk_share": str(programme.min_risk_share),
        "grade_min": programme.grade_min,
        "grade_max": programme.grade_max,
        "vocational_min": programme.vocational_min,
        "vocational_max": programme.vocational_max,
        "eligible_legal_forms": list(programme.eligible_legal_forms),
        "risk_categories": "\n".join(f"{c['code']}; {c['lv']}; {c['en']}" for c in programme.risk_categories),
        "advance_percent": str(programme.advance_percent),
        "min_call_window_days": programme.min_call_window_days,
        "report_due_working_days": programme.report_due_working_days,
        "report_review_working_days": programme.report_review_working_days,
        "pass_share": str(programme.pass_share),
        "applications_per_organisation": programme.applications_per_organisation,
        "is_active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _state(db) -> tuple:
    """Everything the programme pages can change, to prove that a refused request changed nothing."""

    def rows(model, *columns):
        return sorted(tuple(r) for r in db.session.execute(sa.select(*[getattr(model, c) for c in columns])))

    db.session.expire_all()
    return (
        rows(Programme, "id", "code", "amount", "min_months", "max_months", "name_lv", "is_active"),
        rows(CriterionTemplate, "id", "title_lv", "weight", "essential", "tie_break_order"),
        rows(Round, "id", "number", "projects", "budget"),
        rows(PupilCount, "round_id", "municipality_id", "pupils"),
        rows(Quota, "id", "quota", "computed_quota", "reserved", "override_reason"),
        rows(QuotaSnapshot, "id"),
    )


def _errors_of(html: str, field_id: str) -> str:
    page = Page(html)
    error = page.by_id(f"{field_id}-error")
    return error.text.strip() if error else ""


# --- who sees what ---------------------------------------------------------------------------------


def _admin_urls(programme, rnd) -> list[str]:
    criterion = programme.criteria[0]
    snapshot = db_snapshot_id(rnd)
    return [
        "/programmes/",
        f"/programmes/{programme.id}",
        f"/programmes/{programme.id}/edit",
        "/programmes/new",
        f"/programmes/{programme.id}/criteria/{criterion.id}/edit",
        f"/programmes/{programme.id}/rounds/new",
        f"/programmes/rounds/{rnd.id}",
        f"/programmes/rounds/{rnd.id}/pupil-counts",
        f"/programmes/snapshots/{snapshot}",
        "/programmes/dashboard",
        f"/programmes/dashboard?round={rnd.id}",
        f"/programmes/dashboard/{rnd.id}.csv",
    ]


def db_snapshot_id(rnd) -> int:
    from portal.extensions import db

    return db.session.scalar(sa.select(QuotaSnapshot.id).where(QuotaSnapshot.round_id == rnd.id))


def test_admin_pages_render(client, login_as, admin, programme, computed):
    login_as(admin)
    quality = next(c for c in programme.criteria if c.kind == "quality")
    urls = _admin_urls(programme, computed) + [
        f"/programmes/{programme.id}/criteria/{quality.id}/edit",
        f"/programmes/quotas/{computed.quotas[0].id}",
        f"/programmes/new?from={programme.id}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b' style="' not in response.data, url


def test_anonymous_is_sent_to_login(client, programme, computed):
    for url in _admin_urls(programme, computed) + [
        "/programmes/my-quota",
        f"/programmes/quotas/{computed.quotas[0].id}",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["coordinator", "applicant", "evaluator"])
def test_others_get_404_on_admin_pages(client, login_as, programme, computed, role):
    user = {"coordinator": coordinator, "applicant": applicant, "evaluator": evaluator}[role]()
    login_as(user)
    for url in _admin_urls(programme, computed):
        assert client.get(url).status_code == 404, url


def test_coordinator_sees_own_quota_only(client, login_as, computed):
    user = coordinator(municipality("0020000"))
    login_as(user)
    own, other = _quota(computed, "0020000"), _quota(computed, "0044000")
    page = client.get(f"/programmes/quotas/{own.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Aizkraukles novads" in html
    assert "/override" not in html and 'name="reason"' not in html  # no edit controls
    assert client.get(f"/programmes/quotas/{other.id}").status_code == 404

    mine = client.get("/programmes/my-quota").get_data(as_text=True)
    assert "Aizkraukles novads" in mine
    assert "Ropažu novads" not in mine and "Rīga" not in mine
    assert f"/programmes/quotas/{own.id}" in mine


@pytest.mark.parametrize("role", ["applicant", "admin"])
def test_my_quota_is_for_coordinators(client, login_as, role):
    login_as(applicant() if role == "applicant" else national_admin())
    assert client.get("/programmes/my-quota").status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "applicant"])
def test_posts_by_others_change_nothing(client, login_as, db, programme, computed, role):
    login_as(coordinator(municipality("0020000")) if role == "coordinator" else applicant())
    criterion = next(c for c in programme.criteria if c.kind == "quality")
    own_quota = _quota(computed, "0020000")
    before = _state(db)
    attempts = [
        (f"/programmes/{programme.id}/edit", programme_data(programme, amount="1,00")),
        ("/programmes/new", programme_data(programme, code="pirate")),
        (
            f"/programmes/{programme.id}/criteria/{criterion.id}/edit",
            {"title_lv": "X", "title_en": "X", "weight": "9"},
        ),
        (
            f"/programmes/{programme.id}/rounds/new",
            {
                "number": 7,
                "target": "projects",
                "projects": 50,
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "unused_policy": "carry_over",
            },
        ),
        (
            f"/programmes/rounds/{computed.id}/pupil-counts",
            {"file": (io.BytesIO("Rīga;1\n".encode()), "c.csv")},
        ),
        (f"/programmes/rounds/{computed.id}/quotas/compute", {}),
        (f"/programmes/quotas/{own_quota.id}/override", {"quota": 40, "reason": "More, please"}),
    ]
    for url, data in attempts:
        assert post(client, url, data).status_code == 404, url
    assert _state(db) == before


def test_post_without_csrf_token_is_refused(client, login_as, db, admin, computed):
    login_as(admin)
    before = _state(db)
    response = client.post(f"/programmes/rounds/{computed.id}/quotas/compute")
    assert response.status_code == 400
    assert _state(db) == before


# --- programme rules ---------------------------------------------------------------------------------


def test_programme_page_shows_rules_and_criteria(client, login_as, admin, programme):
    admin.locale = "lv"
    login_as(admin)
    html = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "4\xa0600,00\xa0€" in html  # the money filter, Latvian
    assert "10%" in html and "3–18" in html
    assert "Ģimenes riski" in html  # risk categories in the page's language (Latvian)
    assert "Jaunieši, t. sk. riska grupas, vada visu projektu" in html  # a level descriptor
    assert "/criteria/" in html and f"/programmes/{programme.id}/edit" in html


def test_programme_page_in_english(client, login_as, programme):
    login_as(national_admin(locale="en"))
    html = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "€4,600.00" in html and "PuMPuRS youth initiative projects" in html
    assert "Family" in html and "Ģimenes riski" not in html  # risk categories in English


def test_edit_programme_saves_and_audits(client, login_as, db, admin, programme):
    login_as(admin)
    response = post(
        client,
        f"/programmes/{programme.id}/edit",
        programme_data(programme, amount="5 000,50", max_months="24", min_risk_share="12,5"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (programme.amount, programme.max_months, programme.min_risk_share) == (
        Decimal("5000.50"),
        24,
        Decimal("12.5"),
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "programme.updated"))
    assert event.actor_id == admin.id
    assert event.before_data() == {"amount": "4600.00", "max_months": 18, "min_risk_share": "10.00"}
    assert event.after_data() == {"amount": "5000.50", "max_months": 24, "min_risk_share": "12.5"}


BAD_RULES = [
    ("amount", {"amount": "0"}, "greater than zero"),
    ("amount", {"amount": "-5"}, "greater than zero"),
    ("amount", {"amount": "abc"}, "Enter a number"),
    ("amount", {"amount": "1e3"}, "Enter a number"),
    ("amount", {"amount": "4600,001"}, "decimal places"),
    ("amount", {"amount": "99999999999999"}, "too large"),
    ("max_months", {"min_months": "12", "max_months": "6"}, "shorter"),
    ("min_months", {"min_months": "0"}, ""),
    ("min_risk_share", {"min_risk_share": "101"}, ""),
    ("advance_percent", {"advance_percent": "-1"}, ""),
    ("grade_max", {"grade_min": "9", "grade_max": "5"}, "lower than the lowest"),
    ("vocational_max", {"vocational_min": "4", "vocational_max": "1"}, "lower than the lowest"),
    ("period_end", {"period_start": "2030-01-01", "period_end": "2020-01-01"}, "end after it starts"),
    ("period_end", {"period_end": "31.31.2029"}, ""),
    ("eligible_legal_forms", {"eligible_legal_forms": None}, "at least one"),
    ("eligible_legal_forms", {"eligible_legal_forms": ["pirates"]}, ""),
    ("risk_categories", {"risk_categories": "family; Ģimenes riski"}, "Line 1"),
    ("risk_categories", {"risk_categories": "a; A; A\na; B; B"}, "own code"),
    ("risk_categories", {"risk_categories": "Ģimene; G; F"}, "lower-case"),
    ("funding_mode", {"funding_mode": "grant"}, ""),
    ("name_lv", {"name_lv": "   "}, ""),
    ("name_lv", {"name_lv": "x" * 201}, ""),
    ("report_due_working_days", {"report_due_working_days": "1_000"}, "whole number"),
]


def test_edit_programme_errors_by_the_field(client, login_as, db, admin, programme):
    """Each refused value: an error next to its field, in the summary, the value kept, nothing stored."""
    login_as(admin)
    before = _state(db)
    for field, changes, message in BAD_RULES:
        response = post(client, f"/programmes/{programme.id}/edit", programme_data(programme, **changes))
        assert response.status_code == 200, changes
        html = response.get_data(as_text=True)
        error = _errors_of(html, field)
        assert error and message in error, (changes, error)
        assert 'id="error-summary"' in html
        typed = changes.get(field)
        if field not in ("risk_categories", "funding_mode") and isinstance(typed, str) and typed.strip():
            assert f'value="{typed}"' in html, changes
    assert _state(db) == before


def test_edit_programme_ignores_extra_fields(client, login_as, db, admin, programme):
    login_as(admin)
    response = post(
        client,
        f"/programmes/{programme.id}/edit",
        programme_data(
            programme, code="pirate", id="999", created_at="2000-01-01", programme_id="5", status="closed"
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert programme.code == "pumpurs-jip"
    assert db.session.get(Programme, 999) is None


def test_new_programme_is_only_data(client, login_as, db, admin, programme):
    """A second programme with other numbers, its criteria copied, runs a round without code changes."""
    login_as(admin)
    assert "4600,00" in client.get("/programmes/new").get_data(as_text=True)  # starts from PuMPuRS
    data = programme_data(
        programme,
        code="4.2.3.1-jip",
        name_lv="Integrētā skola",
        name_en="Integrated school",
        funding_mode="cap",
        amount="10 000,00",
        min_months="6",
        max_months="24",
        advance_percent="90",
        copy_from=str(programme.id),
    )
    response = post(client, "/programmes/new", data)
    assert response.status_code == 302
    other = db.session.scalar(sa.select(Programme).where(Programme.code == "4.2.3.1-jip"))
    assert (other.amount, other.funding_mode, other.final_percent) == (
        Decimal("10000.00"),
        "cap",
        Decimal("10.00"),
    )
    assert [c.code for c in other.criteria] == [c.code for c in programme.criteria]
    assert {c.id for c in other.criteria}.isdisjoint({c.id for c in programme.criteria})
    assert other.max_score == programme.max_score
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "programme.created"))

    response = post(
        client,
        f"/programmes/{other.id}/rounds/new",
        {
            "number": "1",
            "target": "budget",
            "budget": "450 000",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "unused_policy": "redistribute",
        },
    )
    assert response.status_code == 302
    rnd = db.session.scalar(sa.select(Round).where(Round.programme_id == other.id))
    response = post(client, f"/programmes/rounds/{rnd.id}/pupil-counts", {"file": (io.BytesIO(CSV), "c.csv")})
    assert response.status_code == 302
    assert post(client, f"/programmes/rounds/{rnd.id}/quotas/compute").status_code == 302
    db.session.expire_all()
    assert sum(q.quota for q in rnd.quotas) == 45  # floor(450 000 / 10 000)
    assert {q.reserved for q in rnd.quotas} <= {Decimal(10000 * n) for n in range(1, 46)}


def test_new_programme_code_must_be_new(client, login_as, db, admin, programme):
    login_as(admin)
    before = _state(db)
    response = post(client, "/programmes/new", programme_data(programme, code="pumpurs-jip", copy_from=""))
    assert response.status_code == 200
    assert "already exists" in _errors_of(response.get_data(as_text=True), "code")
    response = post(client, "/programmes/new", programme_data(programme, code="Ne Derīgs!", copy_from=""))
    assert "lower-case" in _errors_of(response.get_data(as_text=True), "code")
    assert _state(db) == before


def test_new_programme_without_criteria(client, login_as, db, admin, programme):
    login_as(admin)
    response = post(client, "/programmes/new", programme_data(programme, code="tukss", copy_from=""))
    assert response.status_code == 302
    other = db.session.scalar(sa.select(Programme).where(Programme.code == "tukss"))
    assert other.criteria == []


# --- criteria ------------------------------------------------------------------------------------------


def _criterion_data(criterion, **changes):
    data = {
        "title_lv": criterion.title_lv,
        "title_en": criterion.title_en,
        "description_lv": criterion.description_lv,
        "description_en": criterion.description_en,
    }
    if criterion.kind == "quality":
        data |= {
            "weight": str(criterion.weight),
            "tie_break_order": criterion.tie_break_order or "",
            "essential": "y" if criterion.essential else None,
        }
        for level, texts in criterion.levels.items():
            data |= {f"level_{level}_lv": texts["lv"], f"level_{level}_en": texts["en"]}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_edit_quality_criterion(client, login_as, db, admin, programme):
    login_as(admin)
    reach = next(c for c in programme.criteria if c.code == "reach")
    url = f"/programmes/{programme.id}/criteria/{reach.id}/edit"
    response = post(
        client,
        url,
        _criterion_data(
            reach, weight="2,5", essential="y", tie_break_order="3", level_3_en="Outstanding outreach"
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (reach.weight, reach.essential, reach.tie_break_order) == (Decimal("2.5"), True, 3)
    assert reach.levels["3"]["en"] == "Outstanding outreach"
    assert programme.max_score == Decimal("33.00")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "criterion.updated"))
    assert event.before_data()["weight"] == "1.50" and event.after_data()["weight"] == "2.5"


CRITERION_ERRORS = [
    ("tie_break_order", {"tie_break_order": "1"}, "Another criterion"),
    ("weight", {"weight": "-1"}, ""),
    ("weight", {"weight": "many"}, "Enter a number"),
    ("level_2_lv", {"level_2_lv": " "}, ""),
    ("title_en", {"title_en": ""}, ""),
]


def test_edit_criterion_errors(client, login_as, db, admin, programme):
    login_as(admin)
    reach = next(c for c in programme.criteria if c.code == "reach")
    before = _state(db)
    for field, changes, message in CRITERION_ERRORS:
        response = post(
            client, f"/programmes/{programme.id}/criteria/{reach.id}/edit", _criterion_data(reach, **changes)
        )
        assert response.status_code == 200, changes
        error = _errors_of(response.get_data(as_text=True), field)
        assert error and message in error, (changes, error)
    assert _state(db) == before


def test_yes_no_criterion_keeps_its_scoring(client, login_as, db, admin, programme):
    login_as(admin)
    on_time = next(c for c in programme.criteria if c.code == "on_time")
    response = post(
        client,
        f"/programmes/{programme.id}/criteria/{on_time.id}/edit",
        _criterion_data(
            on_time, title_en="Submitted in time", weight="9", tie_break_order="9", programme_id="99"
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (on_time.title_en, on_time.weight, on_time.tie_break_order, on_time.programme_id) == (
        "Submitted in time",
        Decimal("0"),
        None,
        programme.id,
    )


def test_criterion_of_another_programme_is_404(client, login_as, admin, programme):
    login_as(admin)
    criterion = programme.criteria[0]
    assert client.get(f"/programmes/{programme.id + 1}/criteria/{criterion.id}/edit").status_code == 404


# --- rounds ---------------------------------------------------------------------------------------------


ROUND = {
    "number": "2",
    "target": "projects",
    "projects": "60",
    "period_start": "2026-02-01",
    "period_end": "2026-11-30",
    "unused_policy": "carry_over",
}


def test_create_round(client, login_as, db, admin, programme, rnd):
    login_as(admin)
    assert 'value="2"' in client.get(f"/programmes/{programme.id}/rounds/new").get_data(as_text=True)
    response = post(
        client, f"/programmes/{programme.id}/rounds/new", {**ROUND, "budget": "1", "status": "closed"}
    )
    assert response.status_code == 302
    created = db.session.scalar(sa.select(Round).where(Round.programme_id == programme.id, Round.number == 2))
    assert (created.projects, created.budget, created.status, created.unused_policy) == (
        60,
        None,
        "draft",
        "carry_over",
    )
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "round.created", AuditEvent.object_id == created.id)
    )


ROUND_ERRORS = [
    ("number", {"number": "1"}, "already has a round"),
    ("projects", {"projects": ""}, "number of projects"),
    ("budget", {"target": "budget", "budget": ""}, "budget"),
    ("budget", {"target": "budget", "budget": "-100"}, ""),
    ("projects", {"projects": "0"}, ""),
    ("period_end", {"period_end": "2025-12-31"}, "before it starts"),
    ("period_end", {"period_start": "2016-01-01"}, "programme's period"),
    ("unused_policy", {"unused_policy": "keep"}, ""),
    ("budget", {"target": "budget", "budget": "9 999 999 999"}, "more than 10000 projects"),
]


def test_create_round_errors(client, login_as, db, admin, programme, rnd):
    login_as(admin)
    before = _state(db)
    for field, changes, message in ROUND_ERRORS:
        response = post(client, f"/programmes/{programme.id}/rounds/new", {**ROUND, **changes})
        assert response.status_code == 200, changes
        error = _errors_of(response.get_data(as_text=True), field)
        assert error and message in error, (changes, error)
    assert _state(db) == before


# --- pupil counts ------------------------------------------------------------------------------------


def _upload(client, rnd, content: bytes, name: str = "skoleni.csv"):
    return post(client, f"/programmes/rounds/{rnd.id}/pupil-counts", {"file": (io.BytesIO(content), name)})


BAD_FILES = {
    "empty": (b"", "empty"),
    "blank lines": (b"\n \n", "empty"),
    "unknown municipality": ("Aizkraukles novads;2100\nAtlantīda;50\n".encode(), "Line 2"),
    "duplicate": (b"Aizkraukles novads;2100\n0020000;50\n", "Line 2"),
    "negative": (b"Aizkraukles novads;-3\n", "Line 1"),
    "not a number": (b"Aizkraukles novads;daudz\n", "Line 1"),
    "wrong delimiter": ("Aizkraukles novads|2100\nRopažu novads|3900\n".encode(), "two columns"),
    "three columns": (b"Aizkraukles novads;2100;9\n", "Line 1"),
    "utf-16": ("Aizkraukles novads;2100\n".encode("utf-16"), "CSV"),
    "a spreadsheet": (b"PK\x03\x04\x00\x00binary", "CSV"),
}


def test_bad_uploads_show_problems_and_store_nothing(client, login_as, db, admin, computed):
    login_as(admin)
    before = _state(db)
    for kind, (content, expected) in BAD_FILES.items():
        response = _upload(client, computed, content)
        assert response.status_code == 200, kind
        summary = Page(response.get_data(as_text=True)).by_id("error-summary")
        assert summary is not None and "Nothing was stored" in summary.text, kind
        assert expected in summary.text, (kind, summary.text)
    assert _state(db) == before


def test_upload_reports_every_bad_line(client, login_as, admin, rnd):
    login_as(admin)
    content = "municipality;pupils\nAizkraukles novads;2100\nNekurienes novads;5\nRopažu novads;x\n".encode()
    html = _upload(client, rnd, content).get_data(as_text=True)
    items = [li.text for li in Page(html).find("li") if "Line" in li.text]
    assert any("Line 3" in t and "Nekurienes" in t for t in items)
    assert any("Line 4" in t and "whole number" in t for t in items)


def test_upload_without_file(client, login_as, db, admin, rnd):
    login_as(admin)
    response = post(client, f"/programmes/rounds/{rnd.id}/pupil-counts", {})
    assert response.status_code == 200
    assert "Choose the CSV file" in _errors_of(response.get_data(as_text=True), "file")


GOOD_FILES = {
    "windows-1257": "pašvaldība;skolēni\nAizkraukles novads;2100\nRopažu novads;3900\n".encode("cp1257"),
    "utf-8 with BOM": (
        "\ufeffpašvaldība;skolēni\r\nAizkraukles novads;2100\r\nRopažu novads;3 900\r\n".encode()
    ),
    "codes with commas": b"municipality,pupils\n0020000,2100\n0044000,3900\n",
}


def test_good_uploads_are_stored(client, login_as, db, admin, rnd):
    login_as(admin)
    for kind, content in GOOD_FILES.items():
        response = _upload(client, rnd, content)
        assert response.status_code == 302, kind
        db.session.expire_all()
        assert sorted((pc.municipality.code, pc.pupils) for pc in rnd.pupil_counts) == [
            ("0020000", 2100),
            ("0044000", 3900),
        ], kind
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Pupil counts of 2 municipalities are imported." in page, kind
        _upload(client, rnd, CSV)  # something else in between, so each file really replaces the counts
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "round.pupil_counts_imported")
    )
    assert len(events.all()) == 2 * len(GOOD_FILES)


def test_new_counts_after_quotas_ask_to_recompute(client, login_as, admin, computed):
    login_as(admin)
    response = _upload(client, computed, CSV)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Compute the quotas again" in page


# --- quotas -----------------------------------------------------------------------------------------


def test_compute_quotas_shows_the_snapshot(client, login_as, db, admin, rnd):
    login_as(admin)
    _upload(client, rnd, CSV)
    response = post(client, f"/programmes/rounds/{rnd.id}/quotas/compute")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "10 projects shared" in page
    assert "largest remainder" in page and admin.full_name in page
    assert "€32,200.00" in page  # Rīga's 7 projects
    snapshot = db.session.scalar(sa.select(QuotaSnapshot).where(QuotaSnapshot.round_id == rnd.id))
    detail = client.get(f"/programmes/snapshots/{snapshot.id}").get_data(as_text=True)
    assert "52,000" in detail and "Ropažu novads" in detail


def test_compute_with_fewer_projects_than_municipalities(client, login_as, db, admin, programme):
    small = services.create_round(
        programme,
        actor=admin,
        number=5,
        projects=2,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    services.import_pupil_counts(small, CSV, actor=admin)
    login_as(admin)
    before = _state(db)
    response = post(client, f"/programmes/rounds/{small.id}/quotas/compute", follow_redirects=True)
    assert response.status_code == 200
    assert "fewer projects (2) than municipalities (3)" in response.get_data(as_text=True)
    assert _state(db) == before


def test_override_needs_a_reason(client, login_as, db, admin, computed):
    login_as(admin)
    quota = _quota(computed, "0044000")
    before = _state(db)
    response = post(client, f"/programmes/quotas/{quota.id}/override", {"quota": "5", "reason": "   "})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Give the reason" in _errors_of(html, "reason")
    assert 'value="5"' in html  # the typed value is kept
    response = post(client, f"/programmes/quotas/{quota.id}/override", {"quota": "-1", "reason": "x"})
    assert _errors_of(response.get_data(as_text=True), "quota")
    assert _state(db) == before


def test_override_is_saved_audited_and_ignores_extra_fields(client, login_as, db, admin, computed):
    login_as(admin)
    quota = _quota(computed, "0044000")
    ropazi, aizkraukle = quota.municipality_id, municipality("0020000").id
    response = post(
        client,
        f"/programmes/quotas/{quota.id}/override",
        {
            "quota": "3",
            "reason": "Apvienots ar rezerves sarakstu",
            "computed_quota": "99",
            "reserved": "1",
            "municipality_id": str(aizkraukle),
            "round_id": "999",
            "carried_in": "7",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (
        quota.quota,
        quota.computed_quota,
        quota.reserved,
        quota.municipality_id,
        quota.round_id,
        quota.carried_in,
    ) == (3, 2, Decimal("13800.00"), ropazi, computed.id, 0)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "quota.overridden"))
    assert event.reason == "Apvienots ar rezerves sarakstu" and event.actor_id == admin.id
    round_page = client.get(f"/programmes/rounds/{computed.id}").get_data(as_text=True)
    assert "Apvienots ar rezerves sarakstu" in round_page


def test_coordinator_sees_the_override_reason(client, login_as, admin, computed):
    quota = _quota(computed, "0020000")
    services.override_quota(quota, 2, reason="Papildu projekts", actor=admin)
    login_as(coordinator(municipality("0020000")))
    html = client.get(f"/programmes/quotas/{quota.id}").get_data(as_text=True)
    assert "Papildu projekts" in html


# --- the dashboard -----------------------------------------------------------------------------------


def test_dashboard_table_totals_and_chart(client, login_as, admin, computed):
    login_as(admin)
    response = client.get(f"/programmes/dashboard?round={computed.id}&sort=-pupils")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    names = [th.text.strip() for th in page.find("th", scope="row")]
    assert names[:3] == ["Rīga", "Ropažu novads", "Aizkraukles novads"]
    assert names[-1] == "Total"
    assert "58,000" in html and "€46,000.00" in html
    sorted_th = [th for th in page.find("th") if th.get("aria-sort")]
    assert [(th.text.strip(), th.get("aria-sort")) for th in sorted_th] == [("Pupils", "descending")]
    # The money columns come from the payments ledger.
    headings = [th.text.strip() for th in page.find("th", scope="col")]
    assert headings == [
        "Municipality",
        "Pupils",
        "Quota (projects)",
        "Reserved amount",
        "Calls opened",
        "Applications",
        "Funded",
        "Remaining quota",
        "Contracted",
        "Paid",
        "To be paid",
    ]
    svg = page.find("svg", role="img")
    assert len(svg) == 1
    labelled = svg[0].get("aria-labelledby").split()
    assert all(page.by_id(i) is not None for i in labelled)
    assert page.by_id(labelled[0]).tag == "title"
    assert len(page.find("rect")) == 3
    assert b" style=" not in response.data and b"<script>" not in response.data
    assert page.find("script", src="/static/js/sortable-table.js")


def test_dashboard_unknown_round_and_sort(client, login_as, admin, computed):
    login_as(admin)
    assert client.get("/programmes/dashboard?round=9999").status_code == 404
    assert client.get(f"/programmes/dashboard?round={computed.id}&sort=' OR 1=1").status_code == 200
    assert client.get("/programmes/dashboard/9999.csv").status_code == 404


def test_dashboard_without_rounds(client, login_as, admin):
    login_as(admin)
    response = client.get("/programmes/dashboard")
    assert response.status_code == 200
    assert "There are no rounds yet." in response.get_data(as_text=True)


def test_dashboard_csv_download(client, login_as, admin, computed):
    login_as(admin)
    response = client.get(f"/programmes/dashboard/{computed.id}.csv?sort=-quota")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(
        r'attachment; filename="quotas-pumpurs-jip-round-1-\d{4}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].count(";") == 14
    assert lines[1].startswith("0001000;Rīga;52000;7;7;0;32200.00;0;7;0;0;0")


def test_dashboard_xlsx_download(client, login_as, admin, computed):
    openpyxl = pytest.importorskip("openpyxl")
    login_as(admin)
    response = client.get(f"/programmes/dashboard/{computed.id}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == 5


def test_exports_are_for_national_admins_only(client, login_as, computed):
    login_as(coordinator(municipality("0020000")))
    assert client.get(f"/programmes/dashboard/{computed.id}.csv").status_code == 404
    assert client.get(f"/programmes/dashboard/{computed.id}.xlsx").status_code == 404


# --- random input never breaks a form (QUALITY D2) -----------------------------------------------------

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
_VALUE = st.one_of(
    _TEXT,
    st.integers(-(10**15), 10**15).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.sampled_from(
        ["", "0", "1", "100", "4 600,00", "fixed", "cap", "y", "projects", "budget", "carry_over"]
    ),
)
_FIELDS = {
    "programme": [
        "name_lv",
        "name_en",
        "operator",
        "period_start",
        "period_end",
        "funding_mode",
        "amount",
        "min_months",
        "max_months",
        "min_risk_share",
        "grade_min",
        "grade_max",
        "vocational_min",
        "vocational_max",
        "risk_categories",
        "advance_percent",
        "min_call_window_days",
        "report_due_working_days",
        "report_review_working_days",
        "pass_share",
        "is_active",
        "code",
        "copy_from",
    ],
    "criterion": [
        "title_lv",
        "title_en",
        "description_lv",
        "description_en",
        "weight",
        "essential",
        "tie_break_order",
    ]
    + [f"level_{n}_{lang}" for n in range(4) for lang in ("lv", "en")],
    "round": ["number", "target", "projects", "budget", "period_start", "period_end", "unused_policy"],
    "override": ["quota", "reason"],
}
_ALL_FIELDS = sorted({name for names in _FIELDS.values() for name in names})


@pytest.fixture()
def admin_client(client, login_as, admin, computed):
    login_as(admin)
    return client


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(["edit", "new", "criterion", "round", "override"]),
    values=st.fixed_dictionaries({}, optional=dict.fromkeys(_ALL_FIELDS, _VALUE)),
    forms=st.lists(_TEXT, max_size=3),
)
def test_random_input_never_breaks_a_form(admin_client, programme, computed, target, values, forms):
    quality = next(c for c in programme.criteria if c.kind == "quality")
    url = {
        "edit": f"/programmes/{programme.id}/edit",
        "new": "/programmes/new",
        "criterion": f"/programmes/{programme.id}/criteria/{quality.id}/edit",
        "round": f"/programmes/{programme.id}/rounds/new",
        "override": f"/programmes/quotas/{computed.quotas[0].id}/override",
    }[target]
    response = post(admin_client, url, {**values, "eligible_legal_forms": forms})
    assert response.status_code in (200, 302)
