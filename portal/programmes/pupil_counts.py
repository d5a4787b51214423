"""Reading pupil counts from a spreadsheet's CSV export: all or nothing, with a report per line.

Latvian spreadsheets often save `;`-separated UTF-8 with a BOM, or Windows-1257; both are read.
Nothing is returned as valid unless every line is valid.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from portal.programmes.quotas import QuotaInput

HEADER_WORDS = {"municipality", "pašvaldība", "pasvaldiba", "novads", "code", "kods", "atvk"}


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line number in the file; 0 for the whole file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else str(self.message)


@dataclass
class ParseResult:
    rows: list[QuotaInput] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _decode(data: bytes) -> str | None:
    if b"\x00" in data:  # UTF-16 ("Unicode text") or a binary file such as .xlsx
        return None
    for encoding in ("utf-8-sig", "cp1257"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _delimiter(first_line: str) -> str | None:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


_NUMBER = re.compile(r"^[+-]?\d+$")


def parse_pupil_counts(data: bytes, resolve: Callable[[str], str | None]) -> ParseResult:
    """Parse `municipality,pupils` lines; `resolve` maps a code or name to a municipality code."""
    result = ParseResult()
    text = _decode(data)
    if text is None:
        result.problems.append(
            Problem(
                0,
                _l(
                    "The file is not a CSV text file in UTF-8 or Windows-1257. "
                    'Save it from the spreadsheet as "CSV UTF-8".'
                ),
            )
        )
        return result
    lines = [ln for ln in text.splitlines()]
    if not any(ln.strip() for ln in lines):
        result.problems.append(Problem(0, _l("The file is empty.")))
        return result
    first = next(ln for ln in lines if ln.strip())
    delimiter = _delimiter(first)
    if delimiter is None:
        result.problems.append(
            Problem(
                0,
                _l(
                    "Each line needs two columns, municipality and pupils, separated "
                    "by a comma or a semicolon."
                ),
            )
        )
        return result

    first_line = next(i for i, ln in enumerate(lines, start=1) if ln.strip())
    seen: dict[str, int] = {}
    for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if len(cells) != 2 or not all(cells):
            result.problems.append(
                Problem(
                    number,
                    _l(
                        "Expected two values (municipality and pupils), found %(n)d.",
                        n=len([c for c in cells if c]),
                    ),
                )
            )
            continue
        name, raw_pupils = cells
        pupils_text = raw_pupils.replace("\u00a0", "").replace(" ", "")
        is_header_like = name.casefold() in HEADER_WORDS or not _NUMBER.match(pupils_text)
        if number == first_line and is_header_like and resolve(name) is None:
            continue  # the header line
        code = resolve(name)
        if code is None:
            result.problems.append(Problem(number, _l('Unknown municipality "%(name)s".', name=name)))
        elif code in seen:
            result.problems.append(
                Problem(
                    number,
                    _l('"%(name)s" is listed again (first on line %(first)d).', name=name, first=seen[code]),
                )
            )
        if not _NUMBER.match(pupils_text):
            result.problems.append(
                Problem(number, _l('"%(value)s" is not a whole number of pupils.', value=raw_pupils))
            )
            continue
        pupils = int(pupils_text)
        if pupils < 0:
            result.problems.append(Problem(number, _l("The number of pupils must not be negative.")))
            continue
        if code is not None and code not in seen:
            seen[code] = number
            result.rows.append(QuotaInput(code, pupils))
    if not result.rows and not result.problems:
        result.problems.append(Problem(0, _l("The file has no data lines.")))
    if result.problems:
        result.rows = []
    return result


def static_resolver() -> Callable[[str], str | None]:
    """Resolve by the classifier data shipped with the portal (for the CLI: no database)."""
    from portal.municipalities.data import rows

    return resolver_from_pairs((r["code"], r["name"]) for r in rows())


def resolver_from_pairs(pairs) -> Callable[[str], str | None]:
    """Build a resolver that accepts a code or a name (case and spacing ignored)."""
    index: dict[str, str] = {}
    for code, name in pairs:
        index[code] = code
        index[" ".join(name.split()).casefold()] = code
    return lambda value: index.get(value.strip()) or index.get(" ".join(value.split()).casefold())
