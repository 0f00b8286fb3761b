"""Engines for tests of the synthesis and assembly machinery (real PCM, controlled faults)."""
from __future__ import annotations

import numpy as np

from narrator.engines import Engine, VoiceInfo
from narrator.model import Audio
from narrator.errors import EngineError


class ToneEngine(Engine):
    """A 220 Hz tone whose length follows the text: deterministic, any sample rate."""

    name = "tone"

    def voices(self):
        return [VoiceInfo("tone", ("fr", "en"))]

    def synthesize(self, text, *, language, voice=None):
        rate = int(self.options.get("rate", 16000))
        die_on = self.options.get("die_on")
        if die_on and die_on in text:
            import os
            os._exit(1)  # as a crash in a C library would end the worker
        fail_on = self.options.get("fail_on")
        if fail_on and fail_on in text:
            raise EngineError(f"tone engine refused {fail_on!r}")
        t = np.arange(int(rate * (0.2 + 0.02 * len(text)))) / rate
        wave = 0.3 * np.sin(2 * np.pi * 220 * t) * np.minimum(1, 20 * np.minimum(t, t[::-1]))
        return Audio((wave * 32767).astype("<i2").tobytes(), rate)
