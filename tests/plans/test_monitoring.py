"""The monitoring table (seed 001 table 4.4; issue 8): figures per activity and year from the funded
projects and their approved reports, reconciled with the payments ledger; the municipality's notes; the
annual report as XLSX and PDF."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.applications.workflow import WORKFLOW
from portal.core.audit import AuditEvent
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db as _db
from portal.payments import ledger
from portal.payments.services import payments_of
from portal.plans import monitoring
from portal.plans.models import ActivityMonitoring
from tests.factories import (
    applicant,
    coordinator,
    municipality,
    national_admin,
    prevention_plan,
    project_in_progress,
    submitted_report,
)
from tests.helpers import (
    Page,
    browser_client,
    count_queries,
    csrf_token,
    log_in,
    savepoint_db,
    scene_connection,
)

YEAR = 2026  # the factories' projects start on 1 March 2026


def _build_scene() -> dict:
    """Aizkraukle's plan; activity 1.1 (target 100) served by a running project (advance paid) and by
    one with an approved report (30 reached, 6 at risk, 40 hours); a third project serves no activity."""
    muni = municipality()
    plan = prevention_plan(muni)
    activity = plan.activities[0]
    running, ev_running = project_in_progress()
    _report, done, ev_done = submitted_report()
    transition(WORKFLOW, done.application, "approve_report", ev_done["coordinator"])
    unlinked, _ev = project_in_progress()
    for contract in (running, done):
        contract.application.plan_activity_id = activity.id
    _db.session.flush()
    scene = {
        "muni": muni,
        "plan": plan,
        "activity": activity,
        "running": running,
        "done": done,
        "unlinked": unlinked,
        "coordinator": ev_running["coordinator"],
        "representative": ev_running["applicants"][0],
    }
    return {key: (type(obj), obj.id) for key, obj in scene.items()}


@pytest.fixture(scope="module")
def built(app):
    """The scene built once for the module, in an outer transaction rolled back after its last test (every
    test of the module uses it, so no other test waits on this connection's uncommitted rows)."""
    with scene_connection(app, _build_scene) as scene:
        yield scene


@pytest.fixture()
def db(built):
    """The built scene, in a savepoint rolled back after the test (overrides conftest's `db`): what one
    test writes (notes, reports, dates) no other test sees."""
    connection, _ids = built
    with savepoint_db(connection) as database:
        yield database


@pytest.fixture()
def scene(built, db):
    """The scene's objects, loaded in this test's session."""
    return {key: db.session.get(model, id_) for key, (model, id_) in built[1].items()}


def _row(table, activity_id):
    return next(r for r in table.rows if r.activity_id == activity_id)


def _advance(contract) -> Decimal:
    return payments_of(contract)["advance"].amount


# --- the figures ---------------------------------------------------------------------------------------


def test_figures_of_the_activity_are_computed_by_hand(scene):
    running, done = scene["running"], scene["done"]
    table = monitoring.monitoring_table(scene["plan"], YEAR)
    row = _row(table, scene["activity"].id)
    assert row.projects == 2
    assert row.contracted == running.amount + done.amount == Decimal("2") * running.amount
    assert row.paid == _advance(running) + _advance(done) > 0  # advances only, no final payment yet
    assert row.paid < row.contracted
    assert (row.planned_participants, row.planned_risk) == (80, 8)  # two applications of 40, 4 at risk
    assert (row.completed, row.reached, row.reached_risk, row.hours) == (1, 30, 6, 40)  # approved only
    assert row.share == Decimal("30.0")  # 30 of the target 100
    others = [r for r in table.rows if r.activity_id != scene["activity"].id]
    assert [r.number for r in others] == ["2.1.", "3.1."]
    assert all(r.paid == 0 and r.projects == 0 and r.share is None for r in others)
    assert table.totals.paid == row.paid and table.totals.reached == 30


def test_a_submitted_report_is_not_achieved_yet(scene):
    transition(WORKFLOW, scene["running"].application, "submit_report", scene["representative"])
    row = _row(monitoring.monitoring_table(scene["plan"], YEAR), scene["activity"].id)
    assert (row.projects, row.completed, row.reached) == (2, 1, 30)


def test_the_money_reconciles_with_the_ledger(scene):
    linked_calls = {scene["running"].application.call_id, scene["done"].application.call_id}
    calls = [r for r in ledger.ledger_by_call([scene["muni"].id]) if r.call_id in linked_calls]
    table = monitoring.monitoring_table(scene["plan"], YEAR)
    assert len(calls) == 2
    assert table.totals.paid == sum((c.paid for c in calls), Decimal("0"))
    assert table.totals.contracted == sum((c.contracted for c in calls), Decimal("0"))
    # The unlinked project's money is in the municipality's ledger, not in the plan's table.
    everything = sum((c.paid for c in ledger.ledger_by_call([scene["muni"].id])), Decimal("0"))
    assert everything == table.totals.paid + _advance(scene["unlinked"])


def test_a_project_counts_in_the_year_its_contract_starts(scene):
    done = scene["done"]
    done.start_date, done.end_date = date(2027, 2, 1), date(2027, 10, 31)
    _db.session.flush()
    plan = scene["plan"]
    assert monitoring.years_with_data(plan) == [2026, 2027]
    assert monitoring.default_year(plan, [2026, 2027]) == 2027
    in_2026 = _row(monitoring.monitoring_table(plan, 2026), scene["activity"].id)
    in_2027 = _row(monitoring.monitoring_table(plan, 2027), scene["activity"].id)
    assert (in_2026.projects, in_2026.reached, in_2027.projects, in_2027.reached) == (1, 0, 1, 30)
    assert _row(monitoring.monitoring_table(plan, 2025), scene["activity"].id).projects == 0
    with pytest.raises(ValueError):
        monitoring.monitoring_table(plan, 2031)


def test_the_table_is_a_constant_number_of_statements(scene, db):
    plan, activity = scene["plan"], scene["activity"]
    scene["done"].application.plan_activity_id = None
    db.session.flush()
    with count_queries(db.engine) as one:
        assert _row(monitoring.monitoring_table(plan, YEAR), activity.id).projects == 1
    for contract in (scene["done"], scene["unlinked"]):
        contract.application.plan_activity_id = activity.id
    db.session.flush()
    with count_queries(db.engine) as three:
        assert _row(monitoring.monitoring_table(plan, YEAR), activity.id).projects == 3
    assert len(one) == len(three) == 2  # the years with data, then the whole table


# --- the notes -------------------------------------------------------------------------------------------


def test_notes_are_saved_and_audited(scene):
    activity, coord = scene["activity"], scene["coordinator"]
    monitoring.save_notes(
        activity,
        YEAR,
        achieved_note=" 30 jaunieši ",
        impact_assessment="Kavējumi samazinājās.",
        factors_analysis="Laba sadarbība ar skolām.",
        actor=coord,
    )
    monitoring.save_notes(
        activity,
        YEAR,
        achieved_note="30 jaunieši",
        impact_assessment="Kavējumi samazinājās par 10%.",
        factors_analysis="",
        actor=coord,
    )
    rows = _db.session.scalars(sa.select(ActivityMonitoring)).all()
    assert [(r.year, r.achieved_note, r.impact_assessment, r.factors_analysis) for r in rows] == [
        (YEAR, "30 jaunieši", "Kavējumi samazinājās par 10%.", "")
    ]
    events = _db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "plan_monitoring_saved")
    ).all()
    assert len(events) == 2 and events[-1].municipality_id == scene["muni"].id
    row = _row(monitoring.monitoring_table(scene["plan"], YEAR), activity.id)
    assert row.impact_assessment == "Kavējumi samazinājās par 10%."


