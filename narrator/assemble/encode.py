"""PCM stream -> MP3 file, encoded by LAME in this process (lame.py).

The levelled utterances arrive one by one and are encoded as they come, so no copy of the
whole programme is ever kept, in memory or on disk. When the narration has more than one
core to itself (a single `narrate`), a thread encodes while the caller synthesizes and levels
the next utterances (LAME runs without the GIL); a batch worker, which owns one core, encodes
in its own thread of control: a second busy thread there would only compete with its
neighbours for the same cores.
"""
from __future__ import annotations

import queue
import threading
from pathlib import Path

from ..errors import AudioError, InputError
from .lame import Lame
from .mp3tag import bitrates, tag_frame, tag_frame_size

TARGET_LUFS = -16.0
# Sample-peak ceiling of the limiter. Inter-sample peaks and MP3 coding add up to ~1 dB,
# so -2 dBFS keeps the true peak under -1 dBTP.
LIMIT_DBFS = -2.0
# LAME's -q: 7 is ~2.5x faster than the default 3 and indistinguishable on speech at 64k.
LAME_QUALITY = 7
# MP3 coding at speech bitrates drops masked high-frequency detail, which K-weighting counts:
# decoded files read 0.4-0.6 LU below the encoder's input (measured on espeak-ng, Piper and
# gTTS speech at 48-96 kbit/s). Aim that much higher so the file itself reads on target.
CODEC_ALLOWANCE_LU = 0.45
# What the encoder's input is levelled to.
INPUT_TARGET_LUFS = TARGET_LUFS + CODEC_ALLOWANCE_LU

_QUEUE_CHUNKS = 32  # utterances waiting for the encoder thread: a bounded amount of audio
_DONE = None


def check_bitrate(kbps: int, rate: int) -> int:
    """`kbps` if a mono MP3 at `rate` can use it, else an InputError naming those it can."""
    allowed = bitrates(rate)
    if kbps not in allowed:
        raise InputError(f"the MP3 bitrate must be one of {', '.join(map(str, allowed))} kbit/s"
                         f" (mono at {rate} Hz), not {kbps}")
    return kbps


class Mp3Encoder:
    """Write s16le mono PCM with `write`, then `finish` (or `abort`)."""

    def __init__(self, out: Path, rate: int, bitrate_kbps: int = 64, *, background: bool = False):
        self._rate, self._kbps = rate, check_bitrate(int(bitrate_kbps), rate)
        self._lame = Lame(rate, self._kbps, LAME_QUALITY)
        self._file = None
        try:
            self._file = open(out, "wb")
            # the tag frame's place, filled by finish()
            self._file.write(bytes(tag_frame_size(rate, self._kbps)))
        except OSError as exc:
            if self._file is not None:
                self._file.close()
            self._lame.close()
            raise AudioError(f"cannot write {out}: {exc.strerror or exc}") from None
        self._error: BaseException | None = None
        self._background = background
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None

    def _start_thread(self) -> None:
        # Started at the first write, not before: the synthesis stage may fork its worker
        # processes when the stream is first read, and a process should not fork while one
        # of its threads is running.
        self._queue = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._thread = threading.Thread(target=self._drain, name="mp3-encoder", daemon=True)
        self._thread.start()

    def _encode(self, pcm: bytes) -> None:
        try:
            self._file.write(self._lame.encode(pcm))
        except OSError as exc:  # a full disk, a vanished folder
            raise AudioError(f"cannot write the MP3: {exc.strerror or exc}") from None

    def _drain(self) -> None:
        while True:
            pcm = self._queue.get()
            if pcm is _DONE:
                return
            if self._error is None:
                try:
                    self._encode(pcm)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def _raise_pending(self) -> None:
        # The error stays set: the encoder thread then skips the audio still queued.
        error = self._error
        if error is not None:
            raise error if isinstance(error, AudioError) else AudioError(
                f"audio encoding failed: {error}") from error

    def write(self, pcm: bytes) -> None:
        self._raise_pending()
        if self._background and self._thread is None:
            self._start_thread()
        if self._thread is not None:
            self._queue.put(pcm)
        else:
            self._encode(pcm)

    def _stop_thread(self) -> None:
        self._background = False  # no new thread after finish or abort
        if self._thread is not None:
            self._queue.put(_DONE)
            self._thread.join()
            self._thread = None

    def finish(self) -> None:
        """Encode what is left and put the LAME tag frame in front: the file is complete."""
        try:
            self._stop_thread()
            self._raise_pending()
            self._file.write(self._lame.flush())
            lame = self._lame
            frame = tag_frame(rate=self._rate, stream_kbps=self._kbps, frames=lame.frames,
                              stream_bytes=self._file.tell(), encoder_delay=lame.encoder_delay,
                              padding=lame.padding, quality=LAME_QUALITY,
                              lowpass_hz=lame.lowpass_hz)
            self._file.seek(0)
            self._file.write(frame)
            self._file.close()
        except OSError as exc:
            raise AudioError(f"cannot write the MP3: {exc.strerror or exc}") from None
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop without a usable file (the caller removes it); safe to call more than once."""
        if self._thread is not None:
            self._error = self._error or AudioError("aborted")  # skip the queued audio
            self._stop_thread()
        self._lame.close()
        if not self._file.closed:
            self._file.close()
