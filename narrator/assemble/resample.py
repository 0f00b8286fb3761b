"""Band-limited sample-rate conversion by a rational factor, numpy only.

The filter is the one scipy.signal.resample_poly designs (a Kaiser-windowed sinc, beta 5,
ten zero crossings each side at the lower of the two Nyquist frequencies), so the result
matches it; but importing scipy.signal costs 0.6-0.9 s of start-up, more than narrating a
short article, and Pico (16 kHz) is the default voice.

Utterances are independent (each is trimmed and levelled on its own), so each is converted
whole, with zeros beyond its ends, and no state is carried from one to the next. The
output's sample j sits at input time j * down / up: no delay, and ceil(n * up / down)
samples, so durations are kept. The sums are in double precision: BLAS kernels add in
different orders on different CPUs, and in single precision that moves a sum across a
rounding boundary often enough to change some 16-bit samples.
"""
from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

_ZERO_CROSSINGS = 10
_KAISER_BETA = 5.0
_GROUP = 32  # output samples per matrix product
# OpenBLAS multiplies on one thread below m*n*k = 262144 (its SMP threshold).
_SINGLE_THREAD_FLOPS = 200_000
# Odd rate pairs (22051 -> 22050) would need a huge filter bank: those go to scipy.
_MAX_RATIO_PRODUCT = 1_000_000


@lru_cache(maxsize=8)
def _bank(up: int, down: int) -> tuple[int, tuple[tuple[int, int, int, np.ndarray], ...]]:
    """The polyphase filter as small matrices. Block b of `up` output samples starts at input
    sample `down * b`; its outputs are cut into groups, and group (lo, hi) is the product of
    `span` input samples from `down * b + offset` with a (span, hi - lo) matrix. Groups keep
    each product small (a whole block's matrix would be mostly zeros) and let BLAS read the
    input in place (a window shorter than `down`). Returns (pad, groups): `pad` input samples
    of zeros go before the first."""
    half = _ZERO_CROSSINGS * max(up, down)  # half the filter, in samples at `up` times the rate
    cutoff = 1.0 / max(up, down)             # relative to the upsampled Nyquist frequency
    taps = np.arange(-half, half + 1, dtype=np.float64)
    h = cutoff * np.sinc(cutoff * taps) * np.kaiser(2 * half + 1, _KAISER_BETA)
    h *= up / h.sum()                        # unit gain at DC once the zeros are stuffed in
    pad = -(-half // up)                     # input samples that reach back before output 0
    # Output r of a block sits at upsampled time r * down; inputs i with |r*down - i*up| <= half.
    reach = [(-(-(r * down - half) // up), (r * down + half) // up) for r in range(up)]
    groups = []
    for lo in range(0, up, _GROUP):
        hi = min(up, lo + _GROUP)
        first, last = reach[lo][0], reach[hi - 1][1]
        matrix = np.zeros((last - first + 1, hi - lo), dtype=np.float64)
        for r in range(lo, hi):
            for i in range(reach[r][0], reach[r][1] + 1):
                matrix[i - first, r - lo] = h[r * down - i * up + half]
        groups.append((lo, hi, first + pad, matrix))
    return pad, tuple(groups)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """`samples` (int16 mono) at `from_rate` -> int16 at `to_rate`."""
    if from_rate == to_rate or samples.size == 0:
        return samples
    g = gcd(from_rate, to_rate)
    up, down = to_rate // g, from_rate // g
    n_out = -(-samples.size * up // down)
    if up * down > _MAX_RATIO_PRODUCT:
        from scipy.signal import resample_poly  # odd rate pairs only: slow to import
        out = resample_poly(samples.astype(np.float32), up, down)
        return np.clip(np.rint(out[:n_out]), -32768, 32767).astype("<i2")
    pad, groups = _bank(up, down)
    blocks = -(-n_out // up)
    longest = max(offset + matrix.shape[0] for _, _, offset, matrix in groups)
    # Zeros before and after, so that every window lies inside the buffer.
    x = np.zeros(blocks * down + longest, dtype=np.float64)
    x[pad:pad + samples.size] = samples
    out = np.empty((blocks, up), dtype=np.float64)
    step = x.strides[0]
    for lo, hi, offset, matrix in groups:
        windows = np.lib.stride_tricks.as_strided(
            x[offset:], shape=(blocks, matrix.shape[0]), strides=(down * step, step),
            writeable=False)
        # Products small enough that OpenBLAS keeps them on this thread: its worker threads
        # would spin beside synthesis and the encoder and take more than they give.
        rows = max(1, _SINGLE_THREAD_FLOPS // matrix.size)
        for b in range(0, blocks, rows):
            out[b:b + rows, lo:hi] = windows[b:b + rows] @ matrix
    return np.clip(np.rint(out.reshape(-1)[:n_out]), -32768, 32767).astype("<i2")
