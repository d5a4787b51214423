"""Browser test harness: the real app on a live loopback server, headless Debian Chromium, axe.

- `live_server` (session): `create_app` with a TestConfig subclass on a fresh, migrated SQLite file,
  DEMO_MODE off, e-mail really sent over SMTP to an aiosmtpd server on 127.0.0.1 (`mailbox`), served
  by werkzeug in a thread on a free port. Unhandled exceptions in the app fail the test that caused them.
- `browser` (session): /usr/bin/chromium through Playwright, headless. Chromium accepts the `__Host-`
  Secure session cookie on http://127.0.0.1 (a potentially trustworthy origin), so the production cookie
  settings of TestConfig stay as they are.
- `page`: a new browser context per test, for each device in `device` ("phone" 360x740, "desktop"
  1280x800; narrow it with `@pytest.mark.parametrize("device", ["phone"])`). Console errors and CSP
  violations on the page fail the test; clear `page_errors` in tests that expect one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEVICES = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
TIMEOUT_MS = 15_000
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Everything here is a browser test; without Chromium it is skipped, saying why."""
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found: install Debian's chromium (make setup does)")
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """No access log lines in the test output."""


@dataclass
class LiveServer:
    url: str
    app: Flask
    errors: list[BaseException] = field(default_factory=list)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on loopback capturing messages (tests/smtp.py's when present)."""
    from tests.browser.support import smtp_capture

    with smtp_capture() as capture:
        yield capture


@pytest.fixture(scope="session")
def live_server(smtp_server):
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig
    from portal.extensions import db

    tmp = tempfile.mkdtemp(prefix="jip-browser-")

    class BrowserConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/browser.db"
        TESTING = False  # behave as in production: error pages, not propagated exceptions
        DEMO_MODE = False
        MAIL_SERVER = smtp_server.host
        MAIL_PORT = smtp_server.port
        MAIL_USE_TLS = False
        MAIL_USE_SSL = False
        MAIL_USERNAME = None
        MAIL_PASSWORD = None
        MAIL_SUPPRESS_SEND = False
        MAIL_SEND_AFTER_COMMIT = True
        PREFERRED_URL_SCHEME = "http"

    app = create_app(BrowserConfig)
    with app.app_context():
        upgrade()
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    app.config["PUBLIC_BASE_URL"] = live.url

    def _record(sender, exception, **extra):
        live.errors.append(exception)

    got_request_exception.connect(_record, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        got_request_exception.disconnect(_record, app)
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def mailbox(smtp_server):
    """The SMTP capture, emptied for this test."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture(params=list(DEVICES))
def device(request) -> str:
    return request.param


@pytest.fixture()
def page_errors() -> list[str]:
    return []


@pytest.fixture()
def context(browser, live_server, device):
    context = browser.new_context(base_url=live_server.url, **DEVICES[device])
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture()
def page(context, live_server, page_errors):
    """A page in a fresh context; fails the test on console errors, CSP violations or app exceptions."""
    page = context.new_page()

    def _console(msg):
        if msg.type == "error":
            page_errors.append(f"console error: {msg.text}")

    page.on("console", _console)
    page.on("pageerror", lambda exc: page_errors.append(f"page error: {exc}"))
    live_server.errors.clear()
    yield page
    app_errors = [f"{type(e).__name__}: {e}" for e in live_server.errors]
    problems = page_errors + [f"server exception: {e}" for e in app_errors]
    assert not problems, "problems in the browser or the app:\n" + "\n".join(problems)
