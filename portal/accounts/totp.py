"""TOTP two-factor authentication (QUALITY A6).

Codes from the current and the previous time step are accepted (window 1); a code whose step is not
later than the last accepted one is refused, so one code never works twice.
"""

from __future__ import annotations

import io
import time

import pyotp
import segno

ISSUER = "JIP portāls"
STEP_SECONDS = 30


def new_secret() -> str:
    """Return a fresh 160-bit seed as 32 base32 characters."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """Return the provisioning URI as an SVG QR code in a data: URI (no third-party service)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2)
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def matching_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """Return the time step the code belongs to if it is valid and unused, else None."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // STEP_SECONDS)
    for step in (current, current - 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
