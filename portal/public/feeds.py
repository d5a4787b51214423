"""The Atom 1.0 feed of published call results (RFC 4287), built as XML elements, never by joining
strings. Only what the results page shows goes in: the call's title, municipality, programme and the
decision's number and date."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _

from portal.calls.feeds import ATOM, XML_LANG, _clean, _instant
from portal.calls.models import Call
from portal.core.i18n import local_date
from portal.evaluation.models import Decision

CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL on the portal's public address (feeds and embed snippets are read elsewhere)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _summary(call: Call, decision: Decision | None, locale: str) -> str:
    parts = [call.municipality.name, call.programme.name(locale)]
    if decision is not None:
        parts.append(
            _(
                "Decision No. %(number)s of %(date)s",
                number=decision.number,
                date=local_date(decision.decided_on, "long"),
            )
        )
    return ". ".join(parts) + "."


def results_feed(calls: list[Call], decisions: dict[int, Decision], *, locale: str, now: datetime) -> bytes:
    """Return the Atom document (UTF-8 bytes) with one entry per published call."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: locale})
    feed_url = absolute_url("public.results_feed")
    _el(feed, "id", feed_url)
    _el(feed, "title", _("Results of youth initiative project calls"))
    _el(feed, "subtitle", _("Funded projects and reserve lists published by Latvian municipalities."))
    updated = max((c.updated_at for c in calls if c.updated_at is not None), default=None) or now
    _el(feed, "updated", _instant(updated))
    _el(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _el(feed, "link", rel="alternate", type="text/html", href=absolute_url("public.list_results"))
    author = _el(feed, "author")
    _el(author, "name", _("Youth initiative projects portal"))
    _el(author, "uri", absolute_url("public.index"))
    _el(feed, "generator", _("Youth initiative projects portal"))
    for call in calls:
        url = absolute_url("public.show_results", call_id=call.id)
        entry = _el(feed, "entry")
        _el(entry, "id", url)
        _el(entry, "title", _("Results: %(title)s", title=call.title), type="text")
        _el(entry, "link", rel="alternate", type="text/html", href=url)
        _el(entry, "updated", _instant(call.updated_at or now))
        entry_author = _el(entry, "author")
        _el(entry_author, "name", call.municipality.name)
        _el(entry, "category", term=call.municipality.code, label=call.municipality.name)
        _el(entry, "category", term=call.programme.code, label=call.programme.name(locale))
        _el(entry, "summary", _summary(call, decisions.get(call.id), locale), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
