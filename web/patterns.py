"""Engine text in the reader's language, by a table of patterns.

The core writes some of its words in English on its records (the ledger and the command line
read them): a refused file's reasons, a scan's quarantine, the ledger check's findings. A
screen translates such a text by the first pattern that matches it whole, the pattern's named
parts (serials, file names, places) carried into the translation. A text no pattern knows is
the caller's to show as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

#: A named part of the text on its way into the translation: (name, value) → words.
Part = Callable[[str, str], str]


def _as_written(_name: str, value: str) -> str:
    return value


class Patterns:
    """(pattern over the engine's English, its translation with the pattern's named parts)."""

    def __init__(self, pairs: Iterable[tuple[str, object]]) -> None:
        self._table = [(re.compile(pattern), words) for pattern, words in pairs]

    def words(self, text: str, part: Part = _as_written) -> str | None:
        """``text`` translated, each named part through ``part`` (a part that did not take
        part in the match is empty); None when no pattern matches the whole text."""
        for pattern, words in self._table:
            found = pattern.fullmatch(text)
            if found is None:
                continue
            parts = {k: "" if v is None else part(k, v) for k, v in found.groupdict().items()}
            return str(words) % parts if parts else str(words)
        return None
