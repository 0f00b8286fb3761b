"""espeak-ng through ctypes, with the library and voice data from the `espeakng-loader` wheel.

Offline, tiny and fast: the default engine. libespeak-ng keeps global state and is not
thread-safe, so one process holds one initialised library; parallelism comes from processes.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from pathlib import Path

from ..errors import EngineError
from ..model import Audio
from .base import Engine, VoiceInfo

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH = 1, 2, 3

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)

# Languages we advertise, with the espeak-ng voice that reads them best. espeak's "fr" is the
# France variant ("fr-fr" does not exist in 1.52).
_VOICES = {
    "fr": "fr", "en": "en", "en-us": "en-us", "de": "de", "es": "es", "it": "it", "pt": "pt",
    "nl": "nl", "pl": "pl", "sv": "sv", "da": "da", "nb": "nb", "fi": "fi", "ca": "ca",
}


@contextlib.contextmanager
def _interrupts_held():
    """Hold SIGINT back while espeak-ng runs in the main thread: Python would raise the
    KeyboardInterrupt inside the synthesis callback, where it cannot propagate; held, it is
    raised as soon as espeak_Synth returns (one utterance, milliseconds)."""
    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class _Library:
    """The process-wide libespeak-ng, initialised on first use.

    libespeak-ng carries state from one utterance to the next in static variables that
    espeak_Terminate/espeak_Initialize do not reset (the pitch flutter's phase, the glottal
    wave's phase, the gain control of its wave generator): the same sentence comes out a few
    samples longer or shorter, and with different samples, depending on what this process
    said before. Which utterances a synthesis worker gets depends on scheduling, so the same
    page gave different files from run to run. The library is therefore loaded afresh (its
    statics come back from the file) before every utterance but the first after a load, for
    an utterance that depends on its text alone. The price is ~3 ms of CPU an utterance,
    mostly reloading the voice's dictionary: about as much as espeak-ng takes to speak it
    (the seed: 0.27 s of espeak-ng CPU instead of 0.15 s, over its 38 utterances).
    """

    _instance: "_Library | None" = None
    _pid: int | None = None

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:  # pragma: no cover - a dependency of narrator
            raise EngineError("espeak engine needs the espeakng-loader package") from None
        self._lib_path = espeakng_loader.get_library_path()
        self._data_path = espeakng_loader.get_data_path()
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes frees a callback that Python no longer holds.
        self._callback = _SYNTH_CALLBACK(self._collect)
        self.lib = None
        self._load()

    def _load(self) -> None:
        self.lib = ctypes.CDLL(self._lib_path)
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                               ctypes.c_int]
        # espeak-ng resolves its data from the path given here (the folder holding
        # espeak-ng-data), not from the data folder itself.
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 500,
                                          str(Path(self._data_path).parent).encode(), 0)
        if rate <= 0:
            raise EngineError(f"espeak-ng failed to initialise with data at {self._data_path}")
        self.sample_rate = rate
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None
        self._dirty = False  # has the wave generator run since the library was loaded?

    def _unload(self) -> None:
        """Terminate and unload, so that the next load starts from the file's statics."""
        import _ctypes
        self.lib.espeak_Terminate()
        handle, self.lib = self.lib._handle, None
        if hasattr(_ctypes, "dlclose"):
            _ctypes.dlclose(handle)
        else:  # pragma: no cover - Windows
            _ctypes.FreeLibrary(handle)

    def reload(self) -> None:
        self._unload()
        self._load()

    def _collect(self, wav, numsamples, _events):
        # An exception cannot cross the C library: one raised here would be printed as
        # "Exception ignored on calling ctypes callback" and lost. Keep it, stop espeak-ng
        # (return 1), and raise it once espeak_Synth has returned. (Ctrl-C is held off
        # during the call instead, see _interrupts_held: it can strike at the callback's
        # very first instruction, before any try.)
        try:
            if numsamples > 0:
                self._chunks.append(ctypes.string_at(wav, numsamples * 2))
            return 0
        except BaseException as exc:
            self._pending = exc
            return 1

    @classmethod
    def get(cls) -> "_Library":
        if cls._instance is not None and cls._pid != os.getpid():
            # A forked child inherited the parent's initialised library (the same global
            # state, copied): load it afresh rather than initialising over it, which
            # leaves the previous voice's translator and buffers half-replaced.
            cls._instance.reload()
            cls._pid = os.getpid()
        if cls._instance is None:
            cls._instance = cls()
            cls._pid = os.getpid()
        return cls._instance

    def synthesize(self, text: str, voice: str, rate: int | None, pitch: int | None) -> bytes:
        if self._dirty:
            self.reload()
        if voice != self._voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineError(f"espeak-ng has no voice {voice!r}")
            self._voice = voice
        if rate:
            self.lib.espeak_SetParameter(_RATE, int(rate), 0)
        if pitch is not None:
            self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        self._dirty = True
        self._pending = None
        with _interrupts_held():
            err = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                        None, None)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            raise pending
        if err != 0:
            raise EngineError(f"espeak-ng failed on an utterance (error {err})")
        pcm = b"".join(self._chunks)
        self._chunks = []
        return pcm


def phonemes(text: str, voice: str) -> str:
    """What espeak-ng will say for `text`, in its phoneme mnemonics, words separated by
    spaces. A word it reads in another language is marked: "(en)nju:zlEt3(fr)"."""
    lib = _Library.get()
    if lib.lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise EngineError(f"espeak-ng has no voice {voice!r}")
    lib._voice = voice
    fn = lib.lib.espeak_TextToPhonemes
    fn.restype = ctypes.c_char_p
    fn.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
    buffer = ctypes.c_char_p(text.encode("utf-8"))
    cursor, words = ctypes.pointer(buffer), []
    while cursor.contents.value:
        said = fn(cursor, _CHARS_UTF8, 0)  # 0: espeak's mnemonics, no separators
        if said:
            words += said.decode("utf-8", "replace").replace("_!", " ").replace("_|", " ").split()
    return " ".join(words)


class EspeakEngine(Engine):
    """Options: `rate` (words per minute, espeak default 175), `pitch` (0-100)."""

    name = "espeak"
    speech_rules = "espeak"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import espeakng_loader  # noqa: F401
        except ImportError:
            return "not installed (pip install espeakng-loader)"
        return None

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=v, languages=(lang.split("-")[0],), description=f"espeak-ng {v}")
                for lang, v in _VOICES.items()]

    def default_voice(self, language: str) -> str:
        if language in _VOICES:
            return _VOICES[language]
        return super().default_voice(language)

    def resolve_voice(self, language: str, voice: str | None) -> str:
        # espeak-ng has ~100 voices; accept any name it knows rather than only our list.
        if voice is None:
            return self.default_voice(language)
        if voice in _VOICES.values():
            return voice
        lib = _Library.get()
        if lib.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            from ..errors import UnknownVoice
            raise UnknownVoice(f"espeak-ng has no voice {voice!r}")
        lib._voice = voice
        return voice

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Audio:
        lib = _Library.get()
        voice = voice or self.default_voice(language)
        pcm = lib.synthesize(text, voice, self.options.get("rate"), self.options.get("pitch"))
        return Audio(pcm=pcm, sample_rate=lib.sample_rate)
