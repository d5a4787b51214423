"""The report overviews (issue 8): the national administrator sees every municipality's reports with their
status, overdue ones first, filtered by municipality and status, in a constant number of queries; the
coordinators see their municipalities' reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.contracts import services as contract_services
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db as _db
from tests import factories
from tests.helpers import Page, browser_client, count_queries, log_in


def _as(app, user):
    client = browser_client(app)
    log_in(client, user)
    return client


@pytest.fixture()
def projects(db):
    """Four funded projects of one call with contracts (statuses and due dates set by each test)."""
    ev = factories.decided_call(4, funded=4, scores=(3, 3, 3, 3))
    contracts = [contract_services.create_contract(a, actor=ev["coordinator"]) for a in ev["applications"]]
    _db.session.flush()
    return contracts, ev


def _set(contract, status, due_in_days):
    contract.application.status = status
    contract.report_due = to_riga(utcnow()).date() + timedelta(days=due_in_days)


AUTH = ("user_sessions", "FROM users", "FROM memberships")


def _work(statements):
    """The page's own statements: loading the logged-in user (cached or not between requests, and the
    session's periodic "last seen" touch) depends on the clock and the identity map, not on the rows."""
    return [s for s in statements if not any(table in s for table in AUTH)]


def _order(html):
    return [row.get("id") for row in Page(html).find("tr") if (row.get("id") or "").startswith("project-")]


def test_the_national_list_puts_overdue_reports_first_and_filters(app, projects):
    contracts, ev = projects
    on_time, late_returned, submitted_late, late = contracts
    _set(on_time, "in_progress", 10)
    _set(late_returned, "report_returned", -2)
    _set(submitted_late, "report_submitted", -20)  # submitted: not overdue, whatever the date
    _set(late, "in_progress", -1)
    _db.session.flush()
    client = _as(app, factories.national_admin())
    html = client.get("/reports/national").get_data(as_text=True)
    ids = [f"project-{c.application_id}" for c in (late_returned, late, submitted_late, on_time)]
    assert _order(html) == ids  # overdue first (by due date), then the rest by due date
    assert html.count("badge-overdue") == 2 and "2 reports are overdue." in html

    html = client.get("/reports/national?status=in_progress").get_data(as_text=True)
    assert _order(html) == [f"project-{late.application_id}", f"project-{on_time.application_id}"]
    muni = ev["call"].municipality_id
    assert len(_order(client.get(f"/reports/national?municipality={muni}").get_data(as_text=True))) == 4
    other = factories.municipality("0044000").id
    assert _order(client.get(f"/reports/national?municipality={other}").get_data(as_text=True)) == []


def test_the_national_list_takes_a_constant_number_of_queries(app, projects):
    contracts, ev = projects
    client = _as(app, factories.national_admin())
    for contract in contracts[1:]:
        contract.application.status = "funded"  # not in the list yet
    _set(contracts[0], "in_progress", 5)
    _db.session.flush()
    with count_queries(_db.engine) as one:
        assert client.get("/reports/national").status_code == 200
    for index, contract in enumerate(contracts[1:]):
        _set(contract, "report_submitted", -index)
    _db.session.flush()
    with count_queries(_db.engine) as four:
        html = client.get("/reports/national").get_data(as_text=True)
    assert len(_order(html)) == 4
    assert len(_work(four)) == len(_work(one))
    assert sum("final_reports" in statement for statement in four) == 1  # one statement for the list


def test_coordinators_see_their_municipalities_reports_only(app, projects):
    contracts, ev = projects
    for contract in contracts:
        _set(contract, "in_progress", 3)
    _db.session.flush()
    html = _as(app, ev["coordinator"]).get("/reports/").get_data(as_text=True)
    assert len(_order(html)) == 4
    other = _as(app, factories.coordinator(factories.municipality("0044000")))
    assert _order(other.get("/reports/").get_data(as_text=True)) == []
    assert other.get("/reports/national").status_code == 404
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("final_reports"))) == 0
