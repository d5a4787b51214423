"""A real SMTP server on loopback (aiosmtpd) for outbox tests and browser tests.

    with smtp_server(app) as server:
        ...                                   # the app's MAIL_* now point at it, sending is on
        assert server.messages[0]["Subject"] == "..."

`refuse_first=3` makes the server answer "451 try later" to the first three messages; `delay=0.2`
makes it slow (each message takes 0.2 s), so that concurrent senders overlap.
The app's MAIL_* settings are restored afterwards.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path


def _import_controller():
    """Import aiosmtpd's Controller even though `tests/public/` (the public pages' tests) shadows the
    `public` module of the atpublic distribution that aiosmtpd imports, when pytest puts `tests/` on
    sys.path. The real module is swapped in for the import only, then the test package is restored."""
    try:
        from aiosmtpd.controller import Controller

        return Controller
    except ImportError:
        pass
    import importlib.machinery
    import importlib.util

    paths = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    spec = importlib.machinery.PathFinder.find_spec("public", paths)
    saved = sys.modules.pop("public", None)
    try:
        real = importlib.util.module_from_spec(spec)
        sys.modules["public"] = real
        spec.loader.exec_module(real)
        for name in [n for n in sys.modules if n.startswith("aiosmtpd")]:
            del sys.modules[name]
        from aiosmtpd.controller import Controller

        return Controller
    finally:
        if saved is not None:
            sys.modules["public"] = saved
        else:
            sys.modules.pop("public", None)


Controller = _import_controller()

_MAIL_KEYS = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SUPPRESS_SEND",
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Accept messages (after refusing the first `refuse_first` of them) and keep them parsed."""

    def __init__(self, refuse_first: int = 0, refusal: str = "451 4.3.0 Try again later", delay: float = 0):
        self.refuse_first = refuse_first
        self.delay = delay
        self.refusal = refusal
        self.attempts = 0
        self.refused = 0
        self.messages: list[EmailMessage] = []
        self.envelopes = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:  # a slow server, so that concurrent senders overlap
            await asyncio.sleep(self.delay)
        with self._lock:
            self.attempts += 1
            if self.refused < self.refuse_first:
                self.refused += 1
                return self.refusal
            self.envelopes.append(envelope)
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def refuse_always(self) -> None:
        self.refuse_first = 10**9


@contextmanager
def smtp_server(app, *, refuse_first: int = 0, delay: float = 0) -> Iterator[RecordingHandler]:
    """Run an SMTP server on 127.0.0.1 and point the app's outbox at it for the duration."""
    handler = RecordingHandler(refuse_first=refuse_first, delay=delay)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {key: app.config.get(key) for key in _MAIL_KEYS}
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_USERNAME=None,
        MAIL_PASSWORD=None,
        MAIL_SUPPRESS_SEND=False,
    )
    try:
        yield handler
    finally:
        app.config.update(saved)
        controller.stop()
