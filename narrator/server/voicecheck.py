"""A client's `voice` and `language` checked against the server's engine when the job is
submitted (a 400 at once), with the choice the narration itself will make: the language's
configured voice, else the engine's default for the language."""
from __future__ import annotations

from functools import lru_cache

from ..config import load_config
from ..engines import create_engine
from ..engines.auto import AUTO, choose_engine
from ..errors import EngineError


@lru_cache(maxsize=256)
def check_voice(engine: str, voice: str | None, language: str | None) -> None:
    """Raises EngineError when the narration would refuse this voice or language. A voice
    without a language is checked against the engine's voices; with engine `auto` only a
    language can be checked (the engine is chosen per article)."""
    if voice is None and language is None:
        return
    config = load_config()
    name = engine
    if engine == AUTO:
        if language is None:
            return
        name, chosen, _why = choose_engine(language.lower(), config)
        voice = voice or chosen
    instance = create_engine(name, **config.engine_options(name))
    try:
        reason = instance.unavailable_reason()
        if reason:
            raise EngineError(f"engine {name!r} is unavailable: {reason}")
        if voice is None and config.language(language.lower()).engine == name:
            voice = config.language(language.lower()).voice
        instance.resolve_voice((language or "en").lower(), voice)
    finally:
        instance.close()
