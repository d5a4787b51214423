"""PDF rendering with pdfkit/wkhtmltopdf, used defensively (QUALITY "PDF rendering", E3–E4).

User data never becomes markup (autoescaped templates), JavaScript and local file access are off,
every network load goes to a dead proxy, and the renderer runs under a timeout.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pdfkit
from flask import current_app, render_template

PDF_ASSETS = Path(__file__).resolve().parent.parent.parent / "templates" / "pdf"


class PdfError(RuntimeError):
    """The renderer failed or timed out."""


def pdf_options() -> dict[str, str | None]:
    """Return the wkhtmltopdf options every render uses."""
    return {
        "disable-javascript": None,
        "disable-local-file-access": None,
        "allow": str(PDF_ASSETS),
        "proxy": "http://127.0.0.1:9",
        "encoding": "UTF-8",
        "quiet": None,
        "page-size": "A4",
        "margin-top": "18mm",
        "margin-bottom": "18mm",
        "margin-left": "20mm",
        "margin-right": "20mm",
    }


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string to PDF bytes, killing a hung renderer after PDF_TIMEOUT_SECONDS."""
    binary = current_app.config["WKHTMLTOPDF"]
    timeout = current_app.config["PDF_TIMEOUT_SECONDS"]
    config = pdfkit.configuration(wkhtmltopdf=binary)
    # pdfkit has no timeout of its own: wrap the command in coreutils' timeout. pdfkit only builds the
    # command line: it is given an empty source because it would read extra renderer options from
    # <meta name="pdfkit-…"> tags in the HTML (CVE-2025-26240, unfixed in pdfkit 1.0.0); the HTML goes
    # to wkhtmltopdf on stdin, so nothing in it can become an option.
    kit = pdfkit.PDFKit("", "string", options=pdf_options(), configuration=config)
    command = ["timeout", "--kill-after=2", str(timeout), *kit.command()]
    try:
        result = subprocess.run(  # noqa: S603 - fixed binary, arguments from our own options
            command, input=html.encode("utf-8"), capture_output=True, timeout=timeout + 5, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PdfError("PDF rendering timed out") from exc
    if result.returncode == 124 or not result.stdout.startswith(b"%PDF"):
        raise PdfError(f"wkhtmltopdf failed ({result.returncode}): {result.stderr[-500:]!r}")
    return result.stdout


def render_pdf(template: str, **context) -> bytes:
    """Render `templates/<template>` (extending pdf/base.html) to PDF bytes."""
    return html_to_pdf(render_template(template, **context))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
