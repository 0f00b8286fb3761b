"""LAME, the MP3 encoder, called in this process through ctypes.

The library comes from the `lameenc` wheel, whose extension module links LAME in and exports
its whole C API; a system libmp3lame is the fallback. The C API rather than lameenc's Python
class because only the C API tells the encoder delay, padding and frame count that go into
the file's tag frame (mp3tag.py), and ctypes releases the GIL during each call, so an encoder
thread runs beside Python code.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

from ..errors import AudioError

_MONO = 3
_VBR_OFF = 0


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, i, buf = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures = {
        "lame_init": (p, []),
        "lame_close": (i, [p]),
        "lame_init_params": (i, [p]),
        "lame_set_in_samplerate": (i, [p, i]),
        "lame_set_out_samplerate": (i, [p, i]),
        "lame_set_num_channels": (i, [p, i]),
        "lame_set_mode": (i, [p, i]),
        "lame_set_brate": (i, [p, i]),
        "lame_set_VBR": (i, [p, i]),
        "lame_set_quality": (i, [p, i]),
        "lame_set_bWriteVbrTag": (i, [p, i]),
        "lame_set_write_id3tag_automatic": (None, [p, i]),
        "lame_encode_buffer": (i, [p, p, p, i, buf, i]),
        "lame_encode_flush": (i, [p, buf, i]),
        "lame_get_encoder_delay": (i, [p]),
        "lame_get_encoder_padding": (i, [p]),
        "lame_get_frameNum": (i, [p]),
        "lame_get_lowpassfreq": (i, [p]),
        "get_lame_version": (ctypes.c_char_p, []),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL:
    candidates = []
    try:
        import lameenc
        candidates.append(lameenc.__file__)
    except ImportError:
        pass
    system = ctypes.util.find_library("mp3lame")
    if system:
        candidates.append(system)
    problems = []
    for path in candidates:
        try:
            return _bind(ctypes.CDLL(path))
        except (OSError, AttributeError) as exc:
            problems.append(f"{path}: {exc}")
    detail = "; ".join(problems) or "lameenc is not installed and there is no libmp3lame"
    raise AudioError(f"no usable MP3 encoder ({detail}); reinstall narrator's dependencies")


def version() -> str:
    return library().get_lame_version().decode()


class Lame:
    """One CBR mono stream without a tag frame: `encode` s16le PCM, then `flush`."""

    def __init__(self, rate: int, bitrate_kbps: int, quality: int):
        self._lib = library()
        self._gfp = self._lib.lame_init()
        if not self._gfp:
            raise AudioError("LAME could not allocate an encoder")
        lib, gfp = self._lib, self._gfp
        for setter, value in ((lib.lame_set_in_samplerate, rate),
                              (lib.lame_set_out_samplerate, rate),  # no resampling inside LAME
                              (lib.lame_set_num_channels, 1), (lib.lame_set_mode, _MONO),
                              (lib.lame_set_VBR, _VBR_OFF), (lib.lame_set_brate, bitrate_kbps),
                              (lib.lame_set_quality, quality), (lib.lame_set_bWriteVbrTag, 0)):
            setter(gfp, value)
        lib.lame_set_write_id3tag_automatic(gfp, 0)  # mutagen writes the tags afterwards
        if lib.lame_init_params(gfp) < 0:
            self.close()
            raise AudioError(f"LAME refused {bitrate_kbps} kbit/s at {rate} Hz")

    def encode(self, pcm: bytes) -> bytes:
        samples = len(pcm) // 2
        out = ctypes.create_string_buffer(samples * 5 // 4 + 7200)  # LAME's worst case
        pointer = ctypes.cast(ctypes.c_char_p(pcm), ctypes.c_void_p)
        size = self._lib.lame_encode_buffer(self._gfp, pointer, pointer, samples, out, len(out))
        if size < 0:
            raise AudioError(f"LAME failed to encode (error {size})")
        return out.raw[:size]

    def flush(self) -> bytes:
        out = ctypes.create_string_buffer(7200)
        size = self._lib.lame_encode_flush(self._gfp, out, len(out))
        if size < 0:
            raise AudioError(f"LAME failed to flush (error {size})")
        return out.raw[:size]

    @property
    def encoder_delay(self) -> int:
        return self._lib.lame_get_encoder_delay(self._gfp)

    @property
    def padding(self) -> int:
        """Samples of padding at the end; known after `flush`."""
        return self._lib.lame_get_encoder_padding(self._gfp)

    @property
    def frames(self) -> int:
        return self._lib.lame_get_frameNum(self._gfp)

    @property
    def lowpass_hz(self) -> int:
        return self._lib.lame_get_lowpassfreq(self._gfp)

    def close(self) -> None:
        if self._gfp:
            self._lib.lame_close(self._gfp)
            self._gfp = None
