"""Pupil-count CSV import: all or nothing, a report per line."""

import pytest

from portal.programmes.pupil_counts import parse_pupil_counts, static_resolver


@pytest.fixture()
def parse(app):
    resolve = static_resolver()
    with app.test_request_context():
        yield lambda data: parse_pupil_counts(data, resolve)


def test_semicolon_utf8_bom_with_header(parse):
    result = parse("\ufeffPašvaldība;Skolēni\nAizkraukles novads;2 100\n0044000;3900\n".encode())
    assert result.ok
    assert [(r.code, r.pupils) for r in result.rows] == [("0020000", 2100), ("0044000", 3900)]


def test_windows_1257(parse):
    result = parse("Ropažu novads,3900\nRēzeknes novads,1200\n".encode("cp1257"))
    assert result.ok
    assert [r.code for r in result.rows] == ["0044000", "0043000"]


def test_comma_without_header_and_names_in_any_case(parse):
    assert parse(b"RIGA,5\n").problems  # "Riga" without the macron is not a municipality
    assert parse("rīga,5\n".encode()).ok


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"Aizkraukles novads 2100\n", "two columns"),
        (b"Aizkraukles novads;2100\nNekurienes novads;5\n", "Unknown municipality"),
        (b"Aizkraukles novads;2100\n0020000;5\n", "listed again"),
        (b"Aizkraukles novads;-3\n", "negative"),
        (b"Aizkraukles novads;12.5\n", "whole number"),
        ("Aizkraukles novads;daudz\nRīga;3\n".encode(), "whole number"),
        (b"Aizkraukles novads;1;2\n", "two values"),
        ("municipality,pupils\nAizkraukles novads,5\n".encode("utf-16"), "not a CSV text file"),
    ],
)
def test_bad_files_store_nothing(parse, content, fragment):
    result = parse(content)
    assert not result.ok
    assert result.rows == []
    assert any(fragment in str(p) for p in result.problems), [str(p) for p in result.problems]


def test_every_bad_line_is_reported(parse):
    result = parse("a;b\nAizkraukles novads;x\nNekur;1\nRīga;-1\n".encode())
    assert sorted({p.line for p in result.problems}) == [2, 3, 4]
