"""DOM clean-up before main-content detection: junk elements, embeds, quotes marked with
their attribution, drop selectors from the rules. Every removal is checked against the main
text estimated before it (maintext.py) and logged for --explain with the main-text characters
it took; a removal the guard refuses is logged too."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .chars import strip_invisible_tree
from .dom import QUOTE_ATTR, STANDFIRST_ATTR, Log, remove, text_of
from .guard import guard, rule_shares
from .maintext import HIDING_STYLE, MainText, detect
from .quotes import mark_quotes
from .rules import RuleSet, compile_selector
from .select import selection
from .signup import email_field, signup_box

JUNK_TAGS = ("script", "style", "noscript", "template", "svg", "math", "link", "meta", "head",
             "button", "input", "select", "textarea", "option", "label", "dialog")
EMBED_TAGS = ("iframe", "object", "embed", "video", "audio", "canvas", "picture", "map")
EMBED_XPATH = etree.XPath(
    "//blockquote[contains(@class,'twitter-tweet') or contains(@class,'instagram-media') or "
    "contains(@class,'tiktok-embed') or contains(@class,'reddit-card') or contains(@class,'embedly-card') "
    "or contains(@class,'imgur-embed') or contains(@class,'bluesky-embed') or contains(@class,'mastodon-embed') "
    "or contains(@class,'wp-embedded-content')]")
PROTECT_TAGS = {"html", "body", "main"}


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
