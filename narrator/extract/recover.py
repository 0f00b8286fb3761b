"""Article text that trafilatura's main-content detection leaves out, found again in the page.

Two shapes, both common on publisher pages and both checked against the page's own markup
before anything is added:

- a body split into several sibling containers of the same class (a "chunk" per screen, with
  ads or promos between them): trafilatura keeps the first; the others are walked here;
- the lead paragraph that the page's meta description quotes, left out because it sits in its
  own box (a summary) or as loose text before the first child of the body container.
"""
from __future__ import annotations

from .blocks import BLOCK_TAGS, HEADINGS, RawBlock, common_ancestor, squash, walk_dom
from .blocks import comparison_key as _key
from .clean import Log, text_of

MIN_CHUNK_CHARS = 150     # new paragraph text a sibling chunk must bring
MAX_CHUNK_LEVELS = 3      # how far above the container the chunks' common ancestor may be
MIN_LEAD_CHARS = 60




def _paragraph_index(body) -> dict:
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


def sibling_chunks(body, raw: list[RawBlock], options: dict, log: Log, note) -> list[RawBlock]:
    """Add the article's other chunks, elements in the same layout as the containers of the
    extracted paragraphs (same tag and class, same tags and classes up to their common
    ancestor), with new paragraph text:

    - the body's container is one element (a body split in chunks): its repeats up to
      MAX_CHUNK_LEVELS above it that bring MIN_CHUNK_CHARS of new text, not below another h1;
    - each paragraph has a container of its own (a "card" per paragraph): only the holes, the
      containers between two extracted ones (trafilatura drops a short one with a link).
    """
    index = _paragraph_index(body)
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
    if not inserts:
        return raw
    out: list[RawBlock] = []
    for i, b in enumerate(raw):
        out.extend(inserts.pop(i, ()))
        out.append(b)
    for i in sorted(inserts):
        out.extend(inserts[i])
    return out


def _lead_text(node) -> tuple[object, str]:
    """(block element, paragraph text) for a text node: the whole block when it holds no other
    block and no line break, else the inline run the text node starts, up to the next <br> or
    block."""
    owner = node.getparent()
    if owner is None:
        return None, ""
    holder = owner.getparent() if node.is_tail else owner
    block = holder
    while block is not None and block.tag not in BLOCK_TAGS:
        block = block.getparent()
    if block is None:
        return None, ""
    if not any(isinstance(d.tag, str) and (d.tag in BLOCK_TAGS or d.tag == "br") for d in block.iterdescendants()):
        return block, text_of(block)
    parts = [str(node)]
    sib = owner.getnext() if node.is_tail else (owner[0] if len(owner) else None)
    while sib is not None:
        if not isinstance(sib.tag, str) or sib.tag == "br" or sib.tag in BLOCK_TAGS:
            break
        parts.append(sib.text_content())
        if sib.tail:
            parts.append(sib.tail)
        sib = sib.getnext()
    return block, squash("".join(parts))


def lead_paragraph(desc: str, body, raw: list[RawBlock], log: Log) -> list[RawBlock]:
    """Put back the lead paragraph that the meta description quotes when it is part of the
    article's text: it starts the block that holds the following extracted paragraphs, or its
    block has the same class as the blocks of extracted paragraphs after it. (A standfirst in
    a box of its own, "summary" or "dek", is not taken: it is not part of the body.)
    `desc` is the page's meta description (Metadata.description)."""
    paras = [b for b in raw if b.kind == "p"][:3]
    if len(desc) < MIN_LEAD_CHARS or not paras:
        return raw
    dkey = _key(desc.rstrip(".…  "))
    dkey = dkey[:80].rsplit(" ", 1)[0] if len(dkey) > 80 else dkey.rsplit(" ", 1)[0]
    if len(dkey) < 40:
        return raw
    extracted = " ".join(_key(b.text or " ".join(b.items)) for b in raw)
    if dkey in extracted:
        return raw
    pkeys = [k if len(k) >= 30 else "\0" for k in (_key(b.text)[:60] for b in paras)]
    probe = " ".join(desc.split()[:3])
    if len(probe) < 8:
        return raw
    for node in body.xpath("//body//text()[contains(., $p)]", p=probe)[:5]:
        block, text = _lead_text(node)
        if block is None or block.tag in HEADINGS or len(text) < MIN_LEAD_CHARS:
            continue
        lkey = _key(text)
        at = lkey.find(dkey)
        if at < 0 or at > 40 or lkey[:60] in extracted:
            continue
        nxt = _continues(block, lkey[:60], pkeys)
        if nxt is not None:
            pos = raw.index(paras[nxt])
            return raw[:pos] + [RawBlock("p", text, origin="lead")] + raw[pos:]
        break
    return raw


def _continues(block, lkey: str, pkeys: list[str]) -> int | None:
    """Index of the first extracted paragraph that follows the lead in its block or in a block
    of the same class, or None."""
    whole = _key(block.text_content())
    i = whole.find(lkey)
    if i >= 0:
        for n, k in enumerate(pkeys):
            if whole.find(k, i + 1) > i:
                return n
    cls = (block.get("class") or "").strip()
    if not cls:
        return None
    scope = block
    for _ in range(MAX_CHUNK_LEVELS):
        if scope.getparent() is None or scope.getparent().tag in ("body", "html"):
            break
        scope = scope.getparent()
    seen_block = False
    for el in scope.iter():
        if el is block:
            seen_block = True
        elif seen_block and (el.get("class") or "").strip() == cls:
            peer = _key(el.text_content())
            for n, k in enumerate(pkeys):
                if k in peer:
                    return n
    return None
