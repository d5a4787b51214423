"""Public pages: home, language switch, accessibility statement, privacy notice."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request
from flask_login import current_user

from portal.core.i18n import LANG_COOKIE
from portal.extensions import db

bp = Blueprint("public", __name__)


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Return a same-site path to go back to; anything else becomes the fallback (no open redirect)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.get("/")
def index():
    return render_template("public/index.html")


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
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return response


@bp.get("/accessibility")
def accessibility():
    return render_template("public/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")
