"""Latvian first: every string the portal shows has a Latvian translation whose placeholders match."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "portal/translations/lv/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")


def _catalog():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="lv")


def _strings(value):
    return list(value) if isinstance(value, tuple | list) else [value]


def test_catalogue_is_up_to_date_with_the_code(tmp_path):
    """Every msgid in the code is in the catalogue (run scripts/extract-translations after adding strings)."""
    pot = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - our own pybabel with fixed arguments
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_pgettext:1c,2",
            "-k",
            "lazy_ngettext:1,2",
            "-o",
            str(pot),
            "--no-wrap",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(f) if m.id}
    have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _catalog() if m.id}
    missing = sorted(str(k) for k in wanted - have)
    assert not missing, f"{len(missing)} strings missing from the Latvian catalogue, e.g. {missing[:5]}"


def test_every_message_is_translated_and_not_fuzzy():
    untranslated = [m.id for m in _catalog() if m.id and (not all(_strings(m.string)) or m.fuzzy)]
    assert not untranslated, f"{len(untranslated)} untranslated or fuzzy, e.g. {untranslated[:5]}"


def test_placeholders_match():
    wrong = []
    for m in _catalog():
        if not m.id or not m.string:
            continue
        ids = _strings(m.id)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for translation in _strings(m.string):
            if not set(PLACEHOLDER.findall(translation)) <= expected:
                wrong.append((m.id, translation))
    assert not wrong, wrong[:5]
