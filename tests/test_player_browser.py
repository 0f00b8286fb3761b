"""The player in a real browser: Debian's Chromium, headless, driven by Playwright, against
`narrator serve` started here on 127.0.0.1 (and a publisher page on another origin)."""
from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from browser_support import ARTIFACTS, browser, page  # noqa: F401  (fixtures)
from server_support import (ROOT, TOKEN, PageServer, ServeProcess, article_html, wait_done)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
XSS_PAGE = article_html("&lt;script&gt;alert(1)&lt;/script&gt;", [
    (None, ["Text stays text: &lt;img src=x onerror=alert(1)&gt; is shown, not run.",
            '<img src="x" onerror="alert(2)"> A real image with a handler sits here.']),
    ("Part &lt;b onmouseover=alert(3)&gt;two", ["A closing sentence."])])
FR_PAGE = article_html("La ville écoute ses rues", [
    (None, ["Une courte phrase en français pour le lecteur.", "Une deuxième phrase suit."]),
    ("Un second chapitre", ["La fin de cet article très court."])], lang="fr")


def vtt(text: str) -> list[tuple[float, float, str]]:
    def secs(t):
        h, m, s = t.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if "-->" in line:
                a, b = line.split("-->")
                body = " ".join(lines[i + 1:]).replace("&lt;", "<").replace("&gt;", ">") \
                    .replace("&amp;", "&")
                cues.append((secs(a.strip()), secs(b.strip().split()[0]), body))
    return cues


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve") / "data"
    cache = tmp_path_factory.mktemp("cache")
    srv = ServeProcess(data, env={"NARRATOR_CACHE_DIR": str(cache)}).wait_ready()
    client = httpx.Client(base_url=srv.url, timeout=30)
    ids = {}
    pages = {"article": (ROOT / "samples" / "en-city-heat.html").read_text(encoding="utf-8"),
             "xss": XSS_PAGE, "fr": FR_PAGE}
    for name, page in pages.items():
        r = client.post("/v1/narrations", json={"html": page}, headers=AUTH)
        assert r.status_code == 202, r.text
        ids[name] = r.json()["id"]
    for name, id in ids.items():
        state = wait_done(client, id, timeout=240)
        assert state["status"] == "done", state
    article = ids["article"]
    chapters = client.get(f"/v1/narrations/{article}/chapters.json").json()["chapters"]
    cues = vtt(client.get(f"/v1/narrations/{article}/transcript.vtt").text)
    # The publisher's own page, on another origin, with the widget.
    publisher = PageServer({"/story": (200, {"Content-Type": "text/html; charset=utf-8"}, f"""
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Story</title>
        <link rel="stylesheet" href="{srv.url}/static/player.css"></head><body>
        <h1>How Calder is cooling its hottest streets</h1>
        <div id="w" data-narrator="{article}"></div><p>The article text...</p>
        <script src="{srv.url}/static/player.js"></script></body></html>""".encode())})
    yield {"srv": srv, "client": client, "ids": ids, "chapters": chapters, "cues": cues,
           "publisher": publisher.url + "/story", "data": data}
    publisher.close()
    client.close()
    srv.stop()


def audio_state(pg) -> dict:
    return pg.evaluate("""() => { const a = document.querySelector('.nr audio');
        return {t: a.currentTime, paused: a.paused, rate: a.playbackRate, d: a.duration}; }""")


def wait_time_past(pg, seconds: float, timeout_ms: int = 20000):
    pg.wait_for_function(f"() => document.querySelector('.nr audio').currentTime > {seconds}",
                         timeout=timeout_ms)


def current_cue(pg) -> str:
    return pg.locator(".nr-cue.nr-current").inner_text()


def expected_cue(cues, t: float) -> str:
    text = ""
    for start, _end, body in cues:
        if start <= t + 0.05:
            text = body
    return text


