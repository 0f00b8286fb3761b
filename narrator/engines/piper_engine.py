"""Piper (piper-tts 1.x): natural offline neural voices, one ONNX model per voice.

Install with `pip install 'narrator[piper]'`. A voice is a model `NAME.onnx` with its
`NAME.onnx.json` beside it, given either as a path (`--voice /path/to/NAME.onnx`) or by name
(`--voice en_US-joe-medium`) when it lies in narrator's voices folder (`NARRATOR_VOICES_DIR`,
filled by `narrator voices install NAME`, piper_install.py) or in an installed voice package
(piper_voices.py finds both).

A model is a few tens of MB on disk and ~200-400 MB in memory once loaded, so each process
loads it once and keeps it; parallelism comes from a small number of processes.

Options (from the config file's [engines.piper] or the CLI): `length_scale` (> 1 is slower),
`noise_scale`, `noise_w_scale`, `volume`, `speaker` (id, multi-speaker models), `threads`
(onnxruntime intra-op threads per process; default: onnxruntime's choice).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import EngineError, UnknownVoice
from ..model import Audio
from .base import Engine, VoiceInfo
from .piper_noise import seeded_model
from .piper_voices import all_voices, find_model, is_path, voice_languages, voices_dir

_SYNTH_OPTIONS = ("length_scale", "noise_scale", "noise_w_scale", "volume")

# (model path, threads) -> PiperVoice, per process: a forked child must load its own.
_LOADED: dict[tuple[str, int | None], object] = {}
_LOADED_PID: int | None = None


def _piper_missing(load: bool = True) -> str | None:
    """Why piper cannot run here, or None. With load=False the packages are only found, not
    imported: importing piper and onnxruntime costs ~0.35 s and ~30 MB, which engine "auto"
    would pay on every narration just to learn that no voice is installed; a broken install
    then shows when a voice is actually loaded."""
    from importlib.util import find_spec
    try:
        if load:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
            import piper  # noqa: F401
        elif any(find_spec(name) is None for name in ("piper", "onnxruntime", "onnx")):
            raise ImportError
    except ImportError:
        return "not installed (pip install 'narrator[piper]')"
    return None


class PiperEngine(Engine):
    name = "piper"
    # One model per process; two processes already fill this kind of machine's memory budget.
    concurrency = "process"
    max_workers = 2

    @classmethod
    def unavailable_reason(cls) -> str | None:
        # Only the installation: a voice given by path needs no voices folder, and a missing
        # voice is reported by resolve_voice (and by `narrator voices`, see no_voice_reason).
        return _piper_missing()

    @classmethod
    def no_voice_reason(cls) -> str | None:
        folder = voices_dir()
        if not all_voices():
            return (f"no voice file in {folder} nor in an installed voice package "
                    f"(`narrator voices install NAME`, or pass --voice PATH/TO/VOICE.onnx)")
        return None

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=name, languages=voice_languages(model.with_name(model.name + ".json")),
                          description=f"Piper voice {model}")
                for name, model in all_voices()]

    def model_path(self, voice: str) -> Path:
        """The .onnx file of a voice given by path, or by name (in the voices folder, else
        in an installed voice package)."""
        return find_model(voice)

    def default_voice(self, language: str) -> str:
        for info in self.voices():
            if language in info.languages:
                return info.id
        raise UnknownVoice(f"no Piper voice for language {language!r} in {voices_dir()} "
                           f"(`narrator voices install NAME`, or --voice PATH.onnx)")

    def resolve_voice(self, language: str, voice: str | None) -> str:
        if voice is None:
            return self.default_voice(language)
        model = self.model_path(voice)
        # A voice given by path is recorded (tags, cache key) by its absolute path, one
        # given by name by its name.
        return str(model) if is_path(voice) else voice

    def _model_for(self, voice: str | None, language: str) -> Path:
        # Found once per engine: finding it scans the voices folder and the voice packages'
        # entry points (about 2 ms), and a narration asks for every utterance.
        found = self.__dict__.setdefault("_models_found", {})
        key = (voice, language)
        if key not in found:
            found[key] = self.model_path(voice or self.default_voice(language))
        return found[key]

    def _load(self, model: Path):
        global _LOADED_PID
        if _LOADED_PID != os.getpid():
            _LOADED.clear()
            _LOADED_PID = os.getpid()
        threads = self.options.get("threads")
        key = (str(model), int(threads) if threads else None)
        if key not in _LOADED:
            missing = _piper_missing()
            if missing:
                raise EngineError(f"engine 'piper' is {missing}")
            _LOADED[key] = _load_voice(model, key[1])
        return _LOADED[key]

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Audio:
        from piper import SynthesisConfig

        piper_voice = self._load(self._model_for(voice, language))
        syn = SynthesisConfig(**{k: float(self.options[k]) for k in _SYNTH_OPTIONS
                                 if self.options.get(k) is not None})
        if self.options.get("speaker") is not None:
            syn.speaker_id = int(self.options["speaker"])
        sample_rate = piper_voice.config.sample_rate
        try:
            # Piper yields one chunk per sentence it finds; an utterance is one sentence, but
            # join whatever comes.
            pcm = b"".join(chunk.audio_int16_bytes
                           for chunk in piper_voice.synthesize(text, syn_config=syn))
        except Exception as exc:  # onnxruntime / phonemizer failures
            raise EngineError(f"Piper failed on an utterance: {exc}") from None
        return Audio(pcm=pcm, sample_rate=sample_rate)


def _load_voice(model: Path, threads: int | None):
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    try:
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        config = PiperConfig.from_dict(
            json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(seeded_model(model), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        return PiperVoice(session=session, config=config)
    except Exception as exc:  # OSError, bad JSON, and onnxruntime's own types for a bad model
        raise EngineError(f"cannot load Piper voice {model}: {exc}") from None
