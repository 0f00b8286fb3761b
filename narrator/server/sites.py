"""Registered sites: the only pages narrated on a reader's request.

A site is an origin (`https://www.example.org`) with its own narration settings (engine,
voice, rules file), a freshness interval, a cap on narrations started per hour by readers,
the query parameters that name a page (all others are dropped), and its feed's channel.
Sites come from `narrator serve --site ORIGIN` and the config file's `[[server.sites]]`.

A page URL is made canonical before anything else: scheme and host in lower case, the
default port dropped, no fragment, no credentials, only the site's page parameters. A URL
whose origin is not registered is refused before any network use (`SiteError`, a 403), and
`SiteFetcher` applies the same rule to every redirect the page's server sends.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import InputError
from .fetch import FetchError, Fetcher

DEFAULT_FRESH_S = 3600.0
DEFAULT_HOURLY_CAP = 60
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
SITE_KEYS = {"origin", "engine", "voice", "rules", "fresh", "hourly_cap", "query", "preparing",
             "title", "author", "language", "webflow_secret"}


class SiteError(InputError):
    """The URL is not a page of a registered site."""


@dataclass(frozen=True)
class Site:
    origin: str  # scheme://host[:port], canonical
    engine: str | None = None  # None: the server's
    voice: str | None = None
    rules: Path | None = None
    fresh_s: float = DEFAULT_FRESH_S
    hourly_cap: int = DEFAULT_HOURLY_CAP
    query: tuple[str, ...] = ()  # query parameters that name a page (e.g. WordPress's "p")
    preparing: bool = False  # the widget shows "audio en préparation" while it waits
    title: str | None = None  # the site feed's channel
    author: str | None = None
    language: str | None = None
    webflow_secret: str | None = None

    @property
    def host(self) -> str:
        return self.origin.split("://", 1)[1]


def parse_origin(text: str) -> str:
    parts = urlsplit(str(text).strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"a site is an origin such as https://www.example.org, not {text!r}")
    if parts.username or parts.password or parts.path.strip("/") or parts.query:
        raise InputError(f"a site is an origin (scheme and host, no path): {text!r}")
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"invalid port in site {text!r}") from None
    return _origin(scheme, parts.hostname, port)


def _origin(scheme: str, host: str, port: int | None) -> str:
    host = host.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def parse_duration(value, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise InputError(f"{where}: a duration such as 3600, \"30m\", \"1h\" or \"1d\", not "
                         f"{value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def site_from_table(table: dict, where: str) -> Site:
    if not isinstance(table, dict) or "origin" not in table:
        raise InputError(f"{where}: each [[server.sites]] needs an origin")
    unknown = set(table) - SITE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key(s) in [[server.sites]]: "
                         f"{', '.join(sorted(unknown))}")
    for key in ("engine", "voice", "rules", "title", "author", "language", "webflow_secret"):
        if key in table and not isinstance(table[key], str):
            raise InputError(f"{where}: server.sites.{key} must be a string")
    cap = table.get("hourly_cap", DEFAULT_HOURLY_CAP)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        raise InputError(f"{where}: server.sites.hourly_cap must be a whole number")
    query = table.get("query", [])
    if not isinstance(query, list) or not all(isinstance(q, str) for q in query):
        raise InputError(f"{where}: server.sites.query must be a list of parameter names")
    rules = Path(table["rules"]).expanduser().resolve() if table.get("rules") else None
    if rules is not None and not rules.is_file():
        raise InputError(f"{where}: no such rules file: {rules}")
    return Site(origin=parse_origin(table["origin"]), engine=table.get("engine"),
                voice=table.get("voice"), rules=rules,
                fresh_s=parse_duration(table.get("fresh", DEFAULT_FRESH_S),
                                       "server.sites.fresh"),
                hourly_cap=cap, query=tuple(query), preparing=bool(table.get("preparing")),
                title=table.get("title"), author=table.get("author"),
                language=table.get("language"), webflow_secret=table.get("webflow_secret"))


class Sites:
    def __init__(self, sites: list[Site] = ()):
        self.by_origin = {s.origin: s for s in sites}

    @classmethod
    def load(cls, origins: list[str], tables: list, where: str = "config") -> "Sites":
        if not isinstance(tables, list):
            raise InputError(f"{where}: server.sites must be an array of tables ([[server.sites]])")
        sites = {s.origin: s for s in (site_from_table(t, where) for t in tables)}
        for origin in origins:  # --site: registered with the defaults, unless configured
            canonical = parse_origin(origin)
            sites.setdefault(canonical, Site(origin=canonical))
        return cls(list(sites.values()))

    def __bool__(self) -> bool:
        return bool(self.by_origin)

    def __iter__(self):
        return iter(self.by_origin.values())

    def by_host(self, host: str) -> Site | None:
        return next((s for s in self if s.host == host.lower()), None)

    def site_of(self, url: str) -> Site | None:
        parts = urlsplit(url)
        try:
            origin = _origin(parts.scheme.lower(), parts.hostname or "", parts.port)
        except (KeyError, ValueError):
            return None
        return self.by_origin.get(origin)

    def page(self, url) -> tuple[Site, str]:
        """(site, canonical URL) of a page, or SiteError / InputError without any fetch."""
        if not isinstance(url, str) or not url or len(url) > 2048:
            raise InputError("give the page's URL (at most 2048 characters)")
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InputError("the page's URL must be an absolute http(s) URL")
        if parts.username or parts.password:
            raise InputError("URLs with credentials are refused")
        site = self.site_of(url.strip())
        if site is None:
            raise SiteError("this page is not on a site registered with this server")
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k in site.query]
        path = parts.path or "/"
        return site, urlunsplit((*site.origin.split("://"), path, urlencode(sorted(kept)), ""))


@dataclass
class SiteFetcher(Fetcher):
    """The guarded fetcher, and every hop must stay on a registered site: a page's server
    cannot redirect narrator to any other host, public or not."""

    sites: Sites | None = None

    @classmethod
    def around(cls, fetcher: Fetcher, sites: Sites) -> "SiteFetcher":
        fields = {f.name: getattr(fetcher, f.name) for f in dataclasses.fields(Fetcher)
                  if f.init}
        return cls(**fields, sites=sites)

    def check(self, url: str):
        if self.sites is None or self.sites.site_of(str(url).strip()) is None:
            raise FetchError(f"refusing to fetch {str(url)[:200]}: not on a registered site")
        return super().check(url)
