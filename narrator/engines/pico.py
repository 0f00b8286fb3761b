"""SVOX Pico, the voice Android shipped for years, from the `py-nanotts` wheel (Apache-2.0,
lingware inside): clear, fast and offline, in six languages. The default offline voice for
those languages (engine `auto`); espeak-ng reads the others.

Pico speaks at 16 kHz; assembly resamples each utterance to narrator's rate. Every call runs a
fresh Pico system with the voice's lingware (a few milliseconds), so no state passes from one
utterance to the next. The extension holds the GIL while it speaks: parallelism comes from
processes. What Pico reads wrongly ("[", a comma before a non-breaking space...) is declared in
narrator/data/speech/engines/pico.toml and fixed in the text before it gets here.
"""
from __future__ import annotations

import os
import platform
import sys

from ..errors import EngineError, UnknownVoice
from ..model import Audio
from .base import Engine, VoiceInfo

SAMPLE_RATE = 16000
# Pico's voices, each with its language; the first of a language is its default.
_VOICES = {"fr-FR": "fr", "en-US": "en", "en-GB": "en", "de-DE": "de", "es-ES": "es",
           "it-IT": "it"}
_OPTIONS = {"speed": (0.2, 5.0), "pitch": (0.5, 2.0)}  # multipliers, 1.0 = Pico's own
_M_PERTURB = -6         # glibc's mallopt parameter
_memory_fixed_in: int | None = None


def _fresh_memory_per_call() -> None:
    """Make the same text give the same samples, whatever the process did before.

    Pico reads parts of its 2.5 MB working memory (one malloc per call) before writing them.
    That block is fresh, zeroed pages when glibc maps it, but leftovers of earlier
    allocations when the heap can serve it, so the same sentence differed by a few samples
    with what the process (or the parent it was forked from) had done before. With a perturb
    byte of 0xff glibc fills every allocation it serves from the heap with 0x00
    (0xff ^ 0xff): the block is always zeroes, as on a first call. (A fixed mmap threshold
    was not enough: a free heap chunk of 2.5 MB is used before any mapping.)
    """
    global _memory_fixed_in
    if _memory_fixed_in == os.getpid():
        return
    _memory_fixed_in = os.getpid()
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            ctypes.CDLL(None).mallopt(_M_PERTURB, 0xFF)
        except (OSError, AttributeError):  # not glibc
            pass


def _markup_free(text: str) -> str:
    """Pico takes its own markup in the text (`<genfile file=...>` writes a file, `<play>`
    reads one): no "<" may reach it. The speech rules have already said what a "<" meant."""
    return text.replace("<", " ").replace(">", " ")


class PicoEngine(Engine):
    """Options: `speed` (0.2-5.0) and `pitch` (0.5-2.0), multipliers of Pico's own."""

    name = "pico"
    speech_rules = "pico"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import py_nanotts  # noqa: F401
        except ImportError:
            return f"not installed ({_install_hint()})"
        return None

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=voice, languages=(language,), description=f"SVOX Pico {voice}")
                for voice, language in _VOICES.items()]

    def resolve_voice(self, language: str, voice: str | None) -> str:
        if voice is None:
            return self.default_voice(language)
        canonical = {v.lower().replace("_", "-"): v for v in _VOICES}
        key = voice.lower().replace("_", "-")
        if key not in canonical:
            raise UnknownVoice(f"engine 'pico' has no voice {voice!r}; its voices: "
                               + ", ".join(_VOICES))
        return canonical[key]

    def __init__(self, **options):
        for key, value in options.items():
            if key not in _OPTIONS:
                raise EngineError(f"engine 'pico' has no option {key!r} (options: speed, pitch)")
            low, high = _OPTIONS[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not low <= value <= high:
                raise EngineError(f"pico option {key} must be a number from {low} to {high}")
        super().__init__(**options)

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Audio:
        try:
            from py_nanotts import NanoTTS
        except ImportError:
            raise EngineError(f"engine 'pico' is not installed ({_install_hint()})") from None
        voice = self.resolve_voice(language, voice)
        _fresh_memory_per_call()
        text = _markup_free(text)
        if not text.strip():
            return Audio(b"", SAMPLE_RATE)
        try:
            pcm = NanoTTS().speak(text, voice=voice, speed=self.options.get("speed"),
                                  pitch=self.options.get("pitch"))
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise EngineError(f"Pico failed on an utterance ({exc})") from None
        return Audio(pcm, SAMPLE_RATE)


def _install_hint() -> str:
    """Why py-nanotts is absent. It has wheels for Linux x86_64 and aarch64 (glibc) and Windows
    x86_64 only; narrator depends on it there (pyproject.toml's environment marker)."""
    system, machine = platform.system(), platform.machine().lower()
    if (system == "Linux" and machine in ("x86_64", "aarch64")) \
            or (system == "Windows" and machine == "amd64"):
        return "pip install py-nanotts"
    return f"py-nanotts has no wheel for {system} {machine}"
