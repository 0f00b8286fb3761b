"""Boilerplate rules: data in narrator/data/rules/*.toml (format in its README.md).

The generic set always applies; a CMS set applies when the page matches its [detect] table
(generator meta, markup, raw text); user files (--rules FILE, config) apply last and win for
options. Lists are concatenated, tables (options, notes, pronunciation) updated in that order.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError

from ..errors import InputError

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "rules"

DEFAULT_OPTIONS = {
    "pullquote_dedupe": "drop-quote",  # "drop-quote" | "keep-both"
    "captions": False,        # figure captions and image credits
    "tables": "note",         # "note" (a spoken note) | "drop" | "read" (cells as paragraphs)
    "embeds": False,          # tweets, videos, iframes
    "drop_before_title": True,  # kicker/overline above the h1 is not spoken
    "engine": "auto",         # main-content detection: "auto" (content rules, else trafilatura) | "trafilatura"
}


class RulesError(InputError):
    """A rules file is missing or malformed."""


def norm_phrase(text: str) -> str:
    """How phrases and block texts are compared: NFKC, case-folded, spaces collapsed,
    trailing punctuation and spaces ignored, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u00a0", " ")
    text = re.sub(r"\s+", " ", text).strip().casefold()
    return text.rstrip(" .!:;,…»«\"'").lstrip(" «\"'")


_EXACT = re.compile(r"[a-zA-Z][\w-]*|[a-zA-Z]*(?:[.#][\w-]+)+")


@dataclass
class Rule:
    """One selector or pattern, with where it came from (for --explain). `site`: it comes from
    a site's own rules file (the user's), not from a built-in set."""

    value: str
    source: str
    site: bool = False

    @property
    def exact(self) -> bool:
        """The selector names elements exactly: a tag, ids and whole class names, nothing else."""
        return _EXACT.fullmatch(self.value.strip()) is not None

    @property
    def substring(self) -> bool:
        """The selector matches part of an attribute value ([class*=tags]): it may catch
        elements its author never saw."""
        return any(op in self.value for op in ("*=", "^=", "$="))

    @property
    def names_element(self) -> bool:
        """An id or an exact class from a site's own rules file: trusted even against the main
        text (the site's author knows the element)."""
        return self.site and self.exact and any(c in self.value for c in ".#")


@dataclass
class RuleSet:
    names: list[str] = field(default_factory=list)
    content: list[Rule] = field(default_factory=list)
    fallback: list[Rule] = field(default_factory=list)
    keep: list[Rule] = field(default_factory=list)
    drop: list[Rule] = field(default_factory=list)
    phrases: dict[str, str] = field(default_factory=dict)      # normalised phrase -> source
    patterns: list[tuple[re.Pattern, str]] = field(default_factory=list)
    standfirst: list[Rule] = field(default_factory=list)
    quote_selectors: list[Rule] = field(default_factory=list)
    attribution_selectors: list[Rule] = field(default_factory=list)
    attribution_dashes: list[str] = field(default_factory=list)
    options: dict = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    notes: dict[str, dict[str, str]] = field(default_factory=dict)
    pronunciation: dict[str, str] = field(default_factory=dict)
    stopwords: dict[str, frozenset] = field(default_factory=dict)

    def note(self, kind: str, lang: str) -> str | None:
        table = self.notes.get(kind, {})
        return table.get(lang) or table.get("en")

    def dropped_phrase(self, text: str) -> str | None:
        """The rule that drops this whole block text, or None."""
        key = norm_phrase(text)
        if not key:
            return "empty"
        if key in self.phrases:
            return self.phrases[key]
        if len(text) > 1500:  # boilerplate lines are short; long prose is never matched whole
            return None
        plain = re.sub(r"\s+", " ", text).strip()
        combined = self.__dict__.get("_any_pattern")
        if combined is None:  # once per page (the rule set is a page's copy)
            combined = self.__dict__["_any_pattern"] = _any_pattern(tuple(p.pattern for p, _ in self.patterns)) or False
        if combined and combined.fullmatch(plain) is None:
            return None  # one test for all the patterns: most blocks match none
        for pattern, source in self.patterns:
            if pattern.fullmatch(plain):
                return source
        return None


@lru_cache(maxsize=16)
def _any_pattern(patterns: tuple[str, ...]) -> re.Pattern | None:
    """All the patterns as one alternation (None when they cannot be joined: a backreference
    or an inline flag in one of them; they are then tried one by one)."""
    if not patterns or any(re.search(r"\\\d|\(\?[aiLmsux]", p) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    except re.error:
        return None


@dataclass
class _File:
    name: str
    path: Path
    data: dict


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise RulesError(f"rules file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"rules file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror}") from None


@lru_cache(maxsize=1)
def builtin_files() -> tuple[_File, ...]:
    files = []
    for path in sorted(RULES_DIR.glob("*.toml")):
        data = _read(path)
        files.append(_File(data.get("name", path.stem), path, data))
    # generic first: the others refine it
    return tuple(sorted(files, key=lambda f: f.name != "generic"))


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, etree.XPathError, ValueError) as exc:
        raise RulesError(f"bad CSS selector {selector!r} in rules: {exc}") from None


