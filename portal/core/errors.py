"""Friendly error pages in both languages; never a stack trace to the user (QUALITY D7).

Browsers get an HTML page that says what happened and what to do next; the JSON API (and scripts that
ask for JSON, such as the session keep-alive) get `{"error": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from portal.core.audit import security_event
from portal.core.storage import FileRemoved
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    # Browsers send text/html (or */*), which wins the tie; only clients asking for JSON get JSON.
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _messages() -> dict[int, tuple[str, str]]:
    """Title and explanation for each status, in the visitor's language."""
    return {
        400: (
            _("Sorry, something was wrong with the request"),
            _(
                "The portal could not understand what was sent. "
                "Go back, check what you entered and try again."
            ),
        ),
        401: (_("Please log in"), _("You need to log in to see this page.")),
        403: (
            _("You cannot see this page"),
            _(
                "Your account does not have permission to do this. "
                "If you think it should, contact the support team."
            ),
        ),
        404: (
            _("Page not found"),
            _(
                "The page may have been moved or removed, or the address may be mistyped. "
                "If you typed the address, check it is correct."
            ),
        ),
        405: (
            _("This action is not possible here"),
            _("The page does not accept this kind of request. Go back and use the buttons on the page."),
        ),
        409: (
            _("Someone else changed this in the meantime"),
            _(
                "Your change was not saved because the information was changed after you opened it. "
                "Reload the page to see the latest version, then make your change again."
            ),
        ),
        410: (
            _("This file is no longer kept"),
            _(
                "The file was removed when the project's retention period ended. Its name and "
                "fingerprint (SHA-256) stay in the records."
            ),
        ),
        413: (
            _("The file is too large"),
            _(
                "The file you tried to upload is larger than the portal accepts. "
                "Make it smaller and try again."
            ),
        ),
        429: (
            _("Too many attempts"),
            _("You have tried too many times. Wait a few minutes, then try again."),
        ),
        500: (
            _("Sorry, there is a problem with the portal"),
            _(
                "Something went wrong on our side. It has been recorded and we will look into it. "
                "Please try again later; anything you saved before is safe."
            ),
        ),
    }


def _page(code: int, title: str | None = None, message: str | None = None):
    """Render the error page (or JSON) for a status code."""
    default_title, default_message = _messages().get(
        code, (_("Sorry, something went wrong"), _("Please try again later."))
    )
    title = title or default_title
    message = message or default_message
    if _wants_json():
        return jsonify(error={"code": code, "title": title, "message": message}), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _fallback_page(code: int):
    """A page that needs no template, database or session: used if the error page itself fails."""
    body = (
        '<!doctype html><html lang="lv"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Kļūda / Error</title></head><body><main id="main">'
        "<h1>Radās kļūda / Something went wrong</h1>"
        "<p>Lūdzu, mēģiniet vēlreiz vēlāk. / Please try again later.</p>"
        f'<p>{escape(str(code))}</p><p><a href="/">Sākumlapa / Home page</a></p></main></body></html>'
    )
    return body, code, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        security_event("csrf_failed", path=request.path, ip=request.remote_addr, reason=exc.description)
        return _page(
            400,
            _("The form has expired"),
            _(
                "For your security the form could not be accepted. This happens when a page has been open "
                "for a long time or in another browser. Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(TransitionDenied)
    def _denied(exc):
        security_event("transition_denied", path=request.path, detail=str(exc))
        return _page(403)

    @app.errorhandler(WorkflowError)
    def _conflict(exc):
        db.session.rollback()
        return _page(409, _("This action is no longer possible"), exc.message)

    @app.errorhandler(FileRemoved)
    def _removed(exc):
        return _page(410)

    @app.errorhandler(HTTPException)
    def _http(exc):
        code = exc.code or 500
        if code in (401, 403):
            security_event("access_denied", path=request.path, code=code, ip=request.remote_addr)
        response = exc.get_response()  # keeps headers such as Allow (405) and Retry-After (429)
        body, code = _page(code)
        if hasattr(body, "get_data"):  # JSON
            response.set_data(body.get_data())
            response.content_type = "application/json"
        else:
            response.set_data(body)
            response.content_type = "text/html; charset=utf-8"
        response.status_code = code
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            db.session.rollback()
        except Exception:  # the database itself may be what failed
            log.exception("rollback after the error failed")
        try:
            return _page(500)
        except Exception:
            log.exception("the error page could not be rendered")
            return _fallback_page(500)
