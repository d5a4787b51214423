"""Payment pages (issue 7): the coordinator's list with totals and filters in a constant number of
queries, approving (a double click approves once and says so calmly), marking paid and reducing the
final payment with errors next to the fields, recovery claims, the contract page's payments partial,
and 404 for everyone but a coordinator of the contract's municipality."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_login import login_user

from portal.contracts import services as contracts
from portal.core.audit import AuditEvent
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db as _db
from portal.payments import recoveries
from portal.payments import services as payments
from portal.payments.models import PaymentStatus, Recovery
from tests import factories
from tests.helpers import (
    Page,
    browser_client,
    count_queries,
    csrf_token,
    log_in,
    savepoint_db,
    scene_connection,
)

LIST = "/payments/"


def _flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def _audit_count(action: str) -> int:
    return _db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_the_list_takes_as_many_queries_for_four_contracts_as_for_one(client, login_as, db):
    ev = factories.decided_call(4, funded=4, scores=(3, 3, 3, 3))
    first = contracts.create_contract(ev["applications"][0], actor=ev["coordinator"])
    _db.session.flush()
    login_as(ev["coordinator"])
    client.get(LIST)  # warm caches (translations, templates)
    with count_queries(_db.engine) as one:
        html = client.get(LIST).get_data(as_text=True)
    assert first.number in html
    others = [contracts.create_contract(a, actor=ev["coordinator"]) for a in ev["applications"][1:]]
    _db.session.flush()
    with count_queries(_db.engine) as four:
        html = client.get(LIST).get_data(as_text=True)
    assert all(c.number in html for c in others) and html.count('id="payment-') == 8
    assert len(four) == len(one)


def test_marking_paid_shows_errors_by_the_fields_and_keeps_the_input(client, login_as, db):
    contract, ev = factories.contract_in("advance_approved")
    advance = payments.payments_of(contract)["advance"]
    login_as(ev["coordinator"])
    url = f"/payments/{advance.id}/paid"
    form = Page(client.get(url).get_data(as_text=True))
    today = to_riga(utcnow()).date()
    assert form.find("input", name="paid_on")[0].get("value") == today.isoformat()
    token = csrf_token(client, url)
    tomorrow = (today + timedelta(days=1)).isoformat()
    refused = client.post(url, data={"csrf_token": token, "paid_on": tomorrow, "bank_reference": "SWED-77"})
    page = Page(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert "cannot be in the future" in page.by_id("paid_on-error").text
    assert page.find("input", name="bank_reference")[0].get("value") == "SWED-77"
    assert page.find("input", name="paid_on")[0].get("value") == tomorrow
    blank = Page(client.post(url, data={"csrf_token": token, "paid_on": tomorrow}).get_data(as_text=True))
    assert blank.by_id("bank_reference-error") is not None
    done = client.post(
        url, data={"csrf_token": token, "paid_on": today.isoformat(), "bank_reference": "SWED-77"}
    )
    assert done.status_code == 302
    _db.session.expire_all()
    assert (
        advance.status == PaymentStatus.PAID
        and advance.paid_on == today
        and advance.bank_reference == "SWED-77"
    )
    again = client.get(url)
    assert again.status_code == 302 and any("already recorded as paid" in m for m in _flashes(client))
    assert _audit_count("payment.mark_paid") == 1


def test_claiming_recording_and_writing_off_recoveries_through_the_pages(client, login_as, db):
    contract, ev = factories.contract_in("advance_paid")
    login_as(ev["coordinator"])
    url = f"/payments/contracts/{contract.id}/recoveries/new"
    token = csrf_token(client, url)
    over = client.post(url, data={"csrf_token": token, "amount": "3680,01", "reason": "Not carried out"})
    assert "At most 3680.00" in Page(over.get_data(as_text=True)).by_id("amount-error").text
    assert (
        client.post(
            url, data={"csrf_token": token, "amount": "3000", "reason": "Not carried out"}
        ).status_code
        == 302
    )
    assert (
        client.post(url, data={"csrf_token": token, "amount": "680", "reason": "The rest"}).status_code == 302
    )
    first, second = _db.session.scalars(sa.select(Recovery).order_by(Recovery.id)).all()
    recovered = f"/payments/recoveries/{first.id}/recovered"
    future = (to_riga(utcnow()).date() + timedelta(days=1)).isoformat()
    refused = client.post(recovered, data={"csrf_token": token, "recovered_on": future})
    assert Page(refused.get_data(as_text=True)).by_id("recovered_on-error") is not None
    today = to_riga(utcnow()).date().isoformat()
    assert client.post(recovered, data={"csrf_token": token, "recovered_on": today}).status_code == 302
    write_off = f"/payments/recoveries/{second.id}/write-off"
    assert Page(client.post(write_off, data={"csrf_token": token}).get_data(as_text=True)).by_id(
        "reason-error"
    )
    assert client.post(write_off, data={"csrf_token": token, "reason": "Dissolved"}).status_code == 302
    _db.session.expire_all()
    assert (first.status, second.status) == ("recovered", "written_off")
    again = client.post(write_off, data={"csrf_token": token, "reason": "Again"})
    assert again.status_code == 302 and any("already recorded" in m for m in _flashes(client))


def _payment_urls(contract, recovery) -> list[tuple[str, str]]:
    planned = payments.payments_of(contract)
    advance, final = planned["advance"].id, planned["final"].id
    return [
        ("GET", LIST),
        ("POST", f"/payments/{advance}/approve"),
        ("GET", f"/payments/{advance}/paid"),
        ("POST", f"/payments/{advance}/paid"),
        ("GET", f"/payments/{final}/reduce"),
        ("POST", f"/payments/{final}/reduce"),
        ("GET", f"/payments/contracts/{contract.id}/recoveries/new"),
        ("POST", f"/payments/contracts/{contract.id}/recoveries/new"),
        ("GET", f"/payments/recoveries/{recovery.id}/recovered"),
        ("POST", f"/payments/recoveries/{recovery.id}/recovered"),
        ("GET", f"/payments/recoveries/{recovery.id}/write-off"),
        ("POST", f"/payments/recoveries/{recovery.id}/write-off"),
    ]


def test_only_the_municipalitys_coordinator_reaches_the_payment_pages(app, login_as, db):
    contract, ev = factories.contract_in("advance_paid")
    recovery = recoveries.claim_recovery(contract, Decimal("10.00"), "Reason", actor=ev["coordinator"])
    other = factories.coordinator(factories.municipality("0044000"))
    for user in (other, ev["applicants"][0]):
        client = browser_client(app)
        log_in(client, user)
        token = csrf_token(client, "/")
        for method, url in _payment_urls(contract, recovery):
            data = {
                "csrf_token": token,
                "amount": "1",
                "reason": "x",
                "paid_on": "2026-01-01",
                "bank_reference": "x",
            }
            response = client.get(url) if method == "GET" else client.post(url, data=data)
            if user is other and url == LIST:
                assert response.status_code == 200 and contract.number not in response.get_data(as_text=True)
            else:
                assert response.status_code == 404, (user, method, url)
    _db.session.expire_all()
    assert recovery.status == "claimed" and payments.payments_of(contract)["final"].reduced_from is None
    assert _db.session.scalar(sa.select(sa.func.count(Recovery.id))) == 1


def _signed():
    contract, ev = factories.contract_in("signed")
    return contract.id, ev["coordinator"].id, ev["call"].id


@pytest.fixture(scope="class")
def built(app):
    """A signed contract built once per class that uses it, in an outer transaction rolled back at its end."""
    with scene_connection(app, _signed) as scene:
        yield scene


class TestSignedContract:
    """A signed contract (advance and final payment planned) built once for these tests, in an outer
    transaction rolled back after the last of them; each test runs in a savepoint of its own rolled back
    after it, so what one test approves or reduces no other test sees. A class, not the module: the other
    tests build their own contracts on a fresh database and never wait on this connection's rows."""

    @pytest.fixture()
    def db(self, built):
        """The signed contract, in a savepoint rolled back after the test (overrides conftest's `db`)."""
        connection, _ids = built
        with savepoint_db(connection) as database:
            yield database

    @pytest.fixture()
    def signed(self, built, db):
        """(contract, ev with its coordinator and call, the contract's planned payments)."""
        from portal.accounts.models import User
        from portal.calls.models import Call
        from portal.contracts.models import Contract

        contract_id, coordinator_id, call_id = built[1]
        contract = db.session.get(Contract, contract_id)
        ev = {"coordinator": db.session.get(User, coordinator_id), "call": db.session.get(Call, call_id)}
        return contract, ev, payments.payments_of(contract)

    def test_the_list_shows_the_payments_totals_and_filters(self, client, login_as, signed):
        contract, ev, planned = signed
        payments.approve_payment(planned["advance"], actor=ev["coordinator"])
        login_as(ev["coordinator"])
        page = client.get(LIST)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert contract.number in html and contract.application.organisation.name in html
        row = Page(html).by_id(f"payment-{planned['advance'].id}")
        assert "Advance" in row.text and "3,680.00" in row.text and "Approved" in row.text
        assert "Approved" in Page(html).by_id("total-approved").text
        assert "3,680.00" in Page(html).by_id("total-approved").text
        assert "920.00" in Page(html).by_id("total-planned").text
        only_final = Page(client.get(f"{LIST}?kind=final").get_data(as_text=True))
        assert only_final.by_id(f"payment-{planned['final'].id}") is not None
        assert only_final.by_id(f"payment-{planned['advance'].id}") is None
        approved = Page(client.get(f"{LIST}?status=approved&call={ev['call'].id}").get_data(as_text=True))
        assert approved.by_id(f"payment-{planned['advance'].id}") is not None
        assert approved.by_id(f"payment-{planned['final'].id}") is None

    def test_a_double_approve_approves_once_and_says_so_calmly(self, client, login_as, signed):
        contract, ev, planned = signed
        login_as(ev["coordinator"])
        token = csrf_token(client, LIST)
        url = f"/payments/{planned['advance'].id}/approve"
        first = client.post(url, data={"csrf_token": token}, headers={"Referer": f"https://localhost{LIST}"})
        assert first.status_code == 302 and first.headers["Location"].endswith(LIST)
        second = client.post(
            url,
            data={"csrf_token": token},
            headers={"Referer": f"https://localhost{LIST}"},
            follow_redirects=True,
        )
        assert second.status_code == 200
        assert "This payment is already approved." in second.get_data(as_text=True)
        _db.session.expire_all()
        assert planned["advance"].status == PaymentStatus.APPROVED
        assert _audit_count("payment.approve") == 1
        # The final payment waits for the report: refused with the rule's message, not a 500.
        refused = client.post(f"/payments/{planned['final'].id}/approve", data={"csrf_token": token})
        assert refused.status_code == 302 and planned["final"].status == PaymentStatus.PLANNED
        assert "The final payment is approved once the final report is approved." in _flashes(client)

    def test_reducing_the_final_payment_shows_errors_by_the_fields(self, client, login_as, signed):
        contract, ev, planned = signed
        final = planned["final"]
        login_as(ev["coordinator"])
        url = f"/payments/{final.id}/reduce"
        token = csrf_token(client, url)
        too_much = client.post(
            url, data={"csrf_token": token, "amount": "920,00", "reason": "Partly achieved"}
        )
        page = Page(too_much.get_data(as_text=True))
        assert "must be less than the scheduled 920.00" in page.by_id("amount-error").text
        assert "Partly achieved" in page.find("textarea", name="reason")[0].text
        no_reason = Page(client.post(url, data={"csrf_token": token, "amount": "500"}).get_data(as_text=True))
        assert no_reason.by_id("reason-error") is not None
        done = client.post(url, data={"csrf_token": token, "amount": "500,50", "reason": "Partly achieved"})
        assert done.status_code == 302
        _db.session.expire_all()
        assert final.amount == Decimal("500.50") and final.reduced_from == Decimal("920.00")
        assert (
            client.get(f"/payments/{planned['advance'].id}/reduce").status_code == 404
        )  # not a final payment

    def test_the_contract_partial_gives_buttons_to_the_coordinator_only(self, app, signed):
        contract, ev, planned = signed
        member = factories.applicant(contract.application.organisation)
        for user, buttons in ((ev["coordinator"], True), (member, False)):
            with app.test_request_context("/"):
                login_user(user)
                html = render_template(
                    "payments/_contract_payments.html", contract=contract, payments=planned, roles=set()
                )
            page = Page(html)
            assert "3,680.00" in page.by_id("contract-payment-advance").text
            assert "920.00" in page.by_id("contract-payment-final").text
            approve = page.find("form", action=f"/payments/{planned['advance'].id}/approve")
            reduce = page.find("a", href=f"/payments/{planned['final'].id}/reduce")
            assert bool(approve) is buttons and bool(reduce) is buttons
            assert not page.find("form", action=f"/payments/{planned['final'].id}/approve")