def test_widget_on_a_publisher_page_plays_jumps_and_follows(served, page):
    page.goto(served["publisher"])
    listen = page.locator(".nr-listen")
    listen.wait_for()
    assert "Listen to this article" in listen.inner_text()
    assert page.locator(".nr-panel").is_hidden()
    listen.click()
    wait_time_past(page, 1.0)
    assert not audio_state(page)["paused"]
    session = page.evaluate("""() => ({title: navigator.mediaSession.metadata.title,
                                       state: navigator.mediaSession.playbackState})""")
    assert session == {"title": "How Calder is cooling its hottest streets, one block at a time",
                       "state": "playing"}

    # chapter 2: currentTime jumps to its start and the transcript highlights its heading
    chapters = served["chapters"]
    assert page.locator(".nr-chapter").count() == len(chapters) >= 2
    assert page.locator(".nr-tick").count() == len(chapters) - 1
    page.locator(".nr-chapter").nth(1).click()
    page.wait_for_function(f"() => Math.abs(document.querySelector('.nr audio').currentTime"
                           f" - {chapters[1]['startTime']}) < 1.0")
    assert abs(audio_state(page)["t"] - chapters[1]["startTime"]) < 1.0
    assert current_cue(page) == chapters[1]["title"]
    assert page.locator(".nr-chapter").nth(1).get_attribute("aria-current") == "true"

    # the highlighted sentence follows playback
    start = chapters[1]["startTime"]
    cues = served["cues"]
    next_cue = next(c for c in cues if c[0] > start + 0.5)
    wait_time_past(page, next_cue[0] + 0.3)
    page.evaluate("document.querySelector('.nr audio').pause()")
    page.wait_for_timeout(300)
    t = audio_state(page)["t"]
    assert current_cue(page) == expected_cue(cues, t) != chapters[1]["title"]
    assert page.locator(".nr-cue[aria-current=true]").count() == 1

    # back 15 s
    t = audio_state(page)["t"]
    page.locator(".nr-back").click()
    assert audio_state(page)["t"] == pytest.approx(max(0, t - 15), abs=0.5)

    # click a sentence in the transcript: playback goes there
    target = cues[len(cues) // 2]
    page.locator(".nr-cue").nth(len(cues) // 2).click()
    page.wait_for_function(f"() => Math.abs(document.querySelector('.nr audio').currentTime"
                           f" - {target[0]}) < 1.0")
    assert current_cue(page) == target[2]
    assert not page.errors and not page.dialogs
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "player-publisher-page.png"), full_page=True)


def test_keyboard_only(served, page):
    page.goto(f"{served['srv'].url}/embed/{served['ids']['article']}")
    page.locator(".nr-listen").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "nr-listen"
    page.keyboard.press("Enter")
    wait_time_past(page, 0.5)
    assert page.locator(".nr-listen").get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")  # -15
    page.keyboard.press("Tab")  # play / pause
    assert page.evaluate("document.activeElement.className") == "nr-play"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Pause"
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('.nr audio').paused")
    # The label follows the audio's own "pause" event, which comes just after `paused`.
    page.wait_for_function(
        "() => document.querySelector('.nr-play').getAttribute('aria-label') === 'Play'")
    page.keyboard.press("Tab")  # +15
    before = audio_state(page)["t"]
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('.nr audio').currentTime > {before + 14}")
    page.keyboard.press("Tab")  # the progress slider
    assert page.evaluate("document.activeElement.getAttribute('role')") == "slider"
    before = audio_state(page)["t"]
    page.keyboard.press("ArrowRight")
    assert audio_state(page)["t"] == pytest.approx(before + 5, abs=0.3)
    assert int(page.locator(".nr-progress").get_attribute("aria-valuenow")) == round(before + 5)
    page.keyboard.press("Home")
    assert audio_state(page)["t"] < 0.3
    page.keyboard.press("Tab")  # speed
    page.keyboard.press("ArrowDown")  # a native select: 1x -> 1.25x
    page.wait_for_function("() => document.querySelector('.nr audio').playbackRate === 1.25")
    page.keyboard.press("Tab")  # first chapter
    page.keyboard.press("Tab")  # second chapter
    assert "nr-chapter" in page.evaluate("document.activeElement.className")
    page.keyboard.press("Enter")
    second = served["chapters"][1]["startTime"]
    page.wait_for_function(f"() => Math.abs(document.querySelector('.nr audio').currentTime"
                           f" - {second}) < 1.0")
    for _ in range(len(served["chapters"]) - 2):  # to the last chapter
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # into the transcript: one tab stop, arrows move inside
    assert "nr-cue" in page.evaluate("document.activeElement.className")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.textContent")
    start = next(c[0] for c in served["cues"] if c[2] == focused)
    page.wait_for_function(f"() => Math.abs(document.querySelector('.nr audio').currentTime"
                           f" - {start}) < 1.0")
    # accessible names everywhere a screen reader lands
    for sel in (".nr-back", ".nr-play", ".nr-fwd", ".nr-progress", ".nr-speed select"):
        assert page.locator(sel).get_attribute("aria-label"), sel
    assert page.locator(".nr").get_attribute("aria-label").startswith("Audio version")
    assert not page.errors


