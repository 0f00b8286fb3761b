"""What each engine offers here: its voices, or why it cannot run. One answer for
`narrator voices` and the Python API's `list_voices`.

Discovery uses each engine class's quick availability check (for gTTS: two short probes, and
no retry on a connection that fails outright), never an instance's full retry policy, so that
listing voices offline takes a moment and not a minute."""
from __future__ import annotations

from ..errors import EngineError
from . import engine_class


def availability(name: str, options: dict) -> str | None:
    """Why engine `name` cannot run here, or None."""
    cls = engine_class(name)
    if name == "gtts":
        try:
            return cls.unavailable_reason(url=options.get("url"), tld=options.get("tld", "com"))
        except TypeError:   # an engine class registered as gtts without those arguments
            return cls.unavailable_reason()
    return cls.unavailable_reason()


def engine_report(name: str, config, language: str | None) -> tuple[str | None, list]:
    """(why engine `name` is unavailable or None, its voices; only `language`'s if given)."""
    try:
        reason = availability(name, config.engine_options(name))
        cls = engine_class(name)
    except EngineError as exc:
        return str(exc), []
    if reason and reason.startswith("not installed"):
        return reason, []
    if not reason and hasattr(cls, "no_voice_reason"):
        reason = cls.no_voice_reason()
    engine = None
    try:
        engine = cls(**config.engine_options(name))
        voices = engine.voices()
    except EngineError as exc:
        return reason or str(exc), []
    finally:
        if engine is not None:
            engine.close()
    if language:
        voices = [v for v in voices if language in v.languages]
    return reason, voices
