"""Sitemaps (and sitemap indexes) and RSS/Atom feeds, local or fetched: the article URLs they
list, with when each last changed where they say. XML is parsed without entities or network,
and a .xml.gz is inflated as it streams, to the fetcher's size cap."""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin

from ..errors import InputError
from .fetch import Fetcher, inflate
from .items import is_url

MAX_SITEMAP_DEPTH = 3


def feed_urls(where: str, fetcher: Fetcher, depth: int = 0) -> Iterator[tuple[str | None,
                                                                           str | None]]:
    """(article URL, when it last changed if the sitemap or feed says) for each entry."""
    if is_url(where):
        got = fetcher.fetch(where)
        body, base = got.body, got.url
    else:
        body, base = _read_capped(Path(where), fetcher.max_bytes), None
    if body[:2] == b"\x1f\x8b":  # .xml.gz: inflated as it streams, to the same cap
        body = inflate(body, 16 + zlib.MAX_WBITS, fetcher.max_bytes, where)
    root = _parse_xml(body, where)
    kind = _local(root.tag)
    if kind == "sitemapindex":
        if depth >= MAX_SITEMAP_DEPTH:
            raise InputError(f"{where}: sitemap indexes nested too deep")
        for loc in _texts(root, "sitemap", "loc"):
            child = _absolute(loc, base, where)
            if child:
                yield from feed_urls(child, fetcher, depth + 1)
    elif kind == "urlset":
        for element in (e for e in root if _local(e.tag) == "url"):
            loc = _child_text(element, "loc")
            if loc:
                yield _absolute(loc, base, where), _child_text(element, "lastmod")
    elif kind in ("rss", "RDF"):
        for item in (e for e in root.iter() if _local(e.tag) == "item"):
            link = _child_text(item, "link")
            if not link:
                guid = next((c for c in item if _local(c.tag) == "guid"), None)
                if guid is not None and guid.get("isPermaLink", "true") != "false":
                    link = (guid.text or "").strip()
            if link:
                yield _absolute(link, base, where), None
    elif kind == "feed":
        for entry in (e for e in root if _local(e.tag) == "entry"):
            links = [c for c in entry if _local(c.tag) == "link"]
            chosen = next((c for c in links if c.get("rel", "alternate") == "alternate"), None)
            if chosen is not None and chosen.get("href"):
                yield _absolute(chosen.get("href"), base, where), _child_text(entry, "updated")
    else:
        raise InputError(f"{where}: not a sitemap, RSS or Atom feed (root element <{kind}>)")


def _read_capped(path: Path, max_bytes: int) -> bytes:
    try:
        if path.stat().st_size > max_bytes:
            raise InputError(f"{path}: larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse_xml(body: bytes, where: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False,
                             huge_tree=False)
    try:
        return etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{where}: not well-formed XML ({exc})") from None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def _texts(root, parent: str, child: str) -> Iterator[str]:
    for element in root:
        if _local(element.tag) == parent:
            text = _child_text(element, child)
            if text:
                yield text


def _absolute(link: str, base: str | None, where: str) -> str | None:
    """An entry's absolute http(s) URL; None (entry skipped) for anything else."""
    url = urljoin(base, link.strip()) if base else link.strip()
    return url if is_url(url) else None
