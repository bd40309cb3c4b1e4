"""Browser tests: the web application in a real HTTP server, driven by Debian's chromium.

The application runs in a werkzeug server on a thread of the test process (a free port on
127.0.0.1), over a database the tests commit to, seeded through the real services
(tests/web/conftest.py's ``World``). Playwright drives the system's ``/usr/bin/chromium``
headless: Playwright's own browser download is never used.

Each person's browser shows the site in Chinese, its default, unless the test asks for English
(the ``language`` fixture, "zh_CN" or "en": parametrize a test over ``LANGUAGES`` to walk it in
both); in English the browser's own locale is en-US and the person picks English with the
site's language switch, as a user does. ``say`` gives a test the words of the language it walks.

Without chromium the tests fail under CI (``CI`` set: .ci/run installs it) and are skipped,
loudly, elsewhere. Screenshots of each main screen go to ``test-output/screenshots/`` at the
repository root (``BLINDMARK_SCREENSHOTS`` overrides); the path is printed at the end.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import String, Text, select
from werkzeug.serving import make_server

from marking.store.models import Base
from tests.browser.checks import PageChecks
from tests.web import conftest as web
from tests.web.conftest import PASSWORD, USERNAMES, World
from web import DEFAULTS

# The message catalogs and the seeded world are the other web tests' fixtures, shared.
catalogs = web.catalogs
world = web.world

SHOTS = pytest.StashKey[Path]()
PHONE = {"width": 390, "height": 844}
# Words of the tests' data a Chinese page may show: the accounts' usernames, and the intake
# batch the factory takes in from its folder "batch".
# "scan" is the engine's name for the scans' intake batches and their system actor: shown in
# English still (marking/paper's to name in Chinese).
ALLOWED_WORDS = {
    *USERNAMES.values(),
    "office",
    "director",
    "lead",
    "admin",
    "centre",
    "batch",
    "scan",
}
# The tiny paper's group and component keys (tests/integration/factory.py), beside names.
DATA_KEYS = ("short", "prac", "theory", "skills")
#: The site's two languages, as the language switch names them (web/__init__.py).
LANGUAGES = ("zh_CN", "en")
#: The browser's own locale for each (what it sends as Accept-Language, how it formats).
BROWSER_LOCALE = {"zh_CN": "zh-CN", "en": "en-US"}
CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CHROMIUM = Path(os.environ.get("BLINDMARK_CHROMIUM", "/usr/bin/chromium"))

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - playwright is a dev dependency
    sync_playwright = None  # type: ignore[assignment]


def _unavailable(reason: str) -> None:
    """No browser: a failure under CI, a loud skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"BROWSER TESTS NOT RUN: {reason} (apt-get install chromium, or make browser)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def shots(request: pytest.FixtureRequest) -> Path:
    """Where the screenshots go (kept after the run; generated, never committed)."""
    folder = Path(
        os.environ.get("BLINDMARK_SCREENSHOTS")
        or request.config.rootpath / "test-output" / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("[0-9][0-9]-*.png"):  # a previous run's, perhaps under other names
        old.unlink()
    request.config.stash[SHOTS] = folder
    return folder


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    folder = terminalreporter.config.stash.get(SHOTS, None)
    if folder is not None:
        count = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"browser screenshots ({count}): {folder}")


