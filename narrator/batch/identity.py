"""An article's stable id in the catalog: its canonical URL when the page declares one on its
own site, else the URL it came from, else where it was found."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .items import Loaded, is_url

_LINK = re.compile(rb"<link\b[^<>]*>", re.I)  # [^<>]: linear on "<link<link<link..."
_ATTR = re.compile(rb"""([a-zA-Z_:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")


def canonical_url(html: bytes, base: str | None = None) -> str | None:
    """The page's <link rel="canonical"> as an absolute http(s) URL, else None. A regex over
    the head is enough here and keeps an unchanged re-run cheap (no DOM per page)."""
    head = html[:300_000]
    end = re.search(rb"</head\s*>", head, re.I)
    if end:
        head = head[:end.start()]
    for tag in _LINK.finditer(head):
        attrs = {k.lower(): v.strip(b"\"'") for k, v in _ATTR.findall(tag.group())}
        if b"canonical" in attrs.get(b"rel", b"").lower().split():
            href = attrs.get(b"href", b"").decode("utf-8", "replace").strip()
            href = urljoin(base, href) if base else href
            if href and is_url(href):
                return href
    return None


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one site: the same registrable domain (by the Public Suffix
    List that the `tld` package keeps), or the same host where either has none (an address,
    localhost)."""
    from tld import get_fld

    try:
        first, second = get_fld(a, fail_silently=True), get_fld(b, fail_silently=True)
        if first and second:
            return first == second
        return (urlsplit(a).hostname or "") == (urlsplit(b).hostname or "")
    except ValueError:  # a malformed URL (an unclosed IPv6 bracket...)
        return False


def resolve_id(loaded: Loaded, key: str) -> tuple[str, str | None]:
    """(stable id, why the canonical URL was not taken, or None). The id is the canonical URL,
    else the URL the page came from, else its path. A canonical URL on another site than the
    page's own URL is not taken: a page must not be able to replace another site's article
    (its audio and feed entry) by claiming its address."""
    canonical = canonical_url(loaded.html, loaded.url)
    if canonical and loaded.url and not same_site(canonical, loaded.url):
        return loaded.url, (f"{loaded.url}: its canonical URL {canonical} is on another site;"
                            f" its own URL is its id")
    return canonical or loaded.url or key, None


def article_id(loaded: Loaded, key: str) -> str:
    return resolve_id(loaded, key)[0]
