"""The extraction stage's small shared pieces: the text of an element, removing one while
keeping its tail, the attributes that mark quotes and the standfirst, and the log of what was
dropped or recovered (narrator extract --explain)."""
from __future__ import annotations

import re
from typing import NamedTuple

QUOTE_ATTR = "data-narrator-quote"
STANDFIRST_ATTR = "data-narrator-standfirst"
ATTRIBUTION_ATTR = "data-narrator-attribution"
_SPACE = re.compile(r"\s+")


def text_of(el) -> str:
    return _SPACE.sub(" ", el.text_content() if hasattr(el, "text_content") else "".join(el.itertext())).strip()


def snippet(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class Dropped(NamedTuple):
    text: str
    rule: str
    main_chars: int | None = None  # main-text characters an element's removal took (None: a block)


class Log:
    """What was dropped and why, and what a guard kept; a no-op when nobody asked (--explain)."""

    def __init__(self, enabled: bool = False):
        self.enabled = enabled
        self.entries: list[Dropped] = []
        self.spared: list[Dropped] = []  # rule says drop, guard says keep (rule: why)
        self.recovered: list[tuple[str, str]] = []  # put back after main-content detection
        self.removed: set = set()
        self.main_chars = 0

    def add(self, text: str, rule: str, main_chars: int | None = None) -> None:
        if self.enabled and text:
            self.entries.append(Dropped(snippet(text), rule, main_chars))

    def element(self, el, rule: str, main_chars: int | None = None) -> None:
        if self.enabled and not any(a in self.removed for a in el.iterancestors()):
            self.add(_SPACE.sub(" ", " ".join(el.itertext())).strip(), rule, main_chars)
            self.removed.add(el)

    def recover(self, text: str, why: str) -> None:
        if self.enabled:
            self.recovered.append((snippet(text), why))

    def spare(self, el, why: str, main_chars: int) -> None:
        text = _SPACE.sub(" ", " ".join(el.itertext())).strip() if self.enabled else ""
        if text:
            self.spared.append(Dropped(snippet(text), why, main_chars))


def remove(el, space: bool = False) -> None:
    """Remove an element but keep its tail text (it belongs to the parent). `space`: keep a
    space too, where el (an element without words) held the only space between two words
    ("country<strong> </strong>and")."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if space:
        tail = " " + (tail or "")
    if tail and (space or tail.strip()):
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
