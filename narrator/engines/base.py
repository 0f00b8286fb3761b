"""The one small interface every speech engine implements.

An engine turns one utterance of text into 16-bit mono PCM. Engines are created by name from
the registry (`narrator.engines.create_engine`) in each worker process, so an engine instance
never crosses a process boundary and may hold unpicklable state (a C library, a session).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from ..errors import UnknownVoice
from ..model import Audio


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    languages: tuple[str, ...]
    description: str = ""


class Engine(ABC):
    """Subclasses set `name` and implement `synthesize` and `voices`.

    `options` are engine settings from the CLI or the config file; they take part in the
    synthesis cache key, so two settings that sound different must differ in `settings()`.
    """

    name: ClassVar[str]
    # What this engine reads wrongly (punctuation it names, words it mangles), fixed in the
    # text before it gets it: a file name in narrator/data/speech/engines/ (without .toml),
    # or a path to such a file; None when there is nothing to fix (narrator.speech.engine_rules).
    speech_rules: ClassVar[str | None] = None

    def __init__(self, **options):
        self.options = options

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when the engine can run here, else a short reason for `narrator voices`."""
        return None

    @abstractmethod
    def voices(self) -> list[VoiceInfo]:
        ...

    @abstractmethod
    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Audio:
        ...

    def default_voice(self, language: str) -> str:
        for info in self.voices():
            if language in info.languages:
                return info.id
        raise UnknownVoice(f"engine {self.name!r} has no voice for language {language!r}")

    def resolve_voice(self, language: str, voice: str | None) -> str:
        """The voice id that will speak `language`: the one asked for, else the default."""
        if voice is None:
            return self.default_voice(language)
        if voice not in {v.id for v in self.voices()}:
            raise UnknownVoice(f"engine {self.name!r} has no voice {voice!r}"
                               f" (see `narrator voices`)")
        return voice

    def settings(self) -> dict:
        return dict(sorted(self.options.items()))

    def close(self) -> None:
        pass
