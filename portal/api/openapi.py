"""The OpenAPI 3.1 document of /api/v1, built as data (served at /api/v1/openapi.json).

Every object schema closes with `additionalProperties: false` and lists its fields as required, so a field
added to a response without documenting it (or documented but no longer sent) fails the contract test
(tests/api/test_openapi_contract.py runs every operation against this document).
"""

from __future__ import annotations

from copy import deepcopy

from portal.api import params

VERSION = "1.0.0"
REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


def _obj(properties: dict, description: str | None = None) -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict) -> dict:
    schema = deepcopy(schema)
    if "$ref" in schema or "oneOf" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    schema["type"] = [schema["type"], "null"]
    return schema


INTEGER = {"type": "integer", "minimum": 0}
ID = {"type": "integer", "minimum": 1}
TEXT = {"type": "string"}
DATE = {"type": "string", "format": "date"}
LINK = {"type": "string", "format": "uri-reference", "description": "A root-relative link in this API."}
MONEY = {
    "type": "string",
    "pattern": r"^-?[0-9]+\.[0-9]{2}$",
    "description": 'An amount with exactly two decimals, as a string (no binary rounding), e.g. "4600.00".',
    "examples": ["4600.00"],
}
DECIMAL = {
    "type": "string",
    "pattern": r"^-?[0-9]+\.[0-9]{2}$",
    "description": "A decimal number with exactly two decimals, as a string.",
}
CURRENCY = {"type": "string", "enum": ["EUR"], "description": "The currency of the amount (ISO 4217)."}


def _schemas() -> dict:
    small_count = {
        "description": (
            "A count of participants at risk of early school leaving. Counts from 1 to 4 are given as the "
            'string "<5", so that a small group cannot be recognised; 0 and 5 or more are integers.'
        ),
        "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "enum": ["<5"]}],
    }
    share = _nullable(
        {
            **DECIMAL,
            "description": (
                "The share of participants at risk of early school leaving, in percent (rounded down to "
                'two decimals); null without participants or where the count itself is given as "<5".'
            ),
        }
    )
    project_fields = {
        "id": ID,
        "title": TEXT,
        "organisation": {**TEXT, "description": "The name of the organisation carrying out the project."},
        "municipality": _ref("Municipality"),
        "call_id": ID,
        "start_date": DATE,
        "end_date": DATE,
        "amount": {**MONEY, "description": "The grant for the project."},
        "currency": CURRENCY,
        "average": _nullable({**DECIMAL, "description": "The committee's average score."}),
        "rank": _nullable(
            {"type": "integer", "minimum": 1, "description": "The rank in the call, 1 = best."}
        ),
        "status": {
            "type": "string",
            "enum": sorted(set(params.FUNDED_STATUS_VALUES) | {"reserve"}),
            "description": "funded or a later stage of a funded project; reserve in a call's reserve list.",
        },
        "links": _obj(
            {
                "self": _nullable(
                    {**LINK, "description": "The project in the register; null for a reserve project."}
                ),
                "call": LINK,
            }
        ),
    }
    statistics_values = {
        "calls": {**INTEGER, "description": "Calls with published results."},
        "applications": {**INTEGER, "description": "Applications received in those calls."},
        "funded": {**INTEGER, "description": "Projects funded."},
        "amount": {**MONEY, "description": "The total amount granted to the funded projects."},
        "currency": CURRENCY,
        "participants_planned": {**INTEGER, "description": "Participants the funded projects plan."},
        "participants_risk_planned": small_count,
        "risk_share_planned": share,
    }
    return {
        "Error": _obj(
            {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer", "description": "The HTTP status."},
                        "title": TEXT,
                        "message": {**TEXT, "description": "What went wrong, in the visitor's language."},
                        "parameter": {**TEXT, "description": "The query parameter at fault (400 only)."},
                    },
                    "required": ["code", "title", "message"],
                    "additionalProperties": False,
                }
            }
        ),
        "SmallCount": small_count,
        "Municipality": _obj(
            {
                "code": {
                    "type": "string",
                    "pattern": params.MUNICIPALITY_PATTERN,
                    "description": "ATVK code.",
                },
                "name": TEXT,
            }
        ),
        "Call": _obj(
            {
                "id": ID,
                "title": TEXT,
                "municipality": _ref("Municipality"),
                "programme": _obj({"code": TEXT}),
                "round": {"type": "integer", "minimum": 1, "description": "The programme round's number."},
                "amount": {**MONEY, "description": "The grant per project."},
                "currency": CURRENCY,
                "decision": _obj(
                    {
                        "number": {**TEXT, "description": "The municipality's decision reference."},
                        "date": DATE,
                    },
                    "The municipality's decision on the results.",
                ),
                "received": {**INTEGER, "description": "Applications received (submitted)."},
                "funded": {**INTEGER, "description": "Projects funded."},
                "reserve": {**INTEGER, "description": "Applications on the reserve list."},
                "not_funded": {**INTEGER, "description": "Applications assessed but not funded."},
                "rejected": {**INTEGER, "description": "Applications rejected as not admissible."},
                "withdrawn": {**INTEGER, "description": "Applications withdrawn after submission."},
                "links": _obj({"self": LINK, "results": LINK}),
            },
            "A call whose results are published, with a summary of them.",
        ),
        "ProjectItem": _obj(
            project_fields, "A funded (or reserve) project of a call with published results."
        ),
        "Project": _obj(
            {
                **project_fields,
                "call_title": TEXT,
                "programme": _obj({"code": TEXT}),
                "goal": _nullable(TEXT),
                "results_planned": _nullable(TEXT),
                "participants_planned": _nullable(INTEGER),
                "participants_risk_planned": _nullable(_ref("SmallCount")),
                "risk_share_planned": share,
                "achieved": _nullable(
                    _obj(
                        {
                            "participants": _nullable(INTEGER),
                            "participants_risk": _nullable(_ref("SmallCount")),
                            "risk_share": share,
                            "results": _nullable(TEXT),
                        },
                        "What the project achieved, from its approved final report (null until then).",
                    )
                ),
            },
            "A funded project in the national register.",
        ),
        "CallResults": _obj(
            {
                "call": _ref("Call"),
                "funded": {"type": "array", "items": _ref("ProjectItem"), "description": "By rank."},
                "reserve": {"type": "array", "items": _ref("ProjectItem"), "description": "By rank."},
            }
        ),
        "StatisticsRow": _obj({"municipality": _ref("Municipality"), **statistics_values}),
        "StatisticsTotals": _obj(statistics_values, "National totals."),
        "PageMeta": _obj(
            {
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": params.MAX_PER_PAGE},
                "total": {**INTEGER, "description": "Items on all pages."},
            }
        ),
        "PageLinks": _obj({"self": LINK, "next": _nullable(LINK), "prev": _nullable(LINK)}),
        "CallList": _obj(
            {
                "data": {"type": "array", "items": _ref("Call")},
                "meta": _ref("PageMeta"),
                "links": _ref("PageLinks"),
            }
        ),
        "ProjectList": _obj(
            {
                "data": {"type": "array", "items": _ref("ProjectItem")},
                "meta": _ref("PageMeta"),
                "links": _ref("PageLinks"),
            }
        ),
        "CallDocument": _obj({"data": _ref("Call")}),
        "CallResultsDocument": _obj({"data": _ref("CallResults")}),
        "ProjectDocument": _obj({"data": _ref("Project")}),
        "Statistics": _obj(
            {
                "data": {"type": "array", "items": _ref("StatisticsRow"), "description": "By municipality."},
                "totals": _ref("StatisticsTotals"),
            }
        ),
    }


