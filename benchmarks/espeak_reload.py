"""What reproducible espeak-ng costs: the seed's utterances spoken with the library loaded
afresh before each one (narrator's way, see narrator/engines/espeak.py) and without (the same
process speaking on, whose output then depends on what it said before). CPU seconds of the
synthesis alone, the two alternated for 3 rounds; the best of each is printed.

    python benchmarks/espeak_reload.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from narrator.engines.espeak import EspeakEngine, _Library  # noqa: E402
from narrator.pipeline import extract, script_for  # noqa: E402


def main() -> None:
    page = (ROOT / "samples" / "mel-resilience.html").read_bytes()
    texts = [u.speech for u in script_for(extract(page)).utterances()]
    engine = EspeakEngine()
    engine.synthesize(texts[0], language="fr")  # load once, outside the timings
    reload = _Library.reload
    seconds: dict[str, list[float]] = {"reloaded": [], "not reloaded": []}
    for _round in range(3):
        for mode in seconds:
            _Library.reload = reload if mode == "reloaded" else (lambda self: None)
            started = time.process_time()
            for text in texts:
                engine.synthesize(text, language="fr")
            seconds[mode].append(time.process_time() - started)
    _Library.reload = reload
    for mode, runs in seconds.items():
        print(f"{mode:>13}: {min(runs):.3f} s CPU for {len(texts)} utterances "
              f"({1000 * min(runs) / len(texts):.1f} ms each; runs {', '.join(f'{r:.3f}' for r in runs)})")


if __name__ == "__main__":
    main()
