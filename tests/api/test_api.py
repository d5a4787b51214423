"""The public JSON API under /api/v1 (issue 6): content, filters, pagination, errors, HTTP caching, CORS,
no cookies, and a constant number of SQL statements per list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.http import http_date, parse_date

from portal.core import pagecache
from portal.extensions import db as _db
from portal.public import data
from tests.api.support import AIZKRAUKLE, ROPAZI, api_fixture, published_call, world  # noqa: F401
from tests.helpers import count_queries

API = "/api/v1"


def _get(api, path, **kwargs):
    response = api.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return response


# --- calls --------------------------------------------------------------------------------------------


def test_the_calls_list_shows_published_calls_with_their_results_summary(api, db):
    built = world(published=2)
    body = _get(api, f"{API}/calls").get_json()
    assert body["meta"] == {"page": 1, "per_page": 50, "total": 2}
    assert {c["id"] for c in body["data"]} == {p.call.id for p in built.published}
    first = next(c for c in body["data"] if c["id"] == built.published[0].call.id)
    call = built.published[0].call
    assert first == {
        "id": call.id,
        "title": "Konkurss PUB0",
        "municipality": {"code": AIZKRAUKLE, "name": call.municipality.name},
        "programme": {"code": call.programme.code},
        "round": call.round.number,
        "amount": "4600.00",
        "currency": "EUR",
        "decision": {"number": "PUB0/2026", "date": data.decision_of(call).decided_on.isoformat()},
        "received": 5,
        "funded": 2,
        "reserve": 1,
        "not_funded": 1,
        "rejected": 1,
        "withdrawn": 0,
        "links": {"self": f"{API}/calls/{call.id}", "results": f"{API}/calls/{call.id}/results"},
    }


def test_a_call_in_the_list_matches_the_call_and_its_results(api, db):
    """The list counts in one batch (portal.api.summaries), the single call through data.call_results:
    both must say the same."""
    built = world(published=2)
    listed = {c["id"]: c for c in _get(api, f"{API}/calls").get_json()["data"]}
    for published in built.published:
        single = _get(api, f"{API}/calls/{published.call.id}").get_json()["data"]
        assert single == listed[published.call.id]
        results = _get(api, f"{API}/calls/{published.call.id}/results").get_json()["data"]
        assert results["call"] == single


def test_the_results_list_the_funded_projects_and_the_reserve_by_rank(api, db):
    published = published_call("RES")
    results = _get(api, f"{API}/calls/{published.call.id}/results").get_json()["data"]
    assert [p["id"] for p in results["funded"]] == [a.id for a in published.funded]
    assert [p["id"] for p in results["reserve"]] == [a.id for a in published.reserve]
    assert [p["rank"] for p in results["funded"] + results["reserve"]] == [1, 2, 3]
    funded = results["funded"][0]
    assert funded["organisation"] == "Biedrība RES 1"
    assert funded["title"] == "Projekts RES nr. 1"
    assert funded["start_date"] == "2026-03-01" and funded["end_date"] == "2026-11-30"
    assert funded["amount"] == "4600.00" and funded["currency"] == "EUR"
    assert funded["average"].count(".") == 1 and len(funded["average"].split(".")[1]) == 2
    assert funded["status"] == "funded"
    assert _get(api, funded["links"]["self"]).get_json()["data"]["id"] == funded["id"]
    reserve = results["reserve"][0]
    assert reserve["status"] == "reserve"
    assert reserve["links"]["self"] is None  # not in the register of funded projects
    assert api.get(f"{API}/projects/{reserve['id']}").status_code == 404


def test_a_call_whose_results_are_not_published_is_404(api, db):
    decided = published_call("NOTYET").call
    from tests.public.support import results_call

    hidden = results_call("DECIDEDONLY", publish=False).call
    for path in (f"{API}/calls/{hidden.id}", f"{API}/calls/{hidden.id}/results", f"{API}/calls/999999"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/json"
        assert response.get_json()["error"]["code"] == 404
    assert api.get(f"{API}/calls/{decided.id}").status_code == 200
    assert api.get(f"{API}/calls/{2**40}").status_code == 404  # beyond any id, no database overflow


# --- funded projects ----------------------------------------------------------------------------------


def test_the_register_lists_the_funded_projects_and_filters_them(api, db):
    built = world(published=2)
    aizkraukle, ropazi = built.published
    ids = lambda query="": [p["id"] for p in _get(api, f"{API}/projects{query}").get_json()["data"]]  # noqa: E731
    everything = ids()
    assert sorted(everything) == sorted(a.id for p in built.published for a in p.funded)
    assert sorted(ids(f"?municipality={AIZKRAUKLE}")) == sorted(a.id for a in aizkraukle.funded)
    assert sorted(ids(f"?municipality={ROPAZI}")) == sorted(a.id for a in ropazi.funded)
    assert ids("?municipality=0999999") == []  # a well-formed but unknown code: nothing, not an error
    assert sorted(ids(f"?round={ropazi.call.round.number}")) == sorted(a.id for a in ropazi.funded)
    assert sorted(ids(f"?programme={aizkraukle.call.programme.code}")) == sorted(everything)
    assert ids("?programme=no-such-programme") == []
    assert sorted(ids("?status=funded")) == sorted(everything)
    assert ids("?status=contract_signed") == []
    year = data.decision_of(aizkraukle.call).decided_on.year
    assert sorted(ids(f"?year={year}")) == sorted(everything)
    assert ids(f"?year={year - 1}") == []


def test_a_project_page_gives_its_summary_and_suppresses_small_counts(api, db):
    published = published_call("DET")
    application = published.funded[0]
    body = _get(api, f"{API}/projects/{application.id}").get_json()["data"]
    assert body["id"] == application.id
    assert body["call_id"] == published.call.id
    assert body["call_title"] == "Konkurss DET"
    assert body["programme"] == {"code": published.call.programme.code}
    assert body["goal"] == application.goal
    assert body["results_planned"] == application.results
    assert body["participants_planned"] == 40
    assert body["participants_risk_planned"] == "<5"  # 4 participants at risk: QUALITY F3
    assert body["risk_share_planned"] is None  # 4/40 would give the count away
    assert body["achieved"] is None
    application.participants_risk = 12
    _db.session.flush()
    body = _get(api, f"{API}/projects/{application.id}").get_json()["data"]
    assert body["participants_risk_planned"] == 12
    assert body["risk_share_planned"] == "30.00"


def test_only_funded_projects_of_published_calls_have_a_page(api, db):
    built = world(published=1)
    for application_id in built.hidden_application_ids:
        assert api.get(f"{API}/projects/{application_id}").status_code == 404, application_id
    assert api.get(f"{API}/projects/{2**40}").status_code == 404


# --- statistics ---------------------------------------------------------------------------------------


def test_statistics_per_municipality_and_national_totals(api, db):
    built = world(published=2)
    body = _get(api, f"{API}/statistics").get_json()
    rows = {row["municipality"]["code"]: row for row in body["data"]}
    assert set(rows) == {AIZKRAUKLE, ROPAZI}
    assert rows[AIZKRAUKLE] == {
        "municipality": {"code": AIZKRAUKLE, "name": built.published[0].call.municipality.name},
        "calls": 1,
        "applications": 5,
        "funded": 2,
        "amount": "9200.00",
        "currency": "EUR",
        "participants_planned": 80,
        "participants_risk_planned": 8,
        "risk_share_planned": "10.00",
    }
    assert body["totals"] == {
        "calls": 2,
        "applications": 10,
        "funded": 4,
        "amount": "18400.00",
        "currency": "EUR",
        "participants_planned": 160,
        "participants_risk_planned": 16,
        "risk_share_planned": "10.00",
    }
    only_round = _get(api, f"{API}/statistics?round={built.published[1].call.round.number}").get_json()
    assert [row["municipality"]["code"] for row in only_round["data"]] == [ROPAZI]
    nothing = _get(api, f"{API}/statistics?programme=no-such-programme").get_json()
    assert nothing["data"] == [] and nothing["totals"]["calls"] == 0 and nothing["totals"]["amount"] == "0.00"


def test_statistics_give_small_risk_counts_as_lt5(api, db):
    published = published_call("SMALL", with_rejected=False)
    for application in published.funded:
        application.participants_risk = 1
    _db.session.flush()
    body = _get(api, f"{API}/statistics").get_json()
    assert body["data"][0]["participants_risk_planned"] == "<5"
    assert body["data"][0]["risk_share_planned"] is None
    assert body["totals"]["participants_risk_planned"] == "<5"


# --- pagination and parameters ------------------------------------------------------------------------


def test_pagination_walks_every_project_once_by_its_links(api, db):
    built = world(published=2)
    expected = sorted(a.id for p in built.published for a in p.funded)
    seen, url, pages = [], f"{API}/projects?per_page=1", 0
    while url:
        body = _get(api, url).get_json()
        pages += 1
        assert body["meta"]["per_page"] == 1 and body["meta"]["total"] == len(expected)
        assert body["links"]["self"].endswith(f"page={body['meta']['page']}&per_page=1")
        assert (body["links"]["prev"] is None) == (body["meta"]["page"] == 1)
        seen += [p["id"] for p in body["data"]]
        url = body["links"]["next"]
    assert pages == len(expected)
    assert sorted(seen) == expected and len(set(seen)) == len(seen)


def test_links_keep_the_filters_and_a_page_past_the_end_is_empty(api, db):
    world(published=2)
    body = _get(api, f"{API}/projects?per_page=1&municipality={ROPAZI}&status=funded").get_json()
    assert body["meta"]["total"] == 2
    assert body["links"]["next"] == f"{API}/projects?municipality={ROPAZI}&status=funded&page=2&per_page=1"
    past = _get(api, f"{API}/projects?per_page=1&page=9").get_json()
    assert past["data"] == [] and past["links"]["next"] is None
    assert past["links"]["prev"] == f"{API}/projects?page=4&per_page=1"  # the last page with data
    assert _get(api, f"{API}/calls?per_page=200").get_json()["meta"]["per_page"] == 200


BAD_PARAMETERS = [
    ("calls", "page=0", "page"),
    ("calls", "page=abc", "page"),
    ("calls", "page=", "page"),
    ("calls", "page=1.5", "page"),
    ("calls", "page=100001", "page"),
    ("calls", "page=99999999999999999999999", "page"),
    ("projects", "per_page=201", "per_page"),
    ("projects", "per_page=0", "per_page"),
    ("projects", "per_page=-5", "per_page"),
    ("projects", "per_page=%D9%A3", "per_page"),  # an Arabic-Indic digit three
    ("projects", "municipality=123", "municipality"),
    ("projects", "municipality=abcdefg", "municipality"),
    ("projects", "municipality=", "municipality"),
    ("projects", "programme=bad%20code!", "programme"),
    ("projects", "round=0", "round"),
    ("projects", "round=first", "round"),
    ("projects", "status=draft", "status"),
    ("projects", "status=reserve", "status"),
    ("projects", "year=1999", "year"),
    ("statistics", "round=-1", "round"),
    ("statistics", "programme=" + "x" * 41, "programme"),
    ("projects.csv", "status=submitted", "status"),
    ("calls.csv", "municipality=00200001", "municipality"),
    ("statistics.csv", "year=abc", "year"),
]


@pytest.mark.parametrize(("endpoint", "query", "parameter"), BAD_PARAMETERS)
def test_a_bad_parameter_is_a_400_that_names_it(api, db, endpoint, query, parameter):
    response = api.get(f"{API}/{endpoint}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == 400 and error["parameter"] == parameter
    assert parameter in error["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- HTTP: caching, conditional requests, methods, CORS, cookies --------------------------------------


def test_an_etag_and_if_none_match_give_304(api, db):
    published = published_call("ETAG")
    for path in (f"{API}/calls", f"{API}/calls/{published.call.id}", f"{API}/projects", f"{API}/statistics"):
        first = _get(api, path)
        etag = first.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/")  # strong
        assert first.headers["Cache-Control"] == "public, max-age=300"
        again = api.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert api.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
        assert api.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_the_etag_changes_when_the_published_data_changes(api, db):
    published_call("BEFORE")
    before = _get(api, f"{API}/calls").headers["ETag"]
    assert _get(api, f"{API}/calls").headers["ETag"] == before  # stable for the same data
    published_call("AFTER", muni_code=ROPAZI)
    after = api.get(f"{API}/calls", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_last_modified_is_the_last_change_of_published_data_and_if_modified_since_works(api, db):
    published_call("LASTMOD")
    response = _get(api, f"{API}/projects")
    changed = data.last_change()
    assert changed is not None
    assert parse_date(response.headers["Last-Modified"]) == changed.replace(microsecond=0).astimezone(UTC)
    since = response.headers["Last-Modified"]
    assert api.get(f"{API}/projects", headers={"If-Modified-Since": since}).status_code == 304
    earlier = http_date(datetime(2020, 1, 1, tzinfo=UTC))
    assert api.get(f"{API}/projects", headers={"If-Modified-Since": earlier}).status_code == 200
    # A stale ETag wins over a fresh date (RFC 9110 §13.2.2).
    stale = api.get(f"{API}/projects", headers={"If-Modified-Since": since, "If-None-Match": '"old"'})
    assert stale.status_code == 200


def test_without_published_data_last_modified_is_the_epoch(api, db):
    response = _get(api, f"{API}/calls")
    assert response.get_json()["data"] == []
    assert response.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_head_answers_like_get_without_a_body(api, db):
    published_call("HEAD")
    get = _get(api, f"{API}/projects")
    head = api.head(f"{API}/projects")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == get.headers["ETag"]


def test_cors_is_open_for_reading_without_credentials(api, db):
    published = published_call("CORS")
    origin = {"Origin": "https://www.aizkraukle.lv"}
    for path in (f"{API}/calls", f"{API}/projects.csv", f"{API}/openapi.json", f"{API}/calls/999999"):
        response = api.get(path, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = api.options(
        f"{API}/calls/{published.call.id}",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert set(preflight.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    # Only the API: the portal's pages stay closed to other origins.
    assert "Access-Control-Allow-Origin" not in api.get("/", headers=origin).headers


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(api, db, method):
    response = getattr(api, method)(f"{API}/calls", json={})
    assert response.status_code == 405  # not a CSRF refusal: nothing here accepts a write
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_an_unknown_api_path_is_a_json_404(api, db):
    response = api.get(f"{API}/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_response_sets_a_cookie(app, client, db):
    """The browser-like client (it carries the language cookie) gets no session or other cookie back."""
    published = published_call("COOKIE")
    paths = [
        f"{API}/calls",
        f"{API}/calls/{published.call.id}",
        f"{API}/calls/{published.call.id}/results",
        f"{API}/projects",
        f"{API}/projects/{published.funded[0].id}",
        f"{API}/statistics",
        f"{API}/calls.csv",
        f"{API}/projects.csv",
        f"{API}/statistics.csv",
        f"{API}/openapi.json",
        f"{API}/calls?page=0",
        f"{API}/calls/999999",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 400, 404)
        assert "Set-Cookie" not in response.headers, path


def test_a_logged_in_request_is_not_stored_by_caches(client, db, login_as):
    """The portal's rule for logged-in users (no-store) holds on the API too."""
    from tests import factories

    published_call("LOGGEDIN")
    login_as(factories.coordinator())
    response = client.get(f"{API}/calls")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_errors_are_in_the_visitors_language(api, db):
    english = api.get(f"{API}/calls?page=0", headers={"Accept-Language": "en"}).get_json()["error"]
    assert "page" in english["message"]
    latvian = api.get(f"{API}/calls/999999", headers={"Accept-Language": "lv"}).get_json()["error"]
    assert latvian["message"]


# --- SQL statements do not grow with the rows ---------------------------------------------------------


LISTS = [
    "/calls?per_page=200",
    "/projects?per_page=200",
    "/statistics",
    "/calls.csv",
    "/projects.csv",
    "/statistics.csv",
]


def _statements(api, app, path) -> int:
    pagecache.store.clear()  # the rendering is measured, not the page cache
    with count_queries(_db.engine) as statements:
        _get(api, API + path)
    return len(statements)


def test_list_endpoints_use_the_same_number_of_statements_for_more_rows(app, api, db):
    published_call("Q1")
    few = {path: _statements(api, app, path) for path in LISTS}
    published_call("Q2", muni_code=ROPAZI)
    published_call("Q3")
    more = {path: _statements(api, app, path) for path in LISTS}
    assert all(count > 0 for count in few.values()), few  # the listener does see the statements
    assert more == few
    assert _get(api, f"{API}/projects?per_page=200").get_json()["meta"]["total"] == 6
