"""Per-language speech rules (narrator/data/speech/<lang>.toml) and the context a step gets.

A language without a rules file gets empty rules: every language-specific step then leaves the
text alone, and only the language-neutral steps (spacing, editorial brackets, lexicon) apply.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Mapping


def alternatives(keys) -> str:
    """A regex alternation of rule-data strings, longest first (so "km/h" wins over "km")."""
    return "|".join(map(re.escape, sorted(keys, key=len, reverse=True)))


def primary_language(language: str | None) -> str:
    """'fr-FR' -> 'fr'; '' or None -> ''."""
    return (language or "").replace("_", "-").split("-")[0].strip().lower()


class LanguageRules:
    """The rules of one language, with the regular expressions built from them (built once)."""

    def __init__(self, language: str, data: Mapping[str, Any]):
        self.language = language
        self.data = data

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, Mapping) else {}

    @property
    def has_numbers(self) -> bool:
        return bool(self.table("numbers"))

    @cached_property
    def number_pattern(self) -> str:
        """A regex source matching one written number of this language: 1 250 000,5 / 1,250,000.5.

        No groups, so callers can embed it; thousands groups need exactly three digits, and the
        number may not touch other digits.
        """
        num = self.table("numbers")
        dec = re.escape(num.get("decimal_separator", "."))
        seps = "".join(re.escape(s) for s in num.get("thousands_separators", []))
        grouped = rf"\d{{1,3}}(?:[{seps}]\d{{3}})+" if seps else r"(?!)"
        return rf"(?<![\d{dec}])(?:{grouped}|\d+)(?:{dec}\d+)?(?![\d])(?!{dec}\d)"

    @cached_property
    def number_re(self) -> re.Pattern:
        return re.compile(self.number_pattern)


@lru_cache(maxsize=None)
def load_rules(language: str) -> LanguageRules:
    """The rules for `language` (a BCP 47 tag; only its primary subtag is used)."""
    lang = primary_language(language)
    data: dict = {}
    if lang and re.fullmatch(r"[a-z]{2,3}", lang):
        resource = resources.files("narrator") / "data" / "speech" / f"{lang}.toml"
        if resource.is_file():
            data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return LanguageRules(lang, MappingProxyType(data))


@dataclass(frozen=True)
class Context:
    """What every step receives beside the text."""

    language: str
    rules: LanguageRules
    lexicon: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_language(cls, language: str, lexicon: Mapping[str, str] | None = None) -> "Context":
        rules = load_rules(language)
        return cls(rules.language, rules, MappingProxyType(dict(lexicon or {})))
