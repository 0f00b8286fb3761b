"""Integrated loudness (ITU-R BS.1770-4 / EBU R128) of mono audio. Mono: channel weight 1.

The K-weighted energy of each 100 ms sub-block is computed in the frequency domain
(Parseval: the energy of the filtered block is the block's power spectrum weighted by the
filter's |H(f)|^2), all sub-blocks of a chunk in one batched FFT. That is numpy only and a
few milliseconds per minute of audio; the price is that each sub-block is filtered as if
periodic, which moves a measurement of speech by a few hundredths of a LU. (Importing
scipy.signal for an IIR filter would cost over a second of start-up.)
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


def k_weighting_power(rate: int, n: int) -> np.ndarray:
    """|H(f)|^2 of the K-weighting filter at the rfft bins of an n-point FFT, with the
    one-sided spectrum's factor 2 (bins other than DC and Nyquist) folded in."""
    z = np.exp(-1j * 2 * np.pi * np.fft.rfftfreq(n))
    response = np.ones_like(z)
    for b, a in k_weighting(rate):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    power = np.abs(response) ** 2 * 2 / n
    power[0] /= 2
    if n % 2 == 0:
        power[-1] /= 2
    return power


def block_energies(samples: np.ndarray, step: int, weights: np.ndarray) -> np.ndarray:
    """K-weighted energy (sum of squares) of each whole `step`-sample sub-block."""
    blocks = samples[:samples.size // step * step].reshape(-1, step)
    spectrum = np.fft.rfft(blocks, axis=1)
    return (spectrum.real ** 2 + spectrum.imag ** 2) @ weights


def gated_loudness(energies: np.ndarray, step: int) -> float:
    """BS.1770 gated loudness from 100 ms sub-block energies (400 ms blocks, 75 % overlap)."""
    if energies.size < 4:
        return float("-inf")
    blocks = (energies[:-3] + energies[1:-2] + energies[2:-1] + energies[3:]) / (4 * step)
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(blocks)
    gated = blocks[loudness > ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
    final = gated[(-0.691 + 10 * np.log10(gated)) > relative]
    return -0.691 + 10 * math.log10(final.mean())


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of int16 or float mono samples; -inf under 400 ms or silent."""
    x = samples.astype(np.float64)
    if samples.dtype == np.int16:
        x /= 32768.0
    step = rate // 10
    return gated_loudness(block_energies(x, step, k_weighting_power(rate, step)), step)


class ProgrammeMeter:
    """Loudness of everything written so far, pauses included: fed chunk by chunk, it keeps
    only 100 ms energy sums (about 40 000 floats for 70 minutes)."""

    def __init__(self, rate: int):
        self._step = rate // 10
        self._weights = k_weighting_power(rate, self._step)
        self._partial = np.zeros(0)
        self._energies: list[np.ndarray] = []
        self.seconds = 0.0

    def add(self, samples: np.ndarray) -> None:
        x = samples.astype(np.float64) / (32768.0 if samples.dtype == np.int16 else 1.0)
        x = np.concatenate([self._partial, x]) if self._partial.size else x
        whole = x.size // self._step * self._step
        if whole:
            self._energies.append(block_energies(x[:whole], self._step, self._weights))
        self._partial = x[whole:]
        self.seconds += samples.size / (self._step * 10)

    def integrated(self) -> float:
        if len(self._energies) > 1:
            self._energies = [np.concatenate(self._energies)]
        return gated_loudness(self._energies[0] if self._energies else np.zeros(0), self._step)
