"""Issue 14's acceptance in a real browser: a publisher site on 127.0.0.1 whose template has
the auto-mode snippet, registered with a real `narrator serve`. An article page opened in
Chromium gets its player by itself once the server has narrated it, and plays it; a page
without an article never shows a player."""
from __future__ import annotations

import pytest

from browser_support import ARTIFACTS, browser, page  # noqa: F401  (fixtures)
from server_support import PublisherSite, ServeProcess
from site_pages import TITLES, site_pages


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    site = PublisherSite({})
    root = tmp_path_factory.mktemp("sites-browser")
    config = root / "config.toml"
    config.write_text(f'[[server.sites]]\norigin = "{site.origin}"\npreparing = true\n')
    srv = ServeProcess(root / "data", "--allow-net", "127.0.0.1/32", env={
        "NARRATOR_CONFIG": str(config), "NARRATOR_CACHE_DIR": str(root / "cache")})
    site.pages.update(site_pages(srv.url, site.origin))
    srv.wait_ready()
    yield {"srv": srv, "site": site}
    srv.stop()
    site.close()


def test_an_article_gets_its_player_by_itself_and_plays_it(env, page):
    page.goto(env["site"].origin + "/articles/one")
    root = page.locator("[data-narrator-auto]")
    # Not narrated yet: no player, only the site's discreet "in preparation" line.
    page.wait_for_function("() => document.querySelector('[data-narrator-auto]')"
                           ".dataset.narratorStatus === 'preparing'")
    assert page.locator(".nr").count() == 0
    assert page.locator(".nr-preparing").inner_text() == "Audio version in preparation"
    listen = page.locator(".nr-listen")
    listen.wait_for(timeout=90_000)  # the widget polls with backoff until the audio is ready
    assert page.locator(".nr-preparing").count() == 0
    assert root.get_attribute("data-narrator-status") == "ready"
    assert page.get_by_role("button", name="Listen to this article", exact=True).count() == 1
    listen.click()
    page.wait_for_function("() => document.querySelector('.nr audio').currentTime > 1.0",
                           timeout=20_000)
    state = page.evaluate("""() => { const a = document.querySelector('.nr audio');
        return {paused: a.paused, src: a.currentSrc, d: a.duration}; }""")
    assert not state["paused"] and state["d"] > 5
    assert state["src"].startswith(env["srv"].url + "/v1/narrations/")
    assert page.locator(".nr").get_attribute("aria-label").endswith(TITLES["one"])
    assert page.locator(".nr-cue").count() > 3
    assert not page.errors
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "player-auto-mode.png"), full_page=True)
    # A second reader later: the player appears at once (no waiting).
    page.goto(env["site"].origin + "/articles/one")
    page.locator(".nr-listen").wait_for(timeout=5_000)


def test_a_page_without_an_article_shows_no_player(env, page):
    page.goto(env["site"].origin + "/about")
    page.wait_for_function("() => document.querySelector('[data-narrator-auto]')"
                           ".dataset.narratorStatus === 'unavailable'", timeout=90_000)
    root = page.locator("[data-narrator-auto]")
    assert root.get_attribute("data-narrator-reason") == "no article text found on the page"
    page.wait_for_timeout(500)
    assert page.locator(".nr, .nr-preparing").count() == 0
    assert root.bounding_box() is None or root.bounding_box()["height"] == 0
    assert not page.errors
