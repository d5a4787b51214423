"""Query parameters of the API: pagination and filters, checked strictly (a bad value is a 400 with a
message naming the parameter, never a 500). A parameter given empty is a bad value too (the OpenAPI
document says what each one accepts; a link with fewer filters simply leaves them out)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _

from portal.applications.workflow import FUNDED_STATUSES
from portal.public.data import Filters

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 100_000  # far beyond the data; keeps offsets inside every database's integer range
MAX_ID = 2_147_483_647  # ids are 32-bit integers; a larger one cannot exist (and would overflow SQLite)
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_ROUND = 9999

MUNICIPALITY_PATTERN = r"^[0-9]{7}$"  # ATVK code
PROGRAMME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
FUNDED_STATUS_VALUES = sorted(s.value for s in FUNDED_STATUSES)


class BadParameter(Exception):
    """A query parameter the API cannot accept: answered with 400 and the message."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _value(name: str) -> str | None:
    return request.args.get(name)


def _whole_number(name: str, low: int, high: int) -> int | None:
    value = _value(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 12 or not low <= int(value) <= high:
        raise BadParameter(
            name,
            _(
                "The parameter %(name)s must be a whole number from %(low)s to %(high)s.",
                name=name,
                low=low,
                high=high,
            ),
        )
    return int(value)


def _matching(name: str, pattern: str, message: str) -> str | None:
    value = _value(name)
    if value is not None and not re.fullmatch(pattern, value):
        raise BadParameter(name, message)
    return value


def pagination() -> Pagination:
    page = _whole_number("page", 1, MAX_PAGE) or 1
    per_page = _whole_number("per_page", 1, MAX_PER_PAGE) or DEFAULT_PER_PAGE
    return Pagination(page=page, per_page=per_page)


def filters(*, municipality: bool = True, status: bool = False, year: bool = False) -> Filters:
    """Read the filters an endpoint accepts (programme and round always; the others when asked)."""
    values: dict = {
        "programme": _matching(
            "programme",
            PROGRAMME_PATTERN,
            _("The parameter programme must be a programme code such as pumpurs-jip."),
        ),
        "round": _whole_number("round", 1, MAX_ROUND),
    }
    if municipality:
        values["municipality"] = _matching(
            "municipality",
            MUNICIPALITY_PATTERN,
            _("The parameter municipality must be a municipality's 7-digit ATVK code, such as 0020000."),
        )
    if status:
        value = _value("status")
        if value is not None and value not in FUNDED_STATUS_VALUES:
            raise BadParameter(
                "status",
                _("The parameter status must be one of: %(values)s.", values=", ".join(FUNDED_STATUS_VALUES)),
            )
        values["status"] = value
    if year:
        values["year"] = _whole_number("year", MIN_YEAR, MAX_YEAR)
    return Filters(**values)


def filter_args(found: Filters) -> dict[str, str | int]:
    """The filters as query arguments, in a fixed order (for the links, so equal requests give equal
    bodies and ETags)."""
    args: dict[str, str | int] = {}
    for name in ("municipality", "programme", "round", "status", "year"):
        value = getattr(found, name)
        if value is not None:
            args[name] = value
    return args
