"""One narration job as a value: its id, its fields, and the names of its files.

A job's id is a hash of what decides the audio (the page bytes and the narration options), so
the same article submitted twice, even at the same moment, is one job and one narration. Its
files are served under fixed public names (`SIDE_FILES`), never under a name taken from a
request.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_INTERRUPTIONS = 3  # server deaths in the middle of one job before it is failed
SIDE_FILES = {  # public name -> file name in the job's folder (never derived from a request)
    "audio.mp3": "audio.mp3",
    "chapters.json": "audio.chapters.json",
    "chapters.vtt": "audio.chapters.vtt",
    "transcript.vtt": "audio.transcript.vtt",
}
STATUSES = ("queued", "running", "done", "failed")


def job_id(html: bytes, options: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(options, sort_keys=True, separators=(",", ":")).encode())
    h.update(b"\0")
    h.update(html)
    return h.hexdigest()[:32]


def valid_id(value: str) -> bool:
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def links(id: str) -> dict:
    """Where the HTTP API serves a finished job and its files."""
    base = f"/v1/narrations/{id}"
    return {"self": base, "embed": f"/embed/{id}", "audio": f"{base}/audio.mp3",
            "chapters": f"{base}/chapters.json", "chapters_vtt": f"{base}/chapters.vtt",
            "transcript": f"{base}/transcript.vtt", "meta": f"{base}/meta.json"}


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    done: int
    total: int
    error: str | None
    url: str | None
    options: dict
    title: str | None
    language: str | None
    duration: float | None
    attempts: int
    created: float
    updated: float
    interrupted: int = 0  # servers that died in the middle of it since it was last submitted
    spoken: str | None = None  # hash of what the narration says (see runner.spoken_hash)
    cache_hits: int | None = None  # synthesis cache of its narration
    cache_misses: int | None = None
    started: float | None = None  # when its narration last started

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return round(self.done / self.total, 4) if self.total else 0.0
