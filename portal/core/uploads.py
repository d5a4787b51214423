"""Checking uploaded files before they are stored (QUALITY E1, E2; ASVS 5.2, 5.4).

A file is accepted by what its bytes are, never by the name or the Content-Type the browser sent:
PDF, PNG, JPEG, Word/Excel (.docx/.xlsx), OpenDocument (.odt/.ods) and e-signed ASiC-E containers
(.edoc/.asice, what eParaksts produces). The name's extension must agree with the content, so a file
is never offered for download under a type it is not.

Refused: programs, web pages and SVG, polyglots (a PDF or image that also carries markup or an
appended ZIP), ZIP bombs (judged from the archive's directory, then read with a hard cap, never
written to disk), encrypted or macro-enabled documents, and the EICAR antivirus test file.

There is no antivirus engine on the server. `_scan_for_malware` is the one place to plug one in:
set `UPLOAD_VIRUS_SCANNER` to a callable `scan(data: bytes) -> str | None` (the signature found,
or None), for example one that streams the bytes to clamd (`clamd.ClamdUnixSocket().instream(...)`).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import unicodedata
import zipfile
from urllib.parse import quote

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from portal.core.audit import client_ip, security_event
from portal.core.workflow import WorkflowError

UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # per file; config UPLOAD_MAX_BYTES overrides it

# ZIP-based documents: limits judged from the central directory before anything is decompressed.
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_TOTAL = 50 * 1024 * 1024
ZIP_MAX_RATIO = 100
# Small entries compress extremely well when they are whitespace-padded XML; only an entry that
# unpacks to something sizeable can hurt, so the ratio is judged from this size up.
ZIP_RATIO_FROM = 1024 * 1024

FILENAME_MAX = 150

# The EICAR antivirus test string, kept in two halves so a scanner on a developer's machine does
# not quarantine this source file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# kind: (content type, extensions allowed for it, label)
KINDS: dict[str, tuple[str, tuple[str, ...], object]] = {
    "pdf": ("application/pdf", (".pdf",), _l("PDF document")),
    "png": ("image/png", (".png",), _l("PNG image")),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg"), _l("JPEG image")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
        _l("Word document"),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
        _l("Excel workbook"),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (".odt",), _l("OpenDocument text")),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (".ods",), _l("OpenDocument spreadsheet")),
    "asice": ("application/vnd.etsi.asic-e+zip", (".edoc", ".asice", ".sce"), _l("E-signed document")),
}
ACCEPT = ",".join(ext for _type, exts, _label in KINDS.values() for ext in exts)  # for <input accept>

ASICE_MIMETYPE = b"application/vnd.etsi.asic-e+zip"
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}

EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE, DOS
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java class
    b"#!",  # scripts
)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls/.msi, and password-protected .docx

# Markup a browser (or an old one that sniffs) would run; looked for where sniffers look.
MARKUP = re.compile(rb"<\s*(?:script|html|svg|iframe|body|object|embed|!doctype\s+html)\b", re.IGNORECASE)
SNIFF_HEAD = 8 * 1024
SNIFF_TAIL = 1024

MESSAGES = {
    "empty": _l("The file is empty. Choose the file again."),
    "too_large": _l(
        "The file is larger than %(limit)s. Make it smaller (for example, save it as PDF) and try again."
    ),
    "executable": _l("Programs and scripts cannot be uploaded."),
    "markup": _l(
        "Web pages, SVG and XML files cannot be uploaded. Save the document as PDF and upload that."
    ),
    "polyglot": _l(
        "The file contains something hidden inside (such as web page code or an archive), so it cannot be "
        "accepted. Save it again as a plain PDF or image and upload that."
    ),
    "unknown": _l(
        "This type of file cannot be uploaded. Upload a PDF, a PNG or JPEG image, a Word, Excel or "
        "OpenDocument file, or an e-signed document (.edoc, .asice)."
    ),
    "ole2": _l(
        "Older Word and Excel files (.doc, .xls) and password-protected documents cannot be accepted. "
        "Save the document as .docx, .xlsx or PDF without a password."
    ),
    "mismatch": _l(
        "The file name ends in “%(ext)s”, but the file is a %(kind)s. Check you chose the right file, "
        "or save it with the right ending."
    ),
    "no_extension": _l("The file name has no ending such as .pdf. Rename the file and try again."),
    "damaged": _l("The file is damaged and cannot be read. Save it again and upload it."),
    "encrypted": _l(
        "Password-protected files cannot be accepted. Remove the password and upload the file again."
    ),
    "macros": _l(
        "Documents with macros cannot be accepted. "
        "Save the document without macros (.docx or .xlsx) or as PDF."
    ),
    "bomb": _l("The document unpacks to far more data than a normal document, so it cannot be accepted."),
    "malware": _l(
        "The file was refused because it contains a virus or a virus test pattern. "
        "Check the file with an antivirus program."
    ),
}


class UploadRefused(WorkflowError):
    """The uploaded file cannot be accepted; `message` says why in the user's language."""

    def __init__(self, reason: str, **params):
        self.reason = reason
        super().__init__(str(MESSAGES[reason]) % params if params else str(MESSAGES[reason]), field="file")


