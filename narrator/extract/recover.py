"""Article text that trafilatura's main-content detection leaves out, found again in the page
(the opening, standfirst and lead, is in lead.py).

A body split into several sibling containers of the same class (a "chunk" per screen, with ads
or promos between them, or a container per paragraph): trafilatura keeps some; the others,
checked against the page's own markup, are walked here.
"""
from __future__ import annotations

from .blocks import HEADINGS, RawBlock, common_ancestor, walk_dom, with_inserts
from .blocks import comparison_key as _key
from .dom import Log, text_of

MIN_CHUNK_CHARS = 150     # new paragraph text a sibling chunk must bring
MAX_CHUNK_LEVELS = 3      # how far above the container the chunks' common ancestor may be




def paragraph_index(body) -> dict:
    """Key of each <p> with some text -> the element (first one wins)."""
    index: dict = {}
    for p in body.iter("p"):
        text = p.text_content()
        if len(text) < 40:
            continue
        k = _key(text)[:200]
        if k and k not in index:
            index[k] = p
    return index


def _doc_order(scope) -> dict:
    return {el: i for i, el in enumerate(scope.iter())}


def _path(el, stop) -> list:
    """Tag and class of each ancestor of el below stop (the common ancestor)."""
    out = []
    for a in el.iterancestors():
        if a is stop:
            return out
        out.append((a.tag, a.get("class")))
    return out


def _extracted_keys(raw: list[RawBlock]) -> set:
    keys = set()
    for b in raw:
        if b.text:
            keys.add(_key(b.text)[:200])
        for item in b.items:
            keys.add(_key(item)[:200])
    return keys


def sibling_chunks(body, raw: list[RawBlock], options: dict, log: Log, note, index: dict | None = None) -> list[RawBlock]:
    """Add the article's other chunks, elements in the same layout as the containers of the
    extracted paragraphs (same tag and class, same tags and classes up to their common
    ancestor), with new paragraph text:

    - the body's container is one element (a body split in chunks): its repeats up to
      MAX_CHUNK_LEVELS above it that bring MIN_CHUNK_CHARS of new text, not below another h1;
    - each paragraph has a container of its own (a "card" per paragraph): only the holes, the
      containers between two extracted ones (trafilatura drops a short one with a link).
    """
    index = paragraph_index(body) if index is None else index
    positions: dict = {}  # container -> [raw indices of its paragraphs]
    for i, b in enumerate(raw):
        if b.kind == "p":
            el = index.get(_key(b.text)[:200])
            if el is not None and el.getparent() is not None:
                positions.setdefault(el.getparent(), []).append(i)
    groups: dict = {}  # (tag, class) -> containers
    for container in positions:
        cls = (container.get("class") or "").strip()
        if cls:
            groups.setdefault((container.tag, container.get("class")), []).append(container)
    if not groups:
        return raw
    (tag, cls), containers = max(groups.items(), key=lambda kv: sum(len(positions[c]) for c in kv[1]))
    if sum(len(positions[c]) for c in containers) < 2:
        return raw
    holes_only = len(containers) > 1
    if holes_only:
        scope = common_ancestor(containers)
        if scope is None or scope.tag in ("body", "html"):
            return raw
    else:
        scope = containers[0]
        for _ in range(MAX_CHUNK_LEVELS):
            up = scope.getparent()
            if up is None or up.tag in ("body", "html"):
                break
            scope = up
        if scope is containers[0]:
            return raw
    known = set(containers)
    candidates = [el for el in scope.iter(tag) if el.get("class") == cls and el not in known]
    if not candidates:
        return raw
    order = _doc_order(scope)
    spots = sorted((order[c], max(positions[c]), min(positions[c])) for c in containers)
    first_pos, last_pos = spots[0][0], spots[-1][0]
    h1_after = [order[h] for h in scope.iter("h1") if order[h] > first_pos]
    stop = min(h1_after) if h1_after else None
    seen = _extracted_keys(raw)
    inside = set()
    for c in containers:
        inside.update(c.iterancestors())
        inside.update(c.iterdescendants())
    shapes = {tuple(_path(c, scope)) for c in containers}
    inserts: dict[int, list[RawBlock]] = {}  # raw index to insert before -> blocks
    for el in candidates:
        if el in inside:
            continue
        pos = order[el]
        if tuple(_path(el, scope)) not in shapes:  # a box of another kind, not a repeat
            continue
        if stop is not None and pos > stop:
            continue
        interior = first_pos < pos < last_pos
        if holes_only and not interior:
            continue
        new = [p for p in el.iter("p") if _key(p.text_content())[:200] not in seen]
        if sum(len(p.text_content()) for p in new) < (40 if interior else MIN_CHUNK_CHARS):
            continue
        blocks = [b for b in walk_dom(el, options, log, note)
                  if not (b.kind == "p" and _key(b.text)[:200] in seen)]
        if not blocks:
            continue
        prev = [s for s in spots if s[0] < pos]
        at = prev[-1][1] + 1 if prev else spots[0][2]
        inserts.setdefault(at, []).extend(blocks)
    return with_inserts(raw, inserts)