def test_french_article_gets_the_french_button_and_position_is_remembered(served, page):
    url = f"{served['srv'].url}/embed/{served['ids']['fr']}"
    page.goto(url)
    listen = page.locator(".nr-listen")
    listen.wait_for()
    assert "Écouter cet article" in listen.inner_text()
    assert page.locator(".nr-back").get_attribute("aria-label") == "Reculer de 15 secondes"
    listen.click()
    wait_time_past(page, 3.5)
    page.evaluate("document.querySelector('.nr audio').pause()")
    saved = audio_state(page)["t"]
    page.reload()
    page.locator(".nr-listen").wait_for()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('.nr audio').currentTime - {saved}) < 0.6")


def test_hostile_article_text_is_shown_as_text(served, page):
    csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m.text))
    page.goto(f"{served['srv'].url}/embed/{served['ids']['xss']}")
    page.locator(".nr-listen").click()
    page.locator(".nr-cue").first.wait_for()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.title() == "<script>alert(1)</script>"
    assert page.locator(".nr").get_attribute("aria-label").endswith("<script>alert(1)</script>")
    texts = page.locator(".nr-cue").all_inner_texts()
    assert "<script>alert(1)</script>" in texts
    assert any("<img src=x onerror=alert(1)>" in t for t in texts)
    assert page.locator(".nr img, .nr script, .nr b").count() == 0
    assert not page.errors and csp_violations == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "player-hostile-article.png"), full_page=True)


# ----------------------------------------------------------------------------- issue 13


def test_the_listen_button_is_a_toggle_with_a_stable_name_and_its_state(served, page):
    page.goto(f"{served['srv'].url}/embed/{served['ids']['fr']}")
    listen = page.locator(".nr-listen")
    listen.wait_for()
    named = page.get_by_role("button", name="Écouter cet article", exact=True)
    assert named.count() == 1
    assert listen.get_attribute("aria-pressed") == "false"
    listen.click()
    wait_time_past(page, 0.3)
    page.wait_for_function("() => document.querySelector('.nr-listen')"
                           ".getAttribute('aria-pressed') === 'true'")
    assert named.count() == 1  # the name says what the button is, aria-pressed its state
    listen.click()
    page.wait_for_function("() => document.querySelector('.nr audio').paused")
    page.wait_for_function("() => document.querySelector('.nr-listen')"
                           ".getAttribute('aria-pressed') === 'false'")
    page.locator(".nr-play").click()  # started elsewhere: the top button follows
    page.wait_for_function("() => document.querySelector('.nr-listen')"
                           ".getAttribute('aria-pressed') === 'true'")
    assert not page.errors


def test_end_seeks_to_the_narration_end_not_past_it(served, page):
    meta = served["client"].get(
        f"/v1/narrations/{served['ids']['article']}/chapters.json").json()
    duration = meta["narrator"]["duration"]
    page.add_init_script("""(() => {  // records every position the player asks for
        const d = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'currentTime');
        window.__seeks = [];
        Object.defineProperty(HTMLMediaElement.prototype, 'currentTime', {
            get() { return d.get.call(this); },
            set(v) { window.__seeks.push(v); d.set.call(this, v); }});
    })()""")
    page.goto(f"{served['srv'].url}/embed/{served['ids']['article']}")
    page.locator(".nr-listen").click()
    wait_time_past(page, 0.3)
    page.evaluate("document.querySelector('.nr audio').pause()")
    slider = page.locator(".nr-progress")
    slider.focus()
    page.evaluate("window.__seeks = []")
    page.keyboard.press("End")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__seeks") == [pytest.approx(duration, abs=0.01)]
    state = audio_state(page)
    assert state["t"] <= duration + 0.01, (state, duration)
    assert state["t"] >= duration - 0.5
    assert slider.get_attribute("aria-valuemax") == str(round(duration))
    assert slider.get_attribute("aria-valuenow") == str(round(duration))
    assert page.locator(".nr-time").inner_text().endswith(
        f"{int(duration) // 60}:{int(duration) % 60:02d}")
    page.keyboard.press("ArrowRight")  # past the end stays at the end
    assert audio_state(page)["t"] <= duration + 0.01


