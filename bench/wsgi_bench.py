"""The portal as `make bench` serves it: `gunicorn bench.wsgi_bench:app` (and in-process, `bench_app()`).

Production settings (portal.config.Config) in everything but what a benchmark on loopback cannot do:

- Cookie names and the Secure flag. Production cookies are `__Host-session` / `__Host-remember` with
  Secure; a client talking plain HTTP to 127.0.0.1 (no TLS terminator in front, as in production) must
  not send them back, so the load generator would stay logged out. Here they are `bench_session` /
  `bench_remember` without Secure. Nothing else about the session changes (server-side rows, signing,
  lifetimes, idle timeouts): the cost per request is the same.
- E-mail. There is no SMTP server on the bench machine; MAIL_SUPPRESS_SEND keeps every message that
  production would send in the outbox table (written in the same transaction, as in production) and
  marks it sent without opening a connection. Otherwise each submit would wait for a refused connection.
- SECRET_KEY and DATABASE_URL come from the environment (`bench/run.py` sets a random key and the
  throwaway PostgreSQL), as production reads them.

The login throttle (QUALITY A3/A4) is unchanged: it counts failed attempts in the database, and the
benchmark never fails a login (TOTP codes are never reused: see bench/load.py `log_in`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.config import Config, normalise_database_url  # noqa: E402


def bench_config(database_url: str | None = None, secret_key: str | None = None) -> type[Config]:
    """Config with the deviations listed in the module docstring (and nothing else)."""
    import os

    class BenchConfig(Config):
        ENV_NAME = "production"
        SECRET_KEY = secret_key or os.environ.get("SECRET_KEY")
        SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url or os.environ["DATABASE_URL"])
        SESSION_COOKIE_NAME = "bench_session"
        SESSION_COOKIE_SECURE = False
        REMEMBER_COOKIE_NAME = "bench_remember"
        REMEMBER_COOKIE_SECURE = False
        MAIL_SUPPRESS_SEND = True

    return BenchConfig


def bench_app(database_url: str | None = None, secret_key: str | None = None):
    return create_app(bench_config(database_url, secret_key))


def __getattr__(name: str):
    """`bench.wsgi_bench:app` for gunicorn, built on first access (importing the module stays cheap)."""
    if name == "app":
        globals()["app"] = application = bench_app()
        return application
    raise AttributeError(name)
