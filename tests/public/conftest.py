"""Public-page tests: a browser-like client (sends a Referer on https://localhost) and a fresh `g`
for every request."""

from __future__ import annotations

import pytest

from tests.helpers import fresh_g_per_request


@pytest.fixture(autouse=True)
def _fresh_g(app):
    with fresh_g_per_request(app):
        yield


@pytest.fixture()
def client(app, db):
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client