def _frame_page(served, height: int, *, listener: bool) -> str:
    srv = served["srv"].url
    script = ""
    if listener:  # the snippet README gives for resizing (narrator/server/embed.py)
        from narrator.server.embed import resize_listener
        script = resize_listener(srv)
    return (f'<!doctype html><html><body style="margin:0"><h1>Story</h1>'
            f'<iframe id="f" src="{srv}/embed/{served["ids"]["article"]}" title="Audio" '
            f'style="width:640px;height:{height}px;border:0"></iframe>{script}</body></html>')


@pytest.mark.parametrize("height", [400, 300])
def test_expanded_player_fits_a_common_iframe_height(served, page, height):
    publisher = PageServer({"/framed": (200, {"Content-Type": "text/html; charset=utf-8"},
                                        _frame_page(served, height, listener=False).encode())})
    try:
        page.goto(publisher.url + "/framed")
        frame = page.frame_locator("#f")
        frame.locator(".nr-listen").click()
        frame.locator(".nr-cue").first.wait_for()
        inner = page.frame(url=lambda u: "/embed/" in u)
        inner.wait_for_timeout(300)
        fit = inner.evaluate("""() => {
            const r = (s) => document.querySelector(s).getBoundingClientRect();
            return {scroll: document.documentElement.scrollHeight, inner: innerHeight,
                    controls: r('.nr-controls').bottom, transcript: r('.nr-transcript'),
                    chapters: r('.nr-chapters')}; }""")
        assert fit["inner"] == height
        assert fit["scroll"] <= height, fit  # nothing cut off below the frame
        assert fit["controls"] <= height
        assert fit["transcript"]["bottom"] <= height and fit["transcript"]["height"] >= 40, fit
        assert fit["chapters"]["height"] >= 24, fit
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"player-iframe-{height}.png"))
    finally:
        publisher.close()


def test_the_iframe_grows_to_the_player_through_postmessage(served, page):
    publisher = PageServer({"/framed": (200, {"Content-Type": "text/html; charset=utf-8"},
                                        _frame_page(served, 120, listener=True).encode())})
    try:
        page.goto(publisher.url + "/framed")
        frame = page.frame_locator("#f")
        frame.locator(".nr-listen").wait_for()
        collapsed = page.evaluate("document.getElementById('f').getBoundingClientRect().height")
        assert collapsed < 120  # shrunk to the closed player
        frame.locator(".nr-listen").click()
        page.wait_for_function("document.getElementById('f').getBoundingClientRect().height"
                               " > 300")
        inner = page.frame(url=lambda u: "/embed/" in u)
        inner.wait_for_timeout(300)
        fit = inner.evaluate("() => ({scroll: document.documentElement.scrollHeight,"
                             " inner: innerHeight, h: document.querySelector('.nr')"
                             ".getBoundingClientRect().height})")
        assert fit["scroll"] <= fit["inner"] and abs(fit["inner"] - fit["h"]) <= 2, fit
        assert not page.errors
    finally:
        publisher.close()


# The last test: it stops the module's server.

def test_embed_snippet_works_without_a_server(served, page, tmp_path):
    folder = served["data"] / "narrations" / served["ids"]["article"]
    out = tmp_path / "site" / "snippet.html"
    r = subprocess.run([sys.executable, "-m", "narrator", "embed", str(folder / "audio.mp3"),
                        "-o", str(out)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    snippet = out.read_text(encoding="utf-8")
    assert 'data-narrator="../../' in snippet or "audio.mp3" in snippet
    served["srv"].stop()  # nothing may come from the server from here on
    page.goto(out.as_uri())
    listen = page.locator(".nr-listen")
    listen.wait_for()
    assert "Listen to this article" in listen.inner_text()
    assert page.locator(".nr-chapter").count() == len(served["chapters"])
    assert page.locator(".nr-cue").count() == len(served["cues"])
    listen.click()
    wait_time_past(page, 1.0)
    page.locator(".nr-chapter").nth(2).click()
    page.wait_for_function(f"() => Math.abs(document.querySelector('.nr audio').currentTime"
                           f" - {served['chapters'][2]['startTime']}) < 1.0")
    assert not page.errors
