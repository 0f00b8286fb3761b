"""Raw blocks -> sections: phrase rules, title and kicker, attribution lines, pull-quote
de-duplication, repeated blocks, cross-heads."""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from ..model import ListBlock, Paragraph, Quote, Section
from .blocks import RawBlock
from .chars import caseless, has_case
from .blocks import comparison_key as _key
from .dom import Log
from .quotes import strip_dash
from .rules import RuleSet

_DASH_LINE = re.compile(r"^\s*[-\u2010-\u2015\u2212]\s*\S")
_QUOTE_MARKS = "\"'«»“”„‘’‹›「」"


@lru_cache(maxsize=8)
def _dateline(sources: tuple[str, ...]) -> re.Pattern | None:
    """A paragraph opening with a news dateline: "(CNN) ...", "PARIS (AFP) - ...",
    "LONDON, March 3 (Reuters) - ...", "MADRID, 5 mar. (EFE).- ..."; the agencies are data
    (options.dateline_sources in the rules files)."""
    if not sources:
        return None
    names = "|".join(re.escape(s) for s in sorted(sources, key=len, reverse=True))
    place = r"[^\W\d_][\w.' -]{1,30}(?:,\s*[\w. ]{1,15})?"  # a city, then maybe a date
    return re.compile(r"^\s*(?:" + place + r",?\s*)?\((?:" + names
                      + r")\)\.?\s*[-\u2013\u2014]?\s*\S.{60,}")




def _quote_in_body(quote: str, body_keys: list[str]) -> bool:
    """True when the quote repeats a body sentence (an ellipsis "[...]" may elide words)."""
    pieces = [_key(p) for p in re.split(r"\[\s*(?:\.\.\.|…)\s*\]|\(\s*(?:\.\.\.|…)\s*\)|\.\.\.|…", quote)]
    pieces = [p for p in pieces if len(p) >= 12]
    if not pieces:
        return False
    return any(all(p in body for p in pieces) for body in body_keys)


def _looks_like_speaker(text: str) -> bool:
    words = strip_dash(text).split()
    # a name starts with a capital, in a script that has capitals
    if not 0 < len(words) <= 20 or text.rstrip().endswith(("?", "!")):
        return False
    return words[0][:1].isupper() or caseless(words[0])




def _fragment(b: RawBlock) -> str | None:
    """Why a paragraph (on a page without a content rule) is a page fragment, or None."""
    if b.kind != "p" or b.origin == "standfirst":
        return None
    text = b.text.strip()
    words = text.split()
    # (dropping every short unpunctuated line was measured too: +0.002 precision, -0.004 recall
    # on the Scrapinghub set, so only all-capitals teaser lines go)
    if len(words) >= 4 and text.upper() == text and text.lower() != text and has_case(text) \
            and not text.endswith((".", "!", "?", "»", "”")):
        return "heuristic: all-capitals line (teaser headline)"
    return None


def _size(blocks: list[RawBlock]) -> int:
    return sum(len(b.text or " ".join(b.items)) for b in blocks if b.kind != "h")


def _drop_fragments(blocks: list[RawBlock], log: Log) -> list[RawBlock]:
    kept = []
    for b in blocks:
        why = _fragment(b)
        if why:
            log.add(b.text, why)
        else:
            kept.append(b)
    return kept


# a paragraph of prose: a sentence or more, ended as sentences end (a question is left out:
# the same question put to each guest of an interview is the article's structure)
_SENTENCE_END = re.compile(r"[.!…。！][\"'»”’)\]]*\s*$")
PROSE_WORDS = 15     # ... this many words (or, in a script written without spaces, characters)
PROSE_CHARS = 40
LONG_WORDS = 30      # a block this long is never spoken twice on its own, prose or not
TEMPLATE_COUNT = 3   # a sentence that comes back this often is a refrain, not a copy


def _prose(text: str) -> bool:
    if _SENTENCE_END.search(text) is None:
        return False
    words = text.split()
    return len(words) >= PROSE_WORDS or (len(words) < 4 and len(text) >= PROSE_CHARS)


def _drop_repeats(blocks: list[RawBlock], log: Log) -> list[RawBlock]:
    """Never the same paragraph twice. A run of blocks that repeats an earlier run in the same
    order is a copy (a hidden print or AMP copy, the article for another screen size, a
    "pinned" post) when it holds two prose paragraphs or more: all of it goes. Otherwise a
    run is the article's own structure (the same meal in two meal plans, the same question to
    each guest), and only its first block may go: when it is long, or a prose paragraph that
    is no refrain (teaser repeating the lead, a call to action twice)."""
    keys = [b.kind + ":" + _key(b.text if b.kind != "list" else " ".join(b.items)) for b in blocks]
    first: dict[str, int] = {}
    copy_of: list[int | None] = []
    for i, k in enumerate(keys):
        copy_of.append(first.get(k))
        first.setdefault(k, i)
    counts = Counter(keys)
    drop = set()
    i, n = 0, len(blocks)
    while i < n:
        if copy_of[i] is None:
            i += 1
            continue
        j = i  # the run: each next block repeats one that came after a block like this one
        while j + 1 < n and copy_of[j + 1] and keys[copy_of[j + 1] - 1] == keys[j]:
            j += 1
        run = range(i, j + 1)
        if sum(blocks[x].kind in ("p", "quote") and _prose(blocks[x].text) for x in run) >= 2:
            drop.update(run)
        else:
            b = blocks[i]
            if b.kind in ("p", "quote") and (len(keys[i].split()) >= LONG_WORDS or (
                    _prose(b.text) and counts[keys[i]] < TEMPLATE_COUNT)):
                drop.add(i)
        i = j + 1
    for x in sorted(drop):
        log.add(blocks[x].text or " / ".join(blocks[x].items), "heuristic: repeated block (spoken once)")
    return [b for x, b in enumerate(blocks) if x not in drop] if drop else blocks


