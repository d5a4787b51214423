"""Security headers on every response (QUALITY D7)."""

from flask import Flask, request
from flask_login import current_user

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

# Views that may be embedded in other sites set this attribute (see issue 6); nothing does yet.
EMBEDDABLE_ATTR = "embeddable"


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not getattr(request, EMBEDDABLE_ATTR, False):
            headers.setdefault("X-Frame-Options", "DENY")
        if current_user and current_user.is_authenticated:
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"
        return response