def test_notes_refuse_a_personal_code_a_foreign_coordinator_and_a_year_outside_the_plan(scene):
    activity = scene["activity"]
    with force_locale("en"), pytest.raises(WorkflowError) as refused:
        monitoring.save_notes(
            activity,
            YEAR,
            achieved_note="",
            impact_assessment="Jānis 010203-12345 piedalījās",
            factors_analysis="",
            actor=scene["coordinator"],
        )
    assert refused.value.field == "impact_assessment" and "personal codes" in refused.value.message
    with pytest.raises(TransitionDenied):
        monitoring.save_notes(
            activity,
            YEAR,
            achieved_note="x",
            impact_assessment="",
            factors_analysis="",
            actor=coordinator(municipality("0044000")),
        )
    with pytest.raises(WorkflowError):
        monitoring.save_notes(
            activity,
            2030,
            achieved_note="x",
            impact_assessment="",
            factors_analysis="",
            actor=scene["coordinator"],
        )
    assert _db.session.scalars(sa.select(ActivityMonitoring)).all() == []


# --- the pages ----------------------------------------------------------------------------------------------


def test_the_page_shows_the_year_grouped_by_level(scene, client, login_as):
    login_as(scene["coordinator"])
    plan, activity = scene["plan"], scene["activity"]
    response = client.get(f"/plans/{plan.id}/monitoring")  # the latest year with data
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.find("option", selected="")[0].text.strip() == str(YEAR)
    assert [h.text.strip() for h in page.find("h2") if h.get("id", "").startswith("level-")] == [
        "Universal prevention",
        "Targeted prevention",
        "Tailored prevention",
    ]
    row = " ".join(page.by_id(f"activity-{activity.id}").text.split())
    assert "30% of the target" in row and "80 participants planned, 8 at PMP risk" in row
    assert "1 project completed; 30 participants reached, 6 at PMP risk; 40 activity hours" in row
    assert f"/plans/activities/{activity.id}/monitoring/{YEAR}" in html
    empty = Page(client.get(f"/plans/{plan.id}/monitoring?year=2025").get_data(as_text=True))
    text = " ".join(empty.by_id(f"activity-{activity.id}").text.split())
    assert "0 funded projects" in text and "0% of the target" in text
    assert client.get(f"/plans/{plan.id}/monitoring?year=2031").status_code == 404
    assert client.get(f"/plans/{plan.id}/monitoring?year=abc").status_code == 404


