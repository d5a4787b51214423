"""The audit trail page and its CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.core import audit
from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.factories import UserFactory, applicant, coordinator, evaluator, municipality, national_admin
from tests.helpers import count_queries, csrf_token


def _event(action="test.thing", *, at=None, actor=None, municipality_id=None, **kwargs) -> AuditEvent:
    event = audit.record(action, actor=actor, municipality_id=municipality_id, **kwargs)
    if at is not None:
        event.at = at
    return event


def db_flush():
    db.session.flush()


def _ids(html: str, events) -> set[int]:
    """Return which of the events appear on the page (each row shows its action, made unique here)."""
    return {e.id for e in events if f"<code>{e.action}</code>" in html}


@pytest.fixture()
def admin(db):
    return national_admin(locale="en")  # the assertions read English text


def test_login_is_required(client):
    response = client.get("/admin/audit")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("make_user", [applicant, evaluator, lambda: UserFactory()])
def test_users_without_an_audit_scope_get_404(client, login_as, make_user):
    login_as(make_user())
    assert client.get("/admin/audit").status_code == 404
    token = csrf_token(client, "/account/")
    assert client.post("/admin/audit/export", data={"csrf_token": token}).status_code == 404


def test_national_admin_sees_every_event(client, login_as, admin):
    aizkraukle, ropazi = municipality("0020000"), municipality("0044000")
    events = [
        _event("test.a", municipality_id=aizkraukle.id),
        _event("test.b", municipality_id=ropazi.id),
        _event("test.c"),
    ]
    db_flush()
    login_as(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert _ids(html, events) == {e.id for e in events}


def test_coordinator_sees_only_their_municipalities_events(client, login_as):
    aizkraukle, ropazi = municipality("0020000"), municipality("0044000")
    mine = _event("test.mine", municipality_id=aizkraukle.id)
    theirs = _event("test.theirs", municipality_id=ropazi.id)
    national = _event("test.national")
    user = coordinator(aizkraukle)
    db_flush()
    login_as(user)
    response = client.get("/admin/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _ids(html, [mine, theirs, national]) == {mine.id}
    # The action select offers only actions inside the scope.
    assert 'value="test.theirs"' not in html
    # Filtering by another municipality's object finds nothing either.
    html = client.get(f"/admin/audit?object_id={theirs.id}").get_data(as_text=True)
    assert "test.theirs" not in html
    # The export obeys the same scope.
    token = csrf_token(client, "/admin/audit")
    body = client.post("/admin/audit/export", data={"csrf_token": token}).get_data(as_text=True)
    assert "test.mine" in body and "test.theirs" not in body and "test.national" not in body


def test_filters_by_riga_dates_action_actor_and_object(client, login_as, admin):
    actor = UserFactory(email="janis.ozols@example.lv")
    # 2026-03-31 23:30 in Riga (summer time, UTC+3) and 2026-04-01 00:30 in Riga.
    late_march = _event("test.late_march", at=datetime(2026, 3, 31, 20, 30, tzinfo=UTC), actor=actor)
    early_april = _event("test.early_april", at=datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    other = _event(
        "test.object", object_type="applications", object_id=77, at=datetime(2026, 5, 5, tzinfo=UTC)
    )
    events = [late_march, early_april, other]
    db_flush()
    login_as(admin)

    def shown(query: str) -> set[int]:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return _ids(response.get_data(as_text=True), events)

    assert shown("date_from=2026-04-01") == {early_april.id, other.id}
    assert shown("date_to=2026-03-31") == {late_march.id}
    assert shown("date_from=2026-03-31&date_to=2026-03-31") == {late_march.id}
    assert shown("action=test.early_april") == {early_april.id}
    assert shown("actor=OZOLS") == {late_march.id}
    assert shown("actor=%25") == set()  # LIKE wildcards are taken literally
    assert shown("object_type=applications&object_id=77") == {other.id}
    assert shown("object_id=78") == set()


def test_bad_filters_are_reported_by_the_field_and_kept(client, login_as, admin):
    login_as(admin)
    response = client.get("/admin/audit?date_from=2026-04-02&date_to=2026-04-01&object_id=abc&action=nope")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="date_to-error"' in html
    assert 'id="object_id-error"' in html
    assert 'id="action-error"' in html
    assert 'value="abc"' in html  # the input is kept
    assert "error-summary" in html


def test_newest_first_and_paginated(client, login_as, admin):
    start = datetime(2099, 1, 1, tzinfo=UTC)  # newer than the login's own events
    events = [_event(f"test.n{i:02d}", at=start + timedelta(minutes=i)) for i in range(55)]
    db_flush()
    login_as(admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert _ids(first, events) == {e.id for e in events[5:]}
    assert first.index("<code>test.n54</code>") < first.index("<code>test.n53</code>")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))  # the login's own too
    assert f"{total} events found" in first
    assert "page=2" in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert _ids(second, events) == {e.id for e in events[:5]}
    assert "page=1" in second and "page=3" not in second
    assert client.get("/admin/audit?page=999").status_code == 200
    assert client.get("/admin/audit?page=-1").status_code == 200


def test_times_are_shown_in_riga_and_changes_as_key_value_tables(client, login_as, admin):
    event = _event(
        "test.changes",
        at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC),  # 12:00 in Riga (winter, UTC+2)
        before={"status": "draft", "amount": "4600.00"},
        after={"status": "submitted"},
        reason="Pēc <b>lēmuma</b>",
    )
    db_flush()
    login_as(admin)
    html = client.get(f"/admin/audit?action={event.action}").get_data(as_text=True)
    assert re.search(r">[^<]*12:00:00[^<]*</time>", html)  # Riga wall-clock time, in the user's locale
    assert (
        '<th scope="row">status</th><td class="break-anywhere">draft</td><td class="break-anywhere">submitted'
        in html
    )
    assert (
        '<th scope="row">amount</th><td class="break-anywhere">4600.00</td><td class="break-anywhere"></td>'
        in html
    )
    assert "Pēc &lt;b&gt;lēmuma&lt;/b&gt;" in html  # escaped


def test_query_count_does_not_grow_with_the_number_of_events(client, login_as, admin, db):
    actors = UserFactory.create_batch(5)
    aizkraukle = municipality()

    def add(n):
        for i in range(n):
            _event("test.count", actor=actors[i % 5], municipality_id=aizkraukle.id, after={"i": i})
        db.session.flush()

    add(5)
    login_as(admin)
    client.get("/admin/audit")  # warm up: the session's last-seen touch and caches
    with count_queries(db.engine) as few:
        assert client.get("/admin/audit?action=test.count").status_code == 200
    add(45)
    with count_queries(db.engine) as many:
        html = client.get("/admin/audit?action=test.count").get_data(as_text=True)
    assert html.count("<code>test.count</code>") == 50
    assert len(many) == len(few), (few, many)
    assert len(few) <= 10


def test_csv_export_has_bom_the_filtered_rows_and_is_itself_audited(client, login_as, admin, db):
    keep = _event("test.export", actor=admin, reason='=HYPERLINK("http://x")', after={"nosaukums": "Līgums"})
    _event("test.other")
    db.session.flush()
    login_as(admin)
    token = csrf_token(client, "/admin/audit?action=test.export")
    response = client.post("/admin/audit/export", data={"csrf_token": token, "action": "test.export"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2  # header + the one matching event
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Action"] == "test.export"
    assert row["Actor"] == admin.email
    assert "Līgums" in row["After"]
    assert row["Reason"].startswith("'=")  # a spreadsheet will not run it as a formula
    assert row["Time (Europe/Riga)"].endswith(("+02:00", "+03:00"))
    assert str(keep.id) not in rows[0]

    exported = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit_exported")).one()
    assert exported.actor_id == admin.id
    assert exported.after_data() == {"filters": {"action": "test.export"}, "rows": 1}


def test_csv_export_needs_the_csrf_token(client, login_as, admin, db):
    login_as(admin)
    assert client.post("/admin/audit/export", data={"action": ""}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "audit_exported")) == 0


def test_export_with_bad_filters_goes_back_to_the_page(client, login_as, admin):
    login_as(admin)
    token = csrf_token(client, "/admin/audit")
    response = client.post("/admin/audit/export", data={"csrf_token": token, "object_id": "x"})
    assert response.status_code == 302
    assert "/admin/audit" in response.headers["Location"]
    assert "object_id=x" in response.headers["Location"]
