"""The routes of /api/v1: JSON, CSV and the OpenAPI document. All published data comes from
`portal.public.data`; the views only check parameters, serialise and add the HTTP caching and CORS headers.

The API only answers GET, HEAD and OPTIONS, so Flask-WTF's CSRF check (which guards the unsafe methods)
never has anything to do here and nothing is exempted from it; any other method is a JSON 405.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, jsonify, request, url_for
from flask_babel import gettext as _

from portal.api import bp, openapi, params, serializers
from portal.calls.models import Call
from portal.core.pagecache import public_page
from portal.public import data

CACHE_CONTROL = "public, max-age=300"
# Last-Modified when nothing has been published yet.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CSV_CHUNK = 500  # rows fetched per statement for the full CSV downloads
PREFIX = "/api/v1"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Content-Disposition",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}


# --- HTTP plumbing ------------------------------------------------------------------------------------


def _in_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


@bp.after_app_request
def _cors(response: Response) -> Response:
    """Open CORS for reading, on every /api/v1 response to GET, HEAD and OPTIONS (errors included, so a
    browser script can read the error message); never with credentials."""
    if _in_api() and request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers.update(CORS_HEADERS)
        if request.method == "OPTIONS":
            response.headers.update(PREFLIGHT_HEADERS)
    return response


@bp.errorhandler(params.BadParameter)
def _bad_parameter(exc: params.BadParameter):
    body = {
        "error": {
            "code": 400,
            "title": _("The request is not valid"),
            "message": exc.message,
            "parameter": exc.parameter,
        }
    }
    return jsonify(body), 400


def _last_modified() -> datetime:
    value = data.last_change()
    if value is None:
        return EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _conditional(response: Response, *, last_modified: datetime | None) -> Response:
    """Strong ETag (a hash of the body), Last-Modified, public caching; 304 when the client has it."""
    response.add_etag()
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response.make_conditional(request)


def _json(payload: dict) -> Response:
    return _conditional(jsonify(payload), last_modified=_last_modified())


def _csv(columns: list[str], rows, filename: str) -> Response:
    response = Response(serializers.csv_bytes(columns, rows), content_type=CSV_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _conditional(response, last_modified=_last_modified())


def _page_links(pagination: params.Pagination, total: int, args: dict) -> dict:
    def link(page: int) -> str:
        return url_for(request.endpoint, **args, page=page, per_page=pagination.per_page)

    last = max(1, -(-total // pagination.per_page))
    return {
        "self": link(pagination.page),
        "next": link(pagination.page + 1) if pagination.page < last else None,
        "prev": link(min(pagination.page, last + 1) - 1) if pagination.page > 1 else None,
    }


def _listing(items: list[dict], total: int, pagination: params.Pagination, args: dict) -> dict:
    return {
        "data": items,
        "meta": {"page": pagination.page, "per_page": pagination.per_page, "total": total},
        "links": _page_links(pagination, total, args),
    }


def _check_id(value: int) -> None:
    if value > params.MAX_ID:
        abort(404)


# --- calls --------------------------------------------------------------------------------------------


def _call_items(calls: list[Call]) -> list[dict]:
    found = data.call_summaries([c.id for c in calls])
    return [serializers.call_item(c, found[c.id]) for c in calls]


def _published_results(call_id: int):
    """The published results of a call, or 404 (data.call_results decides what is published)."""
    _check_id(call_id)
    call = data.published_call(call_id)
    results = data.call_results(call) if call is not None else None
    if results is None:
        abort(404)
    return results


@bp.get("/calls")
@public_page
def calls():
    pagination = params.pagination()
    filters = params.filters(year=True)
    found, total = data.published_calls(filters, offset=pagination.offset, limit=pagination.per_page)
    return _json(_listing(_call_items(found), total, pagination, params.filter_args(filters)))


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    results = _published_results(call_id)
    return _json({"data": serializers.call_item(results.call, serializers.summary_of(results))})


@bp.get("/calls/<int:call_id>/results")
def call_results(call_id: int):
    results = _published_results(call_id)
    body = {
        "call": serializers.call_item(results.call, serializers.summary_of(results)),
        "funded": [serializers.project_item(row, call_id) for row in results.funded],
        "reserve": [serializers.project_item(row, call_id, linked=False) for row in results.reserve],
    }
    return _json({"data": body})


@bp.get("/calls.csv")
def calls_csv():
    filters = params.filters(year=True)
    rows, offset = [], 0
    while True:
        found, total = data.published_calls(filters, offset=offset, limit=CSV_CHUNK)
        rows += [serializers.call_csv_row(item) for item in _call_items(found)]
        offset += CSV_CHUNK
        if offset >= total or not found:
            break
    return _csv(serializers.CALL_COLUMNS, rows, "jip-calls.csv")


# --- funded projects ----------------------------------------------------------------------------------


def _project_items(rows: list[dict]) -> list[dict]:
    return [serializers.project_item(row, row["call_id"]) for row in rows]


@bp.get("/projects")
@public_page
def projects():
    pagination = params.pagination()
    filters = params.filters(status=True, year=True)
    rows, total = data.funded_projects(filters, offset=pagination.offset, limit=pagination.per_page)
    return _json(_listing(_project_items(rows), total, pagination, params.filter_args(filters)))


@bp.get("/projects/<int:project_id>")
def project(project_id: int):
    _check_id(project_id)
    row = data.project(project_id)
    if row is None:
        abort(404)
    return _json({"data": serializers.project_detail(row)})


@bp.get("/projects.csv")
def projects_csv():
    filters = params.filters(status=True, year=True)
    rows, offset = [], 0
    while True:
        found, total = data.funded_projects(filters, offset=offset, limit=CSV_CHUNK)
        rows += [serializers.project_csv_row(item) for item in _project_items(found)]
        offset += CSV_CHUNK
        if offset >= total or not found:
            break
    return _csv(serializers.PROJECT_COLUMNS, rows, "jip-funded-projects.csv")


# --- statistics ---------------------------------------------------------------------------------------


@bp.get("/statistics")
def statistics():
    rows, totals = data.statistics(params.filters(municipality=False, year=True))
    return _json(
        {
            "data": [serializers.statistics_row(row) for row in rows],
            "totals": serializers.statistics_totals(totals),
        }
    )


@bp.get("/statistics.csv")
def statistics_csv():
    rows, totals = data.statistics(params.filters(municipality=False, year=True))
    lines = [
        serializers.statistics_csv_row(row["municipality_code"], row["municipality"], item)
        for row, item in ((row, serializers.statistics_totals(row)) for row in rows)
    ]
    lines.append(
        serializers.statistics_csv_row(
            serializers.TOTALS_CODE, serializers.TOTALS_NAME, serializers.statistics_totals(totals)
        )
    )
    return _csv(serializers.STATISTICS_COLUMNS, lines, "jip-statistics.csv")


# --- the contract -------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    return _conditional(jsonify(openapi.document()), last_modified=None)
