"""The typed values that flow between the stages.

    HTML bytes --extract--> Article --script--> Script --synthesize--> Audio... --assemble--> Narration

Every value is immutable, so a stage can never change what an earlier stage produced.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union


# ----------------------------------------------------------------------------- Article


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Quote:
    """A pull-quote or block quotation, with who said it (None when the page does not say)."""

    text: str
    attribution: str | None = None


@dataclass(frozen=True)
class ListBlock:
    items: tuple[str, ...]
    ordered: bool = False


Block = Union[Paragraph, Quote, ListBlock]


@dataclass(frozen=True)
class Section:
    """An optional cross-head and the blocks under it. `level` is the heading's h-level."""

    heading: str | None
    blocks: tuple[Block, ...]
    level: int = 2


@dataclass(frozen=True)
class Metadata:
    title: str = ""
    subtitle: str | None = None
    description: str | None = None  # the page's meta description (og:, name=, twitter:)
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO 8601 as found on the page
    modified: str | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class Article:
    title: str
    language: str  # BCP 47 primary subtag, lower case: "fr", "en"
    sections: tuple[Section, ...]
    meta: Metadata = field(default_factory=Metadata)
    # The site's pronunciation lexicon (word -> how to say it), from the rules that matched.
    lexicon: tuple[tuple[str, str], ...] = ()

    def blocks(self):
        for section in self.sections:
            yield from section.blocks


# ----------------------------------------------------------------------------- Script

UtteranceKind = Literal["title", "heading", "paragraph", "quote", "list_item"]


@dataclass(frozen=True)
class Utterance:
    """One sentence-sized piece of speech.

    `text` is what a reader sees (transcript, extract preview); `speech` is what the engine
    is given after speech normalisation (numbers spelled out, abbreviations expanded...).
    `pause_ms` is the silence that follows it.
    """

    text: str
    speech: str
    kind: UtteranceKind = "paragraph"
    pause_ms: int = 0
    role: Literal["narrator", "quote"] = "narrator"


@dataclass(frozen=True)
class Chapter:
    title: str
    utterances: tuple[Utterance, ...]


@dataclass(frozen=True)
class Script:
    title: str
    language: str
    chapters: tuple[Chapter, ...]
    meta: Metadata = field(default_factory=Metadata)

    def utterances(self):
        for chapter in self.chapters:
            yield from chapter.utterances


# ----------------------------------------------------------------------------- Audio


@dataclass(frozen=True)
class Audio:
    """One utterance as an engine spoke it: signed 16-bit little-endian mono PCM."""

    pcm: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


# ----------------------------------------------------------------------------- Narration


@dataclass(frozen=True)
class Span:
    """A stretch of the final audio, in seconds from its start."""

    start: float
    end: float
    title: str


@dataclass(frozen=True)
class Timeline:
    """The one source of timing truth: ID3 chapters, JSON and VTT sidecars all read it."""

    chapters: tuple[Span, ...]
    utterances: tuple[Span, ...]  # title = the utterance's display text
    duration: float


@dataclass(frozen=True)
class Narration:
    """What `narrate` produced: the files and the timeline inside them."""

    mp3_path: str
    chapters_json_path: str
    chapters_vtt_path: str
    transcript_vtt_path: str
    timeline: Timeline
    engine: str
    voice: str
    loudness_lufs: float  # the encoder input's loudness, less the codec allowance
    stage_seconds: dict = field(default_factory=dict)
    engine_choice: str = ""  # why engine "auto" chose this engine and voice ("" if not auto)
    cache: dict = field(default_factory=dict)  # synthesis cache {"hits", "misses", "errors"}
