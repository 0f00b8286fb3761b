"""The hostile-input corpus of issue 12, generated (no large binary files in git).

    python tests/hostile_corpus.py OUTDIR      # writes every file, prints name, size, what

The tests (tests/test_hostile_*.py) build what they need from the functions here; the
script writes the lot for a look by hand or for another tool. Sizes are the issue's.
"""
from __future__ import annotations

import io
import json
import sys
import zlib
from pathlib import Path

ARTICLE = ("La métropole publie son plan de résilience pour les dix prochaines années. "
           "Les élus ont présenté les mesures aux habitants lors d'une réunion publique. ")


def page(body: str, *, head: str = "", title: str = "Un article ordinaire") -> bytes:
    """An article page: a title, a few real paragraphs, and `body` in the middle."""
    real = "".join(f"<p>{ARTICLE * 2}</p>" for _ in range(3))
    return (f"<!doctype html><html lang=fr><head>{head}<title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{real}{body}{real}</article></body></html>").encode()


def long_word_page(letters: int) -> bytes:
    return page(f"<p>Le mot {'a' * letters} est illisible.</p>")


def big_number_page(digits: int) -> bytes:
    return page(f"<p>Le nombre {'7' * digits} est trop long pour être lu.</p>")


def unspeakable_page(size: int = 160_000) -> bytes:
    """`size` bytes of paragraphs made of words no one could say: thousands of letters, of
    digits, of letters and slashes (spell_rates was quadratic on them)."""
    words = ["b" * 5000, "9" * 5000, "ab/" * 1700, "x." * 2500, "€" * 3000]
    paragraphs, total, n = [], 0, 0
    while total < size:
        paragraph = "<p>" + " ".join(words[(n + i) % len(words)] for i in range(3)) + ".</p>"
        paragraphs.append(paragraph)
        total += len(paragraph.encode())
        n += 1
    return page("".join(paragraphs))


def crowded_element_page(attributes: int) -> bytes:
    """One element with `attributes` distinct attributes (libxml2 is quadratic in them)."""
    names = " ".join(f"a{i}" for i in range(attributes))
    return page(f"<div {names}><p>{ARTICLE}</p></div>")


def charset_page(label: str) -> bytes:
    """A page that declares a codec that is no character set (rot13, hex, punycode...)."""
    return page("", head=f'<meta charset="{label}">')


NOT_CHARSETS = ("rot13", "hex", "punycode", "base64", "unicode_escape", "undefined", "idna",
                "zlib", "uu", "utf-7")


def quadratic_markup_pages() -> dict[str, bytes]:
    """Shapes that made a regular expression of the extractor quadratic."""
    return {"meta-run": b"<html><body>" + b"<meta " * 12_000 + b"<p>x</p>",
            "lt-run": b"<x" * 100_000,
            "link-run": b"<html><head>" + b"<link " * 60_000 + b"</head><body><p>x</p>"}


def gzip_bomb(decompressed: int, prefix: bytes = b"", fill: bytes = b" ") -> bytes:
    """A valid gzip file of `prefix` + `fill` repeated to `decompressed` bytes, about a
    thousandth of that size, built without compressing it all: one deflate block of 1 MiB,
    ended by a full flush (which resets the compressor), repeated."""
    mib = 1 << 20
    chunk = (fill * (mib // len(fill) + 1))[:mib]
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.flush(zlib.Z_FINISH)
    blocks = max(1, (decompressed - len(prefix)) // mib)
    crc = zlib.crc32(prefix)
    for _ in range(blocks):
        crc = zlib.crc32(chunk, crc)
    size = len(prefix) + blocks * mib
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    return header + head + block * blocks + tail + trailer


def sitemap_bomb(decompressed: int = 512 << 20) -> bytes:
    """A .xml.gz sitemap that inflates to `decompressed` bytes (512 MiB: the batch took
    1.7 GB RSS for one of 815 KB)."""
    prefix = (b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
              b'"http://www.sitemaps.org/schemas/sitemap/0.9">')
    return gzip_bomb(decompressed, prefix)


def warc(records: list[tuple[str, bytes]], *, gz: bool) -> list[bytes]:
    """One WARC response record per (URI, HTML page), each as written (a gzip member each,
    for WARC.gz), so a test can damage one."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = []
    for uri, body in records:
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=gz)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))
        out.append(buffer.getvalue())
    return out


def damaged_warc(gz: bool) -> bytes:
    """Five pages; the second record's gzip member (or header) is corrupt, the fourth's URI
    holds a terminal escape sequence and a newline."""
    pages = [(f"https://news.example/{n}", page(f"<p>Page {n}.</p>", title=f"Page {n}"))
             for n in range(5)]
    pages[3] = ("https://news.example/\x1b[2J\x1b[31mowned\nline", pages[3][1])
    parts = warc(pages, gz=gz)
    broken = bytearray(parts[1])
    if gz:
        broken[40:80] = b"\x00" * 40  # inside the deflate data
    else:
        broken[:8] = b"\x1b[31mXX"  # not a WARC header: with a terminal escape
    parts[1] = bytes(broken)
    return b"".join(parts)


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"html": ' + b"[" * depth + b"]" * depth + b"}"


def lone_surrogate_json() -> bytes:
    return json.dumps({"html": "<p>\ud800</p>"}).encode()  # json.dumps escapes it: \ud800


def long_range(digits: int = 5000) -> str:
    return "bytes=-" + "9" * digits


def corpus() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, what it is)."""
    files = {
        "long-word-5000.html": (long_word_page(5_000), "a 5,000-letter word"),
        "long-word-20000.html": (long_word_page(20_000), "a 20,000-letter word"),
        "number-5000-digits.html": (big_number_page(5_000), "a number of 5,000 digits"),
        "unspeakable-160k.html": (unspeakable_page(), "160 KB of unspeakable tokens"),
        "attributes-80000.html": (crowded_element_page(80_000), "80,000 attributes"),
        "attributes-300000.html": (crowded_element_page(300_000), "300,000 attributes"),
        "sitemap-bomb.xml.gz": (sitemap_bomb(), "gzip bomb: 512 MiB of sitemap"),
        "damaged.warc.gz": (damaged_warc(True), "corrupt gzip member, escapes in a URI"),
        "damaged.warc": (damaged_warc(False), "bad record header, escapes in a URI"),
        "deep.json": (deep_json(), "JSON nested 100,000 deep"),
        "surrogate.json": (lone_surrogate_json(), "a lone surrogate in JSON"),
        "range.txt": (long_range().encode(), "a Range header with 5,000 digits"),
    }
    for label in NOT_CHARSETS:
        files[f"charset-{label}.html"] = (charset_page(label), f"<meta charset={label}>")
    for name, data in quadratic_markup_pages().items():
        files[f"{name}.html"] = (data, "quadratic for a regular expression before")
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, (data, what) in corpus().items():
        (out / name).write_bytes(data)
        print(f"{name:32} {len(data):>10,} bytes  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
