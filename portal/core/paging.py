"""Pages of a public list (open calls, published results, the register): 20 rows a page, the page
number from the query string, and a 404 for a page past the last one."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, request

PAGE_SIZE = 20


def int_arg(name: str) -> int | None:
    """A small whole number of the query string, or None (missing, not a number, absurdly long)."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 6 else None


def paged(fetch: Callable[..., tuple[list, int]]) -> tuple[list, dict]:
    """Fetch the query string's page: `fetch(offset=…, limit=…)` returns (rows, total). Returns the rows and
    what the template's page links need ({"total", "page", "pages"}); 404 for a page past the last one
    (a link that no longer leads anywhere)."""
    page = int_arg("page") or 1
    rows, total = fetch(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        abort(404)
    return rows, {"total": total, "page": page, "pages": pages}
