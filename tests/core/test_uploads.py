"""QUALITY E1, E2: uploads are accepted by content, refused when dangerous, and their names are harmless."""

from __future__ import annotations

import logging

import pytest

from portal.core import uploads
from portal.core.uploads import UploadRefused, check_upload, content_disposition, sanitise_filename
from tests.factories import sample_asice, sample_docx, sample_jpeg, sample_pdf, sample_png, sample_zip

EICAR = uploads.EICAR


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(UploadRefused) as caught:
        check_upload(data, filename)
    assert caught.value.message  # a sentence for the user, by the file input
    assert caught.value.field == "file"
    return caught.value.reason


# --- accepted ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "filename", "kind", "content_type"),
    [
        (sample_pdf, "Līgums.pdf", "pdf", "application/pdf"),
        (sample_pdf, "IESNIEGUMS.PDF", "pdf", "application/pdf"),
        (sample_png, "logo.png", "png", "image/png"),
        (sample_jpeg, "foto.jpg", "jpeg", "image/jpeg"),
        (sample_jpeg, "foto.jpeg", "jpeg", "image/jpeg"),
        (
            sample_docx,
            "sadarbības līgums.docx",
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (sample_asice, "ligums.edoc", "asice", "application/vnd.etsi.asic-e+zip"),
        (sample_asice, "ligums.asice", "asice", "application/vnd.etsi.asic-e+zip"),
    ],
)
def test_accepted_by_content(app, build, filename, kind, content_type):
    assert check_upload(build(), filename) == (kind, content_type)


def test_xlsx_and_opendocument_are_recognised(app):
    xlsx = sample_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    assert check_upload(xlsx, "budzets.xlsx")[0] == "xlsx"
    odt = sample_zip(
        [("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<office/>")],
        stored_first=True,
    )
    assert check_upload(odt, "apraksts.odt") == ("odt", "application/vnd.oasis.opendocument.text")
    ods = sample_zip(
        [("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", b"<x/>")]
    )
    assert check_upload(ods, "tame.ods")[0] == "ods"


def test_small_well_compressed_entries_are_not_bombs(app):
    # Whitespace-padded XML compresses > 100:1; below 1 MB unpacked that is harmless and accepted.
    docx = sample_docx({"word/styles.xml": b"<w:styles>" + b" " * 500_000 + b"</w:styles>"})
    assert check_upload(docx, "a.docx")[0] == "docx"


# --- refused -----------------------------------------------------------------------------------------


def test_exe_renamed_pdf_is_refused(app):
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run"
    assert refusal(exe, "iesniegums.pdf") == "executable"
    assert refusal(b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "ligums.pdf") == "executable"
    assert refusal(b"#!/bin/sh\nrm -rf /\n", "ligums.pdf") == "executable"


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "lapa.html"),
        (b"<html><script>alert(1)</script></html>", "lapa.pdf"),
        (b"\xef\xbb\xbf  <!doctype html><title>x</title>", "lapa.pdf"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png"),
        (b'<?xml version="1.0"?><x/>', "dati.xml"),
    ],
)
def test_html_svg_and_xml_are_refused(app, data, filename):
    assert refusal(data, filename) == "markup"


@pytest.mark.parametrize(
    ("build", "filename"),
    [
        (lambda: sample_pdf(extra=b"<script>fetch('/account')</script>"), "a.pdf"),
        (lambda: sample_pdf(extra=b"<HTML><BODY>"), "a.pdf"),
        (lambda: sample_pdf() + b"<iframe src=//evil.example>", "a.pdf"),  # markup at the end
        (lambda: sample_png() + b"<svg onload=alert(1)>", "a.png"),
        (lambda: sample_png() + sample_zip({"x.html": b"<p>hi</p>"}), "a.png"),  # a ZIP appended to an image
        (lambda: sample_jpeg() + sample_docx(), "a.jpg"),
        (lambda: sample_pdf() + sample_zip({"payload.exe": b"MZ"}), "a.pdf"),
    ],
)
def test_polyglots_are_refused(app, build, filename):
    assert refusal(build(), filename) == "polyglot"


def test_content_must_match_the_name(app):
    assert refusal(sample_png(), "ligums.pdf") == "mismatch"
    assert refusal(sample_pdf(), "ligums.pdf.exe") == "mismatch"
    assert refusal(sample_docx(), "ligums.edoc") == "mismatch"
    assert refusal(sample_asice(), "ligums.docx") == "mismatch"
    assert refusal(sample_pdf(), "ligums") == "no_extension"
    with pytest.raises(UploadRefused) as caught:
        check_upload(sample_png(), "ligums.pdf")
    assert ".pdf" in caught.value.message


def test_unknown_and_old_formats_are_refused(app):
    assert refusal(b"GIF89a\x01\x00\x01\x00", "a.gif") == "unknown"
    assert refusal(b"just some text", "a.txt") == "unknown"
    assert refusal(sample_zip({"a.txt": b"x"}), "a.zip") == "unknown"
    assert refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "vecs.doc") == "ole2"
    assert refusal(b"", "tukss.pdf") == "empty"


