"""Contract amendments (issue 7): the representative requests a change of dates (within the programme's
month limits) or activities, never the amount or the goals; a coordinator approves it (numbered annex,
new dates and report due date in the contract) or refuses it with a reason."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from pypdf import PdfReader

from portal.applications.workflow import WORKFLOW as APPLICATION_WORKFLOW
from portal.contracts import amendments
from portal.contracts.models import Amendment, AmendmentStatus
from portal.core import storage
from portal.core.audit import AuditEvent
from portal.core.enums import Role
from portal.core.mail import OutboxMessage
from portal.core.timeutil import to_riga, utcnow
from portal.core.workdays import add_working_days
from portal.core.workflow import TransitionDenied, WorkflowError, transition
from portal.extensions import db as _db
from tests import factories
from tests.helpers import browser_client, csrf_token, log_in

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # the service tests' "today": 1 December 2026
START = date(2027, 1, 1)


@pytest.fixture()
def signed(db):
    """A signed contract running 1 January – 30 June 2027 (so the rules do not depend on the real date)."""
    contract, ev = factories.contract_in("signed")
    contract.start_date, contract.end_date = START, date(2027, 6, 30)
    _db.session.flush()
    return contract, ev


@pytest.fixture()
def no_render(monkeypatch):
    """Approvals in most tests store a sample PDF instead of rendering one (a rendering costs ~1 s)."""
    monkeypatch.setattr(amendments, "render_pdf", lambda *args, **kwargs: factories.sample_pdf())


def _request(contract, ev, **changes):
    changes.setdefault("reason", "Skola pārcēla brīvdienas")
    return amendments.request_amendment(contract, actor=ev["applicants"][0], now=NOW, **changes)


def _events(action):
    return list(_db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _mails(template):
    return list(_db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)))


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# --- the request ------------------------------------------------------------------------------------------


def test_exactly_the_maximum_months_passes_and_one_day_more_fails(signed):
    contract, ev = signed
    with force_locale("en"), pytest.raises(WorkflowError) as too_long:
        _request(contract, ev, new_end_date=date(2028, 7, 1))  # 18 months and a day from 1 January 2027
    assert too_long.value.field == "new_end_date" and "at most 18 months" in too_long.value.message
    with pytest.raises(WorkflowError) as too_short:  # 1 January – 30 March is less than 3 months
        _request(contract, ev, new_end_date=date(2027, 3, 30))
    assert too_short.value.field == "new_end_date"
    amendment = _request(contract, ev, new_end_date=date(2028, 6, 30))
    assert amendment.status == AmendmentStatus.REQUESTED and amendment.new_end_date == date(2028, 6, 30)
    assert contract.end_date == date(2027, 6, 30)  # nothing changes before the decision


def test_a_request_needs_a_change_and_a_reason(signed):
    contract, ev = signed
    with force_locale("en"), pytest.raises(WorkflowError) as nothing:
        # the contract's own dates are no change
        _request(contract, ev, new_start_date=START, new_end_date=date(2027, 6, 30), activities_change="  ")
    assert nothing.value.field is None and "Change the start date" in nothing.value.message
    with pytest.raises(WorkflowError) as no_reason:
        _request(contract, ev, activities_change="Vēl viena darbnīca", reason=" ")
    assert no_reason.value.field == "reason"
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Amendment)) == 0


def test_dates_cannot_go_into_the_past_and_the_start_is_fixed_once_the_project_runs(signed):
    contract, ev = signed
    with pytest.raises(WorkflowError) as past_end:
        _request(contract, ev, new_end_date=date(2026, 11, 30))
    assert past_end.value.field == "new_end_date"
    with pytest.raises(WorkflowError) as past_start:
        _request(contract, ev, new_start_date=date(2026, 11, 30))
    assert past_start.value.field == "new_start_date"
    transition(APPLICATION_WORKFLOW, contract.application, "start", ev["coordinator"])
    with pytest.raises(WorkflowError) as running:
        _request(contract, ev, new_start_date=date(2027, 2, 1))
    assert running.value.field == "new_start_date"
    assert _request(contract, ev, new_end_date=date(2027, 9, 30)).id  # the end date still moves


def test_only_the_representative_requests_and_only_on_a_signed_contract(db):
    contract, ev = factories.contract_in("sent")
    with pytest.raises(TransitionDenied):
        amendments.request_amendment(
            contract, actor=ev["coordinator"], activities_change="Cits", reason="Iemesls", now=NOW
        )
    member = factories.UserFactory()
    factories.membership(member, Role.APPLICANT, organisation=contract.application.organisation)
    with pytest.raises(TransitionDenied):  # a member who is not the representative
        amendments.request_amendment(
            contract, actor=member, activities_change="Cits", reason="Iemesls", now=NOW
        )
    with pytest.raises(WorkflowError):  # not signed yet
        _request(contract, ev, activities_change="Cits")


def test_one_open_request_at_a_time_with_audit_and_mail(signed):
    contract, ev = signed
    first = _request(contract, ev, new_start_date=date(2027, 2, 1), activities_change="Darbnīcas vasarā")
    with pytest.raises(WorkflowError):
        _request(contract, ev, activities_change="Vēl kas")
    (event,) = _events("amendment.requested")
    assert event.object_id == first.id and event.organisation_id == contract.application.organisation_id
    assert json.loads(event.after)["new_start_date"] == "2027-02-01"
    (mail,) = _mails("amendment_requested")
    assert mail.recipient == contract.application.call.contact_email and contract.number in mail.subject


def test_the_database_refuses_a_second_open_request(signed):
    contract, ev = signed
    _request(contract, ev, activities_change="Darbnīcas vasarā")
    with pytest.raises(sa.exc.IntegrityError), _db.session.begin_nested():
        _db.session.add(
            Amendment(contract_id=contract.id, requested_at=utcnow(), reason="Otrs", activities_change="X")
        )
        _db.session.flush()


# --- the decision -----------------------------------------------------------------------------------------


def test_only_a_coordinator_of_the_municipality_decides(signed, no_render):
    contract, ev = signed
    amendment = _request(contract, ev, activities_change="Cits")
    with pytest.raises(TransitionDenied):
        amendments.approve_amendment(amendment, actor=ev["applicants"][0], now=NOW)
    other = factories.coordinator(factories.municipality("0044000"))
    with pytest.raises(TransitionDenied):
        amendments.refuse_amendment(amendment, "Nē", actor=other)
    assert amendment.status == AmendmentStatus.REQUESTED


def test_approvals_are_numbered_and_apply_the_dates_and_the_report_due_date(signed, no_render):
    contract, ev = signed
    coordinator = ev["coordinator"]
    programme = contract.application.call.programme
    first = _request(contract, ev, new_start_date=date(2027, 2, 1), new_end_date=date(2027, 10, 31))
    amendments.approve_amendment(first, actor=coordinator, now=NOW)
    assert (first.status, first.number, first.decided_by_id) == ("approved", 1, coordinator.id)
    assert (contract.start_date, contract.end_date) == (date(2027, 2, 1), date(2027, 10, 31))
    assert contract.report_due == add_working_days(date(2027, 10, 31), programme.report_due_working_days)
    assert first.pdf_file_id and first.pdf_sha256 == hashlib.sha256(factories.sample_pdf()).hexdigest()

    second = _request(contract, ev, activities_change="Nometne rudenī")
    amendments.approve_amendment(second, actor=coordinator, now=NOW)
    assert second.number == 2 and contract.end_date == date(2027, 10, 31)
    with pytest.raises(WorkflowError):  # decided already
        amendments.approve_amendment(second, actor=coordinator, now=NOW)

    event = _events("contract.amended")[0]
    assert json.loads(event.before)["end_date"] == "2027-06-30"
    assert json.loads(event.after) | {"pdf_sha256": None} == {
        "amendment": 1,
        "start_date": "2027-02-01",
        "end_date": "2027-10-31",
        "report_due": contract.report_due.isoformat(),
        "pdf_sha256": None,
    }
    assert len(_events("amendment.approve")) == 2
    mails = _mails("amendment_approved")
    assert mails and all(m.attachment_file_ids for m in mails)


def test_a_refusal_needs_a_reason_and_leaves_the_contract_as_it_was(signed):
    contract, ev = signed
    amendment = _request(contract, ev, new_end_date=date(2027, 8, 31))
    with pytest.raises(WorkflowError) as no_reason:
        amendments.refuse_amendment(amendment, "  ", actor=ev["coordinator"])
    assert no_reason.value.field == "reason"
    amendments.refuse_amendment(amendment, "Budžets neļauj", actor=ev["coordinator"])
    assert (amendment.status, amendment.number, amendment.decision_reason) == (
        "refused",
        None,
        "Budžets neļauj",
    )
    assert amendment.decided_at is not None and contract.end_date == date(2027, 6, 30)
    assert _events("amendment.refuse")[0].reason == "Budžets neļauj"
    assert _mails("amendment_refused")
    assert _request(contract, ev, activities_change="Cits").id  # a new request is possible again


# --- the annex (the two real renderings) ------------------------------------------------------------------


def test_the_annex_is_a_latvian_numbered_agreement_with_old_and_new_dates(signed):
    contract, ev = signed
    amendment = _request(
        contract, ev, new_end_date=date(2027, 9, 30), reason="Ģimeņu brīvdienās ķēde šūšanas darbnīcām"
    )
    amendments.approve_amendment(amendment, actor=ev["coordinator"], now=NOW)
    stored = _db.session.get(storage.StoredFile, amendment.pdf_file_id)
    data = storage.read_file(stored)
    assert data.startswith(b"%PDF") and amendment.pdf_sha256 == stored.sha256
    text = _text(data)
    assert f"Vienošanās Nr. 1 par grozījumiem līgumā Nr. {contract.number}" in text
    assert "30.06.2027" in text and "30.09.2027" in text
    assert "Ģimeņu brīvdienās ķēde šūšanas darbnīcām" in text


def test_markup_in_the_request_is_printed_and_never_fetched(signed, canary):
    """QUALITY E3: the reason and the activities carry markup that would fetch or run; the annex shows it
    as text and the loopback server gets no request."""
    port, hits = canary
    contract, ev = signed
    payload = (
        f'<img src="http://127.0.0.1:{port}/img"><iframe src="file:///etc/passwd"></iframe>'
        f"<script>document.write('EXECUTED')</script>"
    )
    amendment = _request(contract, ev, activities_change=payload, reason="Iemesls " + payload)
    amendments.approve_amendment(amendment, actor=ev["coordinator"], now=NOW)
    text = _text(storage.read_file(_db.session.get(storage.StoredFile, amendment.pdf_file_id)))
    assert "<img src=" in text and "EXECUTED')" in text and "root:" not in text
    assert hits == []


# --- the pages --------------------------------------------------------------------------------------------


@pytest.fixture()
def running(db):
    """A signed contract whose dates are relative to the real today (the pages use the real clock)."""
    contract, ev = factories.contract_in("signed")
    today = to_riga(utcnow()).date()
    contract.start_date, contract.end_date = today + timedelta(days=10), today + timedelta(days=120)
    _db.session.flush()
    return contract, ev


def test_strangers_get_404_on_every_amendment_page(app, running, client, login_as, no_render):
    contract, ev = running
    amendment = _request(contract, ev, activities_change="Cits")
    amendments.approve_amendment(amendment, actor=ev["coordinator"], now=NOW)
    pages = [
        f"/contracts/{contract.id}/amendments/new",
        f"/contracts/amendments/{amendment.id}",
        f"/contracts/amendments/{amendment.id}/annex.pdf",
    ]
    login_as(factories.coordinator(factories.municipality("0044000")))
    assert [client.get(p).status_code for p in pages] == [404, 404, 404]
    other = browser_client(app)
    log_in(other, factories.applicant())  # the representative of another organisation
    assert [other.get(p).status_code for p in pages] == [404, 404, 404]
    log_in(coordinator := browser_client(app), ev["coordinator"])  # not the one who requests
    assert coordinator.get(pages[0]).status_code == 404


def test_the_request_form_keeps_the_typed_values_and_ignores_the_amount(running, client, login_as):
    contract, ev = running
    login_as(ev["applicants"][0])
    path = f"/contracts/{contract.id}/amendments/new"
    assert client.post(path, data={"reason": "x", "activities_change": "y"}).status_code == 400  # no CSRF
    token = csrf_token(client, path)
    too_long = contract.start_date + timedelta(days=800)
    page = client.post(
        path,
        data={"csrf_token": token, "new_end_date": too_long.strftime("%d.%m.%Y"), "reason": "Mans iemesls"},
    ).get_data(as_text=True)
    assert 'id="new_end_date-error"' in page and "at most 18 months" in page
    assert too_long.strftime("%d.%m.%Y") in page and "Mans iemesls" in page
    new_end = contract.end_date + timedelta(days=30)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "new_end_date": new_end.isoformat(),
            "reason": "Mans iemesls",
            "amount": "99999",
            "goal": "Cits mērķis",
        },
    )
    amendment = _db.session.scalars(sa.select(Amendment)).one()
    assert response.status_code == 302 and response.location.endswith(f"/contracts/amendments/{amendment.id}")
    assert amendment.new_end_date == new_end and contract.amount == contract.application.call.amount
    assert "Mans iemesls" in client.get(response.location).get_data(as_text=True)


def test_the_coordinator_decides_on_the_page_and_the_members_download_the_annex(
    app, running, client, login_as, no_render
):
    contract, ev = running
    refused = _request(contract, ev, activities_change="Cits")
    amendments.refuse_amendment(refused, "Nē", actor=ev["coordinator"], now=NOW)
    amendment = _request(contract, ev, new_end_date=contract.end_date + timedelta(days=30))
    login_as(ev["coordinator"])
    path = f"/contracts/amendments/{amendment.id}"
    token = csrf_token(client, path)
    page = client.post(path, data={"csrf_token": token, "decision": "refuse", "reason": ""}).get_data(
        as_text=True
    )
    assert 'id="reason-error"' in page and amendment.status == AmendmentStatus.REQUESTED
    response = client.post(path, data={"csrf_token": token, "decision": "approve"})
    assert response.status_code == 302
    _db.session.refresh(amendment)
    assert amendment.number == 1 and contract.end_date == amendment.new_end_date

    client = browser_client(app)
    log_in(client, ev["applicants"][0])
    page = client.get(path).get_data(as_text=True)
    assert 'name="decision"' not in page and "Agreement No. 1 (PDF)" in page
    pdf = client.get(f"{path}/annex.pdf")
    assert pdf.status_code == 200 and pdf.data == factories.sample_pdf()
    assert client.get(f"/contracts/amendments/{refused.id}/annex.pdf").status_code == 404  # no annex


def test_the_contract_page_partial_lists_the_amendments_and_offers_a_request(app, signed):
    from flask import render_template

    contract, ev = signed
    with app.test_request_context(), force_locale("en"):
        fresh = render_template("contracts/_amendments.html", contract=contract, roles={"representative"})
        assert "No changes have been requested." in fresh
        assert f"/contracts/{contract.id}/amendments/new" in fresh
        amendment = _request(contract, ev, activities_change="Cits", reason="Lietus sezona")
        _db.session.expire(contract, ["amendments"])
        waiting = render_template("contracts/_amendments.html", contract=contract, roles={"representative"})
        assert "Lietus sezona" in waiting and "Requested" in waiting
        assert "/amendments/new" not in waiting and "waiting for the municipality" in waiting
        staff = render_template("contracts/_amendments.html", contract=contract, roles={"coordinator"})
        assert f"/contracts/amendments/{amendment.id}" in staff and "Approve or refuse" in staff
