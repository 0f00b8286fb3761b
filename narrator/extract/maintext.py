"""An estimate of the page's main text, made before any rule removes anything, against which
every removal and every site rule is checked.

Prose blocks are the block elements without block children whose text is long enough and
mostly not link text (a teaser list or a menu is links); each element weighs the prose
characters below it. The main container is reached from the body by going down, while one
child holds at least half of the page's prose, to the deepest element that does; the main
text is the prose inside it. Dialogs (a consent or privacy notice, often the longest text of a
page) are no part of it: the markup says they are not the page (<dialog>, role=dialog,
aria-modal). Nor is a hidden copy of the page's text (a print or AMP copy, the article for
another screen size): content the markup hides (hidden, aria-hidden, an inline display:none)
whose prose is mostly found again outside it. Hidden content of its own (the rest of an
article behind "continue reading", a body a script reveals) still counts. No language or class
name plays a part: the estimate holds on pages nobody wrote a rule for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

BLOCK_TAGS = {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
              "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
              "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol",
              "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
              "caption", "noscript"}
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
STRUCTURE_TAGS = {"br", "hr", "td", "th", "tr", "tbody", "thead", "tfoot", "table", "img"}  # never "empty"
MIN_PROSE_CHARS = 60      # a prose block: at least this many characters ...
MAX_LINK_SHARE = 0.35     # ... of which at most this share is link text
MIN_MAIN_CHARS = 400      # below this much prose the estimate guides nothing (too little to tell)
MAJORITY = 0.5            # the container holds at least this share of the page's prose
COPY_SHARE = 0.5          # hidden prose found again outside at least this much is a copy
HIDDEN_PART_CHARS = 200   # hidden prose of its own, this much inside the main container, is its part


@dataclass
class MainText:
    weight: dict          # element -> prose characters below it (elements with some only)
    container: object     # the deepest element holding most of the page's prose (None: no prose)
    total: int            # prose characters in the container: the size of the main text
    empty: list = field(default_factory=list)  # outermost elements without any text (spacers, icons)
    copies: list = field(default_factory=list)  # hidden copies of visible text (no part of the main text)
    hidden_parts: list = field(default_factory=list)  # hidden, yet the main text's: shown again (unhide)

    @property
    def reliable(self) -> bool:
        return self.container is not None and self.total >= MIN_MAIN_CHARS

    def holds(self, el) -> bool:
        """True when el is the main container or one of its ancestors."""
        c = self.container
        return c is not None and (el is c or any(a is el for a in c.iterancestors()))

    def taken(self, el) -> int:
        """Main-text characters that removing el would take."""
        c = self.container
        if c is None:
            return 0
        if el is c or any(a is el for a in c.iterancestors()):
            return self.total
        w = self.weight.get(el, 0)
        if not w:
            return 0
        return w if any(a is c for a in el.iterancestors()) else 0


_DIALOGS = etree.XPath("//dialog | //*[@aria-modal='true' or @role='dialog' or @role='alertdialog']")
HIDING_STYLE = re.compile(r"(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)


def hidden(el) -> bool:
    """The markup hides el: hidden (not "until-found": that is found by search), aria-hidden,
    an inline display:none or visibility:hidden. (A stylesheet's classes are not read.)"""
    h = el.get("hidden")
    if h is not None and h != "until-found":
        return True
    if el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return style is not None and HIDING_STYLE.search(style) is not None


def _size(text: str | None) -> int:
    """Characters of a text node, runs of spaces counted as one."""
    if not text:
        return 0
    stripped = text.strip()
    return len(stripped) + 1 if stripped else 0


def detect(root) -> MainText:
    """root: the page's <html> (or <body>) element, after scripts and styles are gone.
    One pass, children before parents; text is measured, never copied (a page's paragraphs
    are thousands of elements: this runs on every page, before every rule)."""
    body = root.find("body") if root.tag == "html" else root
    top = body if body is not None else root
    weight: dict = {}
    empty: list = []
    dialogs = set(_DIALOGS(top))
    # per open element: [holds a block, prose below, text size, link text size, loose text
    # size (text outside its block children), loose link text size, its children without text]
    stack: list = []
    for event, el in etree.iterwalk(top, events=("start", "end")):
        if event == "start":
            own = _size(el.text)
            stack.append([False, 0, own, 0, own, 0, []])
            continue
        holds, w, size, linked, loose, loose_linked, textless = stack.pop()
        tag = el.tag
        if tag == "a":
            linked = size
        is_block = tag in BLOCK_TAGS
        if is_block and tag not in HEADING_TAGS:
            if not holds:  # a block of text: prose when long enough and mostly not links
                if size >= MIN_PROSE_CHARS and linked <= MAX_LINK_SHARE * size:
                    w += size - linked
            elif loose >= MIN_PROSE_CHARS and loose_linked <= MAX_LINK_SHARE * loose:
                w += loose - loose_linked  # text between a container's blocks
        if dialogs and el in dialogs:
            w = 0
        if w:
            weight[el] = w
        if size:
            empty.extend(textless)
        if stack:
            parent = stack[-1]
            if not size and tag not in STRUCTURE_TAGS:
                parent[6].append(el)
            tail = _size(el.tail)
            parent[1] += w
            parent[2] += size + tail
            parent[3] += linked
            if is_block or holds:
                parent[0] = True
                parent[4] += tail
            else:
                parent[4] += size + tail
                parent[5] += linked
    copies, others = _hidden(top, weight) if weight.get(top) else ([], [])
    total = weight.get(top, 0)
    if not total:
        return MainText(weight, None, 0, empty, copies)
    node = top
    while True:
        best = max((c for c in node if c in weight), key=weight.get, default=None)
        if best is None or weight[best] < MAJORITY * total:
            break
        node = best
    main = MainText(weight, node, weight[node], empty, copies)
    main.hidden_parts = [h for h in others if main.holds(h) or (
        weight.get(h, 0) >= HIDDEN_PART_CHARS and any(a is node for a in h.iterancestors()))]
    return main


def _leaves(el, weight: dict) -> list:
    """The prose blocks under el: elements with prose of their own, no child with some."""
    return [d for d in el.iter() if d in weight and not any(c in weight for c in d)]


_WORDS = re.compile(r"\w+")
PROBE_CHARS = 80  # a hidden block is found again when these windows of it are


def _key(el) -> str:
    return " ".join(_WORDS.findall(el.text_content().casefold()))


def _found(key: str, shown: str) -> bool:
    """The start and the middle of a block's text (its words) occur in the shown text: a copy
    may cut its text into other blocks (one for the whole body, say)."""
    half = len(key) // 2
    return key[:PROBE_CHARS] in shown and key[half:half + PROBE_CHARS].partition(" ")[2] in shown


def _shown_text(top, hidden: list) -> str:
    """The words of the page's text outside the hidden elements, in order."""
    parts, depth, skip = [], 0, set(hidden)
    for event, el in etree.iterwalk(top, events=("start", "end")):
        if event == "start":
            if depth or el in skip:
                depth += 1
            elif el.text:
                parts.append(el.text)
        else:
            if depth:
                depth -= 1
            if not depth and el.tail and el is not top:
                parts.append(el.tail)
    return " ".join(_WORDS.findall(" ".join(parts).casefold()))


def _hidden(top, weight: dict) -> tuple[list, list]:
    """(copies, others): the outermost hidden elements with prose, split. A copy's prose is
    mostly found again outside it: it loses its weight (and its ancestors that much)."""
    found = {el for el, w in weight.items() if w >= MIN_PROSE_CHARS and hidden(el)}
    if not found:
        return [], []
    found = [h for h in weight if h in found and not any(a in found for a in h.iterancestors())]
    shown = _shown_text(top, found)
    copies, others = [], []
    for h in found:
        leaves = _leaves(h, weight)
        found = sum(weight[el] for el in leaves if _found(_key(el), shown))
        if found < COPY_SHARE * sum(weight[el] for el in leaves):
            others.append(h)
            continue
        copies.append(h)
        w = weight[h]
        for a in h.iterancestors():
            if a in weight:
                weight[a] -= w
                if weight[a] <= 0:
                    del weight[a]
        for d in h.iter():
            weight.pop(d, None)
    return copies, others
