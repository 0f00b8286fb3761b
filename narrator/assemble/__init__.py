"""Assemble: utterance audio -> the MP3 (normalised, tagged, chaptered) and its sidecars.

Every output is first written under a temporary name in the destination folder and renamed
into place only when all of them are complete, the MP3 last: a failure at any point leaves
what was there before untouched and no half-written file. The MP3 is encoded while the
utterances are synthesized (encode.py).
"""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Iterable

from ..errors import AudioError
from ..model import Audio, Narration, Script
from .encode import CODEC_ALLOWANCE_LU, INPUT_TARGET_LUFS, LIMIT_DBFS, TARGET_LUFS, Mp3Encoder
from .encode import check_bitrate as check_bitrate_at
from .sidecars import chapters_json, webvtt
from .tags import write_tags
from .timeline import RATE, lay_out

__all__ = ["assemble", "output_paths", "check_bitrate", "TARGET_LUFS"]


def check_bitrate(kbps: int) -> int:
    """`kbps` if an MP3 at narrator's sample rate can use it, else a clear InputError."""
    return check_bitrate_at(kbps, RATE)


def output_paths(out_mp3: Path) -> dict[str, Path]:
    stem = out_mp3.with_suffix("") if out_mp3.suffix.lower() == ".mp3" else out_mp3
    return {
        "mp3": out_mp3,
        "chapters_json": stem.with_name(stem.name + ".chapters.json"),
        "chapters_vtt": stem.with_name(stem.name + ".chapters.vtt"),
        "transcript_vtt": stem.with_name(stem.name + ".transcript.vtt"),
    }


def _temp_beside(path: Path, stack: ExitStack) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # a read-only folder, no permission, a full disk
        raise AudioError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    os.close(fd)
    temp = Path(name)
    stack.callback(lambda: temp.unlink(missing_ok=True))
    return temp


def assemble(script: Script, audio: Iterable[Audio], out_mp3: Path, *, engine: str, voice: str,
             bitrate_kbps: int = 64, timings: dict | None = None,
             background_encoding: bool = True) -> Narration:
    """`background_encoding`: encode on a thread of its own, beside synthesis and levelling
    (worth it when the narration may use more than one core)."""
    timings = timings if timings is not None else {}
    out_mp3 = Path(out_mp3)
    paths = output_paths(out_mp3)
    with ExitStack() as stack:
        temps = {key: _temp_beside(path, stack) for key, path in paths.items()}
        started = time.perf_counter()
        encoder = Mp3Encoder(temps["mp3"], RATE, bitrate_kbps, background=background_encoding)
        stack.callback(encoder.abort)
        # Pulls synthesis through; the audio is encoded as it arrives.
        timeline, loudness = lay_out(script, audio, encoder, RATE, target_lufs=INPUT_TARGET_LUFS,
                                     ceiling_dbfs=LIMIT_DBFS)
        timings["synthesize+layout+encode"] = time.perf_counter() - started
        started = time.perf_counter()
        encoder.finish()
        author = ", ".join(script.meta.authors) or script.meta.site_name
        write_tags(temps["mp3"], title=script.title, language=script.language, meta=script.meta,
                   timeline=timeline, engine=engine, voice=voice)
        try:
            temps["chapters_json"].write_text(chapters_json(
                timeline, title=script.title, author=author, file_name=out_mp3.name,
                engine=engine, voice=voice), encoding="utf-8")
            temps["chapters_vtt"].write_text(webvtt(timeline.chapters, "chapter"),
                                             encoding="utf-8")
            temps["transcript_vtt"].write_text(webvtt(timeline.utterances, "cue"),
                                               encoding="utf-8")
            for key in ("chapters_json", "chapters_vtt", "transcript_vtt", "mp3"):
                os.chmod(temps[key], 0o644)
                os.replace(temps[key], paths[key])
        except OSError as exc:  # a full disk, a folder that went away or became read-only
            raise AudioError(f"cannot write {out_mp3}: {exc.strerror or exc}") from None
        timings["encode-tail+tags"] = time.perf_counter() - started
    return Narration(
        mp3_path=str(paths["mp3"]), chapters_json_path=str(paths["chapters_json"]),
        chapters_vtt_path=str(paths["chapters_vtt"]),
        transcript_vtt_path=str(paths["transcript_vtt"]), timeline=timeline, engine=engine,
        voice=voice, loudness_lufs=loudness - CODEC_ALLOWANCE_LU, stage_seconds=timings)
