"""Chromium for the browser tests: Debian's /usr/bin/chromium, headless, driven by Playwright.

A test module imports this first: without Chromium or Playwright the whole module is skipped
(with the reason). It then imports the `browser` (one per module) and `page` fixtures; a page
records its script errors in `page.errors` and the dialogs it opened in `page.dialogs`
(dismissed), so that a test can assert there were none.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from server_support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"  # screenshots a test leaves for a person to look at

if not CHROMIUM.exists():  # CI installs it (scripts/setup.sh); say why rather than fail
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 900})
    pg = context.new_page()
    pg.dialogs, pg.errors = [], []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()
