#!/usr/bin/env python3
"""Does the pipeline lose anything? WER of the narrated seed MP3 vs the engine reading the text.

    python benchmarks/seed_wer.py [PAGE] [--engine espeak|pico] [--lang fr]

Issue 2's acceptance line: `narrator narrate PAGE` (default samples/mel-resilience.html) gives
an MP3 whose WER (../shared/tools/tts_wer.py, Whisper base) against `narrator extract PAGE`
is within 5 points of the same engine synthesizing that same extract text directly, in one
call, to one WAV. Prints both WERs and the gap. Needs the WER venv described in speech_wer.py.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_wer import ROOT, check_tools, score, write_wav  # noqa: E402

DEFAULT_PAGE = ROOT / "samples" / "mel-resilience.html"


def narrator(*args: str, env: dict | None = None) -> str:
    """Run the narrator CLI of this interpreter's environment; its stdout."""
    cmd = [sys.executable, "-c", "from narrator.cli import main; main()", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"narrator {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("page", nargs="?", default=str(DEFAULT_PAGE))
    ap.add_argument("--engine", default="espeak", help="engine of the narrated MP3 (default espeak)")
    ap.add_argument("--lang", default="fr")
    a = ap.parse_args(argv)
    why = check_tools()
    if why:
        print(f"seed_wer: skipped: {why}", file=sys.stderr)
        return 2

    from narrator.engines import create_engine

    with tempfile.TemporaryDirectory(prefix="seed-wer-") as tmp:
        text_file = Path(tmp) / "extract.txt"
        text = narrator("extract", a.page)
        text_file.write_text(text, encoding="utf-8")
        mp3 = Path(tmp) / "narrated.mp3"
        # A fresh synthesis cache: every utterance is synthesized for this measurement.
        narrator("narrate", a.page, "-o", str(mp3), "--engine", a.engine,
                 env={"NARRATOR_CACHE_DIR": str(Path(tmp) / "cache")})
        engine = create_engine(a.engine)
        audio = engine.synthesize(text, language=a.lang)
        engine.close()
        wav = Path(tmp) / "direct.wav"
        write_wav(wav, [(audio.pcm, 0)], audio.sample_rate)
        narrated, direct = score(mp3, text_file, a.lang), score(wav, text_file, a.lang)
    print(f"page: {Path(a.page).name} ({narrated['ref_words']} words of `narrator extract`),"
          f" ASR {narrated['model']}")
    print(f"narrator narrate --engine {a.engine} (MP3): WER {narrated['wer'] * 100:5.1f} %"
          f"  (S={narrated['substitutions']} D={narrated['deletions']} I={narrated['insertions']})"
          f"  audio {narrated['audio_s']} s")
    print(f"{a.engine}, extract text in one call (WAV): WER {direct['wer'] * 100:5.1f} %"
          f"  (S={direct['substitutions']} D={direct['deletions']} I={direct['insertions']})"
          f"  audio {direct['audio_s']} s")
    gap = (narrated["wer"] - direct["wer"]) * 100
    verdict = "meets" if gap <= 5 else "MISSES"
    print(f"gap: {gap:+.1f} points ({verdict} the target: narrated at most 5 points worse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