def test_docx_zip_bomb_by_ratio_is_refused(app):
    # 20 MB of zeros deflates to ~20 KB: a ratio near 1000 (the limit is 100).
    bomb = sample_docx({"word/media/image1.png": bytes(20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    assert refusal(bomb, "bumba.docx") == "bomb"


def test_docx_zip_bomb_by_total_size_is_refused(app):
    # Sixty entries just under 1 MB each: no single ratio is judged, but 60 MB unpacked is over 50 MB.
    parts = {f"word/media/part{i}.bin": bytes(1024 * 1024 - 1) for i in range(60)}
    assert refusal(sample_docx(parts), "bumba.docx") == "bomb"


def test_docx_with_too_many_entries_is_refused(app):
    parts = {f"word/p{i}.xml": b"<p/>" for i in range(1001)}
    assert refusal(sample_docx(parts), "daudz.docx") == "bomb"


def test_encrypted_and_macro_documents_are_refused(app):
    # zipfile cannot write encrypted entries: set the "encrypted" bit in the headers, which is what counts.
    data = bytearray(sample_docx())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 0x1
            at = data.find(signature, at + 4)
    assert refusal(bytes(data), "slepens.docx") == "encrypted"
    macros = sample_docx({"word/vbaProject.bin": b"\x00" * 100})
    assert refusal(macros, "makro.docx") == "macros"


def test_damaged_zip_is_refused(app):
    assert refusal(b"PK\x03\x04" + b"\x00" * 100, "bojats.docx") == "damaged"
    good = bytearray(
        sample_zip(
            [("word/document.xml", b"A" * 200), ("[Content_Types].xml", b"<Types/>")], stored_first=True
        )
    )
    at = good.find(b"A" * 200)
    good[at] = ord("B")  # stored bytes changed: the CRC no longer matches
    assert refusal(bytes(good), "bojats.docx") == "damaged"


def test_eicar_is_refused_and_logged(app, caplog):
    caplog.set_level(logging.WARNING, logger="portal.security")
    assert refusal(EICAR + b"\r\n", "eicar.com") == "malware"
    assert refusal(EICAR, "rekins.pdf") == "malware"
    assert refusal(sample_pdf(extra=EICAR), "rekins.pdf") == "malware"
    events = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert len(events) == 3
    assert all("upload_malware_refused" in e and "signature=EICAR-Test-File" in e for e in events)
    assert "filename=rekins.pdf" in events[-1] and "sha256=" in events[-1]


def test_eicar_inside_a_document_is_found(app, caplog):
    caplog.set_level(logging.WARNING, logger="portal.security")
    assert refusal(sample_docx({"word/media/x.bin": EICAR}), "ligums.docx") == "malware"
    assert any("entry=word/media/x.bin" in r.getMessage() for r in caplog.records)


def test_a_configured_scanner_is_asked(app, monkeypatch, caplog):
    seen = []

    def scanner(data):
        seen.append(len(data))
        return "Win.Test.Found" if b"bad" in data else None

    monkeypatch.setitem(app.config, "UPLOAD_VIRUS_SCANNER", scanner)
    caplog.set_level(logging.WARNING, logger="portal.security")
    assert check_upload(sample_pdf(), "a.pdf")[0] == "pdf"
    assert refusal(sample_pdf(extra=b"bad"), "a.pdf") == "malware"
    assert seen and "signature=Win.Test.Found" in caplog.text


def test_size_limit(app, monkeypatch):
    assert uploads.max_upload_bytes() == 10 * 1024 * 1024
    data = sample_pdf()
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", len(data))
    assert check_upload(data, "a.pdf")[0] == "pdf"
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", len(data) - 1)
    with pytest.raises(UploadRefused) as caught:
        check_upload(data, "a.pdf")
    assert caught.value.reason == "too_large"


def test_ten_megabytes_is_the_default_limit(app):
    limit = 10 * 1024 * 1024
    padded = sample_pdf() + b"%" + b"\x00" * (limit - len(sample_pdf()) - 1)
    assert len(padded) == limit
    assert check_upload(padded, "a.pdf")[0] == "pdf"
    assert refusal(padded + b"\x00", "a.pdf") == "too_large"


# --- names (E2) --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Līgums.pdf", "Līgums.pdf"),
        ("Ligums.pdf".replace("i", "i\u0304"), "Līgums.pdf"),  # decomposed macron: normalised to NFC
        ("../../x", "x"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\x.pdf", "x.pdf"),
        ("/var/www/static/index.pdf", "index.pdf"),
        ("C:\\Users\\Jānis\\Desktop\\tāme.xlsx", "tāme.xlsx"),
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override: "invoiceexe.pdf" on screen
        ('a"b<c>|d?.pdf', "a_b_c__d_.pdf"),
        ("   .hidden.pdf  ", "hidden.pdf"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("..pdf", "pdf"),
    ],
)
def test_sanitise_filename(given, expected):
    assert sanitise_filename(given) == expected


def test_long_names_keep_their_extension():
    name = sanitise_filename("ā" * 400 + ".pdf")
    assert len(name) == uploads.FILENAME_MAX and name.endswith(".pdf")


def test_content_disposition_has_utf8_name_and_ascii_fallback():
    assert content_disposition("Līgums.pdf") == (
        "attachment; filename=\"Ligums.pdf\"; filename*=UTF-8''L%C4%ABgums.pdf"
    )
    header = content_disposition('../../evil";\r\nSet-Cookie: x=1.pdf')
    assert "\r" not in header and "\n" not in header and ".." not in header
    assert header.startswith('attachment; filename="') and header.count('"') == 2
    assert content_disposition("Ēē.pdf").startswith('attachment; filename="Ee.pdf"')
    assert content_disposition("Жук.pdf") == (
        "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''%D0%96%D1%83%D0%BA.pdf"
    )
