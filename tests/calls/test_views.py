"""The call pages through the test client: the coordinator's journey, the public pages, per-object
permissions (404 for another municipality), CSRF, the Atom feed and the regulations download."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.calls import services
from portal.calls.models import Call
from portal.calls.workflow import CallStatus
from portal.core import pagecache
from portal.core.mail import OutboxMessage
from portal.core.timeutil import to_riga, utcnow
from portal.extensions import db
from tests.calls.conftest import call_data
from tests.factories import applicant, coordinator, draft_application, national_admin, open_call
from tests.helpers import Page, browser_client, count_queries, csrf_token

ATOM = "{http://www.w3.org/2005/Atom}"


def post(client, url, data=None, **kwargs):
    """POST with a CSRF token from the home page (any page of the user's session will do)."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, "/")}, **kwargs)


def riga_input(instant) -> str:
    return to_riga(instant).strftime("%Y-%m-%dT%H:%M")


def form_values(call: Call | None = None, **changes) -> dict:
    data = call_data()
    values = {
        "title": call.title if call else data.title,
        "description": call.description if call else data.description,
        "projects": str(call.projects if call else data.projects),
        "opens_at": riga_input(call.opens_at if call else data.opens_at),
        "closes_at": riga_input(call.closes_at if call else data.closes_at),
        "contact_name": call.contact_name if call else data.contact_name,
        "contact_email": call.contact_email if call else data.contact_email,
        "contact_phone": (call.contact_phone or "") if call else data.contact_phone,
    }
    return values | changes


@pytest.fixture()
def draft(rnd, muni, coord):
    return services.create_call(rnd, muni, call_data(title="Melnraksta konkurss"), actor=coord)


# --- the coordinator's journey -------------------------------------------------------------------


def test_a_coordinator_creates_edits_and_publishes_a_call(client, login_as, rnd, coord):
    login_as(coord)
    page = client.get("/calls/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'type="datetime-local"' in html
    assert "T23:59" in html  # the default closing time
    key = f"{coord.memberships[0].municipality_id}-{rnd.id}"
    response = post(client, "/calls/new", form_values(round=key))
    assert response.status_code == 302, response.get_data(as_text=True)
    call = db.session.scalars(sa.select(Call).where(Call.round_id == rnd.id)).one()
    assert call.status == CallStatus.DRAFT
    assert to_riga(call.closes_at).strftime("%H:%M:%S") == "23:59:59"

    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f'action="/calls/{call.id}/publish"' in page
    criteria = client.get(f"/calls/{call.id}/criteria")
    assert criteria.status_code == 200
    quality = next(c for c in call.criteria if c.kind == "quality")
    edit = client.get(f"/calls/{call.id}/criteria/{quality.id}")
    assert edit.status_code == 200 and 'name="reason"' not in edit.get_data(as_text=True)

    response = post(client, f"/calls/{call.id}/edit", form_values(call, title="Labots nosaukums"))
    assert response.status_code == 302
    assert call.title == "Labots nosaukums"

    response = post(client, f"/calls/{call.id}/publish")
    assert response.status_code == 302
    assert call.status == CallStatus.OPEN and call.regulations_file_id
    assert "Labots nosaukums" in client.get("/calls/").get_data(as_text=True)


def test_the_new_call_form_explains_the_quota_by_the_field(client, login_as, rnd, coord):
    login_as(coord)
    key = f"{coord.memberships[0].municipality_id}-{rnd.id}"
    response = post(client, "/calls/new", form_values(round=key, projects="4", title=""))
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.by_id("error-summary") is not None
    assert page.by_id("title-error") is not None
    response = post(client, "/calls/new", form_values(round=key, projects="4"))
    page = Page(response.get_data(as_text=True))
    assert "3" in page.by_id("projects-error").text
    assert page.find("input", name="projects")[0].get("value") == "4"  # input kept
    assert not db.session.scalars(sa.select(Call)).all()


def test_a_deadline_change_after_publication_asks_for_the_reason(client, login_as, muni, coord):
    call = open_call(muni, days_left=20)
    _application, drafter = draft_application(call)
    login_as(coord)
    later = call.closes_at + timedelta(days=5)
    response = post(client, f"/calls/{call.id}/edit", form_values(call, closes_at=riga_input(later)))
    assert response.status_code == 200
    assert Page(response.get_data(as_text=True)).by_id("reason-error") is not None
    response = post(
        client, f"/calls/{call.id}/edit", form_values(call, closes_at=riga_input(later), reason="Brīvdienas")
    )
    assert response.status_code == 302
    assert to_riga(call.closes_at).strftime("%Y-%m-%dT%H:%M") == riga_input(later)
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "call_changed")
    ).all()
    assert [m.recipient for m in messages] == [drafter.email]