def _parameters() -> dict:
    def query(name: str, schema: dict, description: str) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

    return {
        "page": query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": params.MAX_PAGE, "default": 1},
            "Page number.",
        ),
        "per_page": query(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": params.MAX_PER_PAGE,
                "default": params.DEFAULT_PER_PAGE,
            },
            "Items per page.",
        ),
        "municipality": query(
            "municipality",
            {"type": "string", "pattern": params.MUNICIPALITY_PATTERN},
            "Only this municipality (its ATVK code); an unknown code gives an empty list.",
        ),
        "programme": query(
            "programme",
            {"type": "string", "pattern": params.PROGRAMME_PATTERN},
            "Only this programme (its code, e.g. pumpurs-jip).",
        ),
        "round": query(
            "round",
            {"type": "integer", "minimum": 1, "maximum": params.MAX_ROUND},
            "Only this round of the programme (its number).",
        ),
        "status": query(
            "status",
            {"type": "string", "enum": params.FUNDED_STATUS_VALUES},
            "Only projects at this stage.",
        ),
        "year": query(
            "year",
            {"type": "integer", "minimum": params.MIN_YEAR, "maximum": params.MAX_YEAR},
            "Only calls decided in this year.",
        ),
        "call_id": {
            "name": "call_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": params.MAX_ID},
        },
        "project_id": {
            "name": "project_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": params.MAX_ID},
        },
    }


def _headers() -> dict:
    def header(description: str) -> dict:
        return {"description": description, "required": True, "schema": {"type": "string"}}

    return {
        "ETag": header("A strong validator (a hash of the body): send it back as If-None-Match."),
        "Last-Modified": header("When published data last changed: send it back as If-Modified-Since."),
        "Cache-Control": header("public, max-age=300 (no-store when the request carries a login)."),
        "Access-Control-Allow-Origin": header("*: any web page may read the API (never with credentials)."),
    }


def _ok(schema_ref: str | None = None, *, csv: str | None = None, last_modified: bool = True) -> dict:
    names = ["ETag", "Cache-Control", "Access-Control-Allow-Origin"]
    if last_modified:
        names.insert(1, "Last-Modified")
    headers = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
    if csv:
        headers["Content-Disposition"] = {
            "description": f'attachment; filename="{csv}"',
            "required": True,
            "schema": {"type": "string"},
        }
        content = {"text/csv": {"schema": {"type": "string"}}}
        description = (
            "CSV: UTF-8 with a byte order mark, `;` between values, CRLF line ends, a decimal comma in "
            "amounts and averages, dates as YYYY-MM-DD, a header line with the column names (the JSON field "
            "names; nested ones joined with `_`). All rows, no pages."
        )
    else:
        content = {"application/json": {"schema": _ref(schema_ref)}}
        description = "OK"
    return {"description": description, "headers": headers, "content": content}


