"""Per-language speaking conventions, read from narrator/data/lang/<lang>.toml."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

FALLBACK = "en"


@dataclass(frozen=True)
class LanguageProfile:
    code: str
    listen_label: str
    quote_with_speaker: str
    quote_without_speaker: str
    sentence_pause_ms: int
    paragraph_pause_ms: int
    chapter_pause_ms: int
    abbreviations: frozenset[str]


def primary_subtag(language: str | None) -> str:
    """"fr-FR" / "fr_FR" / "FR" -> "fr"; empty -> the fallback language."""
    if not language:
        return FALLBACK
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0] or FALLBACK


def available_languages() -> list[str]:
    return sorted(p.name[:-5] for p in files("narrator.data.lang").iterdir()
                  if p.name.endswith(".toml"))


@lru_cache(maxsize=None)
def profile(language: str | None) -> LanguageProfile:
    """The profile for `language`, falling back to English conventions for other languages."""
    code = primary_subtag(language)
    resource = files("narrator.data.lang") / f"{code}.toml"
    if not resource.is_file():
        resource = files("narrator.data.lang") / f"{FALLBACK}.toml"
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return LanguageProfile(
        code=code,
        listen_label=data["listen_label"],
        quote_with_speaker=data["quote"]["with_speaker"],
        quote_without_speaker=data["quote"]["without_speaker"],
        sentence_pause_ms=int(data["pauses"]["sentence"]),
        paragraph_pause_ms=int(data["pauses"]["paragraph"]),
        chapter_pause_ms=int(data["pauses"]["chapter"]),
        abbreviations=frozenset(data["sentences"]["abbreviations"]),
    )
