"""Configuration from the environment (DESIGN §8): DATABASE_URL, SECRET_KEY, MAIL_*, WKHTMLTOPDF."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """Raised when the environment lacks a setting production cannot run without."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3 (Heroku-style `postgres://` included)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _database_url(default: str) -> str:
    return normalise_database_url(os.environ.get("DATABASE_URL", default))


# argon2id's least acceptable parameters (OWASP Password Storage Cheat Sheet; QUALITY A2).
PASSWORD_HASH_MINIMUM = {"memory_cost": 19456, "time_cost": 2, "parallelism": 1}


class Config:
    """Production settings: every secret must come from the environment."""

    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'portal.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Anonymous public pages are kept this many seconds at most (portal/core/pagecache.py: they are
    # re-rendered at once when public data changes; the limit bounds clock-derived text). 0: off.
    PUBLIC_PAGE_TTL = int(os.environ.get("PUBLIC_PAGE_TTL", "10"))
    # argon2id parameters for new hashes; empty: argon2-cffi's RFC 9106 defaults (m=64 MiB, t=3, p=4).
    PASSWORD_HASH_PARAMS: dict[str, int] = {}

    # Sessions (QUALITY B1, B4): a __Host- cookie that carries only the server-side session id.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_IDLE_TIMEOUT_STAFF = timedelta(minutes=15)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=8)
    REMEMBER_COOKIE_NAME = "__Host-remember"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # CSRF tokens live as long as the session: a long form is never lost to an expired token (QUALITY D6).
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    # Login throttling (QUALITY A3): counted in the database, so every worker shares the counter (A4).
    LOGIN_MAX_FAILURES = 10
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_PER_IP = 50
    TOKEN_LIFETIME_RESET = timedelta(minutes=60)
    TOKEN_LIFETIME_CONFIRM = timedelta(days=2)
    TOKEN_LIFETIME_INVITE = timedelta(days=14)

    # E-mail (DESIGN §7): written to the outbox, sent after commit, retried with back-off.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "portals@jip.example.lv")
    MAIL_SUPPRESS_SEND = _bool("MAIL_SUPPRESS_SEND")
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "6"))
    MAIL_RETRY_BASE_SECONDS = int(os.environ.get("MAIL_RETRY_BASE_SECONDS", "60"))
    MAIL_SEND_AFTER_COMMIT = _bool("MAIL_SEND_AFTER_COMMIT", True)

    WKHTMLTOPDF = os.environ.get("WKHTMLTOPDF", "/usr/bin/wkhtmltopdf")
    PDF_TIMEOUT_SECONDS = 30

    BABEL_DEFAULT_LOCALE = "lv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Riga"
    LANGUAGES = ("lv", "en")

    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # a whole request; larger ones get the friendly 413 page
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))  # one attached file
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "atbalsts@jip.example.lv")
    # QUALITY F4: contact persons, bank details and attachments of projects closed longer than this many
    # years are anonymised by `flask retention run` (the aggregates stay).
    RETENTION_YEARS = int(os.environ.get("RETENTION_YEARS", "10"))
    # Demo shortcuts (TOTP skipped for demo accounts) exist only where this is set and never in production.
    DEMO_MODE = False
    # Staff must use TOTP (QUALITY A5); tests and the demo may relax it only through DEMO_MODE.
    MFA_REQUIRED_ROLES = ("national_admin", "coordinator", "evaluator")

    @classmethod
    def validate(cls) -> None:
        """Refuse to start production without secrets or with demo shortcuts."""
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise ConfigError("SECRET_KEY must be set to at least 32 random characters.")
        if cls.DEMO_MODE:
            raise ConfigError("DEMO_MODE is never allowed in production.")
        weak = {k: v for k, v in PASSWORD_HASH_MINIMUM.items() if cls.PASSWORD_HASH_PARAMS.get(k, v) < v}
        if weak:
            raise ConfigError(f"PASSWORD_HASH_PARAMS below the minimum (ASVS 11.4.2): {weak}")


def _instance_secret() -> str:
    """Keep one random key per checkout for `make run`, so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class DevelopmentConfig(Config):
    """`make run`: SQLite, demo data, plain-HTTP cookies on 127.0.0.1."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or _instance_secret()
    SESSION_COOKIE_NAME = "jip_session"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_NAME = "jip_remember"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_SSL_STRICT = False
    DEMO_MODE = _bool("DEMO_MODE", True)
    # Nothing leaves the machine from the demo: messages are written to the outbox and logged.
    MAIL_SUPPRESS_SEND = _bool("MAIL_SUPPRESS_SEND", True)

    @classmethod
    def validate(cls) -> None:
        """Development needs nothing beyond its defaults."""


class TestConfig(Config):
    """pytest: the database comes from TEST_DATABASE_URL (SQLite file or the throwaway PostgreSQL)."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - tests only
    # Never DATABASE_URL: the test run drops every table of the database it is given.
    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # The suite logs in thousands of times; argon2id at its production cost would take minutes of it.
    # tests/accounts/test_passwords.py checks the production parameters (QUALITY A2).
    PASSWORD_HASH_PARAMS = {"memory_cost": 1024, "time_cost": 1, "parallelism": 1}
    MAIL_SUPPRESS_SEND = True
    MAIL_DEFAULT_SENDER = "portals@jip.test"
    PUBLIC_BASE_URL = "https://localhost"
    PREFERRED_URL_SCHEME = "https"
    SERVER_NAME = None

    @classmethod
    def validate(cls) -> None:
        """Tests configure themselves."""


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by PORTAL_ENV (production unless said otherwise)."""
    name = os.environ.get("PORTAL_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.") from None
