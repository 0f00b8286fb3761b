"""PCM stream -> MP3, by the ffmpeg binary that the imageio-ffmpeg wheel ships (no system
ffmpeg needed).

ffmpeg reads the PCM on its standard input while the synthesis is still running, so encoding
overlaps synthesis and no copy of the audio is ever kept, in memory or on disk. That works
because the utterances arrive already levelled to the target and peak-limited
(dynamics.py): no gain has to wait for the end of the programme. A lookahead limiter stays in
ffmpeg's chain as a safety net, and ffmpeg's own EBU R128 scanner reports what it encoded.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from ..errors import AudioError

TARGET_LUFS = -16.0
# Sample-peak ceiling of the limiter. Inter-sample peaks and MP3 coding add up to ~1 dB,
# so -2 dBFS keeps the true peak under -1 dBTP.
LIMIT_DBFS = -2.0
SAFETY_LIMIT_DBFS = -1.2
# LAME's -q: 7 is ~2.5x faster than the default 3 and indistinguishable on speech at 64k.
LAME_QUALITY = 7
# MP3 coding at speech bitrates drops masked high-frequency detail, which K-weighting counts:
# decoded files read 0.4-0.6 LU below the encoder's input (measured on espeak-ng, Piper and
# gTTS speech at 48-96 kbit/s). Aim that much higher so the file itself reads on target.
CODEC_ALLOWANCE_LU = 0.45
# What the encoder's input is levelled to.
INPUT_TARGET_LUFS = TARGET_LUFS + CODEC_ALLOWANCE_LU

_INTEGRATED = re.compile(r"Summary:.*?I:\s+(-?[\d.]+|-inf) LUFS", re.S)


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # missing wheel or binary
        raise AudioError(f"ffmpeg is not available ({exc}); reinstall imageio-ffmpeg") from None


# Pipe ends that only this process may hold. Synthesis workers are forked while an encoder is
# running; a child that inherited the write end of ffmpeg's stdin would keep it open, and
# ffmpeg would wait for the end of its input forever.
_PARENT_ONLY_FDS: set[int] = set()


def _close_parent_only_fds() -> None:
    for fd in list(_PARENT_ONLY_FDS):
        try:
            os.close(fd)
        except OSError:
            pass
    _PARENT_ONLY_FDS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_parent_only_fds)


class Mp3Encoder:
    """Write s16le mono PCM with `write`; `finish` returns the encoded input's loudness."""

    def __init__(self, out: Path, rate: int, bitrate_kbps: int = 64):
        # Only a safety net: set above the levelled audio's own ceiling, so that it never
        # touches speech the leveller already kept under LIMIT_DBFS (its release would
        # otherwise pull down the loudness after every peak).
        limit = 10 ** (SAFETY_LIMIT_DBFS / 20)
        command = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-y",
            "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
            "-af", f"alimiter=limit={limit:.4f}:level=false:latency=true,ebur128=framelog=quiet",
            "-c:a", "libmp3lame", "-b:a", f"{int(bitrate_kbps)}k",
            "-compression_level", str(LAME_QUALITY), "-ac", "1", "-f", "mp3", str(out),
        ]
        # ffmpeg's log goes to a file: a pipe nobody reads until the end could fill and stall it.
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=self._log)
        self._stdin_fd = self._process.stdin.fileno()
        try:  # a 1 MB pipe lets synthesis run ahead while ffmpeg encodes (Linux)
            import fcntl
            fcntl.fcntl(self._stdin_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        except (ImportError, AttributeError, OSError):
            pass
        _PARENT_ONLY_FDS.add(self._stdin_fd)

    def _release(self) -> None:
        _PARENT_ONLY_FDS.discard(self._stdin_fd)

    def _failure(self) -> AudioError:
        self._release()
        self._process.kill()
        self._process.wait()
        self._log.seek(0)
        detail = self._log.read().decode("utf-8", "replace").strip()[-500:]
        return AudioError(f"audio encoding failed: {detail or 'ffmpeg stopped'}")

    def write(self, pcm: bytes) -> None:
        try:
            self._process.stdin.write(pcm)
        except (BrokenPipeError, ValueError):
            raise self._failure() from None

    def finish(self) -> float:
        self._release()
        try:
            self._process.stdin.close()
        except BrokenPipeError:
            raise self._failure() from None
        if self._process.wait() != 0:
            raise self._failure()
        self._log.seek(0)
        log = self._log.read().decode("utf-8", "replace")
        self._log.close()
        found = _INTEGRATED.search(log)
        if not found:
            raise AudioError("ffmpeg did not report the loudness of the audio")
        return float(found.group(1))

    def abort(self) -> None:
        self._release()
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._log.close()
