"""Site (CMS) content rules, checked against the generic main-text estimate.

A content rule names the article's body container on a CMS ("wordpress: .entry-content"); on
pages nobody checked, the same class may hold a teaser list, a widget or another post. The rule
is used when its match holds most of the main text estimated before any rule ran
(maintext.py); else generic detection (trafilatura) wins, and `--explain` says which and why.
Matches that hold none of the main text, little prose of their own and come after it (teasers,
the next post) are then taken out of the page, so that the generic detector cannot take them
either. One before the main text stays: when the estimate took a long comment thread for the
main text, the article is the match above it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .blocks import common_ancestor, precedes
from .dom import Log, remove, text_of
from .guard import SUBSTRING_MAX_SHARE
from .maintext import MAJORITY, MainText
from .rules import RuleSet, compile_selector

MIN_CONTENT_CHARS = 200


@dataclass
class Choice:
    root: object = None        # the content root to walk, or None (generic detection)
    source: str | None = None  # the rule that chose it
    why: str | None = None     # for --explain: why the rule was used, or why it was not
    strays: list = field(default_factory=list)  # (element, rule source): matches that hold no main text


def content_root(tree, rs: RuleSet, main: MainText, fallback: bool = False) -> Choice:
    """The first content rule (or, with `fallback`, fallback rule) whose match holds the
    article. Fallback rules run only when generic detection found nothing: they are not checked."""
    refused, strays = None, []
    for rule in (rs.fallback if fallback else rs.content):
        found = compile_selector(rule.value)(tree)
        found = [f for f in found if not any(a in found for a in f.iterancestors())]
        if not found:
            continue
        if main.reliable:  # several matches: the ones that hold main text
            found = [f for f in found if main.taken(f)] or found
        if len(found) == 1:
            root = found[0]
        else:
            root = common_ancestor(found)
            if root is None or root.tag in ("html", "body"):
                root = max(found, key=lambda f: (main.taken(f), len(text_of(f))))
        if len(text_of(root)) < MIN_CONTENT_CHARS:
            continue
        if not main.reliable or fallback:
            return Choice(root, rule.source, "the main text is too short to check it against")
        taken = main.taken(root)
        if taken >= MAJORITY * main.total:
            return Choice(root, rule.source, f"it holds {taken:,} of the {main.total:,} main-text "
                          "characters estimated before the rules ran")
        refused = refused or (f"{rule.source} matched an element holding {taken:,} of the "
                              f"{main.total:,} main-text characters")
        strays += [(f, rule.source) for f in found if not main.taken(f)
                   and main.weight.get(f, 0) < SUBSTRING_MAX_SHARE * main.total
                   and precedes(main.container, f, tree)]
    return Choice(why=refused, strays=strays)


def drop_strays(choice: Choice, log: Log) -> None:
    for el, source in choice.strays:
        if el.getparent() is not None:
            log.element(el, f"{source}: a content match that holds none of the main text "
                            "(a teaser, another post)", 0)
            remove(el)