class Server:
    """The application of ``world`` served over HTTP on a free local port."""

    def __init__(self, world: World) -> None:
        self.world = world
        # As served: examiners' requests at the production pace (web/pacing.py).
        world.app.config["EXAMINER_PACE"] = DEFAULTS["EXAMINER_PACE"]
        self.http = make_server("127.0.0.1", 0, world.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    running = Server(world)
    try:
        yield running
    finally:
        running.stop()


def _strings(value: object) -> Iterator[str]:
    """The strings of a parsed TOML document, nested ones too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def data_text(world: World) -> str:
    """The Chinese the test's data put in the database, one value a line: the sessions'
    definitions, names of people, candidates, groups and stations, notes and reasons typed
    in. An English page may show these; no interface string is stored there. A stored
    session.toml gives its values, not its comments (the template's are Chinese prose)."""
    found: set[str] = set()
    with world.tx() as db:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in db.execute(select(*columns)):
                for value in row:
                    if not isinstance(value, str) or not CHINESE.search(value):
                        continue
                    try:
                        found.update(_strings(tomllib.loads(value)))
                    except tomllib.TOMLDecodeError:
                        found.add(value)
    return "\n".join(sorted(v for v in found if CHINESE.search(v)))


class Person:
    """One user at their own browser (a context of its own: own cookies, own login), in
    ``language``: in English, the site's language switch is clicked first."""

    def __init__(
        self, context: BrowserContext, server: Server, shots: Path, language: str = "zh_CN"
    ) -> None:
        self.context = context
        self.server = server
        self.shots = shots
        self.language = language
        # Every page this person opens is checked (tests/browser/checks.py).
        self.checks = PageChecks(
            allowed=ALLOWED_WORDS, keys=DATA_KEYS, data=lambda: data_text(server.world)
        )
        self.checks.install(context)
        self.page: Page = context.new_page()
        if language != "zh_CN":
            self.choose_language(language)

    def choose_language(self, language: str) -> None:
        """Pick ``language`` with the switch in the page's header, as a user does."""
        page = self.go("/login")
        with page.expect_navigation():
            page.locator(f"a[href^='/lang/{language}?next=']").click()
        expect(page.locator("html")).to_have_attribute("lang", language.replace("_", "-"))
        assert page.url.endswith("/login")  # back on the page it was chosen on

    def go(self, path: str) -> Page:
        self.page.goto(self.server.url + path)
        return self.page

    def log_in(self, username: str, password: str = PASSWORD) -> Page:
        """Log in from the login page with the keyboard: name, Tab, password, Enter."""
        page = self.go("/login")
        page.locator("input[name=username]").focus()
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/login" not in page.url, f"{username} could not log in"
        return page

    def shot(self, name: str) -> Path:
        """The screen as it is, photographed at the test's size and on a phone (390×844),
        each checked first (tests/browser/checks.py)."""
        if self.language != "zh_CN":
            name = f"{name}-{self.language}"  # beside the Chinese one, not over it
        self.checks.check_now(self.page)
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        size = self.page.viewport_size
        self.page.set_viewport_size(PHONE)
        # Two frames: the page's resize handlers run before the check (site.js's scrollers).
        self.page.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        try:
            self.checks.check_now(self.page)
            self.page.screenshot(path=str(self.shots / f"{name}-phone.png"), full_page=True)
        finally:
            if size is not None:
                self.page.set_viewport_size(size)
        return path


@pytest.fixture
def language() -> str:
    """The language the test's people read: Chinese, unless a test parametrizes it."""
    return "zh_CN"


@pytest.fixture
def say(language: str) -> Callable[[str, str], str]:
    """``say("我的阅卷", "My marking")``: the words of the language the test walks in."""
    return lambda chinese, english: english if language == "en" else chinese


@pytest.fixture
def people(
    browser: Browser, server: Server, shots: Path, language: str
) -> Iterator[dict[str, Person]]:
    """People at their browsers, made on first use: ``people["office"]``, ..., each reading
    ``language``."""
    contexts: list[BrowserContext] = []

    class Crowd(dict[str, Person]):
        def __missing__(self, key: str) -> Person:
            context = browser.new_context(
                locale=BROWSER_LOCALE[language], viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(10_000)
            contexts.append(context)
            self[key] = Person(context, server, shots, language)
            return self[key]

    crowd = Crowd()
    try:
        yield crowd
    finally:
        for context in contexts:
            context.close()
    for person in crowd.values():
        person.checks.assert_clean()
