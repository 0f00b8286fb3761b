"""The speakable text, fitted to the engine that will read it.

Engines differ in what they get wrong. SVOX Pico reads "[" as "crochet ouvrant", a comma or a
colon before a non-breaking space as "virgule" or "deux points", and mangles "newsletter";
espeak-ng switches to its English voice for "newsletter" in the middle of a French sentence.
Each engine names its rules (`Engine.speech_rules`): a TOML file in
narrator/data/speech/engines/, or a path for an engine from another package:

    [[replace]]                  # in order: a regular expression (Python) and what replaces it
    why = "what the engine does wrong"
    pattern = '\\['
    with = "("
    languages = ["fr"]           # optional; every language when absent

    [words.fr]                   # whole words, any case, in one language
    newsletter = "niouzlèteur"

Only what the engine is given changes, never the text a reader sees (transcript, chapters).
The replacements run first, in order, then the words; runs of spaces are collapsed before,
between and after them.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..errors import NarratorError
from .rules import primary_language


@dataclass(frozen=True)
class EngineRules:
    name: str = ""
    # (compiled pattern, replacement, languages it applies to; empty = every language)
    replacements: tuple[tuple[re.Pattern, str, frozenset[str]], ...] = ()
    # language -> (one pattern matching every word of its table, table with lower-case keys)
    words: Mapping[str, tuple[re.Pattern, Mapping[str, str]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.replacements or self.words)

    def apply(self, text: str, language: str) -> str:
        """`text` as this engine should be given it in `language`."""
        lang = primary_language(language)
        text = _SPACES.sub(" ", text)
        for pattern, replacement, languages in self.replacements:
            if not languages or lang in languages:
                # One space at most between rules: a rule starting with \s* then tries one
                # space, not a whole run, at each position (linear, not quadratic, in the
                # length of a hostile text of spaces and symbols).
                text = _SPACES.sub(" ", pattern.sub(replacement, text))
        if lang in self.words:
            pattern, table = self.words[lang]
            text = pattern.sub(lambda m: table[m.group(0).lower()], text)
        return _SPACES.sub(" ", text).strip()


NO_RULES = EngineRules()
_SPACES = re.compile(r"\s{2,}")


@lru_cache(maxsize=None)
def load_engine_rules(spec: str | None) -> EngineRules:
    """The rules named by an engine's `speech_rules`: a file name in
    narrator/data/speech/engines/ without its .toml, or a path to a TOML file."""
    if not spec:
        return NO_RULES
    if re.fullmatch(r"[a-z0-9_-]+", spec):
        resource = resources.files("narrator") / "data" / "speech" / "engines" / f"{spec}.toml"
        name, text = spec, resource.read_text(encoding="utf-8") if resource.is_file() else None
    else:
        path = Path(spec).expanduser()
        name, text = path.stem, path.read_text(encoding="utf-8") if path.is_file() else None
    if text is None:
        raise NarratorError(f"no engine speech rules {spec!r}")
    return parse_engine_rules(name, tomllib.loads(text))


def parse_engine_rules(name: str, data: Mapping) -> EngineRules:
    replacements = []
    for i, rule in enumerate(data.get("replace", [])):
        try:
            pattern = re.compile(rule["pattern"])
            replacement = rule["with"]
            pattern.sub(replacement, "")  # a bad group reference fails here, not mid-article
        except (KeyError, re.error, TypeError) as exc:
            raise NarratorError(f"engine speech rules {name!r}: replace rule {i + 1} is "
                                f"invalid ({exc})") from None
        languages = frozenset(primary_language(x) for x in rule.get("languages", ()))
        replacements.append((pattern, replacement, languages))
    words = {}
    for lang, table in data.get("words", {}).items():
        if table:
            pattern = re.compile(r"(?<![\w-])(?:" + "|".join(
                map(re.escape, sorted(table, key=len, reverse=True))) + r")(?![\w-])",
                re.IGNORECASE)
            lowered = MappingProxyType({k.lower(): v for k, v in table.items()})
            words[primary_language(lang)] = (pattern, lowered)
    return EngineRules(name, tuple(replacements), MappingProxyType(words))
