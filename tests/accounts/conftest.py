"""Account tests: a client that behaves like a browser on https://localhost (it sends a Referer,
which Flask-WTF's strict CSRF check requires on HTTPS)."""

from __future__ import annotations

import pytest

REFERER = "https://localhost/"


def browser_client(app):
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = REFERER
    return client


@pytest.fixture()
def client(app, db):
    return browser_client(app)