_NAMES = re.compile(r"[.#]([\w-]+)|\[\s*([\w-]+)")
MAX_RAW_HEAD = 200_000


def _may_match(selector: str, raw: str | None) -> bool:
    """False when a class, id or attribute name the selector needs is nowhere in the page's
    markup (raw: the whole page; None when only its start is known). Class names and ids are
    case-sensitive; attribute names are taken as written in the selector (lower case), as
    pages write them."""
    if raw is None:
        return True
    return all((a or b) in raw for a, b in _NAMES.findall(selector))


def matches(file: _File, tree, raw_head: str, generator: str, whole: str | None = None) -> bool:
    detect = file.data.get("detect")
    if not detect:
        return file.name == "generic"
    if any(g.lower() in generator for g in detect.get("generator", [])):
        return True
    if any(s in raw_head for s in detect.get("contains", [])):
        return True
    return any(compile_selector(s)(tree) for s in detect.get("selectors", []) if _may_match(s, whole))


def _merge(rs: RuleSet, name: str, data: dict, site: bool = False) -> None:
    rs.names.append(name)
    src = lambda what: f"{name}: {what}"  # noqa: E731

    def rules(table: str, key: str, label: str) -> list[Rule]:
        """The selectors listed under [table] key, compiled now so a bad one fails early."""
        found = [Rule(sel, src(f"{label} {sel}"), site) for sel in data.get(table, {}).get(key, [])]
        for rule in found:
            compile_selector(rule.value)
        return found

    rs.content[:0] = rules("content", "selectors", "content")  # later sets are more specific
    rs.fallback[:0] = rules("content", "fallback", "fallback")  # ... so they are tried first
    rs.keep.extend(rules("keep", "selectors", "keep"))
    rs.drop.extend(rules("drop", "selectors", "selector"))
    drop = data.get("drop", {})
    phrases = drop.get("phrases", {})
    if isinstance(phrases, list):
        phrases = {"any": phrases}
    for lang, items in phrases.items():
        for phrase in items:
            rs.phrases[norm_phrase(phrase)] = src(f"phrase ({lang}) {phrase!r}")
    for pattern in drop.get("patterns", []):
        try:
            rs.patterns.append((re.compile(pattern, re.I), src(f"pattern {pattern!r}")))
        except re.error as exc:
            raise RulesError(f"bad pattern {pattern!r} in rules {name}: {exc}") from None
    rs.standfirst.extend(rules("standfirst", "selectors", "standfirst"))
    quotes = data.get("quotes", {})
    rs.quote_selectors.extend(rules("quotes", "selectors", "quote"))
    rs.attribution_selectors.extend(rules("quotes", "attribution", "attribution"))
    for dash in quotes.get("dashes", []):
        if dash not in rs.attribution_dashes:
            rs.attribution_dashes.append(dash)
    rs.options.update(data.get("options", {}))
    for kind, table in data.get("notes", {}).items():
        rs.notes.setdefault(kind, {}).update(table)
    rs.pronunciation.update(data.get("pronunciation", {}))
    for lang, words in data.get("stopwords", {}).items():
        rs.stopwords[lang] = frozenset(w.lower() for w in words)


def load_user_rules(paths: Sequence[Path]) -> tuple[_File, ...]:
    files = []
    for p in paths:
        path = Path(p).expanduser()
        data = _read(path)
        files.append(_File(data.get("name", path.stem), path, data))
    return tuple(files)


def select_rules(tree, raw_head: str = "", user: Sequence[Path] = (), only: Sequence[str] = ()) -> RuleSet:
    """The merged rule set for this page: generic + detected CMS sets + user files."""
    head = tree.find("head")
    generator = " ".join(m.get("content") or "" for m in (head if head is not None else tree).iter("meta")
                         if (m.get("name") or "").lower() == "generator").lower()
    # the selector tests of [detect] walk the whole tree: skip those whose names are not in the
    # page (known only when raw_head is the whole page)
    whole = raw_head if len(raw_head) < MAX_RAW_HEAD else None
    names = tuple(f.name for f in builtin_files()
                  if ((f.name in only) if only else matches(f, tree, raw_head, generator, whole)))
    rs = _copy(_builtin_set(names))
    for f in load_user_rules(user):
        _merge(rs, f"{f.name} ({f.path})", f.data, site=True)
    return rs


@lru_cache(maxsize=64)
def _builtin_set(names: tuple[str, ...]) -> RuleSet:
    """The built-in sets merged, once per combination (a page gets a copy: callers change it)."""
    rs = RuleSet()
    for f in builtin_files():
        if f.name in names:
            _merge(rs, f.name, f.data)
    return rs


def _copy(rs: RuleSet) -> RuleSet:
    """A copy whose lists and tables (and tables of tables) can be changed freely."""
    def own(value):
        if isinstance(value, list):
            return list(value)
        if isinstance(value, dict):
            return {k: own(v) for k, v in value.items()}
        return value
    return RuleSet(**{f.name: own(getattr(rs, f.name)) for f in fields(rs)})


def builtin_names() -> list[str]:
    return [f.name for f in builtin_files()]
