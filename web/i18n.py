"""Build the message catalogs: web/translations/<locale>.json (the translations, kept in
git) → messages.po → messages.mo (generated, git-ignored). `make setup` runs it; so do
the tests. Usage: python -m web.i18n [--check]"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

WEB = Path(__file__).parent
TRANSLATIONS = WEB / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
# What stands for a name in the English but means nothing to a Chinese reader: the design's
# rule numbers (R10) and sections (DESIGN §14). The Chinese cites the regulation's article
# (第七条(四)) or says it in words.
CODES = re.compile(r"(?<![A-Za-z0-9])R\d{1,2}(?!\d)|§|DESIGN")


def codes_in(table: dict[str, str]) -> list[str]:
    """The translations in ``table`` that show a rule code or a design section."""
    return [t for t in table.values() if CODES.search(t)]


def messages() -> list[str]:
    found: dict[str, None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, METHODS, keywords=KEYWORDS
    ):
        if isinstance(message, str) and message:
            found.setdefault(message)
    return list(found)


def build(locale: str = "zh_CN") -> list[str]:
    """Write the .po and .mo of ``locale``; returns the messages with no translation."""
    table = json.loads((TRANSLATIONS / f"{locale}.json").read_text(encoding="utf-8"))
    catalog = Catalog(locale=locale, project="blindmark")
    missing = []
    for message in messages():
        if message not in table:
            missing.append(message)
        catalog.add(message, table.get(message, ""))
    # Babel names zh_CN "zh_Hans_CN", and looks the catalog up under that name.
    folder = TRANSLATIONS / str(Locale.parse(locale)) / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "messages.po").open("wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True)
    with (folder / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    return missing


if __name__ == "__main__":
    gaps = build()
    for gap in gaps:
        print(f"untranslated: {gap}", file=sys.stderr)
    coded = codes_in(json.loads((TRANSLATIONS / "zh_CN.json").read_text(encoding="utf-8")))
    for text in coded:
        print(f"a code instead of words: {text}", file=sys.stderr)
    if (gaps or coded) and "--check" in sys.argv:
        sys.exit(1)