def max_upload_bytes() -> int:
    """Return the per-file limit: the `UPLOAD_MAX_BYTES` setting, 10 MB unless configured."""
    if has_app_context():
        return int(current_app.config.get("UPLOAD_MAX_BYTES", UPLOAD_MAX_BYTES))
    return UPLOAD_MAX_BYTES


def format_limit(size: int) -> str:
    """Say a byte limit the way people do ("10 MB")."""
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size / 1024:g} KB"


# --- the check -------------------------------------------------------------------------------------


def check_upload(data: bytes, filename: str, *, actor=None) -> tuple[str, str]:
    """Return `(kind, content_type)` for an acceptable file, or raise UploadRefused.

    The order matters: malware first (and logged), then what the bytes are, then whether they hide
    anything else, and last whether the name agrees with the content.
    """
    if not data:
        raise UploadRefused("empty")
    limit = max_upload_bytes()
    if len(data) > limit:
        raise UploadRefused("too_large", limit=format_limit(limit))
    _scan_for_malware(data, filename, actor)
    kind = _sniff(data)
    if kind in ("pdf", "png", "jpeg"):
        _refuse_polyglot(data)
    else:
        _check_zip(data, filename, actor)
    _check_extension(filename, kind)
    return kind, KINDS[kind][0]


def _sniff(data: bytes) -> str:
    """Say what the bytes are, from their leading magic number; refuse what is not allowed."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(EXECUTABLE_MAGIC):
        raise UploadRefused("executable")
    if data.startswith(OLE2_MAGIC):
        raise UploadRefused("ole2")
    head = data[:SNIFF_HEAD].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if head.startswith(b"<") or MARKUP.search(data[:SNIFF_HEAD]):
        raise UploadRefused("markup")
    raise UploadRefused("unknown")


def _refuse_polyglot(data: bytes) -> None:
    """Refuse a PDF or image that is also something else: markup where sniffers look, or a ZIP."""
    if MARKUP.search(data[:SNIFF_HEAD]) or MARKUP.search(data[-SNIFF_TAIL:]):
        raise UploadRefused("polyglot")
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise UploadRefused("polyglot")


def _check_extension(filename: str, kind: str) -> None:
    """Refuse a name whose extension says another type than the content is."""
    ext = os.path.splitext(sanitise_filename(filename))[1].lower()
    content_type, extensions, label = KINDS[kind]
    if not ext:
        raise UploadRefused("no_extension")
    if ext not in extensions:
        raise UploadRefused("mismatch", ext=ext, kind=str(label))


# --- ZIP-based documents ---------------------------------------------------------------------------


def _declared_entries(data: bytes) -> int | None:
    """Read the entry count from the end-of-central-directory record without parsing the directory."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if at < 0 or at + 22 > len(data):
        return None
    return struct.unpack("<H", data[at + 10 : at + 12])[0]


def _open_zip(data: bytes) -> zipfile.ZipFile:
    declared = _declared_entries(data)
    if declared is None:
        raise UploadRefused("damaged")
    if declared > ZIP_MAX_ENTRIES:  # 0xFFFF (ZIP64) lands here too
        raise UploadRefused("bomb")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error):
        raise UploadRefused("damaged") from None
    entries = archive.infolist()
    if len(entries) > ZIP_MAX_ENTRIES:
        raise UploadRefused("bomb")
    if any(info.flag_bits & 0x1 for info in entries):
        raise UploadRefused("encrypted")
    if sum(info.file_size for info in entries) > ZIP_MAX_TOTAL:
        raise UploadRefused("bomb")
    for info in entries:
        if info.file_size >= ZIP_RATIO_FROM and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise UploadRefused("bomb")
    return archive


