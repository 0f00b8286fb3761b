"""The guard every removal answers to: no rule or heuristic removes the element that holds most
of the main text (estimated before any rule ran, maintext.py), nor an ancestor of it, unless
the rule names that exact element (an id or exact class from a site's own rules file).
Substring rules ([class*=paywall], [class*=tags]...) match elements their author never saw:
they may not take a large part of the main text either, in one match or in all of them
together (a rule whose matches are the article's own chunks says nothing about boilerplate)."""
from __future__ import annotations

from .maintext import MAJORITY, MainText
from .rules import Rule

SUBSTRING_MAX_SHARE = 0.25  # one match of a substring rule may take this share of the main text
RULE_MAX_SHARE = 0.4        # ... and all of its matches together this share


def guard(el, rule: Rule | None, main: MainText, share: tuple = (0.0, False), broad: bool = False) -> str | None:
    """Why el must stay although `rule` (None: a heuristic) matches it; None when it may go.
    share: (the share of the main text all of the rule's matches hold, whether el lies between
    two of its matches that hold some), from rule_shares. broad: a heuristic that, like a
    substring rule, matches elements by their shape (a sign-up box, a teaser card): held to the
    same share."""
    if not main.reliable or (rule is not None and rule.names_element):
        return None
    if main.holds(el):
        return "guard: holds the main text"
    if main.hidden_parts and any(h is el or any(a is el for a in h.iterancestors()) for h in main.hidden_parts):
        return "guard: holds a hidden part of the main text (the rest behind 'continue reading')"
    taken = main.taken(el)
    if taken > MAJORITY * main.total:
        return "guard: would take most of the main text"
    if broad and taken >= SUBSTRING_MAX_SHARE * main.total:
        return f"guard: a heuristic would take {taken / main.total:.0%} of the main text"
    if rule is not None and rule.substring:
        if taken >= SUBSTRING_MAX_SHARE * main.total:
            return f"guard: a substring rule would take {taken / main.total:.0%} of the main text"
        held, inside = share
        if held >= RULE_MAX_SHARE and (taken or inside):  # a cross-head's chunk holds no prose
            return (f"guard: the rule's matches hold {held:.0%} of the main text "
                    "(it matches the article's own containers)")
    return None


def rule_shares(hits, rules: dict, main: MainText) -> list:
    """For each hit (element, rule source), in document order: (the share of the main text the
    rule's outermost matches hold, whether the hit lies between two of them that hold some)
    (substring rules only; others get (0.0, False))."""
    none = (0.0, False)
    if not main.reliable:
        return [none] * len(hits)
    held: dict = {}
    span: dict = {}  # source -> [first, last] index of its matches holding main text
    seen: dict = {}
    for i, (el, source) in enumerate(hits):
        rule = rules.get(source)
        if rule is None or not rule.substring:
            continue
        mine = seen.setdefault(source, set())
        if not any(a in mine for a in el.iterancestors()):
            taken = main.taken(el)
            if taken:
                held[source] = held.get(source, 0) + taken
                span.setdefault(source, [i, i])[1] = i
        mine.add(el)
    out = []
    for i, (_, source) in enumerate(hits):
        if source in held:
            first, last = span[source]
            out.append((held[source] / main.total, first < i < last))
        else:
            out.append(none)
    return out
