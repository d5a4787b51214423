"""The public page cache (portal/core/pagecache.py): anonymous pages are served from memory while the
public data version is unchanged and the page is young; any committed change to public data shows on the
next request; every visitor gets their own CSRF token; logged-in users are never served a stored page."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from portal.core import pagecache
from portal.core.timeutil import utcnow
from portal.extensions import db as _db
from tests import factories
from tests.helpers import count_queries, log_in
from tests.public.support import results_call

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _get(client, url):
    with count_queries(_db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    # The tests' transaction wrapper adds SAVEPOINT/RELEASE statements that a server would not run.
    return response.get_data(as_text=True), sum(
        not s.startswith(("SAVEPOINT", "RELEASE")) for s in statements
    )


def test_a_second_visit_costs_one_statement_and_a_committed_change_shows_at_once(client, db):
    published = results_call("KESS")
    _db.session.commit()
    url = f"/results/{published.call.id}"
    first, rendered = _get(client, url)
    again, cached = _get(client, url)
    assert cached == 1 < rendered, cached  # only the version is read
    assert again == first
    organisation = published.funded[0].organisation
    old_name = organisation.name
    assert old_name in first
    organisation.name = "Biedrība Jaunais Nosaukums"
    _db.session.commit()
    after, statements = _get(client, url)
    assert statements > 1 and "Biedrība Jaunais Nosaukums" in after and old_name not in after


def test_each_visitor_gets_their_own_token_and_it_works(app, client, db):
    other = app.test_client()
    other.environ_base["HTTP_REFERER"] = "https://localhost/"
    mine, _ = _get(client, "/calls/")
    theirs, cached = _get(other, "/calls/")
    assert cached == 1
    assert _TOKEN.search(mine).group(1) != _TOKEN.search(theirs).group(1)
    for visitor, page in ((client, mine), (other, theirs)):
        response = visitor.post("/language", data={"lang": "en", "csrf_token": _TOKEN.search(page).group(1)})
        assert response.status_code == 302


def test_a_drafts_autosave_keeps_the_version_and_a_status_change_moves_it(db):
    call = factories.open_call()
    application, _user = factories.draft_application(call)
    _db.session.commit()
    before = pagecache.current_version()
    application.title = "Melnraksta virsraksts"
    _db.session.commit()
    assert pagecache.current_version() == before
    application.status = "withdrawn"
    _db.session.commit()
    assert pagecache.current_version() != before


def test_a_page_older_than_the_limit_is_rendered_again(app, client, db):
    _get(client, "/calls/")
    assert _get(client, "/calls/")[1] == 1
    with time_machine.travel(utcnow() + timedelta(seconds=app.config["PUBLIC_PAGE_TTL"] + 1)):
        assert _get(client, "/calls/")[1] > 1


def test_logged_in_users_are_never_served_a_stored_page(client, db):
    _get(client, "/calls/")  # stored for anonymous visitors
    log_in(client, factories.applicant())
    page, statements = _get(client, "/calls/")
    assert statements > 1 and "/account/logout" in page
