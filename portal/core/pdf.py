"""PDF rendering with pdfkit/wkhtmltopdf, used defensively (QUALITY "PDF rendering", E3–E4).

User data never becomes markup (autoescaped templates), JavaScript and local file access are off,
every network load goes to a dead proxy, and the renderer runs under a timeout.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
import re
import subprocess
from pathlib import Path

import pdfkit
import pypdf
from flask import current_app, render_template
from pypdf.generic import NameObject, TextStringObject

PDF_ASSETS = Path(__file__).resolve().parent.parent.parent / "templates" / "pdf"


class PdfError(RuntimeError):
    """The renderer failed or timed out."""


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_LANG = re.compile(r"<html\b[^>]*?\blang=[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)", re.IGNORECASE)


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
    return label_pdf(result.stdout, html)


def label_pdf(data: bytes, html: str) -> bytes:
    """Set the document /Title (from the HTML's <title>) and the catalog's /Lang (from <html lang>) (E7).

    wkhtmltopdf 0.12.6 on unpatched Qt writes an empty /Title and no /Lang. The PDF is amended with an
    incremental update (the rendered bytes stay as they are, the new objects are appended: a few ms).
    HTML with neither a title nor a language is returned unchanged.
    """
    title_match, lang_match = _TITLE.search(html), _LANG.search(html)
    title = " ".join(html_lib.unescape(title_match.group(1)).split()) if title_match else ""
    lang = lang_match.group(1) if lang_match else ""
    if not title and not lang:
        return data
    writer = pypdf.PdfWriter(io.BytesIO(data), incremental=True)
    if title:
        writer.add_metadata({"/Title": title})
        # PDF/UA-1 7.1: viewers show the title, not the file name.
        writer.create_viewer_preferences().display_doctitle = True
    if lang:
        writer.root_object[NameObject("/Lang")] = TextStringObject(lang)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_pdf(template: str, **context) -> bytes:
    """Render `templates/<template>` (extending pdf/base.html) to PDF bytes."""
    return html_to_pdf(render_template(template, **context))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