def process(raw: list[RawBlock], title: str, rs: RuleSet, log: Log, *, dom_path: bool) -> list[RawBlock]:
    blocks: list[RawBlock] = []
    for b in raw:
        if b.kind == "list":
            items = []
            for item in b.items:
                rule = rs.dropped_phrase(item)
                if rule and rule != "empty":
                    log.add(item, rule)
                elif rule is None:
                    items.append(item)
            if items:
                b.items = items
                blocks.append(b)
            continue
        if b.kind == "table":
            if b.text:
                blocks.append(b)
            continue
        if not b.text:
            continue
        rule = rs.dropped_phrase(b.text)
        if rule:
            if rule != "empty":
                log.add(b.text, rule)
            continue
        blocks.append(b)

    if not dom_path:
        blocks = _drop_fragments(blocks, log)

    # the title: blocks above it (kicker, overline, breadcrumb) are not spoken; it is not repeated
    tkey = _key(title)
    if tkey:
        for i, b in enumerate(blocks):
            if b.kind in ("h", "p") and _key(b.text) == tkey:
                if rs.options.get("drop_before_title") and (dom_path or i <= 3):
                    # a paragraph opening with a news dateline is the lead, wherever the page
                    # put it ("(CNN)President...", "PARIS (AFP) - ...")
                    dateline = _dateline(tuple(rs.options.get("dateline_sources", ())))
                    lead = [x for x in blocks[:i]
                            if dateline and x.kind == "p" and dateline.match(x.text)]
                    if _size(blocks[:i]) > _size(blocks[i:]):  # guard: that is the article, not a kicker
                        lead = blocks[:i]
                    for x in blocks[:i]:
                        if x not in lead:
                            log.add(x.text or " / ".join(x.items), "heuristic: above the title (kicker, overline)")
                    blocks = lead + blocks[i:]
                break
        kept = []
        for b in blocks:
            if b.kind in ("h", "p") and _key(b.text) == tkey:
                log.add(b.text, "heuristic: the title, already spoken")
            else:
                kept.append(b)
        blocks = kept

    # attribution lines: "- Name, role" right after a quote (or after a short paragraph,
    # which then is a pull-quote the markup did not mark)
    merged: list[RawBlock] = []
    dashes = tuple(rs.attribution_dashes)
    for b in blocks:
        prev = merged[-1] if merged else None
        if (b.kind == "p" and prev is not None and (b.text.startswith(dashes) or _DASH_LINE.match(b.text))
                and _looks_like_speaker(b.text)):
            if prev.kind == "quote" and not prev.attribution:
                prev.attribution = strip_dash(b.text)
                continue
            if prev.kind == "p" and prev.origin != "list" and len(prev.text.split()) <= 60 and dom_path:
                merged[-1] = RawBlock("quote", prev.text.strip(_QUOTE_MARKS + " "), attribution=strip_dash(b.text))
                continue
        merged.append(b)
    blocks = merged

    blocks = _drop_repeats(blocks, log)

    # a pull-quote that repeats a body sentence is spoken once (policy: options.pullquote_dedupe)
    if rs.options.get("pullquote_dedupe", "drop-quote") == "drop-quote":
        body_keys = [_key(b.text) for b in blocks if b.kind == "p"]
        kept = []
        for b in blocks:
            if b.kind == "quote" and _quote_in_body(b.text, body_keys):
                log.add(b.text, "policy pullquote_dedupe=drop-quote: pull-quote repeats the body")
                continue
            kept.append(b)
        blocks = kept
    return blocks


def to_sections(blocks: list[RawBlock], log: Log) -> tuple[Section, ...]:
    sections: list[tuple[str | None, int, list]] = [(None, 2, [])]
    for b in blocks:
        if b.kind == "h":
            sections.append((b.text, b.level, []))
        elif b.kind == "p" or b.kind == "table":
            sections[-1][2].append(Paragraph(b.text))
        elif b.kind == "quote":
            q = b.text.strip()
            if len(q) > 2 and q[0] in _QUOTE_MARKS and q[-1] in _QUOTE_MARKS + ".":
                q = q.strip(_QUOTE_MARKS + " ")  # the language's template adds its own marks
            sections[-1][2].append(Quote(q, b.attribution or None))
        elif b.kind == "list":
            sections[-1][2].append(ListBlock(tuple(b.items), b.ordered))
    # headings with nothing after them at the end of the page ("Comments", "Related") go
    while len(sections) > 1 and not sections[-1][2]:
        log.add(sections[-1][0] or "", "heuristic: trailing heading with no text")
        sections.pop()
    return tuple(Section(h, tuple(bs), level) for h, level, bs in sections if h or bs)
