"""Polite HTTP fetching for batch sources: a real User-Agent, robots.txt honoured (with its
Crawl-delay), at most 1-2 requests at a time per host with a delay between them, timeouts,
a size cap, and a short retry on 429/5xx. Standard library only; thread-safe, so a few loader
threads can fetch from several hosts at once while each host sees a gentle client."""
from __future__ import annotations

import gzip
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from .. import __version__
from ..errors import InputError

USER_AGENT = f"narrator-batch/{__version__} (+https://pypi.org/project/narrator/; article narration)"


class FetchError(InputError):
    """A URL could not be fetched (network, HTTP status, size, robots.txt)."""


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
                 retries: int = 2, honour_robots: bool = True):
        if not 1 <= per_host <= 2:
            raise InputError("per-host concurrency must be 1 or 2")
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
        request = urllib.request.Request(url, headers={
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            **headers,
        })
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise _error(f"{url}: larger than {max_bytes} bytes", final=True)
                body = response.read(max_bytes + 1)
                if len(body) > max_bytes:
                    raise _error(f"{url}: larger than {max_bytes} bytes", final=True)
                body = _decode(body, response.headers.get("Content-Encoding"), max_bytes, url)
                return Fetched(response.geturl(), body, response.headers.get("Content-Type"),
                               response.status, response.headers.get("ETag"),
                               response.headers.get("Last-Modified"))
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and headers:
                return Fetched(url, b"", None, 304, exc.headers.get("ETag") or headers.get(
                    "If-None-Match"), exc.headers.get("Last-Modified") or headers.get(
                    "If-Modified-Since"))
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            raise _error(f"{url}: HTTP {exc.code}", status=exc.code,
                         retry_after=float(retry_after) if retry_after and retry_after.isdigit()
                         else None) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _error(f"{url}: {reason}") from None


def _error(message: str, **attrs) -> FetchError:
    error = FetchError(message)
    for name, value in attrs.items():
        setattr(error, name, value)
    return error


def _decode(body: bytes, encoding: str | None, max_bytes: int, url: str) -> bytes:
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    else:
        raise _error(f"{url}: unsupported Content-Encoding {encoding!r}", final=True)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise _error(f"{url}: bad {encoding} body ({exc})", final=True) from None
    if len(out) > max_bytes:
        raise _error(f"{url}: larger than {max_bytes} bytes once decompressed", final=True)
    return out
