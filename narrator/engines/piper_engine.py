"""Piper (piper-tts 1.x): natural offline neural voices, one ONNX model per voice.

Install with `pip install 'narrator[piper]'`. A voice is a model `NAME.onnx` with its
`NAME.onnx.json` beside it, given either as a path (`--voice /path/to/NAME.onnx`) or by name
(`--voice en_US-joe-medium`) when it lies in narrator's voices folder (`NARRATOR_VOICES_DIR`,
filled by `narrator voices install NAME`).

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
from .base import Audio, Engine, VoiceInfo

_SYNTH_OPTIONS = ("length_scale", "noise_scale", "noise_w_scale", "volume")

# (model path, threads) -> PiperVoice, per process: a forked child must load its own.
_LOADED: dict[tuple[str, int | None], object] = {}
_LOADED_PID: int | None = None


def _voices_dir() -> Path:
    from ..config import voices_dir
    return voices_dir()


def _voice_language(config_path: Path) -> tuple[str, ...]:
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
    folder = folder or _voices_dir()
    if not folder.is_dir():
        return []
    return [(model.name[:-len(".onnx")], model) for model in sorted(folder.glob("*.onnx"))
            if model.with_name(model.name + ".json").is_file()]


def _piper_missing() -> str | None:
    try:
        import piper  # noqa: F401
        import onnxruntime  # noqa: F401
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
        missing = _piper_missing()
        if missing:
            return missing
        folder = _voices_dir()
        if not installed_voices(folder):
            return (f"no voice file in {folder} (`narrator voices install NAME`, "
                    f"or pass --voice PATH/TO/VOICE.onnx)")
        return None

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=name, languages=_voice_language(model.with_name(model.name + ".json")),
                          description=f"Piper voice {model}")
                for name, model in installed_voices()]

    def model_path(self, voice: str) -> Path:
        """The .onnx file of a voice given by path or by name in the voices folder."""
        as_path = Path(voice).expanduser()
        if voice.endswith(".onnx") or as_path.is_file() or os.sep in voice:
            model = as_path
        else:
            model = _voices_dir() / f"{voice}.onnx"
        if not model.is_file():
            raise UnknownVoice(f"Piper voice {voice!r} not found ({model} does not exist; "
                               f"`narrator voices install NAME` or --voice PATH.onnx)")
        if not model.with_name(model.name + ".json").is_file():
            raise UnknownVoice(f"Piper voice {voice!r} has no config file {model}.json beside it")
        return model.resolve()

    def default_voice(self, language: str) -> str:
        for info in self.voices():
            if language in info.languages:
                return info.id
        raise UnknownVoice(f"no Piper voice for language {language!r} in {_voices_dir()} "
                           f"(`narrator voices install NAME`, or --voice PATH.onnx)")

    def resolve_voice(self, language: str, voice: str | None) -> str:
        if voice is None:
            return self.default_voice(language)
        model = self.model_path(voice)
        # A voice given by path is recorded (tags, cache key) by its absolute path.
        if model.parent == _voices_dir().resolve() and voice == model.name[:-len(".onnx")]:
            return voice
        return str(model)

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

        piper_voice = self._load(self.model_path(voice or self.default_voice(language)))
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
        if not threads:
            return PiperVoice.load(model)
        # PiperVoice.load takes no session options; build the same voice with a thread cap.
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        config = PiperConfig.from_dict(
            json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        return PiperVoice(session=session, config=config)
    except Exception as exc:  # OSError, bad JSON, and onnxruntime's own types for a bad model
        raise EngineError(f"cannot load Piper voice {model}: {exc}") from None
