"""Build the message catalogs: web/translations/<locale>.json (the translations, kept in
git) → messages.po → messages.mo (generated, git-ignored). `make setup` runs it; so do
the tests. Usage: python -m web.i18n [--check]"""

from __future__ import annotations

import json
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
    if gaps and "--check" in sys.argv:
        sys.exit(1)
