"""The Atom 1.0 feed of published calls (RFC 4287), built as XML elements, never by joining strings."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from flask import current_app, url_for
from flask_babel import gettext as _

from portal.calls.models import Call
from portal.core.i18n import riga_datetime

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
SUMMARY_CHARS = 600

# Characters XML 1.0 cannot carry at all (most control characters): dropped, or the feed would not parse.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def _instant(value: datetime) -> str:
    """RFC 3339 in UTC, as Atom wants it."""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _absolute(endpoint: str, **values) -> str:
    """An absolute URL on the portal's public address, so ids stay the same whoever fetches the feed."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _summary(call: Call, locale: str) -> str:
    deadline = _("Deadline: %(deadline)s (Riga time)", deadline=riga_datetime(call.closes_at, "long"))
    description = (call.description or "").strip()
    if len(description) > SUMMARY_CHARS:
        description = description[:SUMMARY_CHARS].rstrip() + "…"
    return f"{call.municipality.name}. {deadline}." + (f"\n\n{description}" if description else "")


def calls_feed(calls: list[Call], *, locale: str, now: datetime) -> bytes:
    """Return the Atom document (UTF-8 bytes) listing the calls."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: locale})
    feed_url = _absolute("calls.call_feed")
    _el(feed, "id", feed_url)
    _el(feed, "title", _("Calls for youth initiative projects"))
    _el(feed, "subtitle", _("Calls for proposals published by Latvian municipalities."))
    updated = max((c.updated_at or c.published_at for c in calls), default=None) or now
    _el(feed, "updated", _instant(updated))
    _el(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _el(feed, "link", rel="alternate", type="text/html", href=_absolute("calls.list_calls"))
    author = _el(feed, "author")
    _el(author, "name", _("Youth initiative projects portal"))
    _el(author, "uri", _absolute("public.index"))
    _el(feed, "generator", _("Youth initiative projects portal"))
    for call in calls:
        url = _absolute("calls.show_call", call_id=call.id)
        entry = _el(feed, "entry")
        _el(entry, "id", url)
        _el(entry, "title", call.title, type="text")
        _el(entry, "link", rel="alternate", type="text/html", href=url)
        _el(entry, "published", _instant(call.published_at))
        _el(entry, "updated", _instant(call.updated_at or call.published_at))
        entry_author = _el(entry, "author")
        _el(entry_author, "name", call.municipality.name)
        _el(entry, "category", term=call.municipality.code, label=call.municipality.name)
        _el(entry, "category", term=call.programme.code, label=call.programme.name(locale))
        _el(entry, "summary", _summary(call, locale), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
