"""The resampler between an engine's rate and narrator's 22.05 kHz: band-limited, no drift."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from narrator.assemble.resample import resample
from narrator.assemble.timeline import RATE, to_rate
from narrator.model import Audio


def _tone(freq: float, rate: int, seconds: float, amplitude: float = 10000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.rint(amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2")


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency, to a fraction of a bin (parabolic interpolation)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1:k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate / samples.size


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


@pytest.mark.parametrize("freq", [220.0, 1000.0, 3700.0, 6000.0])
def test_a_pico_tone_keeps_its_frequency_length_and_level(freq):
    tone = _tone(freq, 16000, 2.0)
    out = to_rate(Audio(tone.tobytes(), 16000))
    assert out.dtype == np.dtype("<i2")
    assert out.size == 2 * RATE                        # 2.000 s, to the sample
    assert _peak_hz(out, RATE) == pytest.approx(freq, abs=0.5)
    # Same level (away from the ends, where the tone starts and stops abruptly).
    assert 20 * np.log10(_rms(out[2000:-2000]) / _rms(tone[2000:-2000])) == pytest.approx(0, abs=0.1)


def test_lengths_follow_the_ratio_for_any_size():
    for n in (1, 2, 319, 320, 321, 16000, 16001, 123457):
        out = resample(np.ones(n, dtype="<i2"), 16000, 22050)
        assert out.size == -(-n * 441 // 320)
    assert resample(np.zeros(0, dtype="<i2"), 16000, 22050).size == 0


def test_no_delay_a_click_stays_in_place():
    click = np.zeros(16000, dtype="<i2")
    click[8000] = 20000                                # at 0.5 s
    out = resample(click, 16000, 22050)
    assert abs(int(np.argmax(out)) - 0.5 * RATE) <= 1


def test_band_limited_nothing_above_the_new_nyquist_folds_back():
    # Down from 22.05 kHz to 16 kHz: a 10 kHz tone is above 8 kHz and must go, not fold to 6 kHz.
    high = _tone(10000.0, 22050, 1.0)
    out = resample(high, 22050, 16000)
    assert _rms(out[500:-500]) < _rms(high) * 10 ** (-40 / 20)
    # While a 5 kHz tone passes at full level.
    low = _tone(5000.0, 22050, 1.0)
    assert _rms(resample(low, 22050, 16000)[500:-500]) == pytest.approx(_rms(low), rel=0.02)


@pytest.mark.parametrize("rates", [(16000, 22050), (24000, 22050), (48000, 22050),
                                   (44100, 22050), (22050, 16000)])
def test_same_result_as_scipy_resample_poly(rates):
    from math import gcd

    from scipy.signal import resample_poly
    src, dst = rates
    noise = (np.random.default_rng(7).standard_normal(src) * 4000).astype("<i2")
    g = gcd(src, dst)
    expected = np.clip(np.rint(resample_poly(noise.astype(np.float32), dst // g, src // g)),
                       -32768, 32767)
    got = resample(noise, src, dst)
    assert got.size == expected.size
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_resampling_does_not_import_scipy_signal():
    # scipy.signal takes 0.6-0.9 s to import: more than narrating a short article.
    code = ("import sys, numpy as np\n"
            "from narrator.assemble.timeline import to_rate\n"
            "from narrator.model import Audio\n"
            "to_rate(Audio(np.ones(16000, dtype='<i2').tobytes(), 16000))\n"
            "print('scipy.signal' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
