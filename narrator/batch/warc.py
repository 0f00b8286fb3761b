"""Reading a WARC or WARC.gz file (with `warcio`) that may be damaged: the HTML pages answered
200, and, for each damaged stretch (a corrupt gzip member, a record warcio cannot read, a
record cut short), one entry that says so, after which reading goes on at the next record.

warcio stops at the first damage, so reading resumes at the next place where a record starts:
a gzip member that inflates to "WARC/" (WARC.gz), or a "WARC/1.x" line (WARC).
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Iterator, NamedTuple

from ..errors import InputError, printable

_GZIP = b"\x1f\x8b\x08"
_VERSION = re.compile(rb"WARC/1\.[01]\r?\n")
_SCAN = 1 << 20
_SLACK = 64  # warcio's offsets can be a few bytes short of a member's start


class Entry(NamedTuple):
    key: str
    uri: str | None  # None for a damaged stretch
    content_type: str | None
    body: bytes | None  # None when not read, or damaged
    error: str | None = None


def entries(path: Path, *, read: bool, max_bytes: int) -> Iterator[Entry]:
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError:  # pragma: no cover - warcio is a dependency
        raise InputError("reading WARC files needs the 'warcio' package") from None
    seen: set[str] = set()
    with open(path, "rb") as fh:
        gz = fh.read(3) == _GZIP
        size = fh.seek(0, 2)
        at = 0
        while at < size:
            fh.seek(at)
            iterator = ArchiveIterator(fh)
            iterator.INC_RECORD = ""  # warcio prints bytes of a damaged record to stderr
            current = None  # where the record being read starts
            held = None  # a page, until the next record shows that this one ended right
            try:
                for record in iterator:
                    if held is not None:
                        yield _checked(path, held, iterator)
                    current, held = iterator.offset, None  # (get_record_offset() reads it)
                    if record.rec_type is None:
                        raise ValueError("a record without a type")
                    page = _page(record, seen, read, max_bytes)
                    if page is not None:
                        uri, kind, body = page
                        if read and getattr(record.raw_stream, "limit", 0) and \
                                len(body) <= max_bytes:
                            yield _damaged(path, current, f"the record for {uri} is truncated")
                            return  # a crawl killed while writing: nothing follows
                        held = (Entry(f"{path}#{uri}", uri, kind, body), current,
                                iterator.err_count)
                    current = None
                if held is not None:
                    yield _checked(path, held, iterator)
                return
            except Exception as exc:  # warcio raises assorted errors on a damaged archive
                reason = str(exc)[:200] or type(exc).__name__
            if held is not None:
                yield _checked(path, held, iterator)
            failed_at = current if current is not None else (iterator.offset or at)
            if failed_at <= at + _SLACK:  # the record where reading started is damaged
                yield _damaged(path, at, reason)
                following = _next_record(fh, at + 1, gz)
            else:  # reading resumes at that record, which reports itself if it is damaged
                following = _next_record(fh, failed_at - _SLACK, gz)
                if following is None or following > failed_at + _SLACK:
                    yield _damaged(path, failed_at, reason)  # no record starts there
            if following is None:
                return
            at = following


def _page(record, seen: set, read: bool, max_bytes: int):
    """(target URI, content type, body or None) of an HTML page answered 200, once per URI."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    status = record.http_headers.get_statuscode()
    kind = (record.http_headers.get_header("Content-Type") or "").lower()
    if status != "200" or "html" not in kind:
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI")
    if not uri or uri in seen:
        return None
    seen.add(uri)
    return uri, kind, record.content_stream().read(max_bytes + 1) if read else None


def _checked(path: Path, held: tuple, iterator) -> Entry:
    """A page whose record was followed by something other than a blank line (warcio counts
    these): its Content-Length was wrong, so its body is not the page."""
    entry, offset, errors = held
    if iterator.err_count == errors:
        return entry
    return _damaged(path, offset, f"the record for {entry.uri} has a wrong length")


def _damaged(path: Path, offset: int, reason: str) -> Entry:
    return Entry(f"{path}#byte={offset}", None, None, None,
                 printable(f"{path}: damaged WARC record at byte {offset} skipped ({reason})"))


def _next_record(fh, start: int, gz: bool) -> int | None:
    """Where the next record starts at or after `start`, else None."""
    pattern = _GZIP if gz else b"WARC/1."
    at = start
    while True:
        fh.seek(at)
        chunk = fh.read(_SCAN + len(pattern))
        if len(chunk) < len(pattern):
            return None
        found = chunk.find(pattern)
        while found != -1:
            if _starts_record(fh, at + found, gz):
                return at + found
            found = chunk.find(pattern, found + 1)
        at += _SCAN


def _starts_record(fh, offset: int, gz: bool) -> bool:
    if gz:
        fh.seek(offset)
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(fh.read(4096), 16) \
                .startswith(b"WARC/")
        except zlib.error:
            return False
    fh.seek(offset)
    return _VERSION.match(fh.read(15)) is not None
