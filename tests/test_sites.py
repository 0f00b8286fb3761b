"""Registered sites over real HTTP: a publisher site on 127.0.0.1 (site_pages.py), a real
`narrator serve` registering it, a canary that must never be reached. Reader requests,
freshness with conditional GETs, re-narration of edited pages through the synthesis cache,
the publish hooks and the site feed (issue 14)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter

import feedparser
import httpx
import pytest

from narrator.pipeline import extract, script_for
from server_support import TOKEN, Canary, PublisherSite, ServeProcess
from site_pages import PARAGRAPHS, TITLES, article, site_pages

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FRESH_S = 2.0
WEBFLOW_SECRET = "wf-secret-0d9a"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    site = PublisherSite({})
    canary = Canary()
    root = tmp_path_factory.mktemp("sites")
    config = root / "config.toml"
    config.write_text(f"""
[server.pages]
client_rate = 0          # these tests come from one address; limits are tested below
[[server.sites]]
origin = "{site.origin}"
fresh = {FRESH_S}
hourly_cap = 100
preparing = true
title = "The Valley Courier, read aloud"
webflow_secret = "{WEBFLOW_SECRET}"
""")
    srv = ServeProcess(root / "data", "--allow-net", "127.0.0.1/32", env={
        "NARRATOR_CONFIG": str(config), "NARRATOR_CACHE_DIR": str(root / "cache")})
    site.pages.update(site_pages(srv.url, site.origin))
    srv.wait_ready()
    client = httpx.Client(base_url=srv.url, timeout=30)
    yield {"srv": srv, "site": site, "canary": canary, "client": client}
    client.close()
    srv.stop()
    canary.close()
    site.close()


def ask(env, path_or_url: str, **headers) -> httpx.Response:
    url = path_or_url if "://" in path_or_url else env["site"].origin + path_or_url
    return env["client"].get("/v1/pages", params={"url": url}, headers=headers)


def until(env, path: str, done, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = ask(env, path).json()
        if done(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path}: {body}")


def ready(env, path: str) -> dict:
    return until(env, path, lambda b: b["status"] == "ready" and not b.get("updating"))


def speeches(html: str) -> list[str]:
    return [u.speech for u in script_for(extract(html.encode())).utterances()]


def test_an_unregistered_site_is_refused_without_any_fetch(env):
    canary, c = env["canary"], env["client"]
    for url in (f"http://127.0.0.1:{canary.port}/story", f"http://localhost:{env['site'].port}"
                f"/articles/one", f"https://127.0.0.1:{env['site'].port}/articles/one",
                f"http://[::1]:{canary.port}/story"):
        r = ask(env, url)
        assert r.status_code == 403, (url, r.text)
        assert "not on a site registered" in r.json()["error"]
        r = c.post("/v1/pages", json={"url": url}, headers=AUTH)
        assert r.status_code == 403, (url, r.text)
    for bad in ("", "not a url", "ftp://127.0.0.1/x", "/articles/one", "x" * 3000):
        assert c.get("/v1/pages", params={"url": bad}).status_code == 400, bad
    assert c.get("/v1/pages").status_code == 400
    # A registered page that redirects elsewhere: the second hop is never made.
    env["site"].redirects["/moved"] = f"http://127.0.0.1:{canary.port}/story"
    body = until(env, "/moved", lambda b: b["status"] != "preparing")
    assert body["status"] == "unavailable" and "registered site" in body["reason"]
    assert canary.hits == 0


def test_cors_for_registered_origins_only(env):
    r = ask(env, "/articles/one", Origin=env["site"].origin)
    assert r.headers["access-control-allow-origin"] == env["site"].origin
    r = ask(env, "/articles/one", Origin="https://elsewhere.example")
    assert "access-control-allow-origin" not in r.headers


def test_a_reader_request_narrates_the_page_and_an_edit_re_narrates_only_what_changed(env):
    site, c = env["site"], env["client"]
    first = ask(env, "/articles/two")
    assert first.status_code == 202 and first.json()["status"] == "preparing"
    assert first.json()["preparing"] is True and first.headers["retry-after"]
    body = ready(env, "/articles/two")
    old = body["narration"]
    assert body["url"] == site.origin + "/articles/two" and body["title"] == TITLES["two"]
    assert body["links"]["audio"] == f"/v1/narrations/{old}/audio.mp3"
    old_audio = c.get(body["links"]["audio"])
    assert old_audio.status_code == 200 and len(old_audio.content) > 10_000
    before = c.get(f"/v1/narrations/{old}").json()
    assert before["cache"]["hits"] + before["cache"]["misses"] == len(
        speeches(site.pages["/articles/two"]))
    # A query string (tracking) names the same page.
    again = ask(env, "/articles/two?utm_source=mail&fbclid=1")
    assert again.json()["narration"] == old and again.json()["id"] == body["id"]

    # One paragraph edited; the next request after the freshness interval finds it.
    edited = list(PARAGRAPHS["two"])
    edited[1] = "Its reading room now sits where the grinding stones once turned slowly."
    html_before = site.pages["/articles/two"]
    site.edit("/articles/two", article(env["srv"].url, site.origin, "two", edited))
    changed = Counter(speeches(site.pages["/articles/two"])) - Counter(speeches(html_before))
    assert sum(changed.values()) == 1
    time.sleep(FRESH_S + 0.3)
    during = ask(env, "/articles/two").json()
    assert during["status"] == "ready" and during["narration"] == old  # old audio meanwhile
    served_old = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = ask(env, "/articles/two").json()
        if body["narration"] != old and not body["updating"]:
            break
        assert c.get(f"/v1/narrations/{old}/audio.mp3").content == old_audio.content
        served_old = True
        time.sleep(0.1)
    assert served_old and body["narration"] != old
    assert body["id"] == during["id"] and body["url"] == during["url"]  # stable across versions
    new = c.get(f"/v1/narrations/{body['narration']}").json()
    total = len(speeches(site.pages["/articles/two"]))
    assert new["cache"] == {"hits": total - 1, "misses": 1}, new
    assert (200, None) in site.fetched("/articles/two")
    assert any(status == 200 and inm for status, inm in site.fetched("/articles/two")), \
        "the re-check was not a conditional GET"
    # the version before stays playable for readers who still have it
    assert c.get(f"/v1/narrations/{old}/audio.mp3").status_code == 200


def test_an_unchanged_page_is_rechecked_with_a_conditional_get_and_kept(env):
    site = env["site"]
    old = ready(env, "/articles/three")["narration"]
    jobs = env["client"].get("/v1/narrations", headers=AUTH).json()["narrations"]
    time.sleep(FRESH_S + 0.3)
    assert ask(env, "/articles/three").json()["narration"] == old
    deadline = time.monotonic() + 30
    while (304, None) not in [(s, None) for s, _ in site.fetched("/articles/three")]:
        assert time.monotonic() < deadline, site.fetched("/articles/three")
        time.sleep(0.1)
    status, etag = site.fetched("/articles/three")[-1]
    assert status == 304 and etag
    assert ready(env, "/articles/three")["narration"] == old
    assert env["client"].get("/v1/narrations", headers=AUTH).json()["narrations"] == jobs


def test_new_markup_with_the_same_text_is_not_narrated_again(env):
    site, c = env["site"], env["client"]
    old = ready(env, "/articles/one")["narration"]
    audio = c.get(f"/v1/narrations/{old}/audio.mp3").content
    site.edit("/articles/one", article(env["srv"].url, site.origin, "one",
                                       extra="<aside><p>Most read: the weather.</p></aside>"))
    time.sleep(FRESH_S + 0.3)
    ask(env, "/articles/one")
    body = until(env, "/articles/one", lambda b: b["narration"] != old and not b["updating"])
    job = c.get(f"/v1/narrations/{body['narration']}").json()
    assert job["cache"] == {"hits": 0, "misses": 0}  # nothing synthesized, nothing encoded
    assert c.get(f"/v1/narrations/{body['narration']}/audio.mp3").content == audio
    # A third version: the first is deleted, the second (the one before) stays playable.
    second = body["narration"]
    site.edit("/articles/one", article(env["srv"].url, site.origin, "one",
                                       extra="<aside><p>Most read: the market.</p></aside>"))
    time.sleep(FRESH_S + 0.3)
    ask(env, "/articles/one")
    third = until(env, "/articles/one", lambda b: b["narration"] not in (old, second)
                  and not b["updating"])["narration"]
    assert c.get(f"/v1/narrations/{old}").status_code == 404
    assert c.get(f"/v1/narrations/{second}/audio.mp3").content == audio
    assert c.get(f"/v1/narrations/{third}/audio.mp3").content == audio


def test_a_page_without_an_article_says_why(env):
    body = until(env, "/about", lambda b: b["status"] != "preparing")
    assert body["status"] == "unavailable"
    assert body["reason"] == "no article text found on the page"


def test_the_publish_hook_narrates_at_publication(env):
    c, site = env["client"], env["site"]
    url = site.origin + "/articles/four"
    assert c.post("/v1/pages", json={"url": url}).status_code == 401
    r = c.post("/v1/pages", json={"url": url}, headers=AUTH)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "preparing"
    deadline = time.monotonic() + 120
    while not site.fetched("/articles/four") or \
            c.get("/v1/pages", params={"url": url}).json()["status"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # The whole site at once (a site-wide publish): every known page is checked now.
    before = len(site.log)
    r = c.post("/v1/pages", json={"site": site.origin}, headers=AUTH)
    assert r.status_code == 202 and r.json()["checking"] >= 1
    deadline = time.monotonic() + 30
    while len(site.log) == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for bad in ({"url": url, "site": site.origin}, {"html": "<p>x</p>"}, {}):
        assert c.post("/v1/pages", json=bad, headers=AUTH).status_code == 400


def test_webflow_site_publish_hook_needs_its_signature(env):
    c, site = env["client"], env["site"]
    ready(env, "/articles/three")
    body = json.dumps({"triggerType": "site_publish", "payload": {
        "domains": ["127.0.0.1"], "publishedOn": "2026-11-30T10:00:00Z"}}).encode()
    stamp = str(int(time.time() * 1000))
    good = hmac.new(WEBFLOW_SECRET.encode(), stamp.encode() + b":" + body,
                    hashlib.sha256).hexdigest()
    headers = {"x-webflow-timestamp": stamp, "Content-Type": "application/json"}
    for signature in ("0" * 64, good[:-1] + "0", ""):
        r = c.post("/v1/hooks/webflow", content=body,
                   headers={**headers, "x-webflow-signature": signature})
        assert r.status_code == 401
    old_stamp = str(int((time.time() - 600) * 1000))
    stale = hmac.new(WEBFLOW_SECRET.encode(), old_stamp.encode() + b":" + body,
                     hashlib.sha256).hexdigest()
    r = c.post("/v1/hooks/webflow", content=body, headers={
        "x-webflow-timestamp": old_stamp, "x-webflow-signature": stale})
    assert r.status_code == 401
    before = len(site.log)
    r = c.post("/v1/hooks/webflow", content=body,
               headers={**headers, "x-webflow-signature": good})
    assert r.status_code == 202 and r.json()["checking"] >= 1
    deadline = time.monotonic() + 30
    while len(site.log) == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_the_site_feed_lists_the_narrated_pages(env):
    c, site = env["client"], env["site"]
    narrated = {slug: ready(env, f"/articles/{slug}") for slug in ("one", "two", "three")}
    until(env, "/about", lambda b: b["status"] == "unavailable")
    host = site.origin.split("://")[1]
    r = c.get(f"/sites/{host}/feed.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/rss+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title == "The Valley Courier, read aloud"
    assert parsed.feed.language == "en"
    by_link = {e.link: e for e in parsed.entries}
    for slug, body in narrated.items():
        entry = by_link[body["url"]]
        assert entry.title == TITLES[slug]
        assert entry.id == "narrator:" + hashlib.sha256(body["url"].encode()).hexdigest()[:32]
        (enclosure,) = entry.enclosures
        assert enclosure.href == f"{env['srv'].url}/v1/narrations/{body['narration']}/audio.mp3"
        audio = c.get(enclosure.href)
        assert audio.status_code == 200 and int(enclosure.length) == len(audio.content)
        assert entry.published_parsed[:3] == (2026, 11, 20 + len(slug))
    assert "/about" not in " ".join(by_link)
    xml = r.text
    assert xml.count("<podcast:chapters ") == xml.count("<podcast:transcript ") == len(
        parsed.entries) >= 3
    for body in narrated.values():
        files = f"{env['srv'].url}/v1/narrations/{body['narration']}"
        assert f'<podcast:chapters url="{files}/chapters.json"' in xml
        assert f'<podcast:transcript url="{files}/transcript.vtt"' in xml
        assert c.get(f"{files}/chapters.json").json()["chapters"]
    art = c.get(f"/sites/{host}/artwork.png")
    assert art.status_code == 200 and art.content.startswith(b"\x89PNG")
    assert parsed.feed.image.href == f"{env['srv'].url}/sites/{host}/artwork.png"
    assert c.get("/sites/elsewhere.example/feed.xml").status_code == 404


def test_serve_site_flag_registers_an_origin_and_refuses_a_bad_one(tmp_path):
    import subprocess
    import sys

    from server_support import ROOT
    site = PublisherSite({})
    srv = ServeProcess(tmp_path / "data", "--site", site.origin + "/", "--allow-net",
                       "127.0.0.1/32")
    site.pages.update(site_pages(srv.url, site.origin))
    try:
        srv.wait_ready()
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.get("/v1/pages", params={"url": site.origin + "/articles/one"})
            assert r.status_code == 202, r.text
            r = c.get("/v1/pages", params={"url": "http://127.0.0.1:1/articles/one"})
            assert r.status_code == 403
        srv.log.flush()
        assert f"sites {site.origin}" in open(srv.log.name).read()
    finally:
        srv.stop()
        site.close()
    for bad in ("ftp://example.org", "https://example.org/path", "example.org"):
        r = subprocess.run([sys.executable, "-m", "narrator", "serve", "--no-auth", "--data",
                            str(tmp_path / "d2"), "--port", "0", "--site", bad],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert r.returncode != 0 and r.stderr.startswith("narrator: error: a site is an origin")
        assert len(r.stderr.splitlines()) == 1


def test_the_site_feed_never_takes_its_links_from_the_host_header(env):
    # The feed is cached publicly (max-age): a forged Host must not end up in its links.
    c = env["client"]
    host = env["site"].origin.split("://")[1]
    r = c.get(f"/sites/{host}/feed.xml", headers={"Host": "evil.example"})
    assert r.status_code == 200
    assert b"evil.example" not in r.content
    assert f"{env['srv'].url}/sites/{host}/artwork.png".encode() in r.content