def test_who_may_see_the_table(scene, app, client, login_as):
    plan, activity = scene["plan"], scene["activity"]
    login_as(coordinator(municipality("0044000")))
    assert client.get(f"/plans/{plan.id}/monitoring").status_code == 404
    assert client.get(f"/plans/{plan.id}/monitoring/{YEAR}.xlsx").status_code == 404
    assert client.get(f"/plans/activities/{activity.id}/monitoring/{YEAR}").status_code == 404
    other = browser_client(app)
    log_in(other, applicant())
    assert other.get(f"/plans/{plan.id}/monitoring").status_code == 404


def test_the_national_admin_reads_but_does_not_write(scene, client, login_as):
    plan, activity = scene["plan"], scene["activity"]
    login_as(national_admin())
    response = client.get(f"/plans/{plan.id}/monitoring?year={YEAR}")
    assert response.status_code == 200
    assert "Write the assessment" not in response.get_data(as_text=True)
    assert client.get(f"/plans/activities/{activity.id}/monitoring/{YEAR}").status_code == 404


def test_the_coordinator_writes_the_notes_in_the_browser(scene, client, login_as):
    login_as(scene["coordinator"])
    activity = scene["activity"]
    path = f"/plans/activities/{activity.id}/monitoring/{YEAR}"
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "factors_analysis": "Kods 320000-12345"})
    assert refused.status_code == 200
    assert "stores no personal codes" in refused.get_data(as_text=True)
    assert _db.session.scalars(sa.select(ActivityMonitoring)).all() == []
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "achieved_note": "30",
            "impact_assessment": "Labs",
            "factors_analysis": "Skolas",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/plans/{scene['plan'].id}/monitoring?year={YEAR}#activity-{activity.id}"
    )
    notes = _db.session.scalars(sa.select(ActivityMonitoring)).one()
    assert (notes.impact_assessment, notes.factors_analysis, notes.updated_by_id) == (
        "Labs",
        "Skolas",
        scene["coordinator"].id,
    )
    assert client.get(f"/plans/activities/{activity.id}/monitoring/2031").status_code == 404


