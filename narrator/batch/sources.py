"""Where a batch's articles come from. `open_source(spec)` recognises:

- a folder of HTML files (recursive);
- a WARC or WARC.gz file (HTML responses with status 200, read with `warcio`);
- a sitemap.xml (or sitemap index) or an RSS/Atom feed, local or by URL, whose article URLs
  are fetched politely (see fetch.py);
- a text file of URLs or paths, one a line (`#` starts a comment).

A source yields `Item`s lazily. An item's `key` says where it was found (absolute path, URL,
or WARC file + target URI); it is stable across runs, so the catalog can tell which articles
have gone from the source. Loading (reading or fetching the bytes) is a separate step that
the runner does in a few threads.
"""
from __future__ import annotations

import os
import re
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urljoin, urlsplit

from ..errors import InputError
from . import warc
from .fetch import Fetcher, FetchError, inflate

HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
MAX_SITEMAP_DEPTH = 3
MAX_FILE_BYTES = 20_000_000


@dataclass(frozen=True)
class Loaded:
    html: bytes
    url: str | None
    content_type: str | None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a conditional GET answered 304: the catalog's copy holds
    fetched_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Item:
    key: str
    url: str | None
    load: Callable[..., Loaded]  # load(validators=None); validators: etag, last_modified
    lastmod: str | None = None  # from the sitemap (<lastmod>) or Atom feed (<updated>)


def is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


# ----------------------------------------------------------------------------- ids

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


# ----------------------------------------------------------------------------- sources


def open_source(spec: str, fetcher: Fetcher) -> tuple[str, Iterator[Item], int | None]:
    """(normalised source name for the catalog, lazy iterator of items, number of items).
    Listing is cheap (paths, URLs), so it is done up front for a progress bar with an ETA;
    a WARC is streamed (its pages are read as it goes) after a quick counting pass."""
    if is_url(spec):
        items = list(_feed_items(spec, fetcher))
        return spec, iter(items), len(items)
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(f"source not found: {spec}")
    path = path.resolve()
    if path.is_dir():
        items = list(_folder_items(path))
    else:
        head = _read_head(path)
        if head.startswith(b"WARC/") or path.name.lower().endswith((".warc", ".warc.gz")):
            return str(path), _warc_items(path), _warc_count(path)
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if _is_html_page(path, text):  # one article page: an archive of one
            items = [_file_item(path)]
        elif text.startswith(b"<"):
            items = list(_feed_items(str(path), fetcher))
        else:
            items = list(_list_items(path, fetcher))
    return str(path), iter(items), len(items)


def _is_html_page(path: Path, head: bytes) -> bool:
    """An HTML page, not a sitemap or feed: by its name, else by its first tag (a file named
    .xml is always read as a sitemap or feed)."""
    name = path.name.lower()
    if name.endswith((".html", ".htm", ".xhtml")):
        return True
    return (not name.endswith((".xml", ".rss", ".atom"))
            and head[:256].lower().startswith((b"<!doctype html", b"<html")))


def _read_head(path: Path) -> bytes:
    """The first 4 KB, inflated if gzip (from the first 64 KB only: damage further on, or a
    bomb, is for the reader of the whole file to meet)."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head[:2] == b"\x1f\x8b":
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        except zlib.error:
            pass
    return head[:4096]


def _file_item(path: Path) -> Item:
    def load(validators: dict | None = None) -> Loaded:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise InputError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
            return Loaded(path.read_bytes(), None, "text/html")
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return Item(str(path), None, load)


def _url_item(url: str, fetcher: Fetcher, lastmod: str | None = None) -> Item:
    def load(validators: dict | None = None) -> Loaded:
        got = fetcher.fetch(url, validators)
        if got.status == 304:
            return Loaded(b"", got.url, None, got.etag, got.last_modified, not_modified=True)
        kind = (got.content_type or "").split(";")[0].strip().lower()
        if kind and kind not in ("text/html", "application/xhtml+xml"):
            raise FetchError(f"{url}: not an HTML page ({kind})")
        return Loaded(got.body, got.url, got.content_type, got.etag, got.last_modified)
    return Item(url, url, load, lastmod)


def _folder_items(root: Path) -> Iterator[Item]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if Path(name).suffix.lower() in HTML_SUFFIXES and not name.startswith("."):
                yield _file_item(Path(dirpath) / name)


def _warc_count(path: Path) -> int:
    return sum(1 for _ in warc.entries(path, read=False, max_bytes=MAX_FILE_BYTES))


def _warc_items(path: Path) -> Iterator[Item]:
    for entry in warc.entries(path, read=True, max_bytes=MAX_FILE_BYTES):
        if entry.error is not None:
            yield _unreadable(entry.key, entry.error)
        else:
            yield _preloaded(entry.key, entry.uri, entry.body, entry.content_type)


def _unreadable(key: str, error: str) -> Item:
    """A damaged stretch of a WARC: reported as a failed item; the batch goes on."""
    def load(validators: dict | None = None) -> Loaded:
        raise InputError(error)
    return Item(key, None, load)


def _preloaded(key: str, url: str, body: bytes, kind: str) -> Item:
    def load(validators: dict | None = None) -> Loaded:
        if len(body) > MAX_FILE_BYTES:
            raise InputError(f"{url}: larger than {MAX_FILE_BYTES} bytes")
        return Loaded(body, url, kind)
    return Item(key, url, load)


def _list_items(path: Path, fetcher: Fetcher) -> Iterator[Item]:
    seen: set[str] = set()
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip() if not is_url(raw.strip()) else raw.strip()
        if not line:
            continue
        if is_url(line):
            items = [_url_item(line, fetcher)]
        else:
            target = (path.parent / Path(line).expanduser()).resolve()
            items = _folder_items(target) if target.is_dir() else [_file_item(target)]
        for item in items:
            if item.key not in seen:
                seen.add(item.key)
                yield item


# ----------------------------------------------------------------------------- sitemaps, feeds


def _feed_items(where: str, fetcher: Fetcher) -> Iterator[Item]:
    seen: set[str] = set()
    for url, lastmod in _feed_urls(where, fetcher, depth=0):
        if url and url not in seen:
            seen.add(url)
            yield _url_item(url, fetcher, lastmod)


def _feed_urls(where: str, fetcher: Fetcher, depth: int) -> Iterator[tuple[str | None,
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
                yield from _feed_urls(child, fetcher, depth + 1)
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