def _error(description: str) -> dict:
    return {
        "description": description,
        "headers": {
            "Access-Control-Allow-Origin": {"$ref": "#/components/headers/Access-Control-Allow-Origin"}
        },
        "content": {"application/json": {"schema": _ref("Error")}},
    }


NOT_MODIFIED = {"description": "Not modified: the ETag given in If-None-Match (or the date) still holds."}


def _operation(operation_id: str, summary: str, tag: str, parameters: list[str], responses: dict) -> dict:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in parameters],
            "responses": responses,
        }
    }


def document() -> dict:
    bad = {"400": _error("A query parameter is not valid (the message names it).")}
    missing = {"404": _error("No such published call or project.")}
    list_filters = ["municipality", "programme", "round", "year"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Youth initiative projects portal: open data API",
            "version": VERSION,
            "description": (
                "Read-only open data about youth initiative project competitions against early school "
                "leaving (PuMPuRS) in Latvian municipalities: calls whose results are published, their "
                "funded and reserve projects, the national register of funded projects and statistics. "
                "Nothing unpublished and no personal data appear: organisations are named, people not.\n\n"
                "Money is a string with two decimals next to a currency; dates are ISO 8601 (YYYY-MM-DD); "
                'counts of participants at risk from 1 to 4 are the string "<5". Lists are paged with page '
                f"and per_page (at most {params.MAX_PER_PAGE}). Responses carry a strong ETag and "
                "Last-Modified and may be cached for 5 minutes; CORS is open to every origin for GET. "
                "The same data is available as CSV for spreadsheets."
            ),
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "calls", "description": "Calls with published results."},
            {"name": "projects", "description": "The register of funded projects."},
            {"name": "statistics", "description": "Statistics per municipality and for Latvia."},
            {"name": "meta", "description": "This document."},
        ],
        "paths": {
            "/calls": _operation(
                "listCalls",
                "Calls with published results, newest decision first",
                "calls",
                ["page", "per_page", *list_filters],
                {"200": _ok("CallList"), "304": NOT_MODIFIED, **bad},
            ),
            "/calls/{call_id}": _operation(
                "getCall",
                "One call with published results",
                "calls",
                ["call_id"],
                {"200": _ok("CallDocument"), "304": NOT_MODIFIED, **missing},
            ),
            "/calls/{call_id}/results": _operation(
                "getCallResults",
                "A call's results: the funded projects and the reserve list",
                "calls",
                ["call_id"],
                {"200": _ok("CallResultsDocument"), "304": NOT_MODIFIED, **missing},
            ),
            "/calls.csv": _operation(
                "downloadCalls",
                "Calls with published results as CSV",
                "calls",
                list_filters,
                {"200": _ok(csv="jip-calls.csv"), "304": NOT_MODIFIED, **bad},
            ),
            "/projects": _operation(
                "listProjects",
                "Funded projects of published calls, newest decision first",
                "projects",
                ["page", "per_page", *list_filters, "status"],
                {"200": _ok("ProjectList"), "304": NOT_MODIFIED, **bad},
            ),
            "/projects/{project_id}": _operation(
                "getProject",
                "One funded project",
                "projects",
                ["project_id"],
                {"200": _ok("ProjectDocument"), "304": NOT_MODIFIED, **missing},
            ),
            "/projects.csv": _operation(
                "downloadProjects",
                "Funded projects as CSV",
                "projects",
                [*list_filters, "status"],
                {"200": _ok(csv="jip-funded-projects.csv"), "304": NOT_MODIFIED, **bad},
            ),
            "/statistics": _operation(
                "getStatistics",
                "Statistics per municipality and national totals",
                "statistics",
                ["programme", "round", "year"],
                {"200": _ok("Statistics"), "304": NOT_MODIFIED, **bad},
            ),
            "/statistics.csv": _operation(
                "downloadStatistics",
                "Statistics as CSV (the last line, municipality_code LV, holds the national totals)",
                "statistics",
                ["programme", "round", "year"],
                {"200": _ok(csv="jip-statistics.csv"), "304": NOT_MODIFIED, **bad},
            ),
            "/openapi.json": _operation(
                "getOpenApi",
                "This document",
                "meta",
                [],
                {
                    "200": {
                        "description": "The OpenAPI document.",
                        "headers": {
                            name: {"$ref": f"#/components/headers/{name}"}
                            for name in ("ETag", "Cache-Control", "Access-Control-Allow-Origin")
                        },
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "304": NOT_MODIFIED,
                },
            ),
        },
        "components": {"schemas": _schemas(), "parameters": _parameters(), "headers": _headers()},
    }
