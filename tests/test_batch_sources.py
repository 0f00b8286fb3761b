"""Batch sources: folders, WARC files, sitemaps and feeds (local and over HTTP from a server
on 127.0.0.1), URL lists, and the polite fetcher (robots.txt, delay, per-host concurrency,
User-Agent, timeouts, size caps)."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from narrator.batch.fetch import Fetcher, FetchError
from narrator.batch.identity import article_id, canonical_url
from narrator.batch.sources import open_source
from narrator.errors import InputError
from test_batch_archive import (derive_page, sample_pages,
                                isolated_config)  # noqa: F401 (fixture)


def page(n: int) -> bytes:
    samples = sample_pages()
    return derive_page(samples[n % len(samples)], n)


# The test sites are on loopback, which the batch fetches only when told (--allow-net).
LOOPBACK = ("127.0.0.0/8",)


def on_site(site: "Site", html: bytes) -> bytes:
    """The page as the test site publishes it: its canonical URL on that site (a canonical
    URL on another site is not taken as the id)."""
    canonical = canonical_url(html)
    origin = canonical.split("/", 3)[:3]
    return html.replace("/".join(origin).encode(), site.url.encode())


class Site:
    """A small web site: pages, robots.txt, sitemap, feeds; it records every request."""

    def __init__(self, robots: str = "User-agent: *\nDisallow: /private/\n"):
        self.files: dict[str, tuple[bytes, str]] = {"/robots.txt": (robots.encode(),
                                                                    "text/plain")}
        self.log: list[tuple[float, str, str]] = []
        self.statuses: list[tuple[str, int]] = []
        self.active = self.max_active = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with site.lock:
                    site.log.append((time.monotonic(), self.path,
                                     self.headers.get("User-Agent", "")))
                    site.active += 1
                    site.max_active = max(site.max_active, site.active)
                self.counted = True
                try:
                    if self.path == "/slow":
                        time.sleep(1.5)
                    body, kind = site.files.get(self.path, (None, None))
                    if body is None:
                        site.statuses.append((self.path, 404))
                        self.send_error(404)
                        return
                    etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
                    if self.headers.get("If-None-Match") == etag:
                        site.statuses.append((self.path, 304))
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    site.statuses.append((self.path, 200))
                    encoding = None
                    if self.path.endswith(".gz.html") and "gzip" in self.headers.get(
                            "Accept-Encoding", ""):
                        body, encoding = gzip.compress(body), "gzip"
                    time.sleep(0.05)  # long enough for overlapping requests to show
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("ETag", etag)
                    if encoding:
                        self.send_header("Content-Encoding", encoding)
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    self.answered()

            def send_response(self, *args, **kwargs):
                self.answered()
                super().send_response(*args, **kwargs)

            def answered(self):
                # No longer active once the answer starts: the client may send its next
                # request as soon as it has read this one, before this thread counts down.
                if getattr(self, "counted", False):
                    self.counted = False
                    with site.lock:
                        site.active -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, body: bytes, kind: str = "text/html; charset=utf-8") -> str:
        self.files[path] = (body, kind)
        return self.url + path

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.log]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def sitemap(urls: list[str], lastmod: str = "2025-01-01") -> bytes:
    return sitemap_of([(u, lastmod) for u in urls])


def sitemap_of(entries: list[tuple[str, str]]) -> bytes:
    locs = "".join(f"<url><loc>{u}</loc><lastmod>{m}</lastmod></url>" for u, m in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>').encode()


# ----------------------------------------------------------------------------- over HTTP


def test_sitemap_by_url_is_fetched_politely_and_narrated(site, tmp_path):
    urls = [site.add(f"/articles/{n}.html", on_site(site, page(n))) for n in range(3)]
    urls.append(site.url + "/private/secret.html")
    site.add("/private/secret.html", page(9))
    urls.append(site.url + "/articles/missing.html")
    # lastmod in the future: no page may be skipped on its sitemap date in this test's runs
    site.add("/sitemap.xml", sitemap(urls, "2999-01-01"), "application/xml")
    outdir = tmp_path / "out"
    command = [sys.executable, "-c", "from narrator.cli import main; main()", "batch",
               site.url + "/sitemap.xml", "-o", str(outdir), "--json", "--workers", "2",
               "--delay", "0.2", "--per-host", "1", "--engine", "espeak",
               "--allow-net", "127.0.0.0/8"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr  # two pages could not be had
    assert report["narrated"] == 3, report
    errors = {f["id"]: f["error"] for f in report["failed"]}
    assert "robots.txt disallows" in errors[site.url + "/private/secret.html"]
    assert "HTTP 404" in errors[site.url + "/articles/missing.html"]
    assert "/private/secret.html" not in site.paths()  # robots.txt honoured
    assert site.paths()[0] == "/robots.txt"
    assert all(ua.startswith("narrator-batch/") for _, _, ua in site.log)
    assert site.max_active == 1
    starts = sorted(t for t, _, _ in site.log)
    # >= 0.2 s between the starts of two requests; the server sees each start a little
    # late (by a varying latency), so check the whole span rather than each gap
    assert starts[-1] - starts[0] >= 0.2 * (len(starts) - 1) - 0.1, starts
    # ids are the pages' canonical URLs, not where they were fetched from
    ids = {f"{n}": canonical_url(on_site(site, page(n))) for n in range(3)}
    from test_batch import rows
    catalog = rows(outdir)
    assert {r["id"] for r in catalog.values() if r["status"] == "done"} == set(ids.values())
    assert {r["key"] for r in catalog.values() if r["status"] == "done"} == set(urls[:3])

    # Again: the narrated pages are asked for with their ETag and answer 304; nothing redone.
    site.statuses.clear()
    report = json.loads(subprocess.run(command, capture_output=True, text=True,
                                       timeout=300).stdout)
    assert report["narrated"] == 0 and report["skipped"] == 3, report
    pages = [(p, code) for p, code in site.statuses if p.startswith("/articles/")]
    assert sorted(pages) == sorted([(f"/articles/{n}.html", 304) for n in range(3)]
                                   + [("/articles/missing.html", 404)]), pages

    # A page that cannot be had for a while: recorded as failed, its narration kept; once
    # it answers again (304: unchanged) it is done again, without being re-narrated.
    kept = site.files.pop("/articles/2.html")
    report = json.loads(subprocess.run(command, capture_output=True, text=True,
                                       timeout=300).stdout)
    assert urls[2] in {f["id"] for f in report["failed"]} or \
        ids["2"] in {f["id"] for f in report["failed"]}, report
    assert rows(outdir)[ids["2"]]["status"] == "failed"
    assert len(feedparser.parse(str(outdir / "feed.xml")).entries) == 3
    site.files["/articles/2.html"] = kept
    report = json.loads(subprocess.run(command, capture_output=True, text=True,
                                       timeout=300).stdout)
    assert report["narrated"] == 0 and report["skipped"] == 3, report
    assert rows(outdir)[ids["2"]]["status"] == "done"

    # A sitemap that says the pages have not changed since: not even a conditional GET.
    site.add("/sitemap.xml", sitemap(urls, "2020-06-01T10:00:00+00:00"), "application/xml")
    site.statuses.clear()
    report = json.loads(subprocess.run(command, capture_output=True, text=True,
                                       timeout=300).stdout)
    assert report["narrated"] == 0 and report["skipped"] == 3 and not report["gone"], report
    assert [p for p, _ in site.statuses if p.startswith("/articles/")] == \
        ["/articles/missing.html"]
    # A page edited since (newer lastmod and content): fetched again and re-narrated.
    site.add("/articles/1.html", on_site(site, derive_page(sample_pages()[1], 1,
                                                           stamp=" (edited)")))
    entries = [(urls[0], "2020-06-01"), (urls[1], "2999-01-01"), (urls[2], "2020-06-01")]
    site.add("/sitemap.xml", sitemap_of(entries), "application/xml")
    report = json.loads(subprocess.run(command, capture_output=True, text=True,
                                       timeout=300).stdout)
    assert report["narrated"] == 1 and report["skipped"] == 2, report
    assert sorted(report["gone"]) == sorted(urls[3:]), report  # no longer in the sitemap


def test_fetcher_per_host_concurrency_two_and_crawl_delay(tmp_path):
    site = Site(robots="User-agent: *\nCrawl-delay: 1\n")
    try:
        for n in range(4):
            site.add(f"/p{n}.html", b"<html>x</html>")
        fetcher = Fetcher(delay=0.0, per_host=2, timeout=5, allow_networks=LOOPBACK)
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(fetcher.fetch, [f"{site.url}/p{n}.html" for n in range(2)]))
        # robots.txt, then two pages: each start at least Crawl-delay (1 s) after the last
        assert time.monotonic() - started >= 1.9
        assert site.paths()[0] == "/robots.txt" and len(site.log) == 3
    finally:
        site.close()

    site = Site(robots="")
    try:
        for n in range(8):
            site.add(f"/p{n}.html", b"<html>x</html>")
        fetcher = Fetcher(delay=0.0, per_host=2, timeout=5, allow_networks=LOOPBACK)
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(fetcher.fetch, [f"{site.url}/p{n}.html" for n in range(8)]))
        assert site.max_active == 2
    finally:
        site.close()


def test_fetcher_timeout_size_cap_gzip_and_status(site):
    site.add("/big.html", b"<html>" + b"x" * 5000 + b"</html>")
    site.add("/page.gz.html", b"<html>" + b"y" * 3000 + b"</html>")
    fetcher = Fetcher(delay=0.0, timeout=0.5, max_bytes=4000, retries=0,
                      allow_networks=LOOPBACK)
    with pytest.raises(FetchError, match="larger than 4000 bytes"):
        fetcher.fetch(site.url + "/big.html")
    assert fetcher.fetch(site.url + "/page.gz.html").body.count(b"y") == 3000
    with pytest.raises(FetchError, match="timed out"):
        fetcher.fetch(site.url + "/slow")
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher.fetch(site.url + "/nothing")
    with pytest.raises(FetchError, match="not an http"):
        fetcher.fetch("ftp://example.org/x")


def test_rss_and_atom_feeds_by_url(site):
    a = site.add("/a.html", page(0))
    b = site.add("/b.html", page(1))
    site.add("/rss.xml", f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>A</title><link>{a}</link></item>
        <item><title>B</title><guid>{b}</guid></item>
        <item><title>A again</title><link>{a}</link></item></channel></rss>""".encode(),
             "application/rss+xml")
    site.add("/atom.xml", f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
        <entry><link rel="enclosure" href="{site.url}/x.mp3"/><link href="/b.html"/></entry>
        <entry><link rel="alternate" href="{a}"/></entry></feed>""".encode(),
             "application/atom+xml")
    fetcher = Fetcher(delay=0.0, allow_networks=LOOPBACK)
    name, items, total = open_source(site.url + "/rss.xml", fetcher)
    items = list(items)
    assert [i.key for i in items] == [a, b] and total == 2
    assert items[0].load().html == page(0)
    name, items, total = open_source(site.url + "/atom.xml", fetcher)
    assert [i.key for i in items] == [b, a]  # relative link resolved against the feed


# ----------------------------------------------------------------------------- local files


def test_local_sitemap_index_list_and_folder(site, tmp_path):
    a = site.add("/a.html", on_site(site, page(0)))
    site.add("/child.xml", sitemap([a]), "application/xml")
    index = tmp_path / "sitemap.xml"
    index.write_text(f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/'
                     f'schemas/sitemap/0.9"><sitemap><loc>{site.url}/child.xml</loc></sitemap>'
                     f'</sitemapindex>')
    name, items, total = open_source(str(index), Fetcher(delay=0.0, allow_networks=LOOPBACK))
    assert [i.key for i in items] == [a] and name == str(index)

    folder = tmp_path / "site"
    (folder / "2024" / "05").mkdir(parents=True)
    (folder / "2024" / "05" / "one.html").write_bytes(page(1))
    (folder / "two.htm").write_bytes(page(2))
    (folder / "notes.txt").write_text("not a page")
    (folder / ".hidden.html").write_bytes(page(3))
    name, items, total = open_source(str(folder), Fetcher())
    keys = [i.key for i in items]
    assert total == 2 and sorted(keys) == sorted(
        [str(folder / "2024" / "05" / "one.html"), str(folder / "two.htm")])

    listing = tmp_path / "list.txt"
    listing.write_text(f"# articles\nsite/two.htm\n\n{a}\nsite/two.htm\n")
    name, items, total = open_source(str(listing), Fetcher(delay=0.0, allow_networks=LOOPBACK))
    items = list(items)
    assert [i.key for i in items] == [str(folder / "two.htm"), a]
    loaded = items[1].load()
    assert article_id(loaded, a) == canonical_url(on_site(site, page(0)))

    with pytest.raises(InputError, match="source not found"):
        open_source(str(tmp_path / "nope"), Fetcher())
    bad = tmp_path / "bad.xml"
    bad.write_text("<html><body>not a feed</body></html>")
    with pytest.raises(InputError, match="not a sitemap, RSS or Atom feed"):
        open_source(str(bad), Fetcher())

    # One page is an archive of one, by its name or, without an extension, its first tag.
    for single in (folder / "two.htm", tmp_path / "saved-page"):
        if not single.exists():
            single.write_bytes(b"<!DOCTYPE html>" + page(4))
        name, items, total = open_source(str(single), Fetcher())
        items = list(items)
        assert total == 1 and [i.key for i in items] == [str(single)]
        assert b"<html" in items[0].load().html.lower()


def _warc(path: Path, records: list[tuple[str, int, str, bytes]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=path.suffix == ".gz")
        for uri, status, kind, body in records:
            headers = StatusAndHeaders(f"{status} OK", [("Content-Type", kind)],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response",
                                                          payload=io.BytesIO(body),
                                                          http_headers=headers))


@pytest.mark.parametrize("name", ["archive.warc.gz", "archive.warc"])
def test_warc_source_reads_html_responses(tmp_path, name):
    path = tmp_path / name
    a, b = (canonical_url(page(n)) for n in (0, 1))  # each record's URI is its page's own
    _warc(path, [(a, 200, "text/html; charset=utf-8", page(0)),
                 ("https://news.example/logo.png", 200, "image/png", b"\x89PNG"),
                 ("https://news.example/gone", 404, "text/html", b"<html>404</html>"),
                 (b, 200, "text/html", page(1)),
                 (a, 200, "text/html", page(0))])
    source, items, total = open_source(str(path), Fetcher())
    items = list(items)
    assert total == 2 and [i.key for i in items] == [f"{path}#{a}", f"{path}#{b}"]
    loaded = items[1].load()
    assert loaded.html == page(1) and loaded.url == b
    assert article_id(loaded, items[1].key) == canonical_url(page(1))

    # A damaged record is reported (an item that fails to load) and reading goes on; the
    # tests of issue 12 (test_hostile_batch.py) damage records in the middle of an archive.
    damaged = tmp_path / ("damaged-" + name)
    damaged.write_bytes(b"WARC/1.0\r\nnonsense\r\n\r\n" + b"\x00" * 100)
    items = list(open_source(str(damaged), Fetcher())[1])
    assert len(items) == 1
    with pytest.raises(InputError, match="damaged WARC record at byte 0"):
        items[0].load()
    truncated = tmp_path / ("truncated-" + name)  # a crawl killed while writing
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    items = list(open_source(str(truncated), Fetcher())[1])
    with pytest.raises(InputError, match="truncated|damaged"):
        for item in items:
            item.load()


def test_canonical_url_forms():
    assert canonical_url(b'<head><link rel="canonical" href="https://a.example/x"></head>') \
        == "https://a.example/x"
    assert canonical_url(b"<head><LINK HREF='/y' REL='Canonical'></head>",
                         "https://a.example/z") == "https://a.example/y"
    assert canonical_url(b'<head><link rel="stylesheet" href="https://a/c.css"></head>') is None
    assert canonical_url(b'<head></head><body><link rel="canonical" href="https://b/">') is None


def test_sitemap_lastmod_times():
    from datetime import datetime, timezone

    from narrator.batch.runner import _timestamp

    utc = timezone.utc
    # a bare date is the end of that day: a page edited that day after we read it is redone
    assert _timestamp("2025-01-01") == datetime(2025, 1, 2, tzinfo=utc).timestamp()
    assert _timestamp("2025-01-01T10:00:00Z") == datetime(2025, 1, 1, 10, tzinfo=utc).timestamp()
    assert _timestamp("2025-01-01T12:00:00+02:00") == \
        datetime(2025, 1, 1, 10, tzinfo=utc).timestamp()
    assert _timestamp("last tuesday") is None
