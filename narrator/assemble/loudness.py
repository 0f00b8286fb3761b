"""Integrated loudness (ITU-R BS.1770-4 / EBU R128), measured while the audio streams past.

Only 100 ms energy sums are kept (about 40 000 floats for 70 minutes), so measuring costs no
memory however long the narration is. Mono: channel weight 1.

The K-weighting IIR filter is applied as its impulse response truncated to ~190 ms (where it
has decayed below 1e-7) by FFT overlap-add: numpy only, because importing scipy.signal costs
over a second of start-up, more than narrating a short article.
"""
from __future__ import annotations

import math

import numpy as np

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


def _biquad(b: np.ndarray, a: np.ndarray, x: list[float]) -> list[float]:
    y: list[float] = []
    x1 = x2 = y1 = y2 = 0.0
    for x0 in x:
        y0 = b[0] * x0 + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        y.append(y0)
        x2, x1, y2, y1 = x1, x0, y1, y0
    return y


def k_weighting_ir(rate: int, seconds: float = 0.19) -> np.ndarray:
    response = [1.0] + [0.0] * (int(rate * seconds) - 1)
    for b, a in k_weighting(rate):
        response = _biquad(b, a, response)
    return np.asarray(response)


class LoudnessMeter:
    """Feed int16 (or float in [-1, 1]) mono chunks in order; read `integrated()`."""

    def __init__(self, rate: int):
        self.rate = rate
        self._ir = k_weighting_ir(rate)
        self._tail = np.zeros(self._ir.size - 1)  # overlap-add carry into the next chunk
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
        x = self._filter(x)
        x = np.concatenate([self._partial, x])
        whole = (x.size // self._step) * self._step
        if whole:
            squares = np.square(x[:whole]).reshape(-1, self._step).sum(axis=1)
            self._subblocks.extend(squares.tolist())
        self._partial = x[whole:]

    def _filter(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x
        n = x.size + self._ir.size - 1
        size = 1 << (n - 1).bit_length()
        y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(self._ir, size), size)[:n]
        y[:self._tail.size] += self._tail[:n]
        if self._tail.size > n:  # a chunk shorter than the response: carry the rest on
            y_tail = self._tail[n:]
        else:
            y_tail = np.zeros(0)
        out, rest = y[:x.size], y[x.size:]
        carry = np.zeros(self._ir.size - 1)
        carry[:rest.size] += rest
        carry[:y_tail.size] += y_tail
        self._tail = carry
        return out

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
