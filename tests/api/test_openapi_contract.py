"""The API against its own OpenAPI document (issue 6, "Done when"): the document is valid OpenAPI, it
describes every /api/v1 route and nothing else, its object schemas are closed, and every operation —
called by schemathesis with generated parameters, and with the ids and filters of real published data —
answers without a server error, with a documented status, content type, headers and a body that matches
its schema exactly."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from portal.api import openapi
from tests.api.support import api_fixture, published_call, world  # noqa: F401  (the `api` fixture)

API = "/api/v1"


@pytest.fixture()
def published(app, db):
    return world(published=2)


def _load(app, api):
    """The document as the app serves it, loaded by schemathesis, calling the app through WSGI.
    (Loaded from the fetched dict: `from_wsgi` would leave the document's own operation out.)"""
    response = api.get(f"{API}/openapi.json")
    assert response.status_code == 200
    loaded = schemathesis.openapi.from_dict(response.get_json())
    loaded.app = app
    return loaded


@pytest.fixture()
def api_schema(app, db, published, api):
    return _load(app, api)


@pytest.fixture()
def fuzz_schema(app, db, api):
    """The schema over one call with published results (enough for generated requests; cheaper)."""
    published_call("FUZZ")
    return _load(app, api)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


# --- the document itself ------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3(api, db):
    response = api.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI meta-schema


def test_the_document_describes_every_api_route_and_only_those(app, api, db):
    document = api.get(f"{API}/openapi.json").get_json()
    base = document["servers"][0]["url"]
    documented = {
        (base + path.replace("{", "<").replace("}", ">"), method.upper())
        for path, item in document["paths"].items()
        for method in item
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<int:", "<")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def _object_schemas(node, where="#"):
    if isinstance(node, dict):
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            yield where, node
        for key, value in node.items():
            yield from _object_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _object_schemas(value, f"{where}/{i}")


def test_every_object_schema_is_closed_and_lists_its_fields_as_required(api, db):
    """Extra fields in a response (and missing ones) must fail validation."""
    document = api.get(f"{API}/openapi.json").get_json()
    schemas = list(_object_schemas(document["components"]))
    assert len(schemas) > 15
    for where, schema in schemas:
        assert schema.get("additionalProperties") is False, where
        optional = set(schema["properties"]) - set(schema.get("required", ()))
        assert optional <= {"parameter"}, f"{where}: optional fields {optional}"


def test_the_small_count_is_an_integer_or_the_string_lt5(api, db):
    document = api.get(f"{API}/openapi.json").get_json()
    assert document["components"]["schemas"]["SmallCount"]["oneOf"] == [
        {"type": "integer", "minimum": 0},
        {"type": "string", "enum": ["<5"]},
    ]


def test_the_csv_downloads_are_documented_as_text_csv(api, db):
    paths = api.get(f"{API}/openapi.json").get_json()["paths"]
    for path in ("/calls.csv", "/projects.csv", "/statistics.csv"):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == ["text/csv"]


# --- real data: every operation with the ids and filters of published results ------------------------


def _real_cases(schema, published):
    call = published.published[0]
    muni = call.call.municipality.code
    programme = call.call.programme.code
    round_number = call.call.round.number
    project_id = call.funded[0].id
    hidden = published.decided.call.id
    examples = {
        "listCalls": [
            {},
            {"municipality": muni, "programme": programme, "round": round_number, "per_page": 1},
        ],
        "getCall": [{"call_id": call.call.id}, {"call_id": hidden}],
        "getCallResults": [{"call_id": call.call.id}, {"call_id": hidden}],
        "downloadCalls": [{}, {"municipality": muni}],
        "listProjects": [{}, {"status": "funded", "per_page": 1, "page": 2}, {"page": 0}],
        "getProject": [{"project_id": project_id}, {"project_id": call.reserve[0].id}],
        "downloadProjects": [{}, {"round": round_number}],
        "getStatistics": [{}, {"programme": programme}, {"round": "x"}],
        "downloadStatistics": [{}, {"year": 2026}],
        "getOpenApi": [{}],
    }
    for operation in _operations(schema):
        operation_id = operation.definition.raw["operationId"]
        for values in examples[operation_id]:
            path = {k: v for k, v in values.items() if k.endswith("_id")}
            query = {k: v for k, v in values.items() if not k.endswith("_id")}
            yield operation_id, values, operation.Case(path_parameters=path, query=query)


def test_every_operation_answers_real_requests_as_documented(api_schema, published):
    statuses = {}
    for operation_id, _values, case in _real_cases(api_schema, published):
        response = case.call_and_validate()
        statuses.setdefault(operation_id, set()).add(response.status_code)
    assert statuses["getCall"] == {200, 404}
    assert statuses["getProject"] == {200, 404}
    assert statuses["listProjects"] == {200, 400}
    assert statuses["getStatistics"] == {200, 400}
    assert all(200 in found for found in statuses.values()), statuses


def test_a_response_with_an_undocumented_or_missing_field_would_fail(api_schema, published, api):
    """The check can fail: the same body with a field more, or one less, does not match its schema."""
    import json

    call_id = published.published[0].call.id
    case = _operation(api_schema, "getCall").Case(path_parameters={"call_id": call_id})
    response = api.get(f"{API}/calls/{call_id}")
    case.validate_response(response)
    body = response.get_json()
    for change in (
        lambda d: d["data"].update(contact_email="x@example.lv"),
        lambda d: d["data"]["municipality"].update(extra=1),
        lambda d: d["data"].pop("currency"),
        lambda d: d["data"].update(amount=4600),
        lambda d: d["data"].update(amount="4600.0"),
    ):
        changed = json.loads(json.dumps(body))
        change(changed)
        response.set_data(json.dumps(changed))
        with pytest.raises(FailureGroup) as failure:
            case.validate_response(response)
        assert "Response violates schema" in str(failure.value.exceptions[0])


# --- generated requests (schemathesis) ----------------------------------------------------------------
# schemathesis' own pytest integration (`schemathesis.pytest.from_fixture`) does not run on pytest 9, so
# each operation's hypothesis strategy is driven here: the same generation and the same checks.

OPERATION_IDS = [item["get"]["operationId"] for item in openapi.document()["paths"].values()]
# Invalid requests exist only where there are parameters to get wrong.
WITH_PARAMETERS = [
    item["get"]["operationId"] for item in openapi.document()["paths"].values() if item["get"]["parameters"]
]


def _operation(schema, operation_id):
    (operation,) = [op for op in _operations(schema) if op.definition.raw["operationId"] == operation_id]
    return operation


def _fuzz(operation, mode, max_examples):
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call_and_validate()
        assert response.status_code < 500

    run()


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_generated_requests_conform_to_the_document(fuzz_schema, operation_id):
    _fuzz(_operation(fuzz_schema, operation_id), GenerationMode.POSITIVE, 25)


@pytest.mark.parametrize("operation_id", WITH_PARAMETERS)
def test_generated_invalid_requests_are_refused_with_a_documented_error(fuzz_schema, operation_id):
    _fuzz(_operation(fuzz_schema, operation_id), GenerationMode.NEGATIVE, 15)
