"""Serving a finished narration's files: HTTP Range (one range; 206 / 416), ETag and
If-None-Match / If-Range, Cache-Control. The caller passes a path it built from a validated id
and a fixed file name; `confined` checks once more that it lies inside the data folder."""
from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

CHUNK = 256 * 1024
SMALL = 1024 * 1024  # ranges up to this are answered from one read
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_DIGITS = 18  # longer numbers are larger than any file (and int() refuses > 4,300 digits)

MEDIA_TYPES = {
    ".mp3": "audio/mpeg",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
}


def confined(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) inclusive; None to serve the whole file; "unsatisfiable" for a 416."""
    m = _RANGE.match(header.strip().replace(" ", ""))
    if not m:
        return None  # several ranges or another unit: RFC 9110 lets us send the whole file
    first, last = m.groups()
    if first == "" and last == "":
        return None
    if first == "" and len(last) > _DIGITS:  # more than any file: the whole file, a 200
        return None
    if len(first) > _DIGITS:  # past the end of any file
        return "unsatisfiable"
    last = last if len(last) <= _DIGITS else str(size)  # clamped below
    if first == "":  # the last N bytes
        n = int(last)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def _read(path: Path, start: int, length: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, length, start)
    finally:
        os.close(fd)


def _stream(path: Path, start: int, length: int):
    with open(path, "rb") as f:
        f.seek(start)
        while length > 0:
            chunk = f.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def file_response(request: Request, path: Path, *, cache_control: str,
                  headers: dict | None = None) -> Response:
    st = path.stat()
    size = st.st_size
    etag = f'"{st.st_mtime_ns:x}-{size:x}"'
    base = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        **(headers or {}),
    }
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    inm = request.headers.get("if-none-match")
    if inm and (inm.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in inm.split(",")]):
        return Response(status_code=304, headers=base)
    span = None
    rng = request.headers.get("range")
    if rng and request.headers.get("if-range", etag) == etag:
        span = parse_range(rng, size)
    if span == "unsatisfiable":
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    status, start, end = (206, *span) if span else (200, 0, size - 1)
    length = end - start + 1 if size else 0
    if status == 206:
        base["Content-Range"] = f"bytes {start}-{end}/{size}"
    base["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=base, media_type=media_type)
    if length <= SMALL:
        return Response(_read(path, start, length), status_code=status, headers=base,
                        media_type=media_type)
    return StreamingResponse(_stream(path, start, length), status_code=status, headers=base,
                             media_type=media_type)
