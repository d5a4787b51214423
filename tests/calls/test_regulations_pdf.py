"""The regulations PDF: Latvian letters survive, and markup in the call's facts is printed as text and
never executed or fetched (QUALITY "PDF rendering", E3, E5)."""

from __future__ import annotations

import io

import pypdf

from portal.calls import services
from tests.calls.conftest import call_data

LATVIAN = "ģķļņšžčūāēī ĢĶĻŅŠŽČŪĀĒĪ"


def _text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    # wkhtmltopdf positions words separately: pypdf joins them with tabs or newlines.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _squash(text: str) -> str:
    return "".join(text.split())


def test_the_regulations_keep_the_latvian_letters(rnd, muni, coord):
    call = services.create_call(rnd, muni, call_data(title=f"Konkurss {LATVIAN}"), actor=coord)
    text = _text(services.regulations_pdf(call, "lv"))
    assert _squash(LATVIAN) in _squash(text)
    assert "Aizkraukles novads" in text
    assert "nolikums" in text.lower()
    assert "4600,00" in _squash(text)


def test_markup_in_the_title_appears_literally_and_is_never_executed(rnd, muni, coord, canary):
    port, hits = canary
    title = (
        f'<script>document.write("EXECUTED")</script>'
        f'<img src="http://127.0.0.1:{port}/img"><link rel="stylesheet" href="http://127.0.0.1:{port}/css">'
    )
    description = f'<iframe src="http://127.0.0.1:{port}/frame"></iframe> {{{{7*7}}}}'
    data = call_data(title=title[:300], description=description, contact_name="<b>Jānis</b>")
    call = services.create_call(rnd, muni, data, actor=coord)
    text = _text(services.regulations_pdf(call, "lv"))
    squashed = _squash(text)
    assert _squash("<script>document.write(") in squashed
    assert "<b>Jānis</b>" in text
    # "49" would be the template expression evaluated; the canary's port number may hold those digits.
    evaluated = squashed.replace("4600", "").replace(f"127.0.0.1:{port}", "")
    assert "{{7*7}}" in squashed and "49" not in evaluated
    assert "EXECUTED" not in text.replace('document.write("EXECUTED")', "")
    assert "CANARY-SECRET" not in text
    assert hits == []


def test_the_generated_regulations_are_stored_with_their_hash(rnd, muni, coord):
    from portal.core import storage
    from portal.extensions import db

    call = services.create_call(rnd, muni, call_data(), actor=coord)
    services.publish_call(call, actor=coord)
    stored = db.session.get(storage.StoredFile, call.regulations_file_id)
    data = storage.read_file(stored)
    assert data.startswith(b"%PDF-")
    assert stored.content_type == "application/pdf"
