"""The chapter and transcript files written beside the MP3, from the same Timeline."""
from __future__ import annotations

import json

from ..model import Span, Timeline


def _round(seconds: float) -> float:
    return round(seconds, 3)


def chapters_json(timeline: Timeline, *, title: str, author: str | None, file_name: str,
                  engine: str, voice: str) -> str:
    """Podcasting 2.0 JSON chapters (application/json+chapters), version 1.2.0."""
    document = {
        "version": "1.2.0",
        "title": title,
        **({"author": author} if author else {}),
        "fileName": file_name,
        "chapters": [{"startTime": _round(c.start), "endTime": _round(c.end), "title": c.title}
                     for c in timeline.chapters],
        # Not in the spec; readers ignore unknown keys. Says which voice read it.
        "narrator": {"engine": engine, "voice": voice, "duration": _round(timeline.duration)},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _vtt_text(text: str) -> str:
    # A cue payload may not contain "-->" nor a blank line; & and < must be escaped.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def webvtt(spans: tuple[Span, ...], kind: str) -> str:
    lines = ["WEBVTT", f"NOTE narrator {kind}", ""]
    for i, span in enumerate(spans, 1):
        lines += [f"{kind}-{i}", f"{_timestamp(span.start)} --> {_timestamp(span.end)}",
                  _vtt_text(span.title), ""]
    return "\n".join(lines)
