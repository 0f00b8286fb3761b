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


def guard(el, rule: Rule | None, main: MainText, rule_share: float = 0.0) -> str | None:
    """Why el must stay although `rule` (None: a heuristic) matches it; None when it may go.
    rule_share: the share of the main text all of the rule's matches hold (rule_shares)."""
    if not main.reliable or (rule is not None and rule.names_element):
        return None
    if main.holds(el):
        return "guard: holds the main text"
    taken = main.taken(el)
    if taken > MAJORITY * main.total:
        return "guard: would take most of the main text"
    if rule is not None and rule.substring and taken:
        if taken >= SUBSTRING_MAX_SHARE * main.total:
            return f"guard: a substring rule would take {taken / main.total:.0%} of the main text"
        if rule_share >= RULE_MAX_SHARE:
            return (f"guard: the rule's matches hold {rule_share:.0%} of the main text "
                    "(it matches the article's own containers)")
    return None


def rule_shares(hits, rules: dict, main: MainText) -> dict:
    """rule source -> share of the main text its outermost matches hold (substring rules)."""
    if not main.reliable:
        return {}
    held: dict = {}
    seen: dict = {}
    for el, source in hits:
        rule = rules.get(source)
        if rule is None or not rule.substring:
            continue
        mine = seen.setdefault(source, set())
        if not any(a in mine for a in el.iterancestors()):
            held[source] = held.get(source, 0) + main.taken(el)
        mine.add(el)
    return {k: v / main.total for k, v in held.items()}
