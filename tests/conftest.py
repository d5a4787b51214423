"""Test fixtures: one app per session, schema through the migrations, one rolled-back transaction
per test (STYLE "Testing"). The database is SQLite unless TEST_DATABASE_URL names PostgreSQL."""

from __future__ import annotations

import os
import tempfile

import pytest
from flask_migrate import upgrade

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db as _db
from portal.extensions import mail
from tests.helpers import browser_client, rolled_back_db

_TMP = tempfile.mkdtemp(prefix="jip-test-")


def _database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"


class _Config(TestConfig):
    SQLALCHEMY_DATABASE_URI = TestConfig.SQLALCHEMY_DATABASE_URI
    MAIL_SEND_AFTER_COMMIT = True


@pytest.fixture(scope="session")
def app():
    from portal.config import normalise_database_url as normalise

    _Config.SQLALCHEMY_DATABASE_URI = normalise(_database_url())
    app = create_app(_Config)
    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture()
def db(app):
    """Run the test inside one outer transaction that is rolled back at the end (a view's commit included)."""
    with rolled_back_db() as database:
        yield database


@pytest.fixture(autouse=True)
def _no_real_mail(app):
    """Block real mail: Flask-Mail records messages instead of sending (smtp tests opt out)."""
    app.config["MAIL_SUPPRESS_SEND"] = True
    yield
    app.config["MAIL_SUPPRESS_SEND"] = True


@pytest.fixture(autouse=True)
def _cold_page_cache():
    """Each test starts with no cached public page, as a fresh worker would. (A test's data is rolled back,
    so an old page could otherwise match a version value that the rollback restored.)"""
    from portal.core import pagecache

    pagecache.store.clear()


@pytest.fixture()
def outbox(app):
    """Messages Flask-Mail would have sent during the test."""
    with mail.record_messages() as messages:
        yield messages


@pytest.fixture()
def client(app, db):
    """A browser-like client on https://localhost, so Secure __Host- cookies behave as in a browser."""
    return browser_client(app)


@pytest.fixture()
def login_as(client, db):
    """Log a user in through the real forms (password, then TOTP when the user has it)."""
    from tests.helpers import log_in

    def _login(user, password=None):
        return log_in(client, user, password)

    return _login


@pytest.fixture()
def canary():
    """A loopback HTTP server that counts the requests it receives (QUALITY E3: a PDF must fetch nothing)."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"CANARY-SECRET")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()
