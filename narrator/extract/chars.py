"""Characters that are not spoken, and the test that tells a script with letter case.

Invisible characters are taken out of the page's text (its text nodes, once scripts and styles
are gone, and every metadata string) before any rule, heuristic or comparison sees it: soft hyphens (U+00AD, hundreds on some German pages,
where they split words in two for the speech engine), zero-width spaces, word joiners,
direction marks and embeddings, invisible operators, byte-order marks inside the text, and
U+FFFD, the replacement character a decoder puts for a byte it could not read (it stands for
a lost letter; it must never be spoken). Their character references (&shy;, &#173;, &#x200B;...)
go too (the parser has turned them into characters). Zero-width (non-)joiners (U+200C, U+200D) stay: Persian and the Indic scripts spell
with them, and emoji sequences hold them.
"""
from __future__ import annotations

import re

from lxml import etree

_CODEPOINTS = (0xAD, 0x34F, 0x61C, 0x180E, 0x200B, 0x200E, 0x200F, *range(0x202A, 0x202F),
               *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF, 0xFFFD)
_RAW = re.compile("[" + "".join(map(chr, _CODEPOINTS)) + "]")
# character references, named or numeric (decimal or hex, leading zeros allowed)
_REF = re.compile("&(?:shy;|ZeroWidthSpace;|NoBreak;|lrm;|rlm;|#(?:0*(?:" + "|".join(str(c) for c in _CODEPOINTS)
                  + ")|[xX]0*(?:" + "|".join(f"{c:x}" for c in _CODEPOINTS) + "))(?![0-9a-fA-F]);?)", re.I)


def strip_invisible(text: str) -> str:
    """The text without invisible format characters, nor their character references."""
    if _RAW.search(text) is not None:
        text = _RAW.sub("", text)
    if "&" in text and _REF.search(text) is not None:
        text = _REF.sub("", text)
    return text


def strip_invisible_tree(root) -> None:
    """The same on a parsed page: every text node under root. The page's text is tested at
    once (in C) and the nodes are visited only when it holds one (a page in ten)."""
    if _RAW.search(etree.tostring(root, method="text", encoding=str)) is None:
        return
    for el in root.iter():
        if el.text and _RAW.search(el.text):
            el.text = _RAW.sub("", el.text)
        if el.tail and _RAW.search(el.tail):
            el.tail = _RAW.sub("", el.tail)


def _letters(text: str) -> tuple[int, int]:
    letters = cased = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if ch.isupper() or ch.islower():
                cased += 1
    return letters, cased


def has_case(text: str) -> bool:
    """True when most of the text's letters are of a script with capitals (Latin, Greek,
    Cyrillic, Armenian...): only there does "all capitals" or "starts with a capital" say
    anything. Devanagari, Chinese, Japanese, Arabic, Hebrew, Thai... have no case."""
    letters, cased = _letters(text)
    return letters > 0 and cased >= 0.8 * letters


def caseless(text: str) -> bool:
    """True when the text has letters and most are of a script without case."""
    letters, cased = _letters(text)
    return letters > 0 and cased < 0.8 * letters
