"""Friendly error pages in both languages; never a stack trace to the user (QUALITY D7)."""

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.core.audit import security_event
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db

log = logging.getLogger(__name__)


def _page(code: int, title: str, message: str):
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        security_event("csrf_failed", path=request.path, ip=request.remote_addr)
        return _page(
            400,
            _("The form has expired"),
            _("For your security the form could not be accepted. Go back, reload the page and try again."),
        )

    @app.errorhandler(TransitionDenied)
    def _denied(exc):
        security_event("transition_denied", path=request.path, detail=str(exc))
        return _page(403, _("Access denied"), _("You do not have permission to do this."))

    @app.errorhandler(WorkflowError)
    def _conflict(exc):
        db.session.rollback()
        return _page(409, _("This action is no longer possible"), exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc):
        messages = {
            400: (_("Bad request"), _("The request could not be understood.")),
            403: (_("Access denied"), _("You do not have permission to see this page.")),
            404: (_("Page not found"), _("The page you are looking for does not exist or has been moved.")),
            405: (_("Not allowed"), _("This action is not allowed here.")),
            409: (_("Conflict"), _("Someone else changed this in the meantime. Reload and try again.")),
            413: (_("File too large"), _("The file is larger than the portal accepts.")),
            429: (_("Too many attempts"), _("Too many attempts. Wait a few minutes and try again.")),
        }
        title, message = messages.get(exc.code, (_("Error"), _("Something went wrong.")))
        if exc.code in (401, 403):
            security_event("access_denied", path=request.path, code=exc.code, ip=request.remote_addr)
        response = exc.get_response()
        body, code = _page(exc.code or 500, title, message)
        response.data = body
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return _page(
            500,
            _("Something went wrong"),
            _("An unexpected error happened. It has been logged; please try again later."),
        )
