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
import zlib
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from . import warc
from .feeds import feed_urls
from .fetch import Fetcher, FetchError
from .items import Item, Loaded, is_url

HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
MAX_FILE_BYTES = 20_000_000


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
    for url, lastmod in feed_urls(where, fetcher):
        if url and url not in seen:
            seen.add(url)
            yield _url_item(url, fetcher, lastmod)
