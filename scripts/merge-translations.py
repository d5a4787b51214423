#!/usr/bin/env python3
"""Merge translated .po fragments into portal/translations/lv/LC_MESSAGES/messages.po.

Used when translation work is split among several people: each fragment holds some entries of the
catalogue with their msgstr filled in; entries are matched by (msgctxt, msgid).

    scripts/merge-translations.py FRAGMENT.po [FRAGMENT.po ...]
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "portal/translations/lv/LC_MESSAGES/messages.po"


def main(paths: list[str]) -> int:
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="lv")
    merged = 0
    for path in paths:
        with open(path, "rb") as f:
            fragment = read_po(f, locale="lv")
        for message in fragment:
            if not message.id or not message.string:
                continue
            target = catalog.get(message.id, context=message.context)
            if target is not None:
                target.string = message.string
                target.flags.discard("fuzzy")
                merged += 1
    catalog.fuzzy = False
    with CATALOG.open("wb") as f:
        write_po(f, catalog, width=100)
    print(f"merged {merged} translations into {CATALOG}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
