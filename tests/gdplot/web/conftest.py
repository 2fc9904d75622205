"""Fixtures of the ``gdplot serve`` tests: a server on a free port, and a browser page.

The browser is Playwright driving chromium: Debian's ``/usr/bin/chromium`` or the one on the
PATH (``GDPLOT_CHROMIUM`` names another), never a downloaded one. Tests that use ``page`` are
skipped when the playwright package or the binary is missing (CI installs both as a best
effort).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gdplot.web import RunServer


@pytest.fixture
def serve():
    """Start RunServers on free ports (watching every 0.1 s); closed when the test ends."""
    servers: list[RunServer] = []

    def start(root: Path, **kwargs) -> RunServer:
        kwargs.setdefault("poll_interval", 0.1)
        server = RunServer(root, port=0, **kwargs).serve_in_thread()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


CHROMIUM = os.environ.get("GDPLOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
WAIT_MS = 15_000  # a bound only a broken page reaches


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module: Playwright's sync API runs an event loop on this
    thread while it is open, which later tests' ``asyncio.run`` must not find."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
        except sync_api.Error as exc:  # a binary that cannot start here
            pytest.skip(f"chromium did not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page; ``page.problems`` collects console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
