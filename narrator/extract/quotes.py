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
        inner = _inner_attribution(q, attributions, dashes)
        if inner is not None:
            attribution = _take(inner, removed)
        else:
            parent = q.getparent()
            if parent is not None and parent.tag == "figure":
                caption = next((c for c in parent.iter("figcaption")
                                if _attribution_ok(text_of(c))), None)
                if caption is not None:
                    attribution = _take(caption, removed)
                if parent.getparent() is not None and text_of(parent) == text_of(q):
                    # the figure only wrapped the quote: unwrap it (figures read as media)
                    q.tail = parent.tail
                    parent.getparent().replace(parent, q)
                    removed.add(parent)
            following = None if attribution else _following_attribution(q, attributions, dashes)
            if following is not None:
                attribution = _take(following, removed)
        q.set(QUOTE_ATTR, "1")
        if attribution:
            q.set(ATTRIBUTION_ATTR, attribution)
    return removed


def _inner_attribution(q, attributions: set, dashes):
    """The quote's own attribution element: one an attribution rule matches, else its last
    child when that starts with a dash."""
    for a in q.iterdescendants():
        if a in attributions and _attribution_ok(text_of(a)):
            return a
    if len(q) > 1:
        last = q[len(q) - 1]
        text = text_of(last)
        if _starts_with_dash(text, dashes) and _attribution_ok(text):
            return last
    return None


def _following_attribution(q, attributions: set, dashes):
    """The element right after the quote, when it is an attribution line."""
    nxt = q.getnext()
    if nxt is None or (q.tail or "").strip():
        return None
    text = text_of(nxt)
    if (_starts_with_dash(text, dashes) or nxt in attributions) and _attribution_ok(text):
        return nxt
    return None


def _take(el, removed: set) -> str:
    """An attribution element's text, the element taken out of the page."""
    text = strip_dash(text_of(el))
    remove(el)
    removed.add(el)
    return text
