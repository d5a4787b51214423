"""Browser test harness: the real app on a live loopback server, headless Debian Chromium, axe.

- `live_server` (session): `create_app` with a TestConfig subclass on a fresh, migrated SQLite file,
  DEMO_MODE off, e-mail really sent over SMTP to aiosmtpd on 127.0.0.1 (tests/smtp.py; `mailbox`), served
  by werkzeug in a thread on a free port. Unhandled exceptions in the app fail the test that caused them.
- `browser` (session): /usr/bin/chromium through Playwright, headless. Chromium accepts the `__Host-`
  Secure session cookie on http://127.0.0.1 (a potentially trustworthy origin), so the production cookie
  settings of TestConfig stay as they are.
- `page`: a new browser context per test, for each device in `device` ("phone" 360x740, "desktop"
  1280x800; narrow it with `@pytest.mark.parametrize("device", ["phone"])`). Console errors and CSP
  violations on the page fail the test; clear `page_errors` in tests that expect one.
"""

from __future__ import annotations

import logging
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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test itself failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class _ErrorCollector(logging.Handler):
    """Collects ERROR log records of the app (unhandled exceptions, dead e-mail) while a test runs."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.ERROR)
        self.sink = sink
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("portal", "werkzeug", "flask", "sqlalchemy"):
            self.sink.append(self.format(record))


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """No access log lines in the test output."""


@dataclass
class LiveServer:
    url: str
    app: Flask
    errors: list[str] = field(default_factory=list)
    smtp: object = None  # tests.smtp.RecordingHandler

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server():
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig
    from portal.extensions import db
    from tests.smtp import smtp_server

    tmp = tempfile.mkdtemp(prefix="jip-browser-")

    class BrowserConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/browser.db"
        TESTING = False  # behave as in production: error pages, not propagated exceptions
        DEMO_MODE = False
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
        live.errors.append(f"{type(exception).__name__}: {exception}")

    got_request_exception.connect(_record, app, weak=False)
    collector = _ErrorCollector(live.errors)
    logging.getLogger().addHandler(collector)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        with smtp_server(app) as smtp:  # sending really on, to aiosmtpd on loopback
            live.smtp = smtp
            yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        got_request_exception.disconnect(_record, app)
        logging.getLogger().removeHandler(collector)
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def mailbox(live_server):
    """What the app sent over SMTP during this test."""
    from tests.browser.support import Mailbox

    box = Mailbox(live_server.smtp)
    box.clear()
    return box


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
def page(request, context, live_server, page_errors):
    """A page in a fresh context; fails the test on console errors, CSP violations or app exceptions."""
    page = context.new_page()

    def _console(msg):
        if msg.type == "error":
            page_errors.append(f"console error: {msg.text}")

    page.on("console", _console)
    page.on("pageerror", lambda exc: page_errors.append(f"page error: {exc}"))
    live_server.errors.clear()
    yield page
    problems = page_errors + [f"server: {e}" for e in live_server.errors]
    report = getattr(request.node, "report_call", None)
    if problems and report is not None and report.failed:
        # The test has failed already: say what else went wrong without a second, separate error.
        print("problems in the browser or the app:\n" + "\n".join(problems))
        return
    assert not problems, "problems in the browser or the app:\n" + "\n".join(problems)