_LISTS = ("ul", "ol", "dl")


def _unit(el, container):
    """The child of `container` that holds el."""
    while el.getparent() is not container:
        el = el.getparent()
    return el


def body_units(body, raw: list[RawBlock], options: dict, log: Log, note, index: dict) -> list[RawBlock]:
    """Put back what detection dropped from the container of the extracted paragraphs (their
    common ancestor, a body of "units", one element per paragraph or group of them):

    - between two extracted units: a list (an enumeration the precision pass dropped);
    - after the last one: whole later sections, that is units of the same kind (tag and
      class) as the extracted ones, lists, and the headings before them, until the first
      element of another kind that holds text (tags, a related box, comments) or an h1.

    What is put back goes through the walker, so link lists and captions stay out, and then
    through the same phrase and pattern filters as the rest."""
    located = [(i, index.get(_key(b.text)[:200])) for i, b in enumerate(raw) if b.kind == "p"]
    located = [(i, el) for i, el in located if el is not None]
    if len(located) < 2:
        return raw
    container = common_ancestor([el for _, el in located])
    if container is None or container.tag in ("body", "html") or container in (el for _, el in located):
        return raw
    units: dict = {}  # unit -> raw indices of its paragraphs
    for i, el in located:
        units.setdefault(_unit(el, container), []).append(i)
    kinds = {(u.tag, u.get("class")) for u in units}
    children = [c for c in container if isinstance(c.tag, str)]
    at = [n for n, c in enumerate(children) if c in units]
    spoken = " | ".join(_key(b.text or " ".join(b.items)) for b in raw)
    inserts: dict[int, list[RawBlock]] = {}

    def new_blocks(el) -> list[RawBlock]:
        """el's blocks, less what is spoken already (a list: its items)."""
        fresh = []
        for b in walk_dom(el, options, log, note):
            if b.kind == "list":
                b.items = [i for i in b.items if _key(i)[:60] not in spoken]
                if b.items:
                    fresh.append(b)
            elif _key(b.text)[:60] not in spoken:
                fresh.append(b)
        return fresh if any(b.kind in ("p", "list", "quote") for b in fresh) else []

    for n in range(at[0] + 1, at[-1]):  # the holes: lists only
        c = children[n]
        if c.tag in _LISTS and c not in units:
            blocks = new_blocks(c)
            if blocks:
                nxt = min(i for u in children[n + 1:] if u in units for i in units[u])
                inserts.setdefault(nxt, []).extend(blocks)
    tail: list[RawBlock] = []
    pending: list[RawBlock] = []
    for c in children[at[-1] + 1:]:
        if c.tag == "h1" or c.find(".//h1") is not None:
            break
        text = text_of(c)
        if not text:
            continue
        if c.tag in HEADINGS or (len(text) < 200 and any(text_of(h) == text for h in c.iter(*HEADINGS))):
            pending = [RawBlock("h", text, level=HEADINGS.get(c.tag, 2))]
            continue
        if (c.tag, c.get("class")) not in kinds and c.tag not in _LISTS:
            break
        blocks = new_blocks(c)
        if blocks:
            tail.extend(pending + blocks)
            pending = []
    if tail:
        last = max(units[children[at[-1]]])
        inserts.setdefault(last + 1, []).extend(tail)
    if not inserts:
        return raw
    for blocks in inserts.values():
        for b in blocks:
            log.recover(b.text or " / ".join(b.items), "dropped by main-content detection from the article's container")
    return with_inserts(raw, inserts)