def test_saving_a_published_call_unchanged_needs_no_reason(client, login_as, muni, coord):
    call = open_call(muni, days_left=20)  # its deadline has seconds that the minute input cannot show
    closes_at = call.closes_at
    login_as(coord)
    response = post(client, f"/calls/{call.id}/edit", form_values(call, contact_phone="+371 26000000"))
    assert response.status_code == 302
    assert call.closes_at == closes_at


def test_the_coordinator_sees_only_counts_while_the_call_is_sealed(client, login_as, muni, coord):
    call = open_call(muni, days_left=20)
    draft_application(call)
    draft_application(call)
    login_as(coord)
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "2 drafts" in html and "0 submitted" in html and "sealed until the call closes" in html
    manage = client.get("/calls/manage")
    assert manage.status_code == 200
    assert "2 drafts" in manage.get_data(as_text=True)


def test_my_calls_counts_applications_in_one_query(client, login_as, muni, coord):
    calls = [open_call(muni, days_left=10 + i) for i in range(3)]
    for call in calls:
        draft_application(call)
    login_as(coord)
    client.get("/calls/manage")
    with count_queries(db.engine) as statements:
        assert client.get("/calls/manage").status_code == 200
    assert len([s for s in statements if "FROM applications" in s]) == 1


def test_closing_early_needs_a_reason_and_a_confirmation(client, login_as, muni, coord):
    call = open_call(muni, days_left=20)
    login_as(coord)
    assert client.get(f"/calls/{call.id}/close").status_code == 200
    response = post(client, f"/calls/{call.id}/close", {"reason": "", "confirm": "y"})
    assert response.status_code == 200 and call.status == CallStatus.OPEN
    response = post(client, f"/calls/{call.id}/close", {"reason": "Atcelts", "confirm": "y"})
    assert response.status_code == 302
    assert call.status == CallStatus.CLOSED


