"""Polite HTTP fetching for batch sources: a real User-Agent, robots.txt honoured (with its
Crawl-delay), at most 1-2 requests at a time per host with a delay between them, timeouts,
a size cap, and a short retry on 429/5xx. Thread-safe, so a few loader threads can fetch from
several hosts at once while each host sees a gentle client.

A third party chooses these URLs (a sitemap, a feed, a list), so every request, redirects
included, goes through the fetch guard the server uses (narrator.net.guard): no private,
loopback or link-local address unless allowed (`--allow-net`), and one deadline per request."""
from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..version import __version__
from ..errors import InputError
from ..net.guard import FetchError, Guard, system_resolver

USER_AGENT = f"narrator-batch/{__version__} (+https://pypi.org/project/narrator/; article narration)"

__all__ = ["Fetcher", "Fetched", "FetchError", "USER_AGENT", "inflate"]


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str | None
    status: int  # 200-299, or 304 for a conditional GET whose page has not changed
    etag: str | None = None
    last_modified: str | None = None


class _Host:
    def __init__(self, concurrency: int):
        self.slots = threading.BoundedSemaphore(concurrency)
        self.lock = threading.Lock()
        self.last_start = float("-inf")
        self.delay: float | None = None  # resolved once robots.txt is read
        self.robots: RobotFileParser | None = None
        self.robots_ready = threading.Event()


class Fetcher:
    def __init__(self, *, user_agent: str = USER_AGENT, delay: float = 1.0,
                 per_host: int = 1, timeout: float = 20.0, max_bytes: int = 10_000_000,
                 retries: int = 2, honour_robots: bool = True, allow_networks: tuple = (),
                 resolver=system_resolver):
        if not 1 <= per_host <= 2:
            raise InputError("per-host concurrency must be 1 or 2")
        self.guard = Guard(allow_networks, resolver)
        self.user_agent = user_agent
        self.delay = delay
        self.per_host = per_host
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.retries = retries
        self.honour_robots = honour_robots
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self.requests = 0  # for reports and tests

    # ------------------------------------------------------------------ politeness

    def _host(self, url: str) -> tuple[str, _Host]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url}")
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._hosts_lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(self.per_host)
                first = True
            else:
                first = False
        if first:
            self._load_robots(key, host)
        host.robots_ready.wait()
        return key, host

    def _load_robots(self, key: str, host: _Host) -> None:
        parser = RobotFileParser(key + "/robots.txt")
        try:
            if self.honour_robots:
                try:
                    got = self._request(key + "/robots.txt", host, max_bytes=500_000, retries=0)
                    parser.parse(got.body.decode("utf-8", "replace").splitlines())
                except FetchError as exc:
                    status = getattr(exc, "status", None)
                    if status in (401, 403):
                        parser.disallow_all = True  # as urllib.robotparser does
                    else:
                        parser.allow_all = True  # no robots.txt (404) or unreachable
            else:
                parser.allow_all = True
            crawl_delay = parser.crawl_delay(self.user_agent) if self.honour_robots else None
            host.delay = min(max(self.delay, float(crawl_delay or 0)), 60.0)
            host.robots = parser
        finally:
            host.robots_ready.set()

    def _wait_turn(self, host: _Host) -> None:
        with host.lock:
            now = time.monotonic()
            delay = host.delay if host.delay is not None else self.delay
            start = max(now, host.last_start + delay)
            host.last_start = start
        if start > now:
            time.sleep(start - now)

    # ------------------------------------------------------------------ requests

    def fetch(self, url: str, validators: dict | None = None) -> Fetched:
        """GET `url`; with validators (etag, last_modified from an earlier answer) it is a
        conditional GET that may answer 304 with an empty body."""
        _, host = self._host(url)
        if host.robots is not None and not host.robots.can_fetch(self.user_agent, url):
            raise FetchError(f"robots.txt disallows {url}")
        headers = {}
        if validators and validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators and validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return self._request(url, host, max_bytes=self.max_bytes, retries=self.retries,
                             headers=headers)

    def _request(self, url: str, host: _Host, *, max_bytes: int, retries: int,
                 headers: dict | None = None) -> Fetched:
        attempt = 0
        while True:
            try:
                with host.slots:
                    self._wait_turn(host)
                    return self._once(url, max_bytes, headers or {})
            except FetchError as exc:
                status = getattr(exc, "status", None)
                transient = status is None or status == 429 or status >= 500
                if attempt >= retries or not transient or getattr(exc, "final", False):
                    raise
                attempt += 1
                time.sleep(min(getattr(exc, "retry_after", 0) or 2.0 ** attempt, 30.0))

    def _once(self, url: str, max_bytes: int, headers: dict) -> Fetched:
        self.requests += 1
        got = self.guard.get(url, headers={
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            **headers,
        }, timeout_s=self.timeout, max_bytes=max_bytes)
        if got.status == 304 and headers:
            return Fetched(got.url, b"", None, 304,
                           got.headers.get("etag") or headers.get("If-None-Match"),
                           got.headers.get("last-modified") or headers.get("If-Modified-Since"))
        if not 200 <= got.status < 300:
            retry_after = got.headers.get("retry-after", "")
            raise FetchError(f"{url}: HTTP {got.status}", status=got.status,
                             retry_after=float(retry_after) if retry_after.isdigit()
                             and len(retry_after) < 6 else None)
        body = _decode(got.body, got.headers.get("content-encoding"), max_bytes, url)
        return Fetched(got.url, body, got.headers.get("content-type"), got.status,
                       got.headers.get("etag"), got.headers.get("last-modified"))


def inflate(data: bytes, wbits: int, max_bytes: int, what: str) -> bytes:
    """Decompress gzip (wbits 16 + MAX_WBITS), zlib or raw deflate data, streaming, to at most
    `max_bytes`: a small bomb never becomes a large allocation."""
    out = bytearray()
    while data:  # a gzip file may hold several members, one after the other
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(data, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise FetchError(f"{what}: bad compressed data ({exc})", final=True) from None
        if len(out) > max_bytes or inflater.unconsumed_tail:
            raise FetchError(f"{what}: larger than {max_bytes} bytes once decompressed",
                             final=True)
        if not inflater.eof:
            raise FetchError(f"{what}: compressed data cut short", final=True)
        data = inflater.unused_data if wbits > zlib.MAX_WBITS else b""
    return bytes(out)


def _decode(body: bytes, encoding: str | None, max_bytes: int, url: str) -> bytes:
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return inflate(body, 16 + zlib.MAX_WBITS, max_bytes, url)
    if encoding == "deflate":
        return inflate(body, zlib.MAX_WBITS, max_bytes, url)
    raise FetchError(f"{url}: unsupported Content-Encoding {encoding!r}", final=True)
