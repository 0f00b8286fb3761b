"""The fetch guard: GET a URL that someone else chose (a client of the server, a sitemap or
feed given to the batch) without becoming a proxy into our own network (SSRF), and without
waiting forever. The server (narrator.server.fetch) and the batch (narrator.batch.fetch) both
fetch through `Guard.get`.

Every hop (the first URL and each redirect) is checked the same way:
- only http and https, no credentials in the URL;
- the host is resolved once, here, by `resolver`; numeric forms that `inet_aton` accepts
  (2130706433, 0x7f.1, 0177.0.0.1, 127.1) are decoded first so they cannot slip through;
- every resolved address must be public (not loopback, private, link-local -- which holds the
  cloud metadata address 169.254.169.254 --, multicast, reserved or unspecified), unless it is
  inside a network of the allow-list (`--allow-net`);
- the connection is then made to the checked address itself (the Host header and TLS SNI carry
  the name, the certificate is checked against the name), so a second DNS answer can never send
  it elsewhere (no DNS-rebinding gap).
The whole fetch, redirects included, has one wall-clock deadline: a server that sends a byte
now and then is cut off when it passes (a watchdog shuts the socket), not after every read has
had its own timeout. Name resolution itself is the system's and is not interrupted.
"""
from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import quote, urljoin, urlsplit

from ..errors import InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

REDIRECTS = (301, 302, 303, 307, 308)
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(InputError):
    """The URL may not be fetched, or fetching it failed. `status`: the HTTP status, if one
    came; `retry_after`: seconds the server asked to wait; `final`: retrying cannot help."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None, final: bool = False):
        super().__init__(message)
        self.status, self.retry_after, self.final = status, retry_after, final


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


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        for inner in (ip.ipv4_mapped, ip.sixtofour, (ip.teredo or (None, None))[1], nat64):
            if inner is not None and not is_public(inner):
                return False
    return (ip.is_global and not ip.is_multicast and not ip.is_reserved
            and not ip.is_link_local and not ip.is_loopback and not ip.is_unspecified)


def parse_networks(values: Iterable[str]) -> tuple:
    """`--allow-net` / `fetch_allow` values (CIDR, comma or space separated) -> networks."""
    nets = []
    for value in values:
        for item in str(value).replace(",", " ").split():
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise InputError(f"invalid network in the fetch allow-list: {item!r}") from None
    return tuple(nets)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (the pinned address) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    ip: str

    @property
    def host_header(self) -> str:
        name = self.host if ":" not in self.host else f"[{self.host}]"
        return name if self.port in (80, 443) else f"{name}:{self.port}"


@dataclass(frozen=True)
class Response:
    url: str  # the final URL, after redirects
    status: int
    headers: dict  # lower-case names
    body: bytes  # read for 2xx answers only


@dataclass
class Guard:
    allow_networks: tuple = ()  # CIDR strings or ip_network objects allowed although not public
    resolver: Resolver = system_resolver
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

    def check(self, url: str) -> Target:
        """Where a URL that may be fetched is, else FetchError (final)."""
        if not isinstance(url, str) or len(url) > 4096:
            raise FetchError("invalid URL", final=True)
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"only http and https URLs are fetched, not {scheme or 'this'!r}",
                             final=True)
        if parts.username or parts.password:
            raise FetchError("URLs with credentials are refused", final=True)
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise FetchError("the URL has no host", final=True)
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchError("the URL has an invalid port", final=True) from None
        literal = parse_ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                host = host.encode("idna").decode("ascii")  # what DNS, SNI and Host carry
            except UnicodeError:
                raise FetchError(f"invalid host name {host!r}", final=True) from None
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host, port)]
        if not addresses:
            raise FetchError(f"host {host!r} has no address")
        for ip in addresses:  # all of them: the client must never be able to pick a bad one
            if not self.address_allowed(ip):
                raise FetchError(f"refusing to fetch {host!r}: address {ip} is not public",
                                 final=True)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:  # an IRI's path as its URI (what a browser sends); a lone surrogate is no URL
            path = quote(path, safe="/?#[]@!$&'()*+,;=:%~")
        except UnicodeEncodeError:
            raise FetchError("invalid URL (not Unicode text)", final=True) from None
        return Target(scheme, host, port, path, str(addresses[0]))

    def get(self, url: str, *, headers: dict, timeout_s: float, max_bytes: int,
            max_redirects: int = 5, check: Callable[[str], Target] | None = None) -> Response:
        """GET `url`, following redirects (each hop checked by `check`, default `self.check`;
        a caller may narrow it), within `timeout_s` seconds in all. A 2xx body over
        `max_bytes` is refused."""
        deadline = time.monotonic() + timeout_s
        check = check or self.check
        for _hop in range(max_redirects + 1):
            target = check(url)
            status, answer, body = self._request(target, headers, deadline, max_bytes,
                                                 timeout_s)
            if status in REDIRECTS:
                location = answer.get("location")
                if not location:
                    raise FetchError(f"redirect without a Location from {url}", final=True)
                url = urljoin(url, location)
                continue
            return Response(url, status, answer, body)
        raise FetchError(f"too many redirects from {url}", final=True)

    def _request(self, target: Target, headers: dict, deadline: float, max_bytes: int,
                 timeout_s: float):
        where = f"{target.scheme}://{target.host_header}{target.path}"
        too_long = FetchError(f"fetching {where} timed out (over {timeout_s:g} s in all)")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise too_long
        if target.scheme == "https":
            ctx = self.ssl_context or ssl.create_default_context()
            conn = _PinnedHTTPS(target.ip, target.host, target.port, timeout=remaining,
                                context=ctx)
        else:
            conn = _PinnedHTTP(target.ip, target.host, target.port, timeout=remaining)
        watchdog = threading.Timer(remaining, conn.cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", target.host_header)
            for name, value in headers.items():  # (validators come from answers: no CR/LF)
                conn.putheader(name, str(value).replace("\r", "").replace("\n", ""))
            conn.endheaders()
            resp = conn.getresponse()
            answer = {k.lower(): v for k, v in resp.getheaders()}
            body = bytearray()
            if 200 <= resp.status < 300:
                declared = answer.get("content-length", "")
                if declared.isdigit() and len(declared) < 19 and int(declared) > max_bytes:
                    raise FetchError(f"{where}: larger than {max_bytes} bytes", final=True)
                while chunk := resp.read1(65536):
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"{where}: larger than {max_bytes} bytes", final=True)
            if conn.was_cut:  # the deadline passed while the socket was read
                raise too_long
            return resp.status, answer, bytes(body)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if conn.was_cut or time.monotonic() >= deadline:
                raise too_long from None
            raise FetchError(f"fetching {where} failed: {exc}") from None
        finally:
            watchdog.cancel()
            conn.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, ip, host, port, timeout):
        super().__init__(ip, port, timeout=timeout)
        self._pinned_host = host
        self.was_cut = False

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def cut(self) -> None:
        """From the watchdog thread: the deadline has passed; wake any blocked read."""
        self.was_cut = True
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _PinnedHTTPS(_PinnedHTTP):
    def __init__(self, ip, host, port, timeout, context):
        super().__init__(ip, host, port, timeout)
        self._context = context

    def connect(self):
        super().connect()
        # SNI and certificate check against the name, connection to the pinned address.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._pinned_host)
