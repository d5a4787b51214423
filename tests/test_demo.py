"""`flask seed-demo`: idempotent, refused without DEMO_MODE, and it shows the capabilities in use."""

import pytest
import sqlalchemy as sa

from portal import demo
from portal.accounts.models import User
from portal.applications.models import Application
from portal.calls.models import Call
from portal.contracts.models import Contract
from portal.core.workflow import StatusChange
from portal.payments.models import Payment
from portal.programmes.models import Quota
from tests.helpers import savepoint_db, scene_connection


@pytest.fixture()
def demo_mode(app):
    app.config["DEMO_MODE"] = True
    yield
    app.config["DEMO_MODE"] = False


@pytest.fixture()
def fast_pdf(monkeypatch):
    """Skip wkhtmltopdf (about half a second per PDF, and the demo renders fifteen): the services still
    store a real PDF with its hash. The idempotency test seeds again without it."""
    from portal.core import pdf
    from tests.factories import sample_pdf

    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: sample_pdf())


def _call(title_part: str) -> Call:
    return db_scalar(sa.select(Call).where(Call.title.contains(title_part)))


def db_scalar(statement):
    from portal.extensions import db

    return db.session.scalar(statement)


def _app(call: Call, title: str) -> Application:
    return db_scalar(sa.select(Application).where(Application.call_id == call.id, Application.title == title))


def test_refused_without_demo_mode(app, db):
    with pytest.raises(demo.DemoRefused):
        demo.seed()


@pytest.fixture(scope="class")
def seeded(app):
    """The demo seeded once per class that uses it, in an outer transaction rolled back at its end."""
    from portal.core import pdf
    from tests.factories import sample_pdf

    def seed():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pdf, "html_to_pdf", lambda html: sample_pdf())
            patch.setitem(app.config, "DEMO_MODE", True)
            return demo.seed()

    with scene_connection(app, seed) as (connection, created):
        connection.info["created"] = created  # what the first run reports, for the idempotency test
        yield connection


