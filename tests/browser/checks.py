"""What every page the browser tests open must pass, checked as the page is shown: axe-core
finds no serious or critical accessibility violation, and a Chinese page shows no English
sentence a catalog forgot (tests/text_checks.py says what counts as one).

axe-core is the copy bundled by the ``axe-playwright-python`` package (axe.min.js, MPL-2.0).
It goes into every page as an init script (outside the site's Content-Security-Policy, as an
extension's would), and each page, once loaded, runs it and hands its findings back through
a binding: pages reached by a click or a form are checked as well as those opened by address.
A page left before its run ends goes unchecked; a screenshot checks its page before the shot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.text_checks import english_words

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

_AXE = (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")

# What a page reports: its path, the severe violations, the visible words (minus what the
# page marks as not for translation: candidates' answers, codes, the language switch).
_COLLECT = """
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
// One run at a time (axe refuses a second while one runs): each waits for the one before.
let blindmarkLast = Promise.resolve();
window.__blindmarkCheck = () => {
  const next = blindmarkLast.then(blindmarkRun, blindmarkRun);
  blindmarkLast = next.catch(() => null);
  return next;
};
const blindmarkRun = async () => {
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
if (window.top === window) {
  window.addEventListener('load', () => setTimeout(async () => {
    try { window.__blindmarkReport(await window.__blindmarkCheck()); } catch (e) {}
  }, 0));
}
"""


def _script() -> str:
    options = json.dumps(AXE_OPTIONS)
    return _AXE + "\n" + _COLLECT.replace("OPTIONS", options).replace("SEVERE", json.dumps(SEVERE))


@dataclass
class PageChecks:
    """The findings of one browser context's pages; ``allowed`` are words of the test's data
    (usernames, names) that a Chinese page may show, ``keys`` the keys it may show beside
    their names."""

    allowed: set[str] = field(default_factory=set)
    keys: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def install(self, context: BrowserContext) -> None:
        context.add_init_script(script=_script())
        context.expose_binding("__blindmarkReport", lambda _source, found: self.judge(found))

    def judge(self, found: dict[str, Any]) -> None:
        path = found["path"]
        self.checked.append(path)
        for v in found["violations"]:
            problem = f"{path}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}"
            if problem not in self.problems:
                self.problems.append(problem)
        if found["lang"].startswith("zh"):
            text = found["text"]
            words = english_words(text, allowed=self.allowed, keys=self.keys)
            where = [text[max(0, i - 30) : i + 30] for i in map(text.find, sorted(set(words))[:5])]
            problem = f"{path}: English on a Chinese page: {sorted(set(words))} in {where}"
            if words and problem not in self.problems:
                self.problems.append(problem)

    def check_now(self, page: Page) -> None:
        """The page as it is now (after its script changed it), checked at once."""
        self.judge(page.evaluate("window.__blindmarkCheck()"))
        self.assert_clean()

    def assert_clean(self) -> None:
        if self.problems:
            found, self.problems = self.problems, []
            raise AssertionError("pages that fail the checks:\n" + "\n".join(found))
