"""Raw PCM -> MP3, by the ffmpeg binary that the imageio-ffmpeg wheel ships (no system
ffmpeg needed). ffmpeg reads the raw file itself, so the audio never passes through Python
memory again.

The utterances arrive already levelled and limited (dynamics.py); this pass applies the small
correction that brings the whole programme to the target, with a lookahead limiter as a
safety net for the peaks that correction lifts, and reports ffmpeg's own EBU R128 reading of
what it encoded.
"""
from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path

from ..errors import AudioError
from .dynamics import MAX_GAIN_DB

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

_INTEGRATED = re.compile(r"Summary:.*?I:\s+(-?[\d.]+|-inf) LUFS", re.S)


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # missing wheel or binary
        raise AudioError(f"ffmpeg is not available ({exc}); reinstall imageio-ffmpeg") from None


def gain_for(measured_lufs: float, target_lufs: float = TARGET_LUFS) -> float:
    if measured_lufs == float("-inf"):
        return 0.0
    return max(-MAX_GAIN_DB, min(MAX_GAIN_DB, target_lufs - measured_lufs))


def encode_mp3(raw_pcm: Path, rate: int, out: Path, *, measured_lufs: float,
               bitrate_kbps: int = 64, target_lufs: float = INPUT_TARGET_LUFS) -> float:
    """Encode; return the integrated loudness (LUFS) of what went into the encoder."""
    limit = 10 ** (LIMIT_DBFS / 20)
    gain = gain_for(measured_lufs, target_lufs)
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-y",
        "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", str(raw_pcm),
        "-af", (f"volume={gain:.3f}dB,alimiter=limit={limit:.4f}:level=false:latency=true,"
                "ebur128=framelog=quiet"),
        "-c:a", "libmp3lame", "-b:a", f"{int(bitrate_kbps)}k",
        "-compression_level", str(LAME_QUALITY), "-ac", "1", "-f", "mp3", str(out),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise AudioError(f"audio encoding failed: {result.stderr.strip()[-500:]}")
    found = _INTEGRATED.search(result.stderr)
    if not found:
        raise AudioError("ffmpeg did not report the loudness of the audio")
    return float(found.group(1))
