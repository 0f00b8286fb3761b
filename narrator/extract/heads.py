"""Headings that main-content detection drops from inside the article: the title of each post
of a live blog, a cross-head in a block of its own. trafilatura's precision pass keeps the
paragraphs and loses some headings between them; a listener then hears several posts, or
sections, run together. A heading is put back when it lies between two extracted paragraphs
and the first text after it is an extracted paragraph (the one it introduces), unless it is a
link (another article's title, a teaser): a heading followed by something that was left out
(a box of links, a widget) stays out with it."""
from __future__ import annotations

from .blocks import HEADINGS, RawBlock, common_ancestor, link_only, with_inserts
from .blocks import comparison_key as _key
from .dom import Log, text_of

MAX_HEADING_CHARS = 200
MAX_CLIMB = 1  # a heading in a wrapper of its own ("head-blk") introduces the next block too
_SUBHEADS = ("h2", "h3", "h4", "h5", "h6")


def _next_text(el, stop):
    """The first element after el (in document order, under stop) that holds text, or None
    when text outside any element comes first or it lies beyond el's own wrapper (a heading
    deep in a widget, whose other parts were dropped, introduces nothing of the article)."""
    node = el
    for _ in range(MAX_CLIMB + 1):
        if node is stop or node is None:
            break
        if (node.tail or "").strip():
            return None
        for sib in node.itersiblings():
            if not isinstance(sib.tag, str):
                continue
            if sib.text_content().strip():
                return sib
            if (sib.tail or "").strip():
                return None
        node = node.getparent()
    return None


def _opening(el, targets: dict):
    """The extracted paragraph that el starts with (el itself, or its first child that holds
    text, and so on down), or None."""
    while el is not None:
        if el in targets:
            return el
        if (el.text or "").strip():
            return None
        el = next((c for c in el if isinstance(c.tag, str) and c.text_content().strip()), None)
    return None


def dropped_headings(raw: list[RawBlock], index: dict, log: Log) -> list[RawBlock]:
    """Put back the headings detection dropped between the extracted paragraphs (`index`:
    paragraph key -> element, recover.paragraph_index)."""
    at: dict = {}  # paragraph element -> raw index
    for i, b in enumerate(raw):
        if b.kind == "p":
            el = index.get(_key(b.text)[:200])
            if el is not None and el not in at:
                at[el] = i
    if len(at) < 2:
        return raw
    container = common_ancestor(list(at))
    if container is None or container in at:
        return raw
    spoken = {_key(b.text) for b in raw if b.kind in ("h", "p")}
    first = min(at.values())
    inserts: dict[int, list[RawBlock]] = {}
    for h in container.iter(*_SUBHEADS):
        text = text_of(h)
        if not text or len(text) > MAX_HEADING_CHARS or _key(text) in spoken:
            continue
        if any(a.tag == "a" for a in h.iterancestors()) or link_only(text, sum(len(text_of(a)) for a in h.iter("a"))):
            continue  # another article's title, a teaser set between the paragraphs
        target = _opening(_next_text(h, container), at)
        if target is None or at[target] == first:
            continue  # before the first paragraph: a kicker, a box above the article
        inserts.setdefault(at[target], []).append(RawBlock("h", text, level=HEADINGS[h.tag]))
        spoken.add(_key(text))
        log.recover(text, "heading dropped by main-content detection between the article's paragraphs")
    return with_inserts(raw, inserts)
