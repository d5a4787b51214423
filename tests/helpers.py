"""Helpers shared by tests: logging in through the real forms, reading CSRF tokens."""

from __future__ import annotations

import re

from tests.factories import PASSWORD, current_totp

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """GET a page and return the CSRF token of its first form."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def log_in(client, user, password: str | None = None):
    """Log in with the password and, if the user has TOTP, the current code; return the last response."""
    token = csrf_token(client, "/account/login")
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": password or PASSWORD, "csrf_token": token},
    )
    if user.has_totp:
        token = csrf_token(client, "/account/login/totp")
        response = client.post("/account/login/totp", data={"code": current_totp(user.totp_secret), "csrf_token": token})
    return response
