"""Engine "auto": which engine and voice read a language, decided once, before synthesis.

Per language, the first that works here:
1. the engine and voice configured for the language in the config file ([languages.xx]),
   when that engine is available (for Piper and Kokoro: installed, and the voice file
   present); a voice without an engine is a Piper voice, or a Kokoro one by its form
   (ff_siwis, NAME.bin). Kokoro is chosen only so: it needs about 90 times Pico's CPU,
   which an installed voice alone should not bring on every narration;
2. a Piper voice for the language installed in the voices folder;
3. gTTS, when its endpoint answers a one-word probe;
4. SVOX Pico, offline, for its languages (fr, en, de, es, it), where its wheel installs;
5. espeak-ng, offline, always there.

The choice is made before the first utterance and then holds for the whole article: an engine
that fails in the middle of an article is an error, never a silent switch to another voice.
"""
from __future__ import annotations

import time

from ..errors import EngineError, UnknownEngine, UnknownVoice
from .kokoro_files import names_kokoro_voice

AUTO = "auto"

# The gTTS probe is a real request: remember its answer for a while within one process (a
# batch narrates many articles in a row).
_PROBE_TTL_S = 300.0
_probe_memo: dict[tuple, tuple[float, str | None]] = {}


def _gtts_reason(options: dict, probe=None) -> str | None:
    """Why gTTS cannot run here, or None; `probe` (an engine instance's own, which counts
    against its rate limit) asks when the memo has no recent answer."""
    from . import engine_class
    try:
        cls = engine_class("gtts")
    except EngineError as exc:
        return str(exc)
    key = (options.get("url"), options.get("tld", "com"))
    memo = _probe_memo.get(key)
    if memo and time.monotonic() - memo[0] < _PROBE_TTL_S:
        return memo[1]
    if probe is not None:
        reason = probe()
    else:
        try:
            reason = cls.unavailable_reason(url=options.get("url"),
                                            tld=options.get("tld", "com"))
        except TypeError:  # an engine class without those keyword arguments
            reason = cls.unavailable_reason()
    _probe_memo[key] = (time.monotonic(), reason)
    return reason


def _piper_reason(voice: str | None, language: str) -> tuple[str | None, str | None]:
    """(reason it cannot read `language`, the voice it would use)."""
    from .piper_engine import PiperEngine, _piper_missing
    missing = _piper_missing(load=False)
    if missing:
        return f"piper {missing}", None
    engine = PiperEngine()
    try:
        return None, engine.resolve_voice(language, voice)
    except EngineError as exc:
        return str(exc), None


def _pico_reason(language: str) -> tuple[str | None, str | None]:
    """(reason Pico cannot read `language`, its voice for it)."""
    from . import engine_class
    try:
        cls = engine_class("pico")
        reason = cls.unavailable_reason()
        if reason:
            return reason, None
        return None, cls().default_voice(language)
    except EngineError as exc:  # not registered here, or no voice for the language
        return str(exc), None


def _kokoro_reason(voice: str | None, language: str) -> tuple[str | None, str | None]:
    """(reason Kokoro cannot read `language` with `voice`, the voice it would use)."""
    from . import engine_class
    try:
        cls = engine_class("kokoro")
        reason = cls.unavailable_reason()
        if reason:
            return f"kokoro {reason}", None
        return None, cls().resolve_voice(language, voice)
    except EngineError as exc:
        return str(exc), None


def _engine_reason(name: str, voice: str | None, language: str, options: dict):
    if name == "piper":
        return _piper_reason(voice, language)
    if name == "kokoro":
        return _kokoro_reason(voice, language)
    if name == "gtts":
        return _gtts_reason(options), voice
    from . import engine_class
    try:
        reason = engine_class(name).unavailable_reason()
    except UnknownEngine:
        raise
    except EngineError as exc:
        reason = str(exc)
    return reason, voice


def choose_engine(language: str, config=None) -> tuple[str, str | None, str]:
    """(engine name, voice or None for the engine's default, why) for `language`."""
    if config is None:
        from ..config import load_config
        config = load_config()
    language = language.lower()
    skipped: list[str] = []

    configured = config.language(language)
    if configured.engine and configured.engine != AUTO:
        reason, voice = _engine_reason(configured.engine, configured.voice, language,
                                       config.engine_options(configured.engine))
        if reason is None:
            return configured.engine, voice, f"configured for {language!r} in {config.path}"
        skipped.append(f"configured {configured.engine}: {reason}")
    elif configured.voice and names_kokoro_voice(configured.voice):
        reason, voice = _kokoro_reason(configured.voice, language)
        if reason is None:
            return "kokoro", voice, f"Kokoro voice configured for {language!r} in {config.path}"
        skipped.append(f"configured voice: {reason}")
    elif configured.voice:
        # A voice without an engine, not named like a Kokoro voice: a Piper voice.
        reason, voice = _piper_reason(configured.voice, language)
        if reason is None:
            return "piper", voice, f"Piper voice configured for {language!r} in {config.path}"
        skipped.append(f"configured voice: {reason}")

    reason, voice = _piper_reason(None, language)
    if reason is None:
        return "piper", voice, f"Piper voice installed for {language!r}"
    skipped.append(reason if reason.startswith("piper") else f"piper: {reason}")

    gtts_options = config.engine_options("gtts")
    reason = _voice_reason("gtts", language) or _gtts_reason(gtts_options)
    if reason is None:
        return "gtts", None, "gTTS endpoint answers" + (f" ({'; '.join(skipped)})" if skipped else "")
    skipped.append(f"gtts: {reason}")

    reason, voice = _pico_reason(language)
    if reason is None:
        return "pico", voice, "Pico, offline (" + "; ".join(skipped) + ")"
    skipped.append(f"pico: {reason}")

    reason = _voice_reason("espeak", language)
    if reason is not None:  # nothing here reads it: say so now, not when narrating
        raise UnknownVoice(f"no engine here reads language {language!r} ("
                           + "; ".join([*skipped, f"espeak: {reason}"]) + ")")
    return "espeak", None, "espeak-ng, offline fallback (" + "; ".join(skipped) + ")"


def _voice_reason(name: str, language: str) -> str | None:
    """Why engine `name` has no voice for `language`, or None (asked before any probe)."""
    from . import engine_class
    try:
        engine_class(name)().default_voice(language)
    except EngineError as exc:
        return str(exc)
    return None
