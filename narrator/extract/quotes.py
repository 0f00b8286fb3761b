"""Pull-quotes and their attribution ("- Jane Doe, mayor"), marked on the quote element
before main-content detection; the attribution element is taken out of the page."""
from __future__ import annotations

import re

from .dom import ATTRIBUTION_ATTR, QUOTE_ATTR, Log, remove, text_of
from .rules import RuleSet
from .select import selection


def _starts_with_dash(text: str, dashes) -> bool:
    return any(text.startswith(d) for d in dashes) or bool(re.match(r"^[-\u2010-\u2015\u2212]\s", text))


def strip_dash(text: str) -> str:
    return re.sub(r"^\s*[-\u2010-\u2015\u2212~]+\s*", "", text).strip()


def _attribution_ok(text: str) -> bool:
    return 0 < len(text) <= 250 and len(text.split()) <= 30


def mark_quotes(tree, rs: RuleSet, log: Log, sel: dict | None = None) -> set:
    """Find pull-quotes and their attribution; the attribution element is removed from the page
    and kept on the quote (inside: cite/footer/figcaption/rule selectors; else the element right
    after the quote when its text starts with a dash). Returns the elements taken out of the
    page. `sel`: the page's selector matches (`selection`), computed here when not given."""
    sel = selection(tree, rs) if sel is None else sel
    removed: set = set()
    found = [el for el, _ in sel.get("quote", ())]
    if not found:
        return removed
    attributions = {el for el, _ in sel.get("attribution", ())}
    dashes = rs.attribution_dashes
    # an attribution line ("c-pullquote__citation") is not itself a quote
    found = [q for q in found if q not in attributions and not _starts_with_dash(text_of(q), dashes)]
    found_set = set(found)
    for q in found:
        # the innermost match is the quote; a wrapper around it only holds the attribution
        if any(d in found_set for d in q.iterdescendants()):
            continue
        attribution = None
        inner = [a for a in q.iterdescendants() if a in attributions] if attributions else []
        for a in inner:
            text = text_of(a)
            if _attribution_ok(text):
                attribution = strip_dash(text)
                remove(a)
                removed.add(a)
                break
        if attribution is None and len(q):
            last = q[len(q) - 1]
            text = text_of(last)
            if len(q) > 1 and _starts_with_dash(text, dashes) and _attribution_ok(text):
                attribution = strip_dash(text)
                remove(last)
                removed.add(last)
        if attribution is None:
            holder = q
            parent = q.getparent()
            if parent is not None and parent.tag == "figure":
                for cap in parent.iter("figcaption"):
                    text = text_of(cap)
                    if _attribution_ok(text):
                        attribution = strip_dash(text)
                        remove(cap)
                        removed.add(cap)
                        break
                if not text_of(parent) == text_of(q) or parent.getparent() is None:
                    pass
                else:  # the figure only wrapped the quote: unwrap it (figures read as media)
                    q.tail = parent.tail
                    parent.getparent().replace(parent, q)
                    removed.add(parent)
                    holder = q
            nxt = holder.getnext()
            if attribution is None and nxt is not None and not (holder.tail or "").strip():
                text = text_of(nxt)
                if (_starts_with_dash(text, dashes) or nxt in attributions) and _attribution_ok(text):
                    attribution = strip_dash(text)
                    remove(nxt)
                    removed.add(nxt)
        q.set(QUOTE_ATTR, "1")
        if attribution:
            q.set(ATTRIBUTION_ATTR, attribution)
    return removed
