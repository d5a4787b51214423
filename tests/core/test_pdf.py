"""The PDF renderer is configured defensively (QUALITY E4) and keeps Latvian letters (E5)."""

from __future__ import annotations

import io
import os
import shutil

import pytest

from portal.core.pdf import html_to_pdf, pdf_options

WKHTMLTOPDF = "/usr/bin/wkhtmltopdf"
needs_wkhtmltopdf = pytest.mark.skipif(
    not (os.path.exists(WKHTMLTOPDF) and shutil.which("timeout")),
    reason="wkhtmltopdf is not installed at /usr/bin/wkhtmltopdf (`make test` installs it)",
)


def test_options_disable_javascript_and_local_files_and_route_the_network_to_a_dead_proxy():
    options = pdf_options()
    assert "disable-javascript" in options
    assert "disable-local-file-access" in options
    assert options["proxy"] == "http://127.0.0.1:9"
    assert options["encoding"] == "UTF-8"
    assert not any("enable-local-file-access" in key or "enable-javascript" in key for key in options)


@needs_wkhtmltopdf
def test_latvian_text_survives_rendering(app):
    from pypdf import PdfReader

    app.config["WKHTMLTOPDF"] = WKHTMLTOPDF
    pdf = html_to_pdf("<meta charset='utf-8'><p>Līgums ģķļņšžčūāēī</p>")
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Līgums" in text
    assert "ģķļņšžčūāēī" in text


def test_meta_tags_in_the_html_cannot_add_renderer_options(app, tmp_path, monkeypatch):
    """CVE-2025-26240: pdfkit turns <meta name="pdfkit-…"> tags of its source into wkhtmltopdf options.
    The portal gives pdfkit no source (the HTML goes on stdin), so such a tag changes nothing."""
    argv_file = tmp_path / "argv"
    fake = tmp_path / "wkhtmltopdf"
    script = f'#!/bin/sh\nprintf "%s\\n" "$@" > {argv_file}\ncat > /dev/null\nprintf "%%PDF-1.4 fake"\n'
    fake.write_text(script)
    fake.chmod(0o755)
    monkeypatch.setitem(app.config, "WKHTMLTOPDF", str(fake))
    html = (
        '<html><head><meta name="pdfkit-enable-local-file-access" content="">'
        '<meta name="pdfkit-post-file" content="x"></head><body>x</body></html>'
    )
    assert html_to_pdf(html).startswith(b"%PDF")
    argv = argv_file.read_text().split("\n")
    assert "--disable-local-file-access" in argv
    assert "--disable-javascript" in argv
    assert not any("enable-local-file-access" in a or "post-file" in a for a in argv)


@needs_wkhtmltopdf
def test_the_pdf_gets_the_html_title_and_language(app, monkeypatch):
    """E7: wkhtmltopdf writes an empty /Title and no /Lang; html_to_pdf sets both from the HTML."""
    from pypdf import PdfReader

    monkeypatch.setitem(app.config, "WKHTMLTOPDF", WKHTMLTOPDF)
    html = (
        '<!doctype html><html lang="lv"><head><meta charset="utf-8">'
        "<title>\n  Līgums Nr. 7 &amp; pielikums </title></head><body><p>Teksts</p></body></html>"
    )
    reader = PdfReader(io.BytesIO(html_to_pdf(html)))
    assert reader.metadata["/Title"] == "Līgums Nr. 7 & pielikums"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "lv"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 - a pypdf BooleanObject
    assert "Teksts" in reader.pages[0].extract_text()
