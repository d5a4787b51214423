"""Security headers on every response (QUALITY D7; ASVS 3.4, 14.3.2).

Every response, including error pages and static files, carries HSTS, a strict Content Security Policy
(no inline script or style, no plugins, no framing), nosniff and a referrer policy. Pages seen by a
logged-in user are never stored by the browser or a proxy (`Cache-Control: no-store`).
"""

import logging

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

HSTS = "max-age=31536000; includeSubDomains"

# Views that may be embedded in other sites set this attribute (see issue 6); nothing does yet.
EMBEDDABLE_ATTR = "embeddable"


def _is_authenticated() -> bool:
    """Say whether the response is for a logged-in user; if that cannot be known, assume it is."""
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # e.g. the database is down while an error page is being sent
        log.warning("could not tell whether the user is logged in; sending no-store", exc_info=True)
        return True


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Strict-Transport-Security", HSTS)
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not getattr(request, EMBEDDABLE_ATTR, False):
            headers.setdefault("X-Frame-Options", "DENY")
        if _is_authenticated():
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"
        return response
