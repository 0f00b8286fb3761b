"""Main content -> raw blocks, two ways: our own DOM walker over the content root a rule
selected (CMS pages), or trafilatura's XML (any page). Both give the same RawBlock list."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .dom import ATTRIBUTION_ATTR, QUOTE_ATTR, STANDFIRST_ATTR, Log, text_of
from .maintext import BLOCK_TAGS

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACE = re.compile(r"\s+")


@dataclass
class RawBlock:
    kind: str  # "h" | "p" | "list" | "quote" | "table"
    text: str = ""
    level: int = 0
    items: list = field(default_factory=list)
    ordered: bool = False
    attribution: str | None = None
    origin: str = ""  # "p", "div" (loose text), "caption"...


def squash(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def comparison_key(text: str) -> str:
    """Key for comparing texts (de-duplication, finding a text again): words only, casefolded.
    Cached: the same block texts are keyed by several passes (recovery, lead, post)."""
    return " ".join(_WORD.findall(text.casefold()))


LINK_SHARE = 0.9   # a block this much link text is navigation, a call to action, a teaser ...
SENTENCE_WORDS = 15  # ... unless it is a sentence this long that happens to be one link


def link_only(text: str, linked: int, paragraph: bool = True) -> bool:
    """True for a block that is (nearly) all link text and, for a paragraph, short."""
    return linked >= len(text) * LINK_SHARE and (not paragraph or len(text.split()) < SENTENCE_WORDS)


def links_list(items: list[str], linked: list[int]) -> bool:
    """True for a list whose items are all links, short ones (related articles, navigation)."""
    return bool(items) and all(n >= len(t) * LINK_SHARE for t, n in zip(items, linked)) \
        and sum(len(i.split()) for i in items) / len(items) < SENTENCE_WORDS


def common_ancestor(elements):
    """The nearest element that holds all of them (or is one of them); None if none."""
    common = None
    for el in elements:
        chain = [el, *el.iterancestors()]
        if common is None:
            common = chain
        else:
            members = set(chain)
            common = [a for a in common if a in members]
    return common[0] if common else None


def with_inserts(raw: list[RawBlock], inserts: dict[int, list[RawBlock]]) -> list[RawBlock]:
    """`raw` with each list of `inserts[i]` placed before raw[i] (at the end for any other i)."""
    if not inserts:
        return raw
    out: list[RawBlock] = []
    for i, block in enumerate(raw):
        out.extend(inserts.get(i, ()))
        out.append(block)
    for i in sorted(k for k in inserts if not 0 <= k < len(raw)):
        out.extend(inserts[i])
    return out


def precedes(a, b, scope) -> bool:
    """True when element a comes before element b in document order (both under scope)."""
    for el in scope.iter():
        if el is a:
            return True
        if el is b:
            return False
    return False


def _has_block(el) -> bool:
    for d in el.iterdescendants():
        if isinstance(d.tag, str) and d.tag in BLOCK_TAGS:
            return True
    return False


CAPTION_CHARS = 400  # a class naming a caption ("captioned-story") on more text is no caption


def _caption_sized(el) -> bool:
    """A class-substring heuristic gets a size guard: a caption is one short text."""
    return el.find(".//p") is None and len(el.text_content()) <= CAPTION_CHARS


class Walker:
    def __init__(self, options: dict, log: Log, note):
        self.options, self.log, self.note = options, log, note
        self.out: list[RawBlock] = []

    # inline text, with how much of it sits in links (a link-only block is navigation)
    def inline(self, el, parts: list, linked: list) -> None:
        if el.tag == "br":
            parts.append("\n")
        elif el.tag == "a":
            t = el.text_content()
            parts.append(t)
            linked.append(len(t.strip()))
        elif el.tag in ("img",):
            pass
        else:
            if el.text:
                parts.append(el.text)
            for c in el:
                if isinstance(c.tag, str):
                    self.inline(c, parts, linked)
                if c.tail:
                    parts.append(c.tail)

    def flush(self, parts: list, linked: list, origin: str) -> None:
        text = squash("".join(parts))
        parts.clear()
        link = sum(linked)
        linked.clear()
        if not text:
            return
        if link_only(text, link, paragraph=origin == "p"):
            self.log.add(text, "heuristic: link-only block (navigation, call to action)")
            return
        self.out.append(RawBlock("p", text, origin=origin))

    def walk(self, el, depth: int = 0) -> None:
        tag = el.tag
        if not isinstance(tag, str) or depth > 200:
            return
        if el.get(QUOTE_ATTR):
            text = text_of(el)
            if text:
                self.out.append(RawBlock("quote", text, attribution=el.get(ATTRIBUTION_ATTR)))
            return
        if el.get(STANDFIRST_ATTR):
            text = text_of(el)
            if text:
                self.out.append(RawBlock("p", text, origin="standfirst"))
            return
        if tag in HEADINGS:
            self.out.append(RawBlock("h", text_of(el), level=HEADINGS[tag]))
            return
        if tag in ("ul", "ol", "dl", "menu"):
            self.list_block(el, ordered=tag == "ol")
            return
        if tag == "table":
            self.table(el, depth)
            return
        if tag == "figcaption" or "caption" in (el.get("class") or "") and tag in ("p", "div", "span") \
                and _caption_sized(el):
            if self.options.get("captions"):
                self.out.append(RawBlock("p", text_of(el), origin="caption"))
            else:
                self.log.element(el, "option captions=false: figure caption / image credit")
            return
        if tag in ("p", "pre", "address", "dt", "dd") and not _has_block(el):
            parts, linked = [], []
            self.inline(el, parts, linked)
            self.flush(parts, linked, "p")
            return
        # a container: loose inline text between block children becomes paragraphs
        parts, linked = [], []
        if el.text:
            parts.append(el.text)
        for child in el:
            if isinstance(child.tag, str) and (child.tag in BLOCK_TAGS or child.get(QUOTE_ATTR) or _has_block(child)):
                self.flush(parts, linked, "div")
                self.walk(child, depth + 1)
            elif isinstance(child.tag, str):
                self.inline(child, parts, linked)
            if child.tail:
                parts.append(child.tail)
        self.flush(parts, linked, "div")

    def list_block(self, el, ordered: bool) -> None:
        items, linked = [], []
        for li in el:
            if not isinstance(li.tag, str) or li.tag not in ("li", "dt", "dd"):
                continue
            text = text_of(li)
            if not text:
                continue
            items.append(text)
            linked.append(sum(len(a.text_content().strip()) for a in li.iter("a")))
        if not items:
            return
        if links_list(items, linked):
            self.log.add(" / ".join(items), "heuristic: list of links (related articles, navigation)")
            return
        self.out.append(RawBlock("list", items=items, ordered=ordered))

    def table(self, el, depth: int) -> None:
        cells = el.xpath(".//td|.//th")
        layout = el.xpath(".//table|.//p|.//div[string-length(normalize-space())>200]") or len(cells) <= 1
        if layout:  # a layout table: its cells are ordinary page content
            for cell in cells:
                self.walk_cell(cell, depth)
            return
        table_block(self.out, self.options, self.log, text_of(el), [[text_of(c) for c in row.xpath("./td|./th")]
                                                                   for row in el.iter("tr")], self.note)

    def walk_cell(self, cell, depth):
        self.walk(cell, depth + 1)


def table_block(out: list, options: dict, log: Log, text: str, rows: list, note) -> None:
    """A data table: its rows as paragraphs (tables=read), or a spoken note that keeps the
    rows (tables=note: read_tables may still read them), or nothing (tables=drop)."""
    mode = options.get("tables", "note")
    lines = [line for line in (squash(", ".join(c for c in row if c)) for row in rows) if line]
    if mode == "read":
        out.extend(RawBlock("p", line, origin="table") for line in lines)
        return
    log.add(text, f"option tables={mode}: table")
    if mode == "note":
        out.append(RawBlock("table", note or "", items=lines))


def read_tables(raw: list[RawBlock], log: Log) -> list[RawBlock]:
    """Tables that hold most of the article's text are the article (standings, results, a page
    made of data tables): their rows are read rather than replaced by one note. Replacing them
    would be a removal of the main text, which no heuristic may do."""
    in_tables = sum(len(line) for b in raw if b.kind == "table" for line in b.items)
    if not in_tables or in_tables <= sum(len(b.text or " ".join(b.items)) for b in raw if b.kind in ("p", "quote", "list")):
        return raw
    out: list[RawBlock] = []
    for b in raw:
        if b.kind == "table":
            log.recover(" / ".join(b.items), "tables hold most of the article's text: read, not noted")
            out.extend(RawBlock("p", line, origin="table") for line in b.items)
        else:
            out.append(b)
    return out


def walk_dom(root, options: dict, log: Log, note: str | None) -> list[RawBlock]:
    w = Walker(options, log, note)
    w.walk(root)
    return w.out


# ----------------------------------------------------------------------------- trafilatura
