"""What a reader's requests can make the server do, bounded: per-client rate limits, a cap of
narrations per site and hour, a bound on pages in progress, all under bursts of concurrent
requests from several client addresses (127.0.0.x). The publisher site counts every fetch."""
from __future__ import annotations

import threading

import httpx
import pytest

from narrator.server import create_app
from narrator.server.fetch import Fetcher
from narrator.server.pages import PageLimits
from narrator.server.sites import Site, Sites
from server_support import PublisherSite, ThreadServer, article_html


def quick(store, job):  # what is under test is admission, not narration
    return "t", "en", 1.0


@pytest.fixture
def site():
    pages = {f"/p{i}": article_html(f"Page {i}", [(None, [f"Text of page {i}."])])
             for i in range(40)}
    s = PublisherSite(pages)
    yield s
    s.close()


def serve(tmp_path, site, limits: PageLimits, cap: int = 100) -> ThreadServer:
    app = create_app(tmp_path / "data", "t", "espeak", runner=quick,
                     fetcher=Fetcher(allow_networks=("127.0.0.1/32",)),
                     sites=Sites([Site(origin=site.origin, hourly_cap=cap)]),
                     page_limits=limits)
    return ThreadServer(app)


def burst(srv, requests: list[tuple[str, str]]) -> list[httpx.Response]:
    """All at once: (client address, page URL) each, released together."""
    answers: list = [None] * len(requests)
    go = threading.Barrier(len(requests))

    def one(i, address, url):
        with httpx.Client(base_url=srv.url, timeout=30,
                          transport=httpx.HTTPTransport(local_address=address)) as c:
            go.wait()
            answers[i] = c.get("/v1/pages", params={"url": url})

    threads = [threading.Thread(target=one, args=(i, a, u)) for i, (a, u) in
               enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_the_site_cap_holds_under_a_burst_from_many_addresses(tmp_path, site):
    with serve(tmp_path, site, PageLimits(client_rate=0), cap=3) as srv:
        answers = burst(srv, [(f"127.0.0.{10 + i}", f"{site.origin}/p{i}") for i in range(12)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [202] * 3 + [429] * 9, codes
        refused = [a for a in answers if a.status_code == 429]
        assert all("cap of 3" in a.json()["error"] and int(a.headers["retry-after"]) > 0
                   for a in refused)
        assert len({p for p, _, _ in site.log}) <= 3  # nothing fetched for the others
        # pages already known are still answered (the cap is on new work)
        accepted = next(a.json()["url"] for a in answers if a.status_code == 202)
        again = httpx.get(srv.url + "/v1/pages", params={"url": accepted})
        assert again.status_code in (200, 202)


def test_the_per_client_rate_limit_holds_and_is_per_client(tmp_path, site):
    with serve(tmp_path, site, PageLimits(client_rate=1, client_burst=5)) as srv:
        answers = burst(srv, [("127.0.0.30", f"{site.origin}/p1")] * 20)
        passed = [a for a in answers if a.status_code != 429]
        assert 5 <= len(passed) <= 7, [a.status_code for a in answers]
        assert all(a.headers["retry-after"] for a in answers if a.status_code == 429)
        other = burst(srv, [("127.0.0.31", f"{site.origin}/p1")])[0]
        assert other.status_code in (200, 202)
        assert len(site.fetched("/p1")) == 1  # one page, fetched once whatever the burst


def test_new_pages_per_client_are_limited(tmp_path, site):
    with serve(tmp_path, site, PageLimits(client_rate=0, client_new_pages=2)) as srv:
        answers = burst(srv, [("127.0.0.40", f"{site.origin}/p{i}") for i in range(6)])
        assert sorted(a.status_code for a in answers) == [202, 202, 429, 429, 429, 429]
        assert len({p for p, _, _ in site.log}) <= 2


def test_pages_in_progress_are_bounded(tmp_path, site):
    site.delay = 1.5  # a slow site: fetches stay in progress
    with serve(tmp_path, site, PageLimits(client_rate=0, max_pending=2)) as srv:
        answers = burst(srv, [(f"127.0.0.{50 + i}", f"{site.origin}/p{i}") for i in range(6)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [202, 202, 503, 503, 503, 503], codes
        assert all(a.json()["retry_after"] for a in answers if a.status_code == 503)
