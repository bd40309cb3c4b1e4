"""Untranslated text in what a page shows, read as a person reads it: English words on a
Chinese page, Chinese words on an English one. The catalog check (``web.i18n --check``)
finds strings that lack a translation; these find strings that never went through it
(an engine message, a key, a code shown as a name).

What is allowed is what no translation should change: abbreviations and codes in capitals
(QWK, CSV, PDF, ID), anything with a digit or a joiner in it (exam numbers, session codes, e1,
``candidates.csv``, T-0001), and the data a test names (usernames, a candidate's name).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A run of Latin letters, digits and the joiners of codes, file names and addresses.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-@/:+#%]*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# File types, a statistic's name (Cohen's kappa) and a language's own name, which Chinese
# writes in Latin too.
FILE_WORDS = {"zip", "csv", "xlsx", "pdf", "toml", "json", "png", "jpeg", "tiff"}
FILE_WORDS |= {"Kappa", "English"}
# A list of a file's column names (exam_no, component, action, ...): one of them with an
# underscore tells it is one. The columns are the file's own words, in either language.
_COLUMNS = re.compile(r"[A-Za-z_]+(?:\s*[,、，]\s*[A-Za-z_]+)+")
# What an English page may quote in Chinese: the regulation's articles (第七条(四)), a term
# glossed in brackets after its English (relative (亲属)), and the name of a check that has
# no English of its own (回评, an examiner's earlier responses shown again).
_CITED = re.compile(
    r"第[一二三四五六七八九十百]+条(?:\([一二三四五六七八九十]+\))?|\([\u3400-\u9fff]+\)|回评"
)


def english_words(
    text: str, *, allowed: set[str] | frozenset[str] = frozenset(), keys: tuple[str, ...] = ()
) -> list[str]:
    """The English words in ``text`` a Chinese reader should not meet. A key of ``keys`` (a
    group's, a component's) may stand in brackets beside its name, never alone."""
    for key in keys:
        text = re.sub(rf"[(（]\s*{re.escape(key)}\s*[)）]", " ", text)
    allowed = {*allowed, *FILE_WORDS}
    text = _COLUMNS.sub(lambda m: " " if "_" in m[0] else m[0], text)
    found = []
    for token in _TOKEN.findall(text):
        token = token.rstrip(".:/")
        if not token or token in allowed or token.lower() in allowed:
            continue
        if any(c.isdigit() for c in token) or re.search(r"[_.\-@/:+#%]", token):
            continue  # a code, a number, a file name
        if token.isupper():
            continue  # an abbreviation (QWK) or a code in capitals (a script's code)
        if len(token) >= 3:
            found.append(token)
    return found


def chinese_words(text: str, *, data: str = "") -> list[str]:
    """Runs of Chinese in ``text`` that are not part of the test's ``data`` (names, titles,
    the session's definition): on an English page those are UI strings left in Chinese."""
    return [run for run in _CJK.findall(_CITED.sub(" ", text)) if run not in data]


# Elements whose text is not the interface's to translate: candidates' answers, the
# language switch (marked with its own lang), code, and what a browser does not show.
_SKIP_TAGS = {"script", "style", "code", "kbd", "template", "title"}
_SKIP_CLASSES = {"answer", "response-text"}
_VOID = {"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col", "area", "base"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is its text skipped?
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        skipped = (
            (bool(self.stack) and self.stack[-1])
            or tag in _SKIP_TAGS
            or (tag != "html" and "lang" in a)
            or a.get("translate") == "no"
            or "hidden" in a
            or bool(_SKIP_CLASSES & set((a.get("class") or "").split()))
        )
        # An element's attributes are read as its text is (translate="no" covers both).
        for name in ("placeholder", "title", "aria-label", "alt"):
            if a.get(name) and not skipped:
                self.parts.append(a[name] or "")
        if tag not in _VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The text of an HTML page a reader sees (roughly: no CSS is applied)."""
    parser = _Visible()
    parser.feed(page)
    parser.close()
    return "\n".join(parser.parts)
