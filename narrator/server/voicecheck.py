"""A client's `voice` and `language` checked when the job is submitted (a 400 at once),
by the same check a narration makes before its first utterance (pipeline.check_options)."""
from __future__ import annotations

from functools import lru_cache

from ..pipeline import NarrateOptions, check_options


@lru_cache(maxsize=256)
def check_voice(engine: str, voice: str | None, language: str | None) -> None:
    """Raises EngineError when the narration would refuse this voice or language. With
    engine `auto` and no language, nothing can be checked: the engine is chosen per article."""
    if voice is None and language is None:
        return
    check_options(NarrateOptions(engine=engine, voice=voice, language=language))
