"""The opening of an article that main-content detection leaves out, found again in the page:

- the lead paragraph that the page's meta description quotes, left out because it sits as
  loose text before the first child of the body container, or in a block of its own class;
- the standfirst (dek, chapô, summary): a box of its own between the title and the body,
  which a precision-minded detector drops as a header. It is the one a standfirst rule
  marked, else the block the meta description quotes; it goes before the body, where the
  content-rule path puts it too.
"""
from __future__ import annotations

from .blocks import BLOCK_TAGS, HEADINGS, RawBlock, precedes, squash
from .blocks import comparison_key as _key
from .dom import Log, text_of

MIN_LEAD_CHARS = 60
MAX_CHUNK_LEVELS = 3      # how far above the block a peer of the same class is looked for
STANDFIRST_CHARS = (30, 1200)


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


def _described(desc: str, body):
    """The block whose text the meta description quotes (whole, or cut short with "..."), or
    None."""
    dkey = _key(desc.rstrip(".…  "))
    probe = " ".join(desc.split()[:3])
    if len(dkey) < 40 or len(probe) < 8:
        return None
    head = dkey[:60].rsplit(" ", 1)[0]
    for node in body.xpath("//body//text()[contains(., $p)]", p=probe)[:5]:
        block = node.getparent()
        while block is not None and block.tag not in BLOCK_TAGS:
            block = block.getparent()
        if block is None or block.tag in ("body", "html"):
            continue
        bkey = _key(block.text_content())
        if len(bkey) > 2 * len(dkey) + 100:  # a container that holds more than the quoted text
            continue
        if bkey.startswith(head) or (len(bkey) >= 40 and dkey.startswith(bkey[:60])):
            return block
    return None


def standfirst(desc: str, body, raw: list[RawBlock], marked, paragraphs: dict, log: Log) -> list[RawBlock]:
    """Put the standfirst before the body when detection left it out: `marked` (the element a
    standfirst rule found, or None), else the block the description `desc` quotes, when it
    comes before the article's first extracted paragraph (`paragraphs`: paragraph key ->
    element, recover.paragraph_index) and is not spoken already."""
    block = marked if marked is not None else (_described(desc, body) if desc else None)
    if block is None:
        return raw
    text = text_of(block)
    if not STANDFIRST_CHARS[0] <= len(text) <= STANDFIRST_CHARS[1]:
        return raw
    key = _key(text)
    extracted = " ".join(_key(b.text or " ".join(b.items)) for b in raw)
    if key[:60] in extracted:
        return raw
    for i, b in enumerate(raw):
        el = paragraphs.get(_key(b.text)[:200]) if b.kind == "p" else None
        if el is not None:
            if el is block or any(a is block for a in el.iterancestors()) or not precedes(block, el, body):
                return raw
            log.recover(text, "standfirst left out by main-content detection")
            return raw[:i] + [RawBlock("p", text, origin="standfirst")] + raw[i:]
    return raw
