"""Pages of a public list (open calls, published results, the register): 20 rows a page, the page
number from the query string, and a 404 for a page past the last one."""

from __future__ import annotations

from flask import abort, request

PAGE_SIZE = 20


def int_arg(name: str) -> int | None:
    """A small whole number of the query string, or None (missing, not a number, absurdly long)."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 6 else None


def page_arg() -> int:
    """The page number of the query string (1 when missing or not a number)."""
    page = int_arg("page")
    return page if page and page >= 1 else 1


def pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


def check_page(page: int, total: int) -> None:
    """404 for a page number past the last page (a link that no longer leads anywhere)."""
    if page > pages(total):
        abort(404)