def _small_entry(archive: zipfile.ZipFile, name: str, limit: int = 256) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        return None
    try:
        return archive.read(info).strip()
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError):
        raise UploadRefused("damaged") from None


def _zip_kind(data: bytes) -> str:
    """Tell an office document or an ASiC-E container from any other ZIP (which is refused)."""
    archive = _open_zip(data)
    names = archive.namelist()
    mimetype = _small_entry(archive, "mimetype")
    if mimetype == ASICE_MIMETYPE and names and names[0] == "mimetype":
        return "asice"
    if mimetype in ODF_MIMETYPES:
        return ODF_MIMETYPES[mimetype]
    if "[Content_Types].xml" in names:
        lowered = [n.lower() for n in names]
        if any(n.endswith("vbaproject.bin") or (n.endswith(".bin") and "activex" in n) for n in lowered):
            raise UploadRefused("macros")
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
    raise UploadRefused("unknown")


def _check_zip(data: bytes, filename: str, actor) -> None:
    """Read every entry with the directory's sizes as a hard cap: checks CRCs, looks for EICAR inside.

    zipfile stops each entry at its declared size (already capped above) and raises on a CRC
    mismatch, so an archive whose directory lies cannot unpack to more than the limits.
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    total = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        tail = b""
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(64 * 1024):
                    total += len(chunk)
                    if total > ZIP_MAX_TOTAL:
                        raise UploadRefused("bomb")
                    if EICAR in tail + chunk:
                        _found_malware("EICAR-Test-File", data, filename, actor, entry=info.filename)
                    tail = chunk[-len(EICAR) :]
        except UploadRefused:
            raise
        except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError, RuntimeError):
            raise UploadRefused("damaged") from None


# --- malware ---------------------------------------------------------------------------------------


def _scan_for_malware(data: bytes, filename: str, actor) -> None:
    """Refuse the EICAR test file, and whatever a configured scanner (e.g. clamd) reports."""
    if EICAR in data:
        _found_malware("EICAR-Test-File", data, filename, actor)
    scanner = current_app.config.get("UPLOAD_VIRUS_SCANNER") if has_app_context() else None
    if scanner is not None:
        signature = scanner(data)
        if signature:
            _found_malware(str(signature), data, filename, actor)


def _found_malware(signature: str, data: bytes, filename: str, actor, entry: str | None = None) -> None:
    fields = {
        "signature": signature,
        "filename": sanitise_filename(filename),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "user_id": getattr(actor, "id", None),
        "ip": client_ip(),
    }
    if entry:
        fields["entry"] = entry[:200]
    security_event("upload_malware_refused", **fields)
    raise UploadRefused("malware")


# --- names -----------------------------------------------------------------------------------------

_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')


def sanitise_filename(name: str | None, *, fallback: str = "attachment") -> str:
    """Return a display name that is only a name: no folders, control or direction-override
    characters, or leading dots; letters of every language (“Līgums.pdf”) are kept.

    The name is shown and offered on download only; files are stored under a random UUID.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Cc control, Cf format (incl. U+202E right-to-left override), Cs/Co/Cn: none belong in a name.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _WINDOWS_RESERVED.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, ext = os.path.splitext(name)
    stem = stem.strip(" .")
    if len(ext) > 16:
        stem, ext = name, ""
    if not stem:
        stem = fallback
    return stem[: FILENAME_MAX - len(ext)].rstrip(" .") + ext


def content_disposition(filename: str) -> str:
    """Build `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266, RFC 5987)."""
    name = sanitise_filename(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\;%]', "_", ascii_name).strip()
    ext = os.path.splitext(name)[1]
    ext = ext if ascii_name.endswith(ext) else ""
    stem = ascii_name[: len(ascii_name) - len(ext)]
    if not stem.strip(" ._"):  # nothing readable left (a Cyrillic or Greek name): say what it is
        ascii_name = "attachment" + ext
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(data: bytes, filename: str, content_type: str = "application/pdf"):
    """Return a stored file as a download that the browser never renders in the portal's origin
    (QUALITY E2): attachment disposition, no sniffing, a sandbox without scripts, no caching."""
    from flask import Response

    response = Response(data, mimetype=content_type)
    headers = response.headers
    headers["Content-Disposition"] = content_disposition(filename)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    headers["Cache-Control"] = "no-store"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
