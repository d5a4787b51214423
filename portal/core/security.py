"""Security headers on every response (QUALITY D7; ASVS 3.4, 14.3.2).

Every response, including error pages and static files, carries HSTS, a strict Content Security Policy
(no inline script or style, no plugins, no framing), nosniff and a referrer policy. Only the published
results view made for municipalities' websites may be framed (`allow_framing()`). Pages seen by a
logged-in user are never stored by the browser or a proxy (`Cache-Control: no-store`).
"""

import logging

import sqlalchemy as sa
from flask import Flask, request
from flask_login import current_user

log = logging.getLogger(__name__)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The one page another site may put in an <iframe> (a call's published results, issue 6): the same
# policy, except that any site may frame it.
EMBED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")

HSTS = "max-age=31536000; includeSubDomains"

# Set on the request by the views that may be embedded in other sites (allow_framing()).
EMBEDDABLE_ATTR = "embeddable"


def allow_framing() -> None:
    """Let other sites frame this response (only a successful page: errors and redirects never)."""
    setattr(request._get_current_object(), EMBEDDABLE_ATTR, True)


def _is_authenticated() -> bool:
    """Say whether the response is for a logged-in user; if that cannot be known, assume it is."""
    try:
        user = current_user._get_current_object()
        state = sa.inspect(user, raiseerr=False)
        if state is not None and "is_disabled" in state.unloaded:
            # Expired by the view's commit: the session loader accepted this user (active) for this
            # request, and the page was made for them, so it must not be stored; no need to reload.
            return True
        return bool(user and user.is_authenticated)
    except Exception:  # e.g. the database is down while an error page is being sent
        log.warning("could not tell whether the user is logged in; sending no-store", exc_info=True)
        return True


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        headers = response.headers
        embeddable = getattr(request, EMBEDDABLE_ATTR, False) and response.status_code == 200
        headers.setdefault("Strict-Transport-Security", HSTS)
        headers.setdefault("Content-Security-Policy", EMBED_CSP if embeddable else CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not embeddable:
            headers.setdefault("X-Frame-Options", "DENY")
        if _is_authenticated():
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"
        return response
