"""Fetching an article page by URL for the server, through the fetch guard
(narrator.net.guard: SSRF checks on every hop, the connection pinned to the checked address,
one wall-clock deadline for the whole fetch). Here: 200 answers of HTML only (or 304 to a
conditional GET), 5 MB, 10 s. A subclass may narrow `check` (sites.SiteFetcher): it is
called for every hop."""
from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from ..net.guard import (FetchError, Guard, IPAddress, Resolver, Target, is_public,
                         parse_ip_literal, parse_networks, system_resolver)
from ..version import __version__

__all__ = ["Fetcher", "Fetched", "FetchError", "parse_networks", "system_resolver",
           "is_public", "parse_ip_literal", "ALLOWED_TYPES"]

ALLOWED_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Fetched:
    url: str  # the final URL, after redirects
    body: bytes
    content_type: str
    status: int = 200  # or 304: unchanged since the validators given to fetch()
    headers: dict = field(default_factory=dict)  # the answer's, names in lower case


@dataclass
class Fetcher:
    allow_networks: tuple = ()  # CIDR strings or ip_network objects allowed although not public
    resolver: Resolver = system_resolver
    max_bytes: int = 5 * 1024 * 1024
    timeout_s: float = 10.0  # for the whole fetch, redirects included
    max_redirects: int = 5
    user_agent: str = f"narrator/{__version__} (+article narration)"
    ssl_context: ssl.SSLContext | None = None
    guard: Guard = field(init=False, repr=False)

    def __post_init__(self):
        self.guard = Guard(self.allow_networks, self.resolver, self.ssl_context)

    def address_allowed(self, ip: IPAddress) -> bool:
        return self.guard.address_allowed(ip)

    def check(self, url: str) -> Target:
        """Where a URL that may be fetched is, else FetchError; called for every hop."""
        return self.guard.check(url)

    def fetch(self, url: str, *, etag: str | None = None,
              last_modified: str | None = None) -> Fetched:
        """The page at `url`; with validators from an earlier answer, a conditional GET that
        may answer status 304 (no body)."""
        conditional = {k: v for k, v in (("If-None-Match", etag),
                                         ("If-Modified-Since", last_modified)) if v}
        got = self.guard.get(url, headers={"User-Agent": self.user_agent,
                                           "Accept": "text/html,application/xhtml+xml;q=0.9",
                                           "Accept-Encoding": "identity", **conditional},
                             timeout_s=self.timeout_s, max_bytes=self.max_bytes,
                             max_redirects=self.max_redirects, check=self.check)
        if got.status == 304 and conditional:
            return Fetched(url=got.url, body=b"", content_type="", status=304,
                           headers=got.headers)
        if got.status != 200:
            raise FetchError(f"fetching {got.url} failed: HTTP {got.status}", status=got.status)
        ctype = got.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ALLOWED_TYPES:
            raise FetchError(f"{got.url} is not an HTML page (content type "
                             f"{ctype or 'missing'!r})")
        return Fetched(url=got.url, body=got.body, content_type=ctype, headers=got.headers)