class TestSeededDemo:
    """The demo is seeded once for these tests (wkhtmltopdf skipped: the services still store a real PDF
    with its hash) inside an outer transaction rolled back after the last of them; each test runs in a
    savepoint of its own that is rolled back after it, so what one test changes no other test sees.
    A class, not the module: pytest tears a class's fixtures down as soon as a test outside it runs, so
    the fresh-database tests above never wait on this connection's uncommitted rows."""

    @pytest.fixture()
    def db(self, seeded):
        """The seeded demo, in a savepoint rolled back after the test (overrides conftest's `db`)."""
        with savepoint_db(seeded) as database:
            yield database

    def test_seed_is_idempotent(self, seeded, demo_mode, db):
        """Seeding again on top of the seeded demo (wkhtmltopdf for real, should it render) adds nothing."""
        from portal.evaluation.models import CommitteeMember, ScoreSheet

        created = seeded.info["created"]
        assert len(created["users"]) == len(demo.ACCOUNTS)
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Call, Application, CommitteeMember, ScoreSheet, StatusChange)
        ]
        assert demo.seed()["users"] == []
        assert counts == [
            db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Call, Application, CommitteeMember, ScoreSheet, StatusChange)
        ]
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        assert users == len(demo.ACCOUNTS)
        assert all(u.is_demo for u in db.session.scalars(sa.select(User)))
        quotas = db.session.scalars(sa.select(Quota)).all()
        assert len(quotas) == 43 and sum(q.quota for q in quotas) == 120
        text = demo.describe(created)
        assert "Demo-parole-2026" in text
        assert "vertetajs3@ropazi.demo.jip.lv" in text and "sekretare@ropazi.demo.jip.lv" in text

    def test_demo_has_calls_in_every_stage(self, demo_mode, fast_pdf, db):
        statuses = sorted(db.session.scalars(sa.select(Call.status)))
        assert statuses == [
            "decided",
            "draft",
            "evaluation",
            "open",
            "results_published",
            "results_published",
        ]
        assert _call("Rīgas jauniešu").status == "results_published"
        received = db.session.scalars(sa.select(Application).where(Application.status != "draft")).all()
        assert len(received) == 13 + 12 and all(a.versions[0].pdf_sha256 for a in received)
        # The calls that closed in the past received their applications before their deadlines.
        assert all(a.submitted_at <= a.call.closes_at for a in received)

    def test_every_status_change_went_through_the_workflow(self, demo_mode, fast_pdf, db):
        """Replaying each object's history rows from its first status must end at its status now: nothing was
        set behind the workflow's back."""
        from portal.evaluation.models import ScoreSheet

        history = {}
        for change in db.session.scalars(sa.select(StatusChange).order_by(StatusChange.id)):
            history.setdefault((change.object_type, change.object_id), []).append(change)

        def replay(kind, obj, start):
            status = start
            for change in history.get((kind, obj.id), []):
                assert change.from_status == status, (kind, obj.id, change.action)
                status = change.to_status
            return status

        applications = db.session.scalars(sa.select(Application)).all()
        assert all(replay("application", a, "draft") == a.status for a in applications)
        moved = [a for a in applications if a.status != "draft"]
        assert all(history.get(("application", a.id)) for a in moved)
        # 41 in Aizkraukle and Ropaži; 12 × 4 up to the decision in Rīga, and 35 on the way to and after
        # its contracts (the final reports: submit, return, approve, forward, close).
        assert sum(len(history.get(("application", a.id), [])) for a in applications) == 41 + 48 + 35
        reported = {
            change.action
            for (kind, _id), changes in history.items()
            if kind == "application"
            for change in changes
        }
        assert {"submit_report", "return_report", "approve_report", "forward", "close"} <= reported
        calls = db.session.scalars(sa.select(Call)).all()
        assert all(replay("call", c, "draft") == c.status for c in calls)
        # Every call status the demo shows has its history row (the draft is where every call starts).
        assert {c.status for c in calls} - {"draft"} <= {
            change.to_status
            for (kind, _id), changes in history.items()
            if kind == "call"
            for change in changes
        }
        published = _call("pavasara")
        assert [c.action for c in history[("call", published.id)]] == [
            "publish",
            "close",
            "start_evaluation",
            "record_decision",
            "publish_results",
        ]
        sheets = db.session.scalars(sa.select(ScoreSheet)).all()
        assert all(replay("score_sheet", s, "draft") == s.status for s in sheets)
        contracts = db.session.scalars(sa.select(Contract)).all()
        assert len(contracts) == 11 and all(replay("contract", c, "draft") == c.status for c in contracts)
        payments = db.session.scalars(sa.select(Payment)).all()
        assert len(payments) == 22 and all(replay("payment", p, "planned") == p.status for p in payments)
        assert {c.actor_id for c in history[("call", _call("vasaras").id)][1:]} == {
            db_scalar(sa.select(User.id).where(User.email == "koordinators@ropazi.demo.jip.lv")),
            None,  # closed by the clock
        }

    def test_evaluation_call_is_ready_to_be_scored(self, demo_mode, fast_pdf, db):
        from portal.evaluation import permissions, queries
        from portal.evaluation.models import CommitteeRole

        call = db_scalar(sa.select(Call).where(Call.status == "evaluation"))
        members = {m.email: m for m in queries.committee(call.id)}
        assert {m.role for m in members.values()} == set(CommitteeRole)
        assert len(queries.voting_members(call.id)) == 3
        assert all(m.declared_at is not None and m.accepted_at is not None for m in members.values())

        zibens, zakumuiza = _app(call, "Vienaudžu mentori"), _app(call, "Zaķumuižas jauniešu darbnīcas")
        assert zibens.status == zakumuiza.status == "admissible"
        chair = members["vertetajs1@ropazi.demo.jip.lv"]
        second = members["vertetajs2@ropazi.demo.jip.lv"]
        third = members["vertetajs3@ropazi.demo.jip.lv"]
        assert (
            queries.sheet(chair.id, zibens.id).is_submitted
            and queries.sheet(chair.id, zakumuiza.id).is_submitted
        )
        assert permissions.is_recused(third, zibens) and queries.conflict(third.id, zibens.id).reason
        assert not permissions.can_open_for_scoring(third.user, zibens)
        assert queries.sheet(third.id, zakumuiza.id).is_submitted
        draft = queries.sheet(second.id, zibens.id)
        assert draft.status == "draft" and [s.value for s in draft.scores if s.value is not None] == [3, 2, 3]
        # The visitor logging in as the second member can finish the draft and score the other application.
        assert permissions.can_score(second.user, zibens)
        assert queries.conflict(second.id, zakumuiza.id) is None
        assert queries.progress(call.id)[(third.id, zibens.id)] == "recused"

    def test_clarification_waits_for_the_applicant(self, demo_mode, fast_pdf, db):
        from portal.applications.services import clarification_open
        from portal.evaluation.services.checks import clarification_of

        call = db_scalar(sa.select(Call).where(Call.status == "evaluation"))
        application = _app(call, "Sprints pēc stundām")
        assert application.status == "clarification_requested"
        assert clarification_open(application)
        request = clarification_of(application)
        assert request.working_days == 5 and request.answered_at is None
        sprints = db_scalar(sa.select(User).where(User.email == "sprints@demo.jip.lv"))
        assert application.organisation_id in sprints.organisation_ids()

    def test_decided_call_has_decision_ranking_and_protocol(self, demo_mode, fast_pdf, db):
        from portal.evaluation import queries
        from portal.evaluation.models import Decision, EvaluationResult
        from portal.evaluation.services import decisions

        call = db_scalar(sa.select(Call).where(Call.status == "decided"))
        decision = db_scalar(sa.select(Decision).where(Decision.call_id == call.id))
        assert decision.number == "12/2026" and len(decision.protocol_sha256) == 64
        assert decision.file.content_type == "application/pdf"
        assert decision.decided_on >= call.closes_at.date()

        results = {r.application.title: r for r in queries.results(call.id)}
        assert len(results) == db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EvaluationResult)
            .where(EvaluationResult.call_id == call.id)
        )
        outcome = {title: (r.decision, r.application.status) for title, r in results.items()}
        assert outcome == {
            "Skrien un mācies": ("funded", "funded"),
            "Pārgājienu skola": ("reserve", "reserve"),
            "Vasaras radošā nometne": ("not_funded", "not_funded"),
            "Vangažu jauniešu festivāls": ("not_funded", "not_funded"),
        }
        # Within the quota: the Ropaži quota (3) is spread over three calls of one project each.
        assert decisions.funded_in(call) == 1 <= decisions.funding_capacity(call) == call.projects
        assert results["Pārgājienu skola"].disagreements == ["youth_led"]
        assert results["Vangažu jauniešu festivāls"].fail_reason == "essential"
        assert results["Vasaras radošā nometne"].fail_reason == "threshold"
        # Every 0 or 1 carries its comment.
        low = [s for sheet in queries.submitted_sheets(call.id) for s in sheet.scores if s.value < 2]
        assert low and all(s.comment for s in low)
        assert len(queries.submitted_sheets(call.id)) == 12

        rejected = _app(call, "Kangaru piedzīvojumu parks")
        assert rejected.status == "rejected"
        change = db_scalar(
            sa.select(StatusChange).where(
                StatusChange.object_type == "application",
                StatusChange.object_id == rejected.id,
                StatusChange.action == "reject",
            )
        )
        assert "PMP" in change.reason
        clarified = _app(call, "Pārgājienu skola")
        assert [(v.number, v.kind) for v in clarified.versions] == [(1, "submission"), (2, "clarification")]
        assert clarified.versions[0].data["plan_link"] != clarified.versions[1].data["plan_link"]

    def test_each_persona_finds_their_part(self, app, demo_mode, fast_pdf, db):
        """Log in as the demo people and open what the printed notes promise them."""
        from tests.helpers import browser_client, log_in

        evaluation = db_scalar(sa.select(Call).where(Call.status == "evaluation"))
        decided = db_scalar(sa.select(Call).where(Call.status == "decided"))
        mentors, workshops = (
            _app(evaluation, "Vienaudžu mentori"),
            _app(evaluation, "Zaķumuižas jauniešu darbnīcas"),
        )
        waiting = _app(evaluation, "Sprints pēc stundām")

        def visit(email, *paths):
            client = browser_client(app)
            user = db_scalar(sa.select(User).where(User.email == email))
            log_in(client, user, demo.DEMO_PASSWORD)
            return [client.get(path) for path in paths]

        draft, conflict = visit(
            "vertetajs2@ropazi.demo.jip.lv",
            f"/evaluation/applications/{mentors.id}/score",
            f"/evaluation/applications/{workshops.id}/conflict",
        )
        assert draft.status_code == 200 and conflict.status_code == 200
        (recused,) = visit("vertetajs3@ropazi.demo.jip.lv", f"/evaluation/applications/{mentors.id}/score")
        assert recused.status_code == 404
        (checks,) = visit("sekretare@ropazi.demo.jip.lv", f"/evaluation/calls/{evaluation.id}/checks")
        assert checks.status_code == 200
        overview, progress, results, protocol = visit(
            "koordinators@ropazi.demo.jip.lv",
            f"/evaluation/calls/{evaluation.id}",
            f"/evaluation/calls/{evaluation.id}/progress",
            f"/evaluation/calls/{decided.id}/results",
            f"/evaluation/calls/{decided.id}/protocol.pdf",
        )
        assert [overview.status_code, progress.status_code, results.status_code] == [200, 200, 200]
        assert "12/2026" in results.get_data(as_text=True)
        assert protocol.status_code == 200 and protocol.data.startswith(b"%PDF")
        (request,) = visit("sprints@demo.jip.lv", f"/applications/{waiting.id}")
        assert request.status_code == 200 and "Nav norādīti projekta partneri" in request.get_data(
            as_text=True
        )

    def test_published_call_is_public_and_the_decided_one_is_not(self, app, demo_mode, fast_pdf, db):
        """The Aizkraukle spring call's results are published (within the quota, "<5" for a small count);
        the decided Ropaži call waits for its coordinator to publish it."""
        from portal.calls.services import remaining_quota
        from portal.evaluation import queries
        from portal.evaluation.services import decisions
        from portal.public import data

        published, decided = _call("pavasara"), _call("vasaras")
        assert published.status == "results_published" and decided.status == "decided"
        riga = _call("Rīgas jauniešu")
        calls, total = data.published_calls()
        assert {c.id for c in calls} == {published.id, riga.id} and total == 2
        assert data.published_call(decided.id) is None and data.call_results(decided) is None

        funded = _app(published, "Forumteātris pret kavējumiem")
        projects, count = data.funded_projects()
        # Aizkraukle's one and Rīga's eleven (the lapsed contract's project is no longer funded).
        assert funded.id in {p["id"] for p in projects} and count == 1 + 11
        assert data.project(funded.id)["participants_risk_planned"] == data.SMALL

        results = data.call_results(published)
        assert results.decision.number == "5/2026"
        assert results.decision.decided_on >= published.closes_at.date()
        assert [r["title"] for r in results.funded] == ["Forumteātris pret kavējumiem"]
        assert [r["title"] for r in results.reserve] == ["Kokneses jauniešu podkāsts"]
        assert (results.received, results.not_funded, results.rejected) == (4, 1, 1)
        # Within the quota: Aizkraukle's two projects are its open call's and this one's.
        assert (
            decisions.funded_in(published) == 1 == decisions.funding_capacity(published) == published.projects
        )
        assert remaining_quota(published.round, published.municipality_id) == 0
        committee = {m.email: m.role for m in queries.committee(published.id)}
        assert committee == {
            "koordinators@aizkraukle.demo.jip.lv": "chair",
            "vertetajs1@aizkraukle.demo.jip.lv": "member",
            "vertetajs2@aizkraukle.demo.jip.lv": "member",
        }
        assert len(queries.submitted_sheets(published.id)) == 9

        client = app.test_client()
        listing, page, project = (
            client.get("/results/"),
            client.get(f"/results/{published.id}"),
            client.get(f"/projects/{funded.id}"),
        )
        assert [listing.status_code, page.status_code, project.status_code] == [200, 200, 200]
        assert published.title in listing.get_data(as_text=True)
        assert decided.title not in listing.get_data(as_text=True)
        assert "5/2026" in page.get_data(as_text=True)
        assert "&lt;5" in project.get_data(as_text=True)
        assert client.get(f"/results/{decided.id}").status_code == 404
        # The Ropaži coordinator can still publish the decided call ("Publish the results").
        from portal.evaluation.services import publication

        coordinator = db_scalar(sa.select(User).where(User.email == "koordinators@ropazi.demo.jip.lv"))
        publication.publish_results(decided, actor=coordinator)
        assert decided.status == "results_published"

    def test_riga_has_contracts_and_payments_in_every_state(self, app, demo_mode, db):
        """The Rīga call (results published) funds a project in each contract and payment state; the
        lapsed contract's place went to the reserve list; the paying account is set; the advance of the
        paid-in-full project went through an exported payment order."""
        from decimal import Decimal

        from portal.contracts.services import contract_of
        from portal.core.timeutil import to_riga, utcnow
        from portal.payments import orders
        from portal.payments.models import PayingAccount, PaymentExport
        from portal.payments.services import payments_of
        from portal.public import data
        from tests.helpers import browser_client, log_in

        call = _call("Rīgas jauniešu")
        assert call.status == "results_published" and call.municipality.code == "0001000"
        assert data.call_results(call).decision.decided_on >= call.closes_at.date()
        now = utcnow()
        by_title = {
            a.title: a
            for a in db.session.scalars(sa.select(Application).where(Application.call_id == call.id))
        }
        expected = {
            "Kvartāla jauniešu klubs": ("funded", "draft", "planned", "planned"),
            "Tilts starp skolu un ielu": ("contract_sent", "sent", "planned", "planned"),
            "Grīziņkalna vasaras iniciatīvas": ("contract_sent", "signed_by_applicant", "planned", "planned"),
            "Skolēnu teātris bez kavējumiem": ("contract_signed", "signed", "approved", "planned"),
            "Purvciema darbnīca pēc stundām": ("in_progress", "signed", "paid", "planned"),
            "Karjeras kompass vidusskolēniem": ("forwarded", "signed", "paid", "approved"),
            "Daugavgrīvas jauniešu burāšanas skola": ("closed", "signed", "paid", "paid"),
            "Bolderājas mācību atbalsta klubs": ("report_submitted", "signed", "paid", "planned"),
            "Ziepniekkalna jauniešu radio": ("report_returned", "signed", "paid", "planned"),
            "Pļavnieku pagalmu iniciatīvas": ("in_progress", "signed", "paid", "planned"),
            "Imantas bungu ritms": ("not_funded", "lapsed", "planned", "planned"),
            "Ķengaraga jauniešu laivu darbnīca": ("funded", None, None, None),
        }
        actual = {}
        for title, application in by_title.items():
            contract = contract_of(application)
            pay = payments_of(contract) if contract else {}
            actual[title] = (
                application.status,
                contract.status if contract else None,
                pay["advance"].status if pay else None,
                pay["final"].status if pay else None,
            )
        assert actual == expected

        contracts = {t: contract_of(a) for t, a in by_title.items() if contract_of(a)}
        assert all(len(c.pdf_sha256) == 64 and c.pdf_file_id for c in contracts.values())
        assert sorted(c.number for c in contracts.values())[0].startswith("JIP/0001000/")
        assert len({c.number for c in contracts.values()}) == 11
        assert contracts["Tilts starp skolu un ielu"].sign_by > now
        signed = [c for c in contracts.values() if c.status == "signed"]
        assert all(c.applicant_sha256 and c.sent_at < c.applicant_signed_at < c.signed_at for c in signed)
        # Some projects have ended, one still runs, the rest start after their contracts.
        today = to_riga(now).date()
        assert contracts["Daugavgrīvas jauniešu burāšanas skola"].end_date < today
        assert contracts["Karjeras kompass vidusskolēniem"].end_date < today
        assert (
            contracts["Purvciema darbnīca pēc stundām"].start_date
            <= today
            < (contracts["Purvciema darbnīca pēc stundām"].end_date)
        )
        paid = [p for c in contracts.values() for p in payments_of(c).values() if p.status == "paid"]
        assert all(p.paid_on <= today and p.bank_reference for p in paid) and len(paid) == 6 + 1
        full = payments_of(contracts["Daugavgrīvas jauniešu burāšanas skola"])
        assert full["advance"].amount + full["final"].amount == call.amount == Decimal("4600.00")
        export = db_scalar(sa.select(PaymentExport))
        assert export.format == "pain001" and full["advance"].export_id == export.id
        assert full["advance"].bank_reference.startswith(export.message_id)
        # The payment-order page has the approved advance to export; the paying account is valid.
        account = db.session.get(PayingAccount, call.municipality_id)
        assert account.reg_number == "90011524360" and account.bic == "PARXLV22"
        waiting = orders.approved_unpaid(call.municipality_id)
        assert [p.contract.number for p in waiting] == [
            contracts["Karjeras kompass vidusskolēniem"].number,
            contracts["Skolēnu teātris bez kavējumiem"].number,
        ]
        coordinator = db_scalar(sa.select(User).where(User.email == "koordinators@riga.demo.jip.lv"))
        pain = orders.export_pain001(call.municipality_id, [p.id for p in waiting], actor=coordinator)
        assert pain.count == 2

        # The pages the notes promise, with the Rīga figures on them.
        client = browser_client(app)
        log_in(client, coordinator, demo.DEMO_PASSWORD)
        for path in ("/contracts/", "/payments/", "/payments/orders", "/payments/ledger"):
            assert client.get(path).status_code == 200, path
        listed = client.get("/contracts/").get_data(as_text=True)
        assert all(contract.number in listed for contract in contracts.values())
        assert waiting[0].contract.number in client.get("/payments/orders").get_data(as_text=True)

    def test_riga_has_a_final_report_in_every_state(self, app, demo_mode, fast_pdf, db):
        """Issue 8: a report being written, one submitted, one returned with a comment (the applicant can
        correct it), one forwarded (final payment approved), one closed (acknowledged; paid in full) and
        an overdue project whose reminder is in the outbox; counts only."""
        from portal.contracts.services import contract_of
        from portal.core.audit import AuditEvent
        from portal.core.mail import OutboxMessage
        from portal.core.privacy import contains_personal_code
        from portal.core.timeutil import to_riga, utcnow
        from portal.payments.services import payments_of
        from portal.reports.models import FinalReport, ReportReminder
        from portal.reports.services import form

        call = _call("Rīgas jauniešu")
        apps = {
            a.title: a
            for a in db.session.scalars(sa.select(Application).where(Application.call_id == call.id))
        }
        reports = {title: form.report_for(a) for title, a in apps.items()}
        writing = reports["Purvciema darbnīca pēc stundām"]
        assert apps["Purvciema darbnīca pēc stundām"].status == "in_progress"
        assert writing is not None and writing.submitted_at is None and writing.participants_total == 22

        waiting = reports["Bolderājas mācību atbalsta klubs"]
        assert (
            waiting.submitted_at is not None and waiting.times_returned == 0 and waiting.approved_at is None
        )

        returned = reports["Ziepniekkalna jauniešu radio"]
        application = apps["Ziepniekkalna jauniešu radio"]
        assert application.status == "report_returned" and returned.times_returned == 1
        assert set(returned.return_comments) == {"results", "participants"}
        representative = db_scalar(sa.select(User).where(User.email == "zvaigzne@riga.demo.jip.lv"))
        assert form.is_editable(application) and form.is_representative(representative, application)
        assert (
            form.save_report(
                returned,
                {"results": [{"indicator": "Sagatavotie raidījumi", "planned": "12", "achieved": "12"}]},
                actor=representative,
                expected_version=returned.lock_version,
            )
            == {}
        )
        assert not form.problems_of(returned)

        forwarded = reports["Karjeras kompass vidusskolēniem"]
        assert apps["Karjeras kompass vidusskolēniem"].status == "forwarded"
        assert (
            forwarded.forwarded_at and forwarded.acknowledged_at is None and len(forwarded.pdf_sha256) == 64
        )
        assert forwarded.pdf_file.content_type == "application/pdf"
        closed = reports["Daugavgrīvas jauniešu burāšanas skola"]
        assert apps["Daugavgrīvas jauniešu burāšanas skola"].status == "closed"
        admin = db_scalar(sa.select(User).where(User.email == "admin@demo.jip.lv"))
        assert closed.acknowledged_by_id == admin.id and closed.acknowledged_at and closed.pdf_sha256
        assert (
            payments_of(contract_of(apps["Daugavgrīvas jauniešu burāšanas skola"]))["final"].status == "paid"
        )
        for report in (forwarded, closed):
            assert report.submitted_at < report.approved_at <= utcnow()

        overdue = apps["Pļavnieku pagalmu iniciatīvas"]
        today = to_riga(utcnow()).date()
        assert overdue.status == "in_progress" and reports["Pļavnieku pagalmu iniciatīvas"] is None
        assert contract_of(overdue).end_date < contract_of(overdue).report_due < today
        # Only that one is late: the returned report's due date has not passed.
        assert contract_of(application).report_due >= today
        kinds = dict(db.session.execute(sa.select(ReportReminder.application_id, ReportReminder.kind)).all())
        assert kinds[overdue.id] == "overdue"
        assert db_scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.recipient == "celsme@riga.demo.jip.lv",
                OutboxMessage.template == "report_reminder_overdue",
            )
        )

        stored = db.session.scalars(sa.select(FinalReport)).all()
        assert len(stored) == 5
        assert not any(contains_personal_code(str(r.data)) for r in stored)
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("report.%"))
        ).all()
        assert actions.count("report.submitted") == 4 and actions.count("report.approved") == 2

    def test_plans_link_the_projects_and_the_monitoring_table_has_figures(self, app, demo_mode, fast_pdf, db):
        from portal.contracts.services import contract_of
        from portal.plans import monitoring
        from portal.plans.models import PlanActivity, PreventionPlan

        plans = {
            p.municipality.code: p
            for p in db.session.scalars(sa.select(PreventionPlan).where(PreventionPlan.is_active.is_(True)))
        }
        assert {code: len(p.activities) for code, p in plans.items()} == {
            "0044000": 33,
            "0020000": 12,
            "0001000": 6,
        }
        riga = plans["0001000"]
        assert riga.level_scheme == "universal" and len(riga.goals) == 3 and len(riga.indicators) == 3

        received = db.session.scalars(sa.select(Application).where(Application.status != "draft")).all()
        activities = {a.id: db.session.get(PlanActivity, a.plan_activity_id) for a in received}
        assert all(
            activity is not None and activity.plan.municipality_id == a.call.municipality_id
            for a, activity in zip(received, activities.values(), strict=True)
        )

        vilnis = _app(_call("Rīgas jauniešu"), "Daugavgrīvas jauniešu burāšanas skola")
        year = contract_of(vilnis).start_date.year
        table = monitoring.monitoring_table(riga, year)
        (row,) = [r for r in table.rows if r.activity_id == vilnis.plan_activity_id]
        assert row.number == "1.1" and row.paid > 0 and row.completed == 2
        assert row.reached == 28 + 34 and row.reached_risk == 8 + 9 and row.share is not None
        assert row.impact_assessment and row.factors_analysis and row.achieved_note

    def test_report_and_plan_pages_answer(self, app, demo_mode, fast_pdf, db):
        """The pages the notes promise, in English (the users switch their interface language)."""
        from portal.plans.models import PreventionPlan
        from tests.helpers import browser_client, log_in

        riga_plan = db_scalar(
            sa.select(PreventionPlan).where(PreventionPlan.title.contains("Rīgas valstspilsētā"))
        )

        def visit(email, *paths):
            user = db_scalar(sa.select(User).where(User.email == email))
            user.locale = "en"
            db.session.commit()
            client = browser_client(app)
            log_in(client, user, demo.DEMO_PASSWORD)
            return [client.get(path) for path in paths]

        plans, monitoring, reports = visit(
            "koordinators@riga.demo.jip.lv", "/plans/", f"/plans/{riga_plan.id}/monitoring", "/reports/"
        )
        assert [plans.status_code, monitoring.status_code, reports.status_code] == [200, 200, 200]
        assert "<h1>Prevention plans</h1>" in plans.get_data(as_text=True)
        assert riga_plan.title in plans.get_data(as_text=True)
        assert "Monitoring table" in monitoring.get_data(as_text=True)
        listed = reports.get_data(as_text=True)
        assert "<h1>Final reports</h1>" in listed
        assert all(
            title in listed
            for title in (
                "Bolderājas mācību atbalsta klubs",
                "Ziepniekkalna jauniešu radio",
                "Pļavnieku pagalmu iniciatīvas",
            )
        )
        (national,) = visit("admin@demo.jip.lv", "/reports/national")
        assert national.status_code == 200 and "<h1>Final reports</h1>" in national.get_data(as_text=True)
        assert "Karjeras kompass vidusskolēniem" in national.get_data(as_text=True)
        returned = _app(_call("Rīgas jauniešu"), "Ziepniekkalna jauniešu radio")
        (correct,) = visit("zvaigzne@riga.demo.jip.lv", f"/reports/applications/{returned.id}/edit")
        assert correct.status_code == 200 and "raidījumu" in correct.get_data(as_text=True)
