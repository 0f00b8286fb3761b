"""Many CSS selectors matched in one Python pass over the tree.

libxml2 evaluates a union of ~100 class-substring selectors slowly (string functions on every
element for every selector); here each simple selector is indexed by one attribute (or its
tag) and a combined regex pre-filters attribute values, so an element costs a few dict
look-ups. Selectors with combinators or pseudo-classes fall back to lxml's XPath."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cssselect import parse
from lxml import etree
from cssselect.parser import Attrib, Class, Element, Hash

from .rules import RuleSet, compile_selector


@dataclass
class _Compound:
    tag: str | None
    conds: list  # (kind, attr, value)
    source: str
    group: str = "drop"

    def match(self, el) -> bool:
        if self.tag and el.tag != self.tag:
            return False
        for kind, attr, value in self.conds:
            v = el.get(attr)
            if v is None:
                return False
            if kind == "token":
                if value not in v.split():
                    return False
            elif kind == "=":
                if v != value:
                    return False
            elif kind == "*=":
                if not value or value not in v:
                    return False
            elif kind == "^=":
                if not value or not v.startswith(value):
                    return False
            elif kind == "$=":
                if not value or not v.endswith(value):
                    return False
            elif kind == "|=":
                if v != value and not v.startswith(value + "-"):
                    return False
        return True


def _flatten(node, out: list) -> str | None:
    """Compound selector -> conditions; returns the tag, or raises ValueError if not simple."""
    if isinstance(node, Element):
        return node.element.lower() if node.element else None
    if isinstance(node, Class):
        out.append(("token", "class", node.class_name))
        return _flatten(node.selector, out)
    if isinstance(node, Hash):
        out.append(("=", "id", node.id))
        return _flatten(node.selector, out)
    if isinstance(node, Attrib) and node.namespace is None:
        value = node.value.value if hasattr(node.value, "value") else node.value
        op = node.operator
        if op == "exists":
            out.append(("exists", node.attrib.lower(), None))
        elif op == "~=":
            out.append(("token", node.attrib.lower(), value))
        elif op in ("=", "*=", "^=", "$=", "|="):
            out.append((op, node.attrib.lower(), value))
        else:
            raise ValueError(op)
        return _flatten(node.selector, out)
    raise ValueError(type(node).__name__)


class MultiSelector:
    """rules: Rule-like objects (value, source), optionally with a group (default "drop"):
    `hits()` returns one group's matches, `groups()` every group's, from one pass."""

    def __init__(self, rules):
        self.by_tag: dict[str, list[_Compound]] = {}
        # attr -> ((any-needle regex, every-position regex), {needle: compounds}) or (None, compounds)
        self.by_attr: dict[str, tuple] = {}
        self.complex: list = []  # (selector, source, group)
        self.names: list[str] = []
        needles: dict[str, dict] = {}
        for rule in rules:
            group = getattr(rule, "group", "drop")
            if group not in self.names:
                self.names.append(group)
            for sel in parse(rule.value):
                conds: list = []
                try:
                    if sel.pseudo_element:
                        raise ValueError("pseudo")
                    tag = _flatten(sel.parsed_tree, conds)
                except ValueError:
                    self.complex.append((compile_selector(rule.value), rule.source, group))
                    continue
                comp = _Compound(tag, conds, rule.source, group)
                if not conds:
                    self.by_tag.setdefault(tag or "*", []).append(comp)
                    continue
                kind, attr, value = conds[0]
                needle = None if kind == "exists" or not value else value
                needles.setdefault(attr, {}).setdefault(needle, []).append(comp)
        for attr, by_needle in needles.items():
            if None in by_needle:  # [attr] alone: every element with the attribute is a candidate
                self.by_attr[attr] = (None, [c for comps in by_needle.values() for c in comps])
            else:
                # a needle can hide in another ("related" in "jp-relatedposts"): the regex reports,
                # at every position, the longest needle starting there; the needles inside it
                # are then candidates too
                ordered = sorted(by_needle, key=len, reverse=True)
                alternatives = "|".join(map(re.escape, ordered))
                within = {n: [m for m in ordered if m in n] for n in ordered}
                self.by_attr[attr] = ((re.compile(alternatives), re.compile("(?=(" + alternatives + "))")),
                                      {n: [c for m in within[n] for c in by_needle[m]] for n in ordered})
        self._cache: dict = {}  # (attr, value) -> candidate compounds (attribute values repeat a lot)

    def _candidates(self, attr: str, value: str):
        key = (attr, value)
        found = self._cache.get(key)
        if found is None:
            rx, comps = self.by_attr[attr]
            if rx is None:
                found = comps
            elif rx[0].search(value) is None:  # most values hold no needle: a plain scan says so
                found = []
            else:
                found = [c for h in dict.fromkeys(rx[1].findall(value)) for c in comps[h]]
            if len(self._cache) > 20_000:
                self._cache.clear()
            self._cache[key] = found
        return found

    def groups(self, root) -> dict[str, list[tuple[object, str]]]:
        """{group: [(element, rule source)]}, each in document order, an element once per group."""
        out: dict[str, list] = {g: [] for g in self.names}
        by_tag, by_attr = self.by_tag, self.by_attr
        star = by_tag.get("*", ())
        single = len(self.names) == 1
        cache_get = self._cache.get
        for el in root.iter(etree.Element):
            cands = by_tag.get(el.tag)
            if star:
                cands = [*(cands or ()), *star]
            for item in el.items():
                if item[0] in by_attr:
                    more = cache_get(item)
                    if more is None:
                        more = self._candidates(*item)
                    if more:
                        cands = more if cands is None else [*cands, *more]
            if not cands:
                continue
            seen = None
            for comp in cands:
                group = comp.group
                if seen is not None and group in seen:
                    continue
                if comp.match(el):
                    out[group].append((el, comp.source))
                    if single:
                        break
                    if seen is None:
                        seen = set()
                    seen.add(group)
        if self.complex:
            order = None
            for sel, source, group in self.complex:
                found = sel(root)
                if not found:
                    continue
                have = {el for el, _ in out[group]}
                for el in found:
                    if el not in have:
                        have.add(el)
                        out[group].append((el, source))
                if order is None:
                    order = {el: i for i, el in enumerate(root.iter(etree.Element))}
                out[group].sort(key=lambda hit: order.get(hit[0], -1))
        return out


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
    return MultiSelector([_GroupRule(*r) for r in rules])


@dataclass(frozen=True)
class _GroupRule:
    value: str
    source: str
    group: str = "drop"
