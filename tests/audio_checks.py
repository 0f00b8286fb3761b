"""Independent checks of narrator's audio outputs, used by several test modules.

They read the files the way a player or a validator would (ffmpeg, mutagen, json), never
through narrator's own timeline objects."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
from mutagen.id3 import ID3

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def decode_errors(mp3: Path) -> str:
    """ffmpeg's error output when decoding the whole file ("" = clean)."""
    result = subprocess.run([FFMPEG, "-v", "error", "-xerror", "-i", str(mp3), "-f", "null", "-"],
                            capture_output=True, text=True)
    return result.stderr.strip() if result.returncode == 0 else (result.stderr or "failed")


def decoded_duration(mp3: Path, rate: int = 22050) -> float:
    pcm = subprocess.run([FFMPEG, "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1",
                          "-ar", str(rate), "-"], capture_output=True, check=True).stdout
    return len(pcm) / 2 / rate


def loudness(mp3: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) measured by ffmpeg's ebur128 filter."""
    err = subprocess.run([FFMPEG, "-hide_banner", "-nostats", "-i", str(mp3), "-af",
                          "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    summary = err[err.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def id3_chapters(mp3: Path) -> list[tuple[float, float, str]]:
    tags = ID3(str(mp3))
    chapters = [(f.start_time / 1000, f.end_time / 1000, str(f.sub_frames["TIT2"].text[0]))
                for f in tags.getall("CHAP")]
    return sorted(chapters)


def toc(mp3: Path):
    tocs = ID3(str(mp3)).getall("CTOC")
    assert len(tocs) == 1, tocs
    return tocs[0]


def json_chapters(path: Path) -> list[tuple[float, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == "1.2.0"
    return [(c["startTime"], c["title"]) for c in data["chapters"]]


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT")
    cues = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            if "-->" in line:
                start, end = [part.strip() for part in line.split("-->")]
                cues.append((_seconds(start), _seconds(end), " ".join(lines[i + 1:])))
    return cues
