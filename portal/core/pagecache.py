"""A cache of public pages for anonymous visitors, invalidated by the data they show.

The open calls, the published results, the register of funded projects and the public API lists are
read far more often than the data behind them changes. `@public_page` keeps each anonymous page's
response in the worker's memory, keyed by host, path with query, and language, together with the
**public data version** it was rendered at: one row in `public_data_version` that every transaction
changing public data sets to a new random value just before it commits (`_bump_if_public`, a session
event, so no service can forget it). A request reads the version (one primary-key SELECT) and serves the
stored page only if it is unchanged and younger than PUBLIC_PAGE_TTL seconds — the bound for text derived
from the clock ("3 days left"). Every worker and host sees the same version, so a publication, a
withdrawal or a renamed organisation shows on the next request everywhere.

Never cached: logged-in users, requests with a flashed message waiting, conditional requests (the API's
ETag/304 logic answers those), anything but a 200. The CSRF token in a page's forms (the language switch)
is per visitor: the page is stored with a placeholder that is replaced by the visitor's own token.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from functools import lru_cache, wraps
from threading import Lock

import sqlalchemy as sa
from flask import current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.extensions import db

_PLACEHOLDER = "__jip_csrf_token_placeholder__"
_MAX_ENTRIES = 512
# Response headers that belong to one response, not to the page.
_PER_RESPONSE = {"set-cookie", "date", "content-length", "vary"}


class PublicDataVersion(db.Model):
    """One row: a random value that changes whenever public data changes (see the module's doc)."""

    __tablename__ = "public_data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)


@lru_cache(maxsize=1)
def _public_models() -> tuple[type, ...]:
    from portal.calls.models import Call, CallCriterion
    from portal.contracts.models import Contract
    from portal.evaluation.models import Decision, EvaluationResult
    from portal.municipalities.models import Municipality
    from portal.organisations.models import Organisation
    from portal.programmes.models import Programme, Round

    return (
        Call,
        CallCriterion,
        Contract,
        Decision,
        EvaluationResult,
        Municipality,
        Organisation,
        Programme,
        Round,
    )


def _is_public_change(obj, *, dirty: bool) -> bool:
    from portal.applications.models import Application

    if isinstance(obj, Application):
        # A draft's autosaves are not public; a change of status is (submitted, funded, withdrawn …).
        return not dirty or sa.inspect(obj).attrs.status.history.has_changes()
    return isinstance(obj, _public_models())


def _touches_public(session: Session) -> bool:
    return any(_is_public_change(o, dirty=False) for o in (*session.new, *session.deleted)) or any(
        _is_public_change(o, dirty=True) for o in session.dirty
    )


@sa.event.listens_for(Session, "after_flush")
def _note_public_change(session: Session, _context) -> None:
    # In after_flush the new/dirty/deleted collections still show what this flush wrote.
    if not session.info.get("public_changed") and _touches_public(session):
        session.info["public_changed"] = True


@sa.event.listens_for(Session, "before_commit")
def _bump_if_public(session: Session) -> None:
    if session.info.get("public_changed") or _touches_public(session):
        session.info.pop("public_changed", None)
        # Random, not a counter: a rolled-back transaction can never make an old version current again.
        session.execute(sa.update(PublicDataVersion).values(version=secrets.randbits(62)))


@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
def _forget_public_change(session: Session) -> None:
    session.info.pop("public_changed", None)


def current_version() -> int | None:
    return db.session.scalar(sa.select(PublicDataVersion.version).where(PublicDataVersion.id == 1))


class _Store:
    """A small LRU of rendered pages for this worker (bounded: query strings are the visitors' choice)."""

    def __init__(self):
        self.entries: OrderedDict = OrderedDict()
        self.lock = Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > _MAX_ENTRIES:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


store = _Store()


def csrf_token_for_template() -> str:
    """The template's csrf_token(): a placeholder while a page is rendered for the cache."""
    return _PLACEHOLDER if g.get("_rendering_for_cache") else generate_csrf()


def _cacheable_request() -> bool:
    return (
        current_app.config.get("PUBLIC_PAGE_TTL", 0) > 0
        and request.method == "GET"
        and not current_user.is_authenticated
        and "_flashes" not in session
        and not request.headers.get("If-None-Match")
        and not request.headers.get("If-Modified-Since")
    )


def _respond(status: int, headers: list, body: bytes):
    if _PLACEHOLDER.encode() in body:
        body = body.replace(_PLACEHOLDER.encode(), generate_csrf().encode())
    return current_app.response_class(body, status=status, headers=headers)


def public_page(view):
    """Serve the view's page from the cache for anonymous visitors while public data is unchanged."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _cacheable_request():
            return view(*args, **kwargs)
        from portal.core.i18n import current_language

        version = current_version()
        if version is None:  # no version row (a database not migrated by this code): never cache
            return view(*args, **kwargs)
        key = (request.host, request.full_path, current_language())
        entry = store.get(key)
        now = time.time()
        if entry is not None and entry[0] == version and entry[1] > now:
            return _respond(*entry[2:])
        g._rendering_for_cache = True
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            g._rendering_for_cache = False
        if response.status_code != 200 or response.direct_passthrough:
            return response
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _PER_RESPONSE]
        body = response.get_data()
        ttl = current_app.config["PUBLIC_PAGE_TTL"]
        store.put(key, (version, now + ttl, response.status_code, headers, body))
        return _respond(response.status_code, headers, body)

    return wrapper


def init_app(app) -> None:
    """Call after CSRFProtect.init_app, whose template global and context processor this replaces."""
    app.jinja_env.globals["csrf_token"] = csrf_token_for_template
    app.context_processor(lambda: {"csrf_token": csrf_token_for_template})
