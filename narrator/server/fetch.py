"""Fetching an article page by URL without becoming a proxy into the server's own network (SSRF).

Every hop (the first URL and each redirect) is checked the same way:
- only http and https;
- the host is resolved once, here, by `resolver`; numeric forms that `inet_aton` accepts
  (2130706433, 0x7f.1, 0177.0.0.1, 127.1) are decoded first so they cannot slip through;
- every resolved address must be public (not loopback, private, link-local -- which holds the
  cloud metadata address 169.254.169.254 --, multicast, reserved or unspecified), unless it is
  inside a network of the configured allow-list;
- the connection is then made to the checked address itself (the Host header and TLS SNI carry
  the name), so a second DNS answer can never send it elsewhere (no DNS-rebinding gap).
Size, time and content type are limited.
"""
from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from ..errors import InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

ALLOWED_TYPES = ("text/html", "application/xhtml+xml")
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")


class FetchError(InputError):
    """The URL may not be fetched, or fetching it failed."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    return [info[4][0] for info in infos]


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes by itself, in any form a C resolver would accept."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:  # what getaddrinfo would do with it, decoded here so the check sees it
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            pass  # a name made of hex letters, e.g. "cafe.be"
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        for inner in (ip.ipv4_mapped, ip.sixtofour, (ip.teredo or (None, None))[1], nat64):
            if inner is not None and not is_public(inner):
                return False
    return (ip.is_global and not ip.is_multicast and not ip.is_reserved
            and not ip.is_link_local and not ip.is_loopback and not ip.is_unspecified)


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
    timeout_s: float = 10.0
    max_redirects: int = 5
    user_agent: str = "narrator/0.1 (+article narration)"
    ssl_context: ssl.SSLContext | None = None
    _networks: list = field(init=False, repr=False)

    def __post_init__(self):
        self._networks = [ipaddress.ip_network(n, strict=False) for n in self.allow_networks]

    def address_allowed(self, ip: IPAddress) -> bool:
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self._networks):
            return True
        return is_public(ip)

    def check(self, url: str) -> tuple[str, str, int, str, str]:
        """(scheme, host, port, path, pinned ip) for a URL that may be fetched, else FetchError."""
        if not isinstance(url, str) or len(url) > 4096:
            raise FetchError("invalid URL")
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"only http and https URLs are fetched, not {scheme or 'this'!r}")
        if parts.username or parts.password:
            raise FetchError("URLs with credentials are refused")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise FetchError("the URL has no host")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchError("the URL has an invalid port") from None
        literal = parse_ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                host.encode("idna")
            except UnicodeError:
                raise FetchError(f"invalid host name {host!r}") from None
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host, port)]
        if not addresses:
            raise FetchError(f"host {host!r} has no address")
        for ip in addresses:  # all of them: the client must never be able to pick a bad one
            if not self.address_allowed(ip):
                raise FetchError(f"refusing to fetch {host!r}: address {ip} is not public")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return scheme, host, port, path, str(addresses[0])

    def fetch(self, url: str, *, etag: str | None = None,
              last_modified: str | None = None) -> Fetched:
        """The page at `url`; with validators from an earlier answer, a conditional GET that
        may answer status 304 (no body)."""
        deadline = time.monotonic() + self.timeout_s
        conditional = {k: v for k, v in (("If-None-Match", etag),
                                         ("If-Modified-Since", last_modified)) if v}
        for _hop in range(self.max_redirects + 1):
            scheme, host, port, path, ip = self.check(url)
            status, headers, body = self._request(scheme, host, port, path, ip, deadline,
                                                  conditional)
            if status == 304 and conditional:
                return Fetched(url=url, body=b"", content_type="", status=304, headers=headers)
            if status in (301, 302, 303, 307, 308):
                location = headers.get("location")
                if not location:
                    raise FetchError(f"redirect without a Location from {url}")
                url = urljoin(url, location)
                continue
            if status != 200:
                raise FetchError(f"fetching {url} failed: HTTP {status}")
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype not in ALLOWED_TYPES:
                raise FetchError(f"{url} is not an HTML page (content type {ctype or 'missing'!r})")
            return Fetched(url=url, body=body, content_type=ctype, headers=headers)
        raise FetchError(f"too many redirects from {url}")

    def _request(self, scheme, host, port, path, ip, deadline, extra=None):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("fetching the page took too long")
        if scheme == "https":
            ctx = self.ssl_context or ssl.create_default_context()
            conn = _PinnedHTTPS(ip, host, port, timeout=remaining, context=ctx)
        else:
            conn = _PinnedHTTP(ip, host, port, timeout=remaining)
        host_header = host if ":" not in host else f"[{host}]"
        if port not in (80, 443):
            host_header += f":{port}"
        try:
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host_header)
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Accept", "text/html,application/xhtml+xml;q=0.9")
            conn.putheader("Accept-Encoding", "identity")
            for name, value in (extra or {}).items():
                conn.putheader(name, value.replace("\r", "").replace("\n", ""))
            conn.endheaders()
            resp = conn.getresponse()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"the page is larger than {self.max_bytes} bytes")
            body = bytearray()
            if resp.status == 200:
                while chunk := resp.read(65536):
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise FetchError(f"the page is larger than {self.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise FetchError("fetching the page took too long")
            return resp.status, headers, bytes(body)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"fetching {scheme}://{host_header}{path} failed: {exc}") from None
        finally:
            conn.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, ip, host, port, timeout):
        super().__init__(ip, port, timeout=timeout)
        self._pinned_host = host

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(_PinnedHTTP):
    def __init__(self, ip, host, port, timeout, context):
        super().__init__(ip, host, port, timeout)
        self._context = context

    def connect(self):
        super().connect()
        # SNI and certificate check against the name, connection to the pinned address.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._pinned_host)


def parse_networks(values: Iterable[str]) -> tuple:
    nets = []
    for value in values:
        for item in str(value).replace(",", " ").split():
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise InputError(f"invalid network in the fetch allow-list: {item!r}") from None
    return tuple(nets)
