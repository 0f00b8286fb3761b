"""Bytes -> str, the way a browser would, plus the refusals narration needs.

Order (WHATWG-like): a byte-order mark wins, then the HTTP Content-Type charset, then a
<meta charset> in the first 4 KB, then UTF-8 if it decodes, then detection
(charset-normalizer). Mojibake ("Ã©tÃ©") is repaired with ftfy, or refused: it must never
be spoken.
"""
from __future__ import annotations

import codecs
import re

from ..errors import InputError

DEFAULT_MAX_BYTES = 10_000_000

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^<>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)""", re.I)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# Labels browsers treat as windows-1252 (it is a superset of them).
_ALIASES = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
            "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "x-user-defined": "cp1252",
            "utf8": "utf-8", "unicode": "utf-16-le", "utf-16": "utf-16-le"}
_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BZh",
          b"\x7fELF", b"ID3", b"OggS", b"RIFF", b"fLaC", b"\x00\x00\x00\x18ftyp", b"\x00\x00\x00\x20ftyp",
          b"7z\xbc\xaf", b"Rar!", b"MZ", b"\xca\xfe\xba\xbe", b"wOFF", b"wOF2", b"\x00asm")
# Typical UTF-8-read-as-cp1252 sequences: Ã©, Ã¨, Ã , â€™, â€œ, Â followed by a Latin-1 sign...
MOJIBAKE = re.compile("Ã[\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                      "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
                      "|â€[\u0080-\u00bf\u2122\u0153\u201c\u201d\u2018\u2019\u2013\u2014\u2022\u2026\u02dc\u0161\u017e\u0178]"
                      "|Â[\u00a0-\u00bf]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_TAG = re.compile(r"<\s*(?:!doctype|html|head|body|p|div|article|h[1-6]|title|meta|span|a|br|section|main|table|ul)\b", re.I)
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


# Python codecs that are no character set: a page declaring one ("rot13", "hex", "punycode")
# is read as if it declared nothing.
_NOT_CHARSETS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined",
                 "utf-7"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None  # bytes-to-bytes transforms (rot13, hex, base64, zlib...) and the above
    return info.name


def check_bytes(raw: bytes, *, content_type: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse what is plainly not an HTML page, before any parsing."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise InputError("input must be bytes")
    if len(raw) > max_bytes:
        raise InputError(f"page is {len(raw):,} bytes, over the {max_bytes:,}-byte size cap")
    if not raw.strip():
        raise InputError("page is empty")
    if content_type:
        mime = content_type.split(";")[0].strip().lower()
        if mime and mime not in HTML_TYPES and not mime.endswith("+xml"):
            raise InputError(f"not an HTML page (Content-Type: {mime})")
    head = bytes(raw[:64]).lstrip()
    if any(head.startswith(m) for m in _MAGIC) and not head.startswith((b"<", b"\xef\xbb\xbf")):
        raise InputError("not an HTML page (binary data)")


def _declared(raw: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """Candidate encodings with where they come from, best first."""
    out = []
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return [(enc, "byte-order mark")]
    if content_type:
        m = _HTTP_CHARSET.search(content_type)
        enc = _codec(m.group(1)) if m else None
        if enc:
            out.append((enc, "HTTP Content-Type"))
    m = _XML_ENCODING.search(raw[:200])
    enc = _codec(m.group(1).decode("ascii", "replace")) if m else None
    if enc and not enc.startswith(("utf-16", "utf-32")):
        out.append((enc, "<?xml encoding?>"))
    m = _META_CHARSET.search(raw[:4096]) or _META_CHARSET.search(raw[:65536])
    enc = _codec(m.group(1).decode("ascii", "replace")) if m else None
    if enc:
        if enc.startswith(("utf-16", "utf-32")):  # a page readable as ASCII is not UTF-16
            enc = "utf-8"
        out.append((enc, "<meta charset>"))
    return out


_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b < 32 and b != 27)


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:8192]
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls / len(sample) > 0.05


def _detect(raw: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a dependency
        return None
    best = from_bytes(raw[:200_000], steps=5, chunk_size=2048).best()
    return _codec(best.encoding) if best is not None else None


VALID_SHARE = 0.99   # a declared charset holds when this share of the non-ASCII text decodes
FEW_BAD = 3          # ... or when only this many bytes fail, among mostly valid characters


def mostly_valid(raw: bytes, enc: str) -> tuple[str | None, int]:
    """(text, invalid count) when `raw` is `enc` apart from a few invalid bytes (replaced by
    U+FFFD, which is never spoken: extraction strips it), else (None, count). The share is
    counted on the non-ASCII characters, where encodings differ: a page in another charset
    fails on most of them, a page with a stray byte on one in hundreds. Detection overrides a
    declaration only when it fails that badly."""
    text = raw.decode(enc, "replace")
    bad = text.count("\ufffd") - raw.count("\ufffd".encode(enc, "ignore") or b"\0")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if bad <= 0 or not non_ascii:
        return None, bad
    valid = 1 - bad / non_ascii
    if valid > VALID_SHARE or (bad <= FEW_BAD and valid >= 0.9):
        return text, bad
    return None, bad


def decode_html(raw: bytes, *, content_type: str | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, str]:
    """Return (text, encoding-and-source). Raises InputError with a one-line reason."""
    check_bytes(raw, content_type=content_type, max_bytes=max_bytes)
    raw = bytes(raw)
    candidates = _declared(raw, content_type)
    if not candidates or candidates[0][1] != "byte-order mark":
        if b"\x00" in raw[:4096] and _looks_binary(raw):
            # UTF-16 without a BOM shows as ASCII interleaved with NULs.
            for enc in ("utf-16-le", "utf-16-be"):
                try:
                    text = raw.decode(enc)
                except UnicodeDecodeError:
                    continue
                if _TAG.search(text[:4096]):
                    candidates = [(enc, "detected (no BOM)")]
                    break
            else:
                raise InputError("not an HTML page (binary data)")
    text = source = None
    for enc, where in candidates:
        try:
            text, source = raw.decode(enc), f"{enc} ({where})"
            break
        except UnicodeDecodeError:
            text, bad = mostly_valid(raw, enc)
            if text is not None:  # a few stray bytes: the declaration holds, as in a browser
                source = f"{enc} ({where}; {bad} invalid byte{'s' if bad > 1 else ''} replaced)"
                break
        except (UnicodeError, LookupError):
            continue
    if text is None:
        try:
            text, source = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            if _looks_binary(raw):
                raise InputError("not an HTML page (binary data)") from None
            enc = _detect(raw)
            bad = raw.decode("utf-8", "replace").count("\ufffd")
            if enc and enc != "utf_8":
                text, source = raw.decode(enc, "replace"), f"{enc} (detected)"
            elif bad <= max(3, len(raw) // 2000):
                # A few stray bytes in an otherwise UTF-8 page: drop them rather than refuse.
                text, source = raw.decode("utf-8", "replace").replace("\ufffd", ""), "utf-8 (repaired)"
            else:
                raise InputError(f"invalid UTF-8 (byte {exc.start}) and no usable charset") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if _may_hold_controls(raw, text, source):
        text = _CONTROL.sub("", text)
    if _looks_binary(raw[:8192]) and not _TAG.search(text[:65536]):
        raise InputError("not an HTML page (binary data)")
    if not _TAG.search(text[:200_000]) and not re.search(r"<[a-zA-Z][^<>]*>", text[:200_000]):
        raise InputError("not an HTML page (no HTML markup found)")
    fixed, source = repair_mojibake(text, source)
    if fixed is not text:
        fixed = _CONTROL.sub("", fixed)
    return fixed, source


# The control characters _CONTROL removes, as bytes: in an ASCII-compatible encoding (one where
# every byte below 0x80 is that ASCII character) the text holds one only if the bytes do, and
# bytes.translate finds that ten times faster than a regular expression scans the text.
_CONTROL_BYTE_SET = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])
_ASCII_SAFE = re.compile(r"(utf[-_]?8|ascii|us-ascii|latin[-_]?1|iso[-_]?8859[-_]?\d+|cp125\d|windows[-_]125\d)\b", re.I)


def _may_hold_controls(raw: bytes, text: str, source: str) -> bool:
    """False only when the text surely holds nothing that _CONTROL removes."""
    if not _ASCII_SAFE.match(source or ""):
        return True
    if len(raw.translate(None, _CONTROL_BYTE_SET)) != len(raw):
        return True
    return "\ufffe" in text or "\uffff" in text


def repair_mojibake(text: str, source: str = "") -> tuple[str, str]:
    """Fix UTF-8 read as cp1252/latin-1 ("Ã©tÃ©" -> "été"), or refuse the page."""
    if "\u00c3" not in text and "\u00e2\u20ac" not in text and "\u00c2" not in text:
        return text, source  # the cheap test first: most pages have none of these
    found = len(MOJIBAKE.findall(text))
    if found < 2:
        return text, source
    import ftfy

    fixed = ftfy.fix_encoding(text)
    left = len(MOJIBAKE.findall(fixed))
    if left > max(1, found // 20):
        sample = MOJIBAKE.search(fixed).group(0)
        raise InputError(f"page text is garbled by a wrong encoding (mojibake such as {sample!r}) "
                         "and could not be repaired")
    return fixed, f"{source}, mojibake repaired"
