"""Integrated loudness (ITU-R BS.1770-4 / EBU R128), measured while the audio streams past.

Only 100 ms energy sums are kept (about 40 000 floats for 70 minutes), so measuring costs no
memory however long the narration is. Mono: channel weight 1.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0


def k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting biquads (high shelf, then high pass) designed for `rate`,
    from the analog prototypes of BS.1770 (as libebur128 does), so any rate is exact."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0,
                        (vh - vb * k / q + k * k) / a0])
    shelf_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [(shelf_b, shelf_a), (hp_b, hp_a)]


class LoudnessMeter:
    """Feed int16 (or float in [-1, 1]) mono chunks in order; read `integrated()`."""

    def __init__(self, rate: int):
        self.rate = rate
        self._filters = k_weighting(rate)
        self._state = [np.zeros(2) for _ in self._filters]
        self._step = rate // 10  # 100 ms sub-blocks; a 400 ms block is four of them
        self._partial = np.zeros(0)
        self._subblocks: list[float] = []
        self.peak = 0.0  # sample peak, linear full scale

    def add(self, samples: np.ndarray) -> None:
        x = samples.astype(np.float64)
        if samples.dtype == np.int16:
            x /= 32768.0
        if x.size:
            self.peak = max(self.peak, float(np.max(np.abs(x))))
        for i, (b, a) in enumerate(self._filters):
            x, self._state[i] = lfilter(b, a, x, zi=self._state[i])
        x = np.concatenate([self._partial, x])
        whole = (x.size // self._step) * self._step
        if whole:
            squares = np.square(x[:whole]).reshape(-1, self._step).sum(axis=1)
            self._subblocks.extend(squares.tolist())
        self._partial = x[whole:]

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS (-inf for silence or under 400 ms of audio)."""
        sub = np.asarray(self._subblocks)
        if sub.size < 4:
            return float("-inf")
        blocks = (sub[:-3] + sub[1:-2] + sub[2:-1] + sub[3:]) / (4 * self._step)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness > ABSOLUTE_GATE_LUFS]
        if gated.size == 0:
            return float("-inf")
        relative = -0.691 + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
        final = gated[(-0.691 + 10 * np.log10(gated)) > relative]
        return -0.691 + 10 * math.log10(final.mean())
