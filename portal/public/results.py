"""Public results of calls (issue 6): the list of calls whose results are published, each call's
results page, the view a municipality's website embeds in an <iframe>, and the Atom feed.

Everything shown comes from `portal.public.data`, the one place that decides what is public; a call
whose results are not published answers 404 on every one of these URLs.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from babel.numbers import format_percent
from flask import Response, abort, current_app, render_template, request
from flask_babel import force_locale

from portal.calls.models import Call
from portal.core import paging
from portal.core.i18n import current_language
from portal.core.pagecache import public_page
from portal.core.security import allow_framing
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.public import data, feeds, filtering
from portal.public.views import bp

FEED_SIZE = 50


@bp.context_processor
def _helpers():
    return {
        "status_label": filtering.status_label,
        "share": _share,
        "absolute_url": feeds.absolute_url,
    }


def _share(value) -> str:
    """A percentage held as 0–100 (12.50 → "12.5 %") in the page's language."""
    return format_percent(Decimal(value) / 100, locale=current_language(), decimal_quantization=False)


def _results_or_404(call_id: int) -> data.CallResults:
    call = db.session.get(Call, call_id)
    results = data.call_results(call) if call is not None else None
    if results is None:
        abort(404)
    return results


@bp.get("/results/")
@public_page
def list_results():
    choices = filtering.filter_choices()
    filters = filtering.read_filters(choices, year=True)
    calls, pager = paging.paged(partial(data.published_calls, filters))
    return render_template(
        "public/list_results.html",
        calls=calls,
        decisions=filtering.decisions_of([c.id for c in calls]),
        **pager,
        choices=choices,
        filters=filters,
        filtered=filtering.is_filtered(filters),
    )


@bp.get("/results/<int:call_id>")
@public_page
def show_results(call_id: int):
    results = _results_or_404(call_id)
    lang = current_language()
    embed_url = feeds.absolute_url("public.embed_results", call_id=call_id, lang=lang)
    return render_template("public/show_results.html", results=results, embed_url=embed_url)


@bp.get("/results/<int:call_id>/embed")
def embed_results(call_id: int):
    """The results with no portal chrome, for a municipality's website to frame. Third-party frames
    rarely carry the visitor's language cookie, so the snippet names the language (?lang=lv|en)."""
    results = _results_or_404(call_id)
    lang = request.args.get("lang")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_language()
    with force_locale(lang):
        body = render_template("public/embed_results.html", results=results)
    allow_framing()
    return body


@bp.get("/results/feed.atom")
def results_feed():
    calls, _total = data.published_calls(limit=FEED_SIZE)
    body = feeds.results_feed(
        calls,
        filtering.decisions_of([c.id for c in calls]),
        locale=current_language(),
        now=utcnow(),
    )
    return Response(body, content_type=feeds.CONTENT_TYPE)
