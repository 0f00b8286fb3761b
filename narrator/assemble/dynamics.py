"""Level each utterance to the target loudness and keep its peaks under a ceiling.

Done per utterance, while the timeline is laid out, because utterances are separated by
silence: a limiter never has to look across one, and levelling makes a sentence from a
quieter voice (a quote voice, another engine's take from the cache) sit at the same level as
its neighbours. The final encode then only applies a small correction.
"""
from __future__ import annotations

import numpy as np

from .loudness import block_energies, gated_loudness, k_weighting_power

MAX_GAIN_DB = 30.0  # never blow up near-silence into noise
_LIMIT_BLOCK_S = 0.005  # limiter resolution: 5 ms of look-ahead and release per side


def limit(x: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """Peak-limit float samples to |x| <= ceiling without clicks.

    The gain is computed per 5 ms block (ceiling / block peak, at most 1), lowered to the
    smallest of each block and its two neighbours, and interpolated linearly between block
    centres: every sample's gain is then at most the one its own block needs, so the ceiling
    holds, and the gain moves smoothly over 10 ms instead of jumping.
    """
    n = max(1, int(rate * _LIMIT_BLOCK_S))
    if x.size == 0 or np.max(np.abs(x)) <= ceiling:
        return x
    padded = np.pad(np.abs(x), (0, -x.size % n))
    peaks = padded.reshape(-1, n).max(axis=1)
    gains = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    smoothed = gains.copy()
    smoothed[1:] = np.minimum(smoothed[1:], gains[:-1])
    smoothed[:-1] = np.minimum(smoothed[:-1], gains[1:])
    centres = np.arange(smoothed.size) * n + (n - 1) / 2
    # Only samples in or next to a block that needs less than unit gain are interpolated;
    # speech peaks are sparse, so that is a small part of the utterance.
    reduced = smoothed < 1.0
    near = reduced.copy()
    near[1:] |= reduced[:-1]
    near[:-1] |= reduced[1:]
    envelope = np.ones(x.size)
    where = np.flatnonzero(np.repeat(near, n)[:x.size])
    envelope[where] = np.interp(where, centres, smoothed)
    return np.clip(x * envelope, -ceiling, ceiling)


class Leveller:
    """Per-utterance gain to `target_lufs`, then the limiter; remembers the last gain for
    utterances too short to measure (under 400 ms)."""

    def __init__(self, rate: int, target_lufs: float, ceiling_dbfs: float):
        self.rate = rate
        self.goal = target_lufs  # for the programme
        self.target = target_lufs  # for the next utterance
        self.ceiling = 10 ** (ceiling_dbfs / 20)
        self._step = rate // 10
        self._weights = k_weighting_power(rate, self._step)
        self._gain_db: float | None = None
        self._pad = 0

    def _loudness(self, x: np.ndarray) -> float:
        # Measured with the silence that will follow it, as the programme's own 400 ms blocks
        # will see it: blocks across the edge of speech count there too.
        padded = np.concatenate([x, np.zeros(self._pad)])
        return gated_loudness(block_energies(padded, self._step, self._weights), self._step)

    def steer(self, programme_lufs: float) -> None:
        """Correct the per-utterance target by how far the whole programme so far is off.

        A programme of levelled sentences reads a little below each sentence (the pauses
        and the edges of speech enter its 400 ms blocks differently), by an amount that
        depends on the voice and the pauses; an integral correction learns it within a
        few sentences."""
        if programme_lufs != float("-inf"):
            error = self.goal - programme_lufs
            self.target = float(np.clip(self.target + 0.5 * error, self.goal - 3, self.goal + 3))

    def process(self, samples: np.ndarray, pause_samples: int = 0) -> np.ndarray:
        """`samples` levelled and limited; `pause_samples` of silence will follow them."""
        self._pad = pause_samples
        x = samples.astype(np.float64) / 32768.0
        measured = self._loudness(x)
        if measured == float("-inf"):
            gain_db = self._gain_db if self._gain_db is not None else 0.0
            out = limit(x * 10 ** (gain_db / 20), self.ceiling, self.rate)
        else:
            gain_db = float(np.clip(self.target - measured, -MAX_GAIN_DB, MAX_GAIN_DB))
            out = limit(x * 10 ** (gain_db / 20), self.ceiling, self.rate)
            # Limiting takes some loudness away; make it up once (this converges fast:
            # the extra gain is small, so little more gets limited).
            after = self._loudness(out)
            if after != float("-inf") and abs(self.target - after) > 0.1:
                gain_db = float(np.clip(gain_db + self.target - after, -MAX_GAIN_DB,
                                        MAX_GAIN_DB))
                out = limit(x * 10 ** (gain_db / 20), self.ceiling, self.rate)
            self._gain_db = gain_db
        return np.round(out * 32767).astype("<i2")
