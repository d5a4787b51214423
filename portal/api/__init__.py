"""The public read-only JSON API and CSV open data under /api/v1 (issue 6; DESIGN §8, a stable interface).

Everything here reads published data through `portal.public.data`, the one module that decides what is
public. The contract is the OpenAPI document built by `portal.api.openapi` and served at
/api/v1/openapi.json; tests check every response against it (tests/api/test_openapi_contract.py).

Conventions (do not change them without a new API version):
- JSON bodies: lists are `{"data": [...], "meta": {"page", "per_page", "total"}, "links": {"self", "next",
  "prev"}}`, single objects `{"data": {...}}`, errors `{"error": {"code", "title", "message"}}`.
- Money is a string with two decimals ("4600.00") next to `"currency": "EUR"`; dates are ISO 8601;
  counts of participants at risk from 1 to 4 are the string "<5".
- Links are root-relative URI references ("/api/v1/calls/7").
- CSV: UTF-8 with a BOM, `;` between values, a decimal comma (as Latvian spreadsheets expect).
- GET, HEAD and OPTIONS only; open CORS (`Access-Control-Allow-Origin: *`, no credentials); strong ETag,
  Last-Modified and `Cache-Control: public, max-age=300`; no cookies are set.
"""

from flask import Blueprint

bp = Blueprint("api", __name__)

from portal.api import views  # noqa: E402,F401  (registers the routes on bp)
