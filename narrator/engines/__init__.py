"""Engine registry: engines are discovered through the `narrator.engines` entry-point group,
so a separate package adds one by declaring

    [project.entry-points."narrator.engines"]
    myengine = "my_package.module:MyEngine"

Built-in engines are declared the same way in narrator's own pyproject.toml; the fallback table
below only serves a source checkout that was never installed.
"""
from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from ..errors import EngineError, UnknownEngine
from ..model import Audio
from .base import Engine, VoiceInfo

ENTRY_POINT_GROUP = "narrator.engines"

_BUILTIN = {
    "espeak": "narrator.engines.espeak:EspeakEngine",
    "piper": "narrator.engines.piper_engine:PiperEngine",
    "gtts": "narrator.engines.gtts_engine:GttsEngine",
    "pico": "narrator.engines.pico:PicoEngine",
    "kokoro": "narrator.engines.kokoro:KokoroEngine",
}


def _targets() -> dict[str, str]:
    targets = dict(_BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        targets[ep.name] = ep.value
    return targets


def engine_names() -> list[str]:
    return sorted(_targets())


def engine_class(name: str) -> type[Engine]:
    targets = _targets()
    if name not in targets:
        raise UnknownEngine(f"unknown engine {name!r}; known engines: {', '.join(sorted(targets))}")
    module_name, _, attr = targets[name].partition(":")
    try:
        cls = getattr(import_module(module_name), attr)
    except ImportError as exc:
        raise EngineError(f"engine {name!r} is not installed ({exc})") from None
    return cls


def create_engine(name: str, **options) -> Engine:
    return engine_class(name)(**options)


__all__ = ["Audio", "Engine", "VoiceInfo", "engine_names", "engine_class", "create_engine",
           "ENTRY_POINT_GROUP"]
