"""Public pages: home, language switch, accessibility statement, privacy notice; and (issue 6, in
their own modules on this blueprint) published results, the register of funded projects, statistics."""

from datetime import date
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError, RequestRedirect

from portal.core.i18n import set_lang_cookie
from portal.core.pagecache import public_page
from portal.extensions import db

bp = Blueprint("public", __name__)

# The accessibility statement's dates (Directive 2016/2102 Art. 7; MK 445): update `reviewed` whenever
# the statement is checked again, and `prepared` only if it is rewritten.
STATEMENT_PREPARED = date(2026, 11, 22)
STATEMENT_REVIEWED = date(2026, 11, 22)
PRIVACY_UPDATED = date(2026, 11, 22)


@bp.app_template_global()
def optional_url(endpoint: str, **values) -> str | None:
    """Return the URL of an endpoint, or None where that part of the portal is not installed."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.app_template_global()
def optional_path(path: str) -> str | None:
    """Return the path if the portal serves it to GET (e.g. the stable /api/v1/openapi.json), else None."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect as redirect_to:
        return urlsplit(redirect_to.new_url).path
    except HTTPException:
        return None
    return path


def _home_rules() -> dict | None:
    """The rules the home page explains: those of the active PuMPuRS programme (rules are data)."""
    from portal.programmes.models import Programme
    from portal.programmes.seed import PUMPURS

    programme = db.session.scalar(
        sa.select(Programme)
        .where(Programme.is_active.is_(True))
        .order_by(Programme.code != PUMPURS["code"], Programme.id)
    )
    if programme is None:
        return None
    return {
        "amount": programme.amount,
        "min_months": programme.min_months,
        "max_months": programme.max_months,
        "min_risk_share": f"{programme.min_risk_share.normalize():f}",
        "advance_share": f"{programme.advance_percent.normalize():f}",
    }


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Return a same-site path to go back to; anything else becomes the fallback (no open redirect)."""
    if not target:
        return fallback
    # Browsers treat a backslash like a slash ("/\\evil.example" is another host) and ignore tabs and
    # newlines inside URLs, so those never count as a same-site path.
    if "\\" in target or any(ch in target for ch in "\t\r\n"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.get("/")
@public_page
def index():
    return render_template("public/index.html", rules=_home_rules())


@bp.get("/healthz")
def health():
    """Liveness for a load balancer, and the ceiling of `make bench`: the whole request path (hooks,
    security headers) without a template or a query."""
    return current_app.response_class("ok\n", mimetype="text/plain")


@bp.post("/language")
def set_language():
    """Switch the language; remembered in a cookie and, for a logged-in user, on the account."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db.session.commit()
    response = redirect(safe_next(request.form.get("next")))
    return set_lang_cookie(response, lang)


@bp.get("/accessibility")
def accessibility():
    return render_template(
        "public/accessibility.html", prepared=STATEMENT_PREPARED, reviewed=STATEMENT_REVIEWED
    )


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", updated=PRIVACY_UPDATED)


# The published-data pages register themselves on `bp` when imported (issue 6).
from portal.public import register, results, statistics  # noqa: E402, F401