# --- the annual report ------------------------------------------------------------------------------------


def _sheet(data: bytes):
    openpyxl = pytest.importorskip("openpyxl")
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_the_xlsx_report_holds_the_figures_as_numbers(scene, client, login_as):
    login_as(scene["coordinator"])
    response = client.get(f"/plans/{scene['plan'].id}/monitoring/{YEAR}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = _sheet(response.data)
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == f"PMP prevencijas aktivitāšu rezultātu uzskaite un analīze {YEAR}"
    assert values[1][1] == scene["muni"].name and values[3][1] == YEAR
    keys = [key for key, _header in monitoring.xlsx_columns()]
    first = dict(zip(keys, next(v for v in values if v[2] and str(v[2]).startswith("1.1.")), strict=True))
    paid = _advance(scene["running"]) + _advance(scene["done"])
    assert isinstance(first["paid"], int | float) and Decimal(str(first["paid"])) == paid
    assert first["contracted"] == float(scene["running"].amount * 2)
    assert (first["target_value"], first["projects"], first["reached"], first["reached_risk"]) == (
        100,
        2,
        30,
        6,
    )
    assert first["share"] == 30.0 and first["planned_participants"] == 80
    assert Decimal(str(values[-1][keys.index("paid")])) == paid  # the totals line


def test_the_pdf_report_is_rendered_with_the_latvian_title(scene, client, login_as):
    pypdf = pytest.importorskip("pypdf")
    login_as(scene["coordinator"])
    response = client.get(f"/plans/{scene['plan'].id}/monitoring/{YEAR}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    squashed = "".join(text.split())
    assert f"PMPprevencijasaktivitāšurezultātuuzskaiteunanalīze{YEAR}" in squashed
    assert scene["muni"].name.replace(" ", "") in squashed
    assert "Ārpusskolasaktivitātes" in squashed


def test_markup_in_an_activity_is_shown_as_text_everywhere(scene, client, login_as, canary):
    """QUALITY E3: the page escapes it, the workbook keeps it as formula-safe text, the PDF prints it and
    fetches nothing."""
    port, hits = canary
    payload = (
        f'<img src="http://127.0.0.1:{port}/img"><link rel="stylesheet" href="http://127.0.0.1:{port}/css">'
        f"<script>var x=new XMLHttpRequest();x.open('GET','http://127.0.0.1:{port}/xhr',false);x.send();"
        'document.write("EXECUTED")</script>'
    )
    activity = scene["activity"]
    activity.title = '=HYPERLINK("http://x") ' + payload
    activity.planned_result = payload
    activity.result_indicator = '=HYPERLINK("http://127.0.0.1/")'
    _db.session.flush()
    login_as(scene["coordinator"])
    plan_id = scene["plan"].id
    html = client.get(f"/plans/{plan_id}/monitoring?year={YEAR}").get_data(as_text=True)
    assert "<script>var x" not in html and "&lt;script&gt;var x" in html
    assert f'<img src="http://127.0.0.1:{port}' not in html
    values = [
        [c.value for c in row]
        for row in _sheet(client.get(f"/plans/{plan_id}/monitoring/{YEAR}.xlsx").data).iter_rows()
    ]
    row = next(v for v in values if v[2] and "HYPERLINK" in str(v[2]))
    assert row[2].startswith('1.1. =HYPERLINK("http://x") <img') and "<script>" in row[2]
    assert row[3] == '\'=HYPERLINK("http://127.0.0.1/")'  # the result indicator, formula-safe
    pypdf = pytest.importorskip("pypdf")
    response = client.get(f"/plans/{plan_id}/monitoring/{YEAR}.pdf")
    assert response.status_code == 200
    text = " ".join((p.extract_text() or "") for p in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert hits == []
    assert "CANARY-SECRET" not in text
    assert "EXECUTED" not in text.replace('document.write("EXECUTED")', "")
    assert "<script>" in "".join(text.split())
