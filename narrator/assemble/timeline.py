"""Lay utterance audio end to end on one timeline, streaming it to the encoder.

Each utterance is resampled to the narration rate, trimmed of the engine's own leading and
trailing silence (engines differ; the script's pauses are what the listener should hear),
levelled and peak-limited (dynamics.py), and written once. Nothing is concatenated in memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Protocol

import numpy as np

from ..model import Audio, Script, Span, Timeline, Utterance
from .dynamics import Leveller
from .loudness import ProgrammeMeter
from .resample import resample

RATE = 22050
_SILENCE_THRESHOLD = 10 ** (-50 / 20) * 32768  # -50 dBFS
_EDGE_KEEP = int(0.03 * RATE)  # keep 30 ms around speech so onsets are not clipped


def to_rate(audio: Audio, rate: int = RATE) -> np.ndarray:
    """The utterance's samples at `rate` (Pico speaks at 16 kHz, gTTS at 24 kHz)."""
    return resample(np.frombuffer(audio.pcm, dtype="<i2"), audio.sample_rate, rate)


def trim_silence(samples: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_THRESHOLD)
    if loud.size == 0:
        return samples[:0]
    start = max(0, loud[0] - _EDGE_KEEP)
    end = min(samples.size, loud[-1] + 1 + _EDGE_KEEP)
    return samples[start:end]


class Sink(Protocol):
    def write(self, pcm: bytes) -> object: ...


@dataclass
class TimelineWriter:
    """Writes PCM to `sink` and records where every utterance and chapter falls."""

    sink: Sink
    rate: int = RATE
    target_lufs: float = -16.0
    ceiling_dbfs: float = -2.0
    meter: ProgrammeMeter = field(init=False)  # the programme's loudness, pauses included
    leveller: Leveller = field(init=False)
    position: int = 0  # samples written so far
    utterance_spans: list[Span] = field(default_factory=list)

    def __post_init__(self):
        self.leveller = Leveller(self.rate, self.target_lufs, self.ceiling_dbfs)
        self.meter = ProgrammeMeter(self.rate)

    def _write(self, samples: np.ndarray) -> None:
        if samples.size:
            self.sink.write(samples.astype("<i2").tobytes())
            self.meter.add(samples)
            self.position += samples.size

    def add(self, utterance: Utterance, audio: Audio) -> None:
        pause = int(self.rate * utterance.pause_ms / 1000)
        if self.meter.seconds >= 3:
            self.leveller.steer(self.meter.integrated())
        speech = self.leveller.process(trim_silence(to_rate(audio, self.rate)), pause)
        start = self.position / self.rate
        self._write(speech)
        self.utterance_spans.append(Span(start, self.position / self.rate, utterance.text))
        self._write(np.zeros(pause, dtype="<i2"))

    @property
    def duration(self) -> float:
        return self.position / self.rate


def lay_out(script: Script, audio: Iterable[Audio], sink: Sink, rate: int = RATE, *,
            target_lufs: float = -16.0, ceiling_dbfs: float = -2.0) -> tuple[Timeline, float]:
    """Consume `audio` (one per utterance, in script order) into `sink`; return the timeline
    and the integrated loudness (LUFS) of everything written, pauses included.

    Chapters are contiguous: each starts where its first utterance starts (the first at 0)
    and ends where the next one starts; the last ends at the end of the audio.
    """
    writer = TimelineWriter(sink, rate, target_lufs, ceiling_dbfs)
    chapter_starts: list[tuple[float, str]] = []
    stream: Iterator[Audio] = iter(audio)
    for chapter in script.chapters:
        chapter_starts.append((writer.duration, chapter.title))
        for utterance in chapter.utterances:
            writer.add(utterance, next(stream))
    total = writer.duration
    chapters = []
    for i, (start, title) in enumerate(chapter_starts):
        end = chapter_starts[i + 1][0] if i + 1 < len(chapter_starts) else total
        chapters.append(Span(0.0 if i == 0 else start, end, title))
    return (Timeline(tuple(chapters), tuple(writer.utterance_spans), total),
            writer.meter.integrated())
