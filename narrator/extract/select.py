"""Many CSS selectors matched in one Python pass over the tree.

libxml2 evaluates a union of ~100 class-substring selectors slowly (string functions on every
element for every selector); here each simple selector is indexed by one attribute (or its
tag) and a combined regex pre-filters attribute values, so an element costs a few dict
look-ups. Selectors with combinators or pseudo-classes fall back to lxml's XPath."""
from __future__ import annotations

import re
from dataclasses import dataclass

from cssselect import parse
from cssselect.parser import Attrib, Class, Element, Hash

from .rules import compile_selector


@dataclass
class _Compound:
    tag: str | None
    conds: list  # (kind, attr, value)
    source: str

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
    def __init__(self, rules):
        self.by_tag: dict[str, list[_Compound]] = {}
        self.by_attr: dict[str, tuple] = {}  # attr -> (regex, {needle: compounds}) or (None, compounds)
        self.complex: list = []
        needles: dict[str, list] = {}
        for rule in rules:
            for sel in parse(rule.value):
                conds: list = []
                try:
                    if sel.pseudo_element:
                        raise ValueError("pseudo")
                    tag = _flatten(sel.parsed_tree, conds)
                except ValueError:
                    self.complex.append((compile_selector(rule.value), rule.source))
                    continue
                comp = _Compound(tag, conds, rule.source)
                if not conds:
                    self.by_tag.setdefault(tag or "*", []).append(comp)
                    continue
                kind, attr, value = conds[0]
                needle = None if kind == "exists" or not value else value
                needles.setdefault(attr, {}).setdefault(needle, []).append(comp)
        for attr, by_needle in needles.items():
            if None in by_needle:  # [attr] alone: every element with the attribute is a candidate
                self.by_attr[attr] = (None, [c for comps in by_needle.values() for c in comps])
            else:  # longest first, so the regex reports the most specific needle
                rx = re.compile("|".join(map(re.escape, sorted(by_needle, key=len, reverse=True))))
                self.by_attr[attr] = (rx, by_needle)

    def hits(self, root) -> list[tuple[object, str]]:
        """(element, rule source) for each matching element, in document order, once each."""
        out = []
        by_tag, by_attr = self.by_tag, self.by_attr
        star = by_tag.get("*", ())
        for el in root.iter():
            tag = el.tag
            if not isinstance(tag, str):
                continue
            found = None
            for comp in by_tag.get(tag, ()):
                found = comp.source
                break
            if found is None and star:
                found = star[0].source
            if found is None and el.attrib:
                for attr, value in el.attrib.items():
                    entry = by_attr.get(attr)
                    if entry is None:
                        continue
                    rx, comps = entry
                    if rx is None:
                        candidates = comps
                    else:
                        hits = rx.findall(value)
                        if not hits:
                            continue
                        candidates = [c for h in hits for c in comps[h]]
                    for comp in candidates:
                        if comp.match(el):
                            found = comp.source
                            break
                    if found:
                        break
            if found:
                out.append((el, found))
        if self.complex:
            seen = {id(e) for e, _ in out}
            for sel, source in self.complex:
                for el in sel(root):
                    if id(el) not in seen:
                        seen.add(id(el))
                        out.append((el, source))
        return out
