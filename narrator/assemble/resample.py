"""Band-limited sample-rate conversion by a rational factor, numpy only.

The filter is the one scipy.signal.resample_poly designs (a Kaiser-windowed sinc, beta 5,
ten zero crossings each side at the lower of the two Nyquist frequencies), so the result
matches it; but importing scipy.signal costs 0.6-0.9 s of start-up, more than narrating a
short article, and Pico (16 kHz) is the default voice.

Utterances are independent (each is trimmed and levelled on its own), so each is converted
whole, with zeros beyond its ends, and no state is carried from one to the next. The
output's sample j sits at input time j * down / up: no delay, and ceil(n * up / down)
samples, so durations are kept.
"""
from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

_ZERO_CROSSINGS = 10
_KAISER_BETA = 5.0
# Past this many filter-bank entries (odd rate pairs like 22051 -> 22050), leave it to scipy.
_MAX_BANK = 2_000_000


@lru_cache(maxsize=8)
def _bank(up: int, down: int) -> tuple[np.ndarray, int, int]:
    """A (span, up) matrix that turns `span` input samples starting at `down * b - pad` into
    the `up` output samples of block b; and `pad`, the input samples needed before 0."""
    half = _ZERO_CROSSINGS * max(up, down)  # half the filter, in samples at `up` times the rate
    cutoff = 1.0 / max(up, down)             # relative to the upsampled Nyquist frequency
    taps = np.arange(-half, half + 1, dtype=np.float64)
    h = cutoff * np.sinc(cutoff * taps) * np.kaiser(2 * half + 1, _KAISER_BETA)
    h *= up / h.sum()                        # unit gain at DC once the zeros are stuffed in
    pad = -(-half // up)                     # input samples that reach back before output 0
    span = down + 2 * pad + 1
    bank = np.zeros((span, up), dtype=np.float64)
    for r in range(up):                      # output r of a block, at upsampled time r * down
        t = r * down
        first = -(-(t - half) // up)         # the first input sample within the filter's reach
        for i in range(first, (t + half) // up + 1):
            bank[i + pad, r] = h[t - i * up + half]
    return bank.astype(np.float32), pad, span


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """`samples` (int16 mono) at `from_rate` -> int16 at `to_rate`."""
    if from_rate == to_rate or samples.size == 0:
        return samples
    g = gcd(from_rate, to_rate)
    up, down = to_rate // g, from_rate // g
    n_out = -(-samples.size * up // down)
    if up * (down + 2 * _ZERO_CROSSINGS * max(up, down) // up + 3) > _MAX_BANK:  # bank's size
        from scipy.signal import resample_poly  # rare rate pairs only: slow to import
        out = resample_poly(samples.astype(np.float32), up, down)
    else:
        bank, pad, span = _bank(up, down)
        blocks = -(-n_out // up)
        # Zeros before and after, so every block's window lies inside the buffer.
        x = np.zeros(pad + blocks * down + span, dtype=np.float32)
        x[pad:pad + samples.size] = samples
        windows = np.lib.stride_tricks.as_strided(
            x, shape=(blocks, span), strides=(down * x.strides[0], x.strides[0]), writeable=False)
        out = (windows @ bank).reshape(-1)
    return np.clip(np.rint(out[:n_out]), -32768, 32767).astype("<i2")
