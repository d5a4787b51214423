"""Nothing unpublished and nothing personal leaks through the API or the CSV downloads (issue 6, "Done
when"; QUALITY F3).

The data: one call with published results next to a call decided but not published, a draft call and a
call in evaluation with submitted scores; contact persons, e-mail addresses, phone numbers, IBANs, user
names, score comments and unpublished titles all carry distinctive strings. Every endpoint is walked —
every page of every list, every call and application id in the database, with the filters that select
the hidden calls — and none of those strings may appear; unpublished ids give 404.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.calls.models import Call
from portal.extensions import db as _db
from tests.api.support import ROPAZI, api_fixture, world  # noqa: F401

API = "/api/v1"
IBAN = re.compile(r"\bLV\d{2}[A-Z]{4}\d{13}\b")
PHONE = re.compile(r"\+371")


@pytest.fixture()
def built(db):
    return world(published=1)


def _text(response) -> str:
    """The body as a person would read it (JSON unescaped, so "ā" is searched as "ā", not "\\u0101")."""
    if response.mimetype == "application/json":
        return json.dumps(response.get_json(), ensure_ascii=False)
    raw = response.get_data()
    return raw.decode("utf-8-sig")


def _walk(api, start: str) -> list:
    """GET a list and every following page; return the responses."""
    responses, url = [], start
    while url:
        response = api.get(url)
        responses.append((url, response))
        url = response.get_json()["links"]["next"] if response.status_code == 200 else None
    return responses


def _all_urls(built) -> list[str]:
    call_ids = _db.session.scalars(sa.select(Call.id)).all()
    application_ids = _db.session.scalars(sa.select(Application.id)).all()
    hidden = [built.decided.call, built.draft_call, built.evaluation_call]
    filters = [""] + [f"municipality={c.municipality.code}&round={c.round.number}" for c in hidden]
    filters += [f"municipality={ROPAZI}", "status=funded", "programme=pumpurs-jip"]
    urls = [f"{API}/calls/{i}" for i in call_ids] + [f"{API}/calls/{i}/results" for i in call_ids]
    urls += [f"{API}/projects/{i}" for i in application_ids]
    for query in filters:
        urls += [f"{API}/projects.csv?{query}"]
        if "status" not in query:
            urls += [f"{API}/calls.csv?{query}"]
    for query in ["", *(f"round={c.round.number}" for c in hidden), "programme=pumpurs-jip"]:
        urls += [f"{API}/statistics?{query}", f"{API}/statistics.csv?{query}"]
    urls.append(f"{API}/openapi.json")
    return urls, filters


def test_no_endpoint_shows_anything_unpublished_or_personal(api, built):
    urls, filters = _all_urls(built)
    responses = [(url, api.get(url)) for url in urls]
    for query in filters:
        for per_page in (1, 50):
            responses += _walk(api, f"{API}/projects?per_page={per_page}&{query}")
            if "status" not in query:
                responses += _walk(api, f"{API}/calls?per_page={per_page}&{query}")
    assert len(responses) > 60
    shown = 0
    for url, response in responses:
        assert response.status_code in (200, 404), (url, response.status_code)
        text = _text(response)
        for secret in built.secrets:
            assert secret.lower() not in text.lower(), f"{secret!r} on {url}"
        if url.endswith("openapi.json"):
            continue
        assert "@" not in text, f"an e-mail address on {url}"
        assert not IBAN.search(text), f"an IBAN on {url}"
        assert not PHONE.search(text), f"a phone number on {url}"
        assert "Neatbilst nolikumam" not in text, f"a rejection reason on {url}"
        shown += response.status_code == 200
    assert shown > 30


def test_unpublished_calls_and_applications_are_404(api, built):
    for call_id in built.hidden_call_ids:
        for path in (f"{API}/calls/{call_id}", f"{API}/calls/{call_id}/results"):
            response = api.get(path)
            assert response.status_code == 404, path
            assert set(response.get_json()) == {"error"}
    for application_id in built.hidden_application_ids:
        assert api.get(f"{API}/projects/{application_id}").status_code == 404, application_id


def test_lists_and_downloads_hold_only_published_calls_and_funded_projects(api, built):
    published = built.published[0]
    call_ids = {
        item["id"]
        for _, response in _walk(api, f"{API}/calls?per_page=1")
        for item in response.get_json()["data"]
    }
    assert call_ids == {published.call.id}
    project_ids = {
        item["id"]
        for _, response in _walk(api, f"{API}/projects?per_page=1")
        for item in response.get_json()["data"]
    }
    assert project_ids == {a.id for a in published.funded}
    calls_csv = api.get(f"{API}/calls.csv").get_data().decode("utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in calls_csv[1:]] == [str(published.call.id)]
    projects_csv = api.get(f"{API}/projects.csv").get_data().decode("utf-8-sig").splitlines()
    assert sorted(int(line.split(";")[0]) for line in projects_csv[1:]) == sorted(
        a.id for a in published.funded
    )


def test_statistics_count_only_published_results(api, built):
    body = api.get(f"{API}/statistics").get_json()
    assert body["totals"]["calls"] == 1
    assert body["totals"]["applications"] == len(built.published[0].applications)
    assert [row["municipality"]["code"] for row in body["data"]] == [
        built.published[0].call.municipality.code
    ]
    hidden_round = built.evaluation_call.round.number
    assert api.get(f"{API}/statistics?round={hidden_round}").get_json()["data"] == []
