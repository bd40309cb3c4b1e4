"""Every screen a role reaches by its links, read in both languages: a Chinese page shows no
English the catalog missed, an English page no Chinese interface string (names and the
session's own Chinese, its data, excepted). Checks the rendered text, not the catalog."""

from __future__ import annotations

import json
import re
from collections import deque

import pytest
from babel.messages.extract import extract_from_dir
from flask.testing import FlaskClient

from marking.setup.sessions import get_session
from reports.i18n import CATALOG as REPORT_WORDS
from tests.integration.factory import mark_all, tiny_toml
from tests.text_checks import chinese_words, english_words, visible_text
from tests.web.conftest import USERNAMES, World
from web.i18n import CODES, KEYWORDS, METHODS, TRANSLATIONS, WEB, codes_in

CODE = "WORDS-1"
KEYS = ("short", "prac", "theory", "skills")  # the tiny paper's, allowed beside their names
# Links that leave the screens (the API, downloads, the language switch, logging out) or
# draw another random sample of a screen already read.
NOT_SCREENS = re.compile(r"^/(api|static|lang|logout)\b|/(exports|reports|download)\b|draw=")


def crawl(client: FlaskClient, start: str, limit: int = 60) -> dict[str, str]:
    """The HTML screens reached from ``start`` by same-site links, breadth first."""
    seen: dict[str, str] = {}
    todo = deque([start])
    while todo and len(seen) < limit:
        path = todo.popleft()
        if path in seen:
            continue
        answer = client.get(path, follow_redirects=True)
        if answer.status_code != 200 or answer.mimetype != "text/html":
            seen[path] = ""
            continue
        page = answer.get_data(as_text=True)
        seen[path] = page
        for link in re.findall(r'href="(/[^"#]*)', page):
            link = link.replace("&amp;", "&")
            if not NOT_SCREENS.search(link) and link not in seen:
                todo.append(link)
    return {path: page for path, page in seen.items() if page}


@pytest.fixture(scope="module")
def data(world: World) -> str:
    """A session marked to the end and approved, so most screens have something to show;
    returns the Chinese of its data (definition, names) that any page may show."""
    tiny = world.session(CODE)
    with world.tx() as db:
        mark_all(db, get_session(db, CODE), ["e1", "e2", "e3"])
    names = [c.name for c in tiny.candidates] + [f"考评员{u}" for u in ("e1", "e2", "e3")]
    return "\n".join([tiny_toml(CODE), *names, "站"])


@pytest.mark.parametrize("role", ["office", "director", "lead", "examiner", "admin", "centre"])
def test_no_screen_mixes_its_languages(world: World, data: str, role: str) -> None:
    client = world.client(USERNAMES[role])
    allowed = {*USERNAMES.values(), "office", "director", "lead", "admin", "centre", "batch"}
    problems = []
    for language in ("zh_CN", "en"):
        client.get(f"/lang/{language}")
        pages = crawl(client, "/")
        assert len(pages) >= 2, pages.keys()
        for path, page in pages.items():
            text = visible_text(page)
            if language == "zh_CN":
                found = english_words(text, allowed=allowed, keys=KEYS)
            else:
                found = chinese_words(text, data=data)
            if found:
                problems.append(f"{language} {path}: {sorted(set(found))}")
    assert problems == [], "\n".join(problems)


def test_chinese_cites_no_rule_code_or_design_section() -> None:
    """A Chinese reader knows the regulation's articles (第七条(四)), not the design's rule
    numbers (R10) or sections (§14): no translation, of the screens or of the reports, shows
    one. (The English msgids keep them: they are the keys the code and tests look up.)"""
    table = json.loads((TRANSLATIONS / "zh_CN.json").read_text(encoding="utf-8"))
    assert codes_in(table) == []
    assert codes_in(dict(REPORT_WORDS["zh"])) == []


def test_the_screens_english_names_no_rule_code() -> None:
    """The screens' own English says the rule in words, not its number in the design (the
    engine's messages keep theirs: the command line and the API's contract quote them)."""
    templates = [m for m in METHODS if m[0].startswith("templates/")]
    coded = [
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            WEB, templates, keywords=KEYWORDS
        )
        if isinstance(message, str) and CODES.search(message)
    ]
    assert coded == []
