"""Fixtures for the practice-page tests: a real ``grader serve`` and a real headless Chromium.

Chromium is Debian's ``chromium`` package (``make test`` installs it); Playwright only drives it.
A missing browser fails the tests instead of skipping them, so CI cannot pass without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.servers import grader_serve

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Small, so an over-long answer is cheap to type in the browser.
MAX_ANSWER_CHARS = 2000


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory, model_cache_dir: Path) -> Iterator[str]:
    """A real ``grader serve`` process on 127.0.0.1, ready (model and bank loaded).

    It shares the session's embedding cache, so the bank is embedded once per test run.
    """
    workdir = tmp_path_factory.mktemp("page-server")
    with grader_serve(workdir, GRADER_CACHE_DIR=str(model_cache_dir),
                      GRADER_MAX_ANSWER_CHARS=str(MAX_ANSWER_CHARS)) as (url, _log):
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched once for the session."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}. Install it with "
                    "`apt-get install -y chromium` (`make test` does this when run as root).")
    # The page's Content-Security-Policy forbids eval, which page.wait_for_function needs for
    # its predicate: the tests wait with locators and `expect` instead, as long as any page step.
    expect.set_options(timeout=60_000)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@dataclass
class BrowserLog:
    """Everything the page reported: console errors, uncaught exceptions, failed requests."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect a console error matching ``pattern`` (a test that provokes an HTTP error)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@dataclass
class PageSession:
    page: Page
    log: BrowserLog
    url: str
    max_answer_chars: int = MAX_ANSWER_CHARS
    artifacts: Path = ARTIFACTS


@pytest.fixture
def page_session(browser: Browser, server_url: str) -> Iterator[PageSession]:
    """A fresh browser context (empty localStorage) at desktop width; fails on console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    log = BrowserLog()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            log.errors.append(f"console error: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    yield PageSession(page=page, log=log, url=server_url)
    context.close()
    unexpected = log.unexpected()
    if unexpected:
        pytest.fail("the page reported errors:\n" + "\n".join(unexpected))
