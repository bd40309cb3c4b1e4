"""What every page the browser tests open must pass, checked as the page is shown: axe-core
finds no serious or critical accessibility violation, a Chinese page shows no English
sentence a catalog forgot, and an English page no Chinese of the interface: only the test's
data (names, titles, the session's definition) may be Chinese there (tests/text_checks.py
says what counts as either).

axe-core is the copy bundled by the ``axe-playwright-python`` package (axe.min.js, MPL-2.0).
Each page, once loaded, gets it by Playwright's evaluate (outside the site's
Content-Security-Policy, as an extension's script would) and runs it: pages reached by a
click or a form are checked as well as those opened by address. A page left before its run
ends goes unchecked; a screenshot checks its page before the shot. The check runs while
the test waits, so what it finds belongs to the page the test is on.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from tests.text_checks import chinese_words, english_words

# WCAG 2.0/2.1 A and AA and axe's best practices (landmarks, one main, headings); the
# "region" rule is left to the landmark rules themselves.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
SEVERE = ("serious", "critical")

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_AXE = (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")

# What a page reports: its path, the severe violations, the visible words (minus what the
# page marks as not for translation: candidates' answers, codes, the language switch).
_COLLECT = """(() => {
if (window.__blindmarkCheck) return;
window.__blindmarkText = () => {
  const skip = '[translate="no"], body [lang], script, style, code, kbd, '
    + '.answer, #text, .response-text, [hidden]';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || !parent.checkVisibility()) continue;
    out.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
    if (el.closest(skip)) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
      if (el.hasAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  return out.join('\\n');
};
const run = async () => {
  const results = await axe.run(document, OPTIONS);
  const severe = results.violations.filter(v => SEVERE.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary),
  }));
  return {
    path: location.pathname + location.search, lang: document.documentElement.lang,
    violations: severe, text: window.__blindmarkText(),
  };
};
// One run at a time (axe refuses a second while one runs): each waits for the one before.
let last = Promise.resolve();
window.__blindmarkCheck = () => {
  const next = last.then(run, run);
  last = next.catch(() => null);
  return next;
};
})()"""
_SETUP = _COLLECT.replace("OPTIONS", json.dumps(AXE_OPTIONS)).replace("SEVERE", json.dumps(SEVERE))


@dataclass
class PageChecks:
    """The findings of one browser context's pages; ``allowed`` are words of the test's data
    (usernames, names) that a Chinese page may show, ``keys`` the keys it may show beside
    their names, ``data`` the Chinese of the test's data (read when an English page is
    judged: what the test made by then) that an English page may show."""

    allowed: set[str] = field(default_factory=set)
    keys: tuple[str, ...] = ()
    data: Callable[[], str] = str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def install(self, context: BrowserContext) -> None:
        """Check each page of ``context`` once it has loaded."""
        context.on("page", lambda page: page.on("load", self._loaded))

    def _loaded(self, page: Page) -> None:
        # A page left (or closed) before its check ended goes unchecked.
        with contextlib.suppress(PlaywrightError):
            self.judge(self._run(page))

    @staticmethod
    def _run(page: Page) -> dict[str, Any]:
        if not page.evaluate("typeof axe === 'object' && !!window.__blindmarkCheck"):
            page.evaluate(_AXE)
            page.evaluate(_SETUP)
        found: dict[str, Any] = page.evaluate("window.__blindmarkCheck()")
        return found

    def judge(self, found: dict[str, Any]) -> None:
        path = found["path"]
        self.checked.append(path)
        for v in found["violations"]:
            problem = f"{path}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}"
            if problem not in self.problems:
                self.problems.append(problem)
        text = found["text"]
        if found["lang"].startswith("zh"):
            words = english_words(text, allowed=self.allowed, keys=self.keys)
            problem = "English on a Chinese page"
        else:
            words = chinese_words(text, data=self.data()) if _HAN.search(text) else []
            problem = "Chinese on an English page"
        if words:
            where = [text[max(0, i - 30) : i + 30] for i in map(text.find, sorted(set(words))[:5])]
            problem = f"{path}: {problem}: {sorted(set(words))} in {where}"
            if problem not in self.problems:
                self.problems.append(problem)

    def check_now(self, page: Page) -> None:
        """The page as it is now (after its script changed it), checked at once."""
        self.judge(self._run(page))
        self.assert_clean()

    def assert_clean(self) -> None:
        if self.problems:
            found, self.problems = self.problems, []
            raise AssertionError("pages that fail the checks:\n" + "\n".join(found))