def test_uploading_signed_regulations_checks_the_content(client, login_as, draft, coord):
    import io

    login_as(coord)
    response = post(
        client,
        f"/calls/{draft.id}/regulations",
        {"file": (io.BytesIO(b"<html>not a pdf</html>"), "nolikums.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert Page(response.get_data(as_text=True)).by_id("file-error") is not None
    response = post(
        client,
        f"/calls/{draft.id}/regulations",
        {"file": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "parakstīts.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    download = client.get(f"/calls/{draft.id}/regulations.pdf")
    assert download.data == b"%PDF-1.7\n%%EOF\n"


# --- public pages --------------------------------------------------------------------------------


def test_the_public_call_page_explains_the_rules(app, client, muni):
    call = open_call(muni, days_left=12)
    latvian = browser_client(app, lang=None).get(f"/calls/{call.id}").get_data(as_text=True)
    assert 'lang="lv"' in latvian and "ne vairāk un ne mazāk" in latvian  # Latvian first
    response = client.get(f"/calls/{call.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert len(page.find("h1")) == 1
    assert "12 days left" in html or "11 days left" in html
    assert "no more and no less" in html
    assert page.find("script", src="/static/js/countdown.js")
    (countdown,) = [e for e in page.elements if "data-countdown" in e.attrs]
    assert countdown.get("data-deadline") == call.closes_at.isoformat()
    assert "konkurss@example.lv" in html


def test_the_public_list_shows_open_calls_and_filters_them(client, muni, other_muni):
    here = open_call(muni, title="Aizkraukles konkurss")
    there = open_call(other_muni, title="Ropažu konkurss")
    html = client.get("/calls/").get_data(as_text=True)
    assert here.title in html and there.title in html
    html = client.get(f"/calls/?municipality={muni.id}").get_data(as_text=True)
    assert here.title in html and there.title not in html
    assert client.get("/calls/?municipality=abc&programme=-1").status_code == 200


def test_the_open_calls_come_twenty_a_page_soonest_deadline_first(client, muni):
    rnd = open_call(muni, title="Konkurss 01", days_left=1).round
    for n in range(2, 24):
        open_call(muni, round=rnd, title=f"Konkurss {n:02d}", days_left=n)
    soon = open_call(muni, round=rnd, title="Drīzumā atvērtais", days_left=45)  # opens in 5 days
    with count_queries(db.engine) as first_page:
        response = client.get("/calls/")
    html = response.get_data(as_text=True)
    page = Page(html)
    titles = [a.text.strip() for a in page.find("a") if a.text.strip().startswith("Konkurss ")]
    assert titles == [f"Konkurss {n:02d}" for n in range(1, 21)]
    assert "23 calls are open" in html and "Page 1 of 2" in html
    assert soon.title in html
    (next_link,) = [a for a in page.find("a") if a.get("rel") == "next"]
    response = client.get(next_link.get("href"))
    html = response.get_data(as_text=True)
    page = Page(html)
    titles = [a.text.strip() for a in page.find("a") if a.text.strip().startswith("Konkurss ")]
    assert titles == ["Konkurss 21", "Konkurss 22", "Konkurss 23"] and soon.title not in html
    assert [a for a in page.find("a") if a.get("rel") == "prev"]
    assert client.get("/calls/?page=3").status_code == 404
    assert client.get("/calls/?page=abc").status_code == 200  # not a number: the first page
    # The page's statements do not grow with the number of calls.
    for n in range(24, 40):
        open_call(muni, round=rnd, title=f"Konkurss {n:02d}", days_left=n)
    pagecache.store.clear()  # the test's rows are not committed: no new public data version
    with count_queries(db.engine) as more:
        assert client.get("/calls/").status_code == 200
    assert len(more) == len(first_page)


def test_drafts_are_never_public(client, login_as, draft, muni):
    open_call(muni, title="Publicētais konkurss")
    assert draft.title not in client.get("/calls/").get_data(as_text=True)
    assert client.get(f"/calls/{draft.id}").status_code == 404
    assert client.get(f"/calls/{draft.id}/regulations.pdf").status_code == 404
    feed = client.get("/calls/feed.atom").get_data(as_text=True)
    assert draft.title not in feed and "Publicētais konkurss" in feed
    login_as(applicant())
    assert client.get(f"/calls/{draft.id}").status_code == 404
    assert draft.title not in client.get("/calls/").get_data(as_text=True)


def test_national_admins_see_drafts(client, login_as, draft):
    login_as(national_admin())
    assert client.get(f"/calls/{draft.id}").status_code == 200
    assert client.get(f"/calls/{draft.id}/edit").status_code == 404  # but do not manage them


def test_the_public_pages_close_due_calls_themselves(client, muni):
    call = open_call(muni, days_left=20)
    call.closes_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert call.status == CallStatus.CLOSED
    assert "applications can no longer be submitted" in html
    assert call.title not in client.get("/calls/").get_data(as_text=True)


def test_the_regulations_download_is_an_attachment_that_never_renders(client, rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    services.publish_call(call, actor=coord)
    response = client.get(f"/calls/{call.id}/regulations.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r"filename\*=UTF-8''[^;\s]+\.pdf", disposition)
    assert "Aizkraukles" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_the_atom_feed_is_valid_and_has_no_drafts(client, draft, muni):
    published = open_call(muni, title='Konkurss <b>&</b> "citāts" \x0b')
    response = client.get("/calls/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)  # noqa: S314 - our own response
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert 'Konkurss <b>&</b> "citāts" ' in titles
    assert draft.title not in titles
    entry = entries[titles.index('Konkurss <b>&</b> "citāts" ')]
    for tag in ("id", "updated", "published", "author", "summary"):
        assert entry.find(f"{ATOM}{tag}") is not None, tag
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/calls/{published.id}")


# --- permissions and CSRF ------------------------------------------------------------------------


def _manage_requests(call) -> list[tuple[str, str, dict]]:
    criterion = call.criteria[0]
    return [
        ("GET", f"/calls/{call.id}/edit", {}),
        ("POST", f"/calls/{call.id}/edit", form_values(call, title="Hacked", reason="x")),
        ("GET", f"/calls/{call.id}/criteria", {}),
        ("GET", f"/calls/{call.id}/criteria/{criterion.id}", {}),
        ("POST", f"/calls/{call.id}/criteria/{criterion.id}", {"title_lv": "Hacked", "title_en": "Hacked"}),
        ("POST", f"/calls/{call.id}/publish", {}),
        ("GET", f"/calls/{call.id}/regulations", {}),
        ("POST", f"/calls/{call.id}/regulations", {}),
        ("GET", f"/calls/{call.id}/regulations/preview.pdf", {}),
        ("GET", f"/calls/{call.id}/close", {}),
        ("POST", f"/calls/{call.id}/close", {"reason": "x", "confirm": "y"}),
    ]


@pytest.mark.parametrize("published", [False, True])
def test_a_coordinator_of_another_municipality_gets_404_everywhere(
    client, login_as, rnd, muni, other_muni, coord, published
):
    call = services.create_call(rnd, muni, call_data(), actor=coord)
    if published:
        services.publish_call(call, actor=coord)
    status, title, version = call.status, call.title, call.version
    login_as(coordinator(other_muni))
    token = csrf_token(client, "/")
    failures = []
    for method, url, data in _manage_requests(call):
        response = client.open(url, method=method, data={**data, "csrf_token": token})
        if response.status_code != 404:
            failures.append(f"{method} {url} -> {response.status_code}")
    if not published:
        for url in (f"/calls/{call.id}", f"/calls/{call.id}/regulations.pdf"):
            if client.get(url).status_code != 404:
                failures.append(f"GET {url}")
    assert not failures, failures
    db.session.refresh(call)
    assert (call.status, call.title, call.version) == (status, title, version)
    assert "Hacked" not in [c.title_lv for c in call.criteria]


def test_manage_pages_need_a_coordinator(client, login_as):
    assert client.get("/calls/manage").status_code == 302  # to the login page
    login_as(applicant())
    assert client.get("/calls/manage").status_code == 404
    assert client.get("/calls/new").status_code == 404


def test_publishing_without_a_csrf_token_is_refused(client, login_as, draft, coord):
    login_as(coord)
    response = client.post(f"/calls/{draft.id}/publish", data={})
    assert response.status_code == 400
    assert draft.status == CallStatus.DRAFT


def test_posted_extra_fields_are_ignored(client, login_as, draft, coord):
    login_as(coord)
    amount = draft.amount
    response = post(
        client,
        f"/calls/{draft.id}/edit",
        form_values(draft, status="open", amount="1", municipality_id="1", version="99", published_at="x"),
    )
    assert response.status_code == 302
    assert (draft.status, draft.amount, draft.published_at) == (CallStatus.DRAFT, amount, None)


# --- markup --------------------------------------------------------------------------------------


def test_every_call_page_has_the_accessible_shell(app, client, login_as, rnd, muni, coord):
    from flask import url_for

    from tests.test_accessibility_markup import markup_problems

    draft = services.create_call(rnd, muni, call_data(title="Melnraksts"), actor=coord)
    published = open_call(muni, days_left=20)
    draft_application(published)
    login_as(coord)
    with app.test_request_context():
        statement = url_for("public.accessibility")
    criterion = draft.criteria[-1]
    pages = [
        "/calls/",
        "/calls/manage",
        "/calls/new",
        f"/calls/{draft.id}",
        f"/calls/{published.id}",
        f"/calls/{draft.id}/edit",
        f"/calls/{published.id}/edit",
        f"/calls/{draft.id}/criteria",
        f"/calls/{draft.id}/criteria/{criterion.id}",
        f"/calls/{published.id}/criteria/{published.criteria[0].id}",
        f"/calls/{draft.id}/regulations",
        f"/calls/{published.id}/close",
    ]
    failures = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        failures += [
            f"{url}: {p}"
            for p in markup_problems(response.get_data(as_text=True), lang="en", statement_url=statement)
        ]
        html = response.get_data(as_text=True)
        if ' style="' in html or "<script>" in html:
            failures.append(f"{url}: inline style or script")
    # error states too
    response = post(client, "/calls/new", {"round": "", "title": ""})
    failures += [
        f"new (errors): {p}"
        for p in markup_problems(response.get_data(as_text=True), lang="en", statement_url=statement)
    ]
    assert not failures, "\n".join(failures)


def test_markup_in_a_call_is_shown_as_text(client, muni):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{7*7}}'
    call = open_call(muni, title=payload)
    call.description = payload
    db.session.flush()
    for url in ("/calls/", f"/calls/{call.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "{{7*7}}" in html
