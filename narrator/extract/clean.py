"""DOM clean-up before main-content detection: junk elements, embeds, quotes marked with
their attribution, drop selectors from the rules. Every removal is checked against the main
text estimated before it (maintext.py) and logged for --explain with the main-text characters
it took; a removal the guard refuses is logged too."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from lxml import etree

from .chars import strip_invisible_tree
from .guard import guard, rule_shares
from .maintext import HIDING_STYLE, MainText, detect
from .rules import RuleSet, compile_selector
from .signup import email_field, signup_box

JUNK_TAGS = ("script", "style", "noscript", "template", "svg", "math", "link", "meta", "head",
             "button", "input", "select", "textarea", "option", "label", "dialog")
EMBED_TAGS = ("iframe", "object", "embed", "video", "audio", "canvas", "picture", "map")
EMBED_XPATH = etree.XPath(
    "//blockquote[contains(@class,'twitter-tweet') or contains(@class,'instagram-media') or "
    "contains(@class,'tiktok-embed') or contains(@class,'reddit-card') or contains(@class,'embedly-card') "
    "or contains(@class,'imgur-embed') or contains(@class,'bluesky-embed') or contains(@class,'mastodon-embed') "
    "or contains(@class,'wp-embedded-content')]")
QUOTE_ATTR = "data-narrator-quote"
STANDFIRST_ATTR = "data-narrator-standfirst"
ATTRIBUTION_ATTR = "data-narrator-attribution"
PROTECT_TAGS = {"html", "body", "main"}
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


def strip_junk(tree, rs: RuleSet, log: Log) -> MainText:
    """Remove what is never text (scripts, styles, controls...) and, unless asked, embeds; then
    estimate the main text. A <noscript> is junk too, unless it holds most of the main text
    (a page that shows its article only to readers without JavaScript): then it is unwrapped."""
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    body = tree.find("body") if tree.tag == "html" else tree
    root = body if body is not None else tree
    head = tree.find("head") if tree.tag == "html" else None
    if head is not None:  # the metadata is read: what is left of the head is copied, never read
        for el in list(head.iter("script", "style", "link", "noscript", "template")):
            if el.tag != "script" or "ld+json" not in (el.get("type") or "").lower():
                remove(el)
    fields = []  # the parents of e-mail fields: where sign-up boxes are looked for
    for el in list(root.iter(*JUNK_TAGS)):
        if el.tag == "input" and email_field(el) and el.getparent() is not None:
            fields.append(el.getparent())
        if el.tag != "noscript":
            remove(el)
    strip_invisible_tree(root)  # before any rule, heuristic or comparison sees the text
    main = detect(tree)
    noscripts = [n for n in root.iter("noscript") if not any(a.tag == "noscript" for a in n.iterancestors())]
    if noscripts:
        weighty = False
        for el in noscripts:
            why = guard(el, None, main)
            if why:
                log.spare(el, f"{why}: <noscript> unwrapped (the page shows its article without JavaScript)",
                          main.taken(el))
                el.tag = "div"
                continue
            weighty = weighty or bool(main.weight.get(el))
            remove(el)
        if weighty:
            main = detect(tree)
    for holder in fields:
        el = signup_box(holder, main.weight)
        if el is None or el.getparent() is None:
            continue
        taken = main.taken(el)
        why = guard(el, None, main, broad=True)
        if why:
            log.spare(el, f"{why}; kept against the sign-up box heuristic", taken)
        else:
            log.element(el, "heuristic: sign-up box (an e-mail field and a line or two)", taken)
            remove(el)
    if not rs.options.get("embeds"):
        for el in list(root.iter(*EMBED_TAGS)) + EMBED_XPATH(root):
            if el.getparent() is not None:
                log.element(el, "heuristic: embed", main.taken(el))
                remove(el)
    # elements without any text (spacers, icons, empty wrappers: a fifth of a page's elements)
    # hold nothing to read; every later pass, and trafilatura's, would visit them
    for el in main.empty:
        if el.getparent() is not None:
            remove(el, space=bool(el.text_content()))
    return main


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


def protected(tree, rs: RuleSet) -> set:
    """Elements no drop rule may remove: the page's spine, ancestors of the h1, and everything
    under a keep selector. (Content containers are spared by drop_selected's text-share test.)"""
    keep: set = set()
    anchors = list(tree.iter("h1"))
    for a in anchors:
        keep.update(a.iterancestors())
    for rule in rs.keep:
        for el in compile_selector(rule.value)(tree):
            keep.add(el)
            keep.update(el.iterancestors())
            keep.update(el.iterdescendants())
    return keep


def drop_selected(tree, rs: RuleSet, log: Log, spare=None, sel: dict | None = None,
                  removed: set = frozenset(), main: MainText | None = None) -> None:
    """Remove what the drop selectors match (`sel`: the page's selector matches, computed
    before the quotes were marked: `removed` holds what that took out of the page), each
    removal checked by `guard` against the main text (`main`, estimated when not given)."""
    if not rs.drop:
        return
    hits = (selection(tree, rs) if sel is None else sel).get("drop", ())
    if not hits:
        return
    main = detect(tree) if main is None else main
    keep = protected(tree, rs)
    if spare is not None:
        keep.add(spare)
        keep.update(spare.iterancestors())
        keep.update(spare.iterdescendants())
    rules = {r.source: r for r in rs.drop}
    shares = rule_shares(hits, rules, main)
    gone: set = set(removed)
    for (el, source), share in zip(hits, shares):
        if el.tag in PROTECT_TAGS or el in keep or el.getparent() is None or el in gone:
            continue
        if gone and any(a in gone for a in el.iterancestors()):
            continue  # already left with an ancestor
        if el.get(QUOTE_ATTR) and el.tag == "blockquote" and not _is_embed(el):
            continue
        why = guard(el, rules.get(source), main, share)
        if why:
            log.spare(el, f"{why}; kept against {source}", main.taken(el))
            continue
        log.element(el, source, main.taken(el))
        gone.add(el)
        remove(el)


def _is_embed(el) -> bool:
    return any(k in (el.get("class") or "") for k in ("twitter", "instagram", "tiktok"))


def mark_standfirst(tree, rs: RuleSet, sel: dict | None = None):
    """The standfirst (chapô, dek, excerpt, subheadline): spoken after the title as a paragraph,
    never as a section heading."""
    for el, _ in (selection(tree, rs) if sel is None else sel).get("standfirst", ()):
        text = text_of(el)
        if 30 <= len(text) <= 1200 and not el.get(QUOTE_ATTR):
            el.set(STANDFIRST_ATTR, "1")
            return el
    return None


@dataclass
class Cleaned:
    standfirst: object  # the standfirst element, still in the page, or None
    main: MainText      # the main text as estimated before the drop rules


def clean_tree(tree, rs: RuleSet, log: Log) -> Cleaned:
    main = strip_junk(tree, rs, log)
    sel = selection(tree, rs)  # one pass over the page for every selector list
    removed = mark_quotes(tree, rs, log, sel)
    standfirst = mark_standfirst(tree, rs, sel)
    drop_selected(tree, rs, log, spare=standfirst, sel=sel, removed=removed, main=main)
    unhide(main, tree, log)
    return Cleaned(standfirst if standfirst is not None and _attached(standfirst, tree) else None, main)


def unhide(main: MainText, tree, log: Log) -> None:
    """Show again what the page hides yet is its main text (the rest of the article behind
    "continue reading", a body a script reveals): main-content detection skips hidden markup."""
    for el in main.hidden_parts:
        if not _attached(el, tree):
            continue
        el.attrib.pop("hidden", None)
        el.attrib.pop("aria-hidden", None)
        if el.get("style"):
            el.set("style", HIDING_STYLE.sub("", el.get("style")))
        log.recover(text_of(el), "hidden in the page, yet part of the main text: shown")


def _attached(el, tree) -> bool:
    for a in el.iterancestors():
        if a is tree:
            return True
    return False


def selection(tree, rs: RuleSet) -> dict:
    """{"quote" | "attribution" | "standfirst" | "drop": [(element, rule source)]}, in document
    order, matched in one pass over the page."""
    rules = tuple((r.value, r.source, group) for group, rules in (
        ("quote", rs.quote_selectors), ("attribution", rs.attribution_selectors),
        ("standfirst", rs.standfirst), ("drop", rs.drop)) for r in rules)
    return multi_selector(rules).groups(tree)


@lru_cache(maxsize=32)
def multi_selector(rules: tuple[tuple[str, ...], ...]):
    """A MultiSelector for (selector, source[, group]) triples, built once per rule set."""
    from .select import MultiSelector
    return MultiSelector([_GroupRule(*r) for r in rules])


@dataclass(frozen=True)
class _GroupRule:
    value: str
    source: str
    group: str = "drop"
