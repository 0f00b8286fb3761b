"""ID3v2.4 tags and chapters (CHAP frames under one top-level, ordered CTOC) with mutagen."""
from __future__ import annotations

from pathlib import Path

from mutagen.id3 import (CHAP, CTOC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, TSSE, TXXX, WOAS,
                         CTOCFlags)
from mutagen import MutagenError
from mutagen.mp3 import MP3

from ..errors import AudioError
from ..model import Metadata, Timeline

# ISO 639-1 -> ISO 639-2/B, which TLAN requires.
_ISO639_2 = {"fr": "fre", "en": "eng", "de": "ger", "es": "spa", "it": "ita", "pt": "por",
             "nl": "dut", "pl": "pol", "sv": "swe", "da": "dan", "nb": "nob", "fi": "fin",
             "ca": "cat"}
_NO_OFFSET = 0xFFFFFFFF


class _TimeOrderedID3(ID3):
    """mutagen writes the frames of one kind by decreasing size, so CHAP frames come out
    longest title first; some players (Apple Podcasts) show chapters in file order. Here CHAP
    frames are written in time order, after the others. `_write` and `save_frame` are
    mutagen's internals (1.45-1.48): if they change, mutagen's own order is kept."""

    def _write(self, config):
        try:
            from mutagen.id3._tags import save_frame
        except ImportError:  # pragma: no cover - another mutagen
            return super()._write(config)
        chapters = sorted(self.getall("CHAP"), key=lambda f: f.start_time)
        for frame in chapters:
            del self[frame.HashKey]
        try:
            data = super()._write(config)
        finally:
            for frame in chapters:
                self.add(frame)
        return data + bytearray().join(save_frame(f, config=config) for f in chapters)


def write_tags(mp3_path: Path, *, title: str, language: str, meta: Metadata, timeline: Timeline,
               engine: str, voice: str) -> None:
    tags = _TimeOrderedID3()
    tags.add(TIT2(encoding=3, text=title))
    artist = ", ".join(meta.authors) or meta.site_name
    if artist:
        tags.add(TPE1(encoding=3, text=artist))
    if meta.site_name:
        tags.add(TALB(encoding=3, text=meta.site_name))
    tags.add(TLAN(encoding=3, text=_ISO639_2.get(language, language)))
    if meta.published:
        tags.add(TDRC(encoding=3, text=meta.published[:10]))
    source = meta.canonical_url or meta.source_url
    if source:
        tags.add(WOAS(url=source))
    tags.add(TSSE(encoding=3, text="narrator"))
    tags.add(TXXX(encoding=3, desc="narrator:engine", text=engine))
    tags.add(TXXX(encoding=3, desc="narrator:voice", text=voice))
    ids = [f"chp{i}" for i in range(len(timeline.chapters))]
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=title)]))
    for element_id, span in zip(ids, timeline.chapters):
        tags.add(CHAP(element_id=element_id, start_time=round(span.start * 1000),
                      end_time=round(span.end * 1000), start_offset=_NO_OFFSET,
                      end_offset=_NO_OFFSET, sub_frames=[TIT2(encoding=3, text=span.title)]))
    try:
        tags.save(str(mp3_path), v2_version=4)
    except (OSError, MutagenError) as exc:  # a full disk; mutagen wraps the OSError
        reason = getattr(exc.__cause__ or exc, "strerror", None) or exc
        raise AudioError(f"cannot write the MP3's tags: {reason}") from None


def read_chapters(mp3_path: Path) -> list[tuple[float, float, str]]:
    """(start s, end s, title) in time order (files written by other tools may differ)."""
    tags = MP3(str(mp3_path)).tags
    chapters = [(f.start_time / 1000, f.end_time / 1000, str(f.sub_frames["TIT2"].text[0]))
                for f in tags.getall("CHAP")]
    return sorted(chapters)
