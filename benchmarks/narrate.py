#!/usr/bin/env python3
"""Narration speed and memory, as a user meets them: one `narrator narrate` process per input.

    python benchmarks/narrate.py [--engine pico,espeak] [--repeat 3] [--samples-only | --seed-only]
                                 [--words 2500 5000 10000]

Synthesis cache off: every run synthesizes everything. With several engines (default: Pico,
the offline default, and espeak-ng) their runs alternate, so both meet the same load. For each sample in samples/ and for generated articles of 2,500 / 5,000 / 10,000 words built
from the samples' own text, prints wall time (process start included, best of --repeat), CPU time of the process tree,
audio duration, real-time factor (wall / audio), peak RSS of the process tree's largest
process, and the split of time between stages. Targets on the 2-core reference machine: the
seed under 2.5 s wall with Pico (2 s with espeak-ng); peak RSS under 200 MB for the seed and
250 MB for 10,000 words; time linear in length.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_once(page: Path, out: Path, engine: str) -> dict:
    command = [sys.executable, "-m", "narrator", "narrate", str(page), "-o", str(out),
               "--engine", engine, "--timings", "--no-cache"]
    env = {**os.environ, "NARRATOR_CACHE_DIR": str(out.parent / "cache")}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stderr = process.stderr.read().decode()
    process.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"narrate failed on {page}: {stderr}")
    line = re.search(r"timings \(s\): (.*); audio ([\d.]+)", stderr)
    stages = dict((name, float(value)) for name, value in
                  re.findall(r"([\w+\-]+) ([\d.]+)", line.group(1)))
    # CPU of the process and its workers: less at the mercy of other jobs than wall time.
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "audio": float(line.group(2)),
            "rss_mb": usage.ru_maxrss / 1024, "stages": stages}


def long_article(words: int) -> bytes:
    """An article of about `words` words, one h2 section per sample paragraph run."""
    sys.path.insert(0, str(ROOT))
    from narrator.extract import extract_article
    paragraphs = []
    for page in sorted((ROOT / "samples").glob("*.html")):
        article = extract_article(page.read_bytes())
        if article.language != "en":
            continue
        paragraphs += [b.text for b in article.blocks() if hasattr(b, "text") and
                       len(b.text.split()) > 20]
    body, count, section = [], 0, 0
    while count < words:
        for text in paragraphs:
            if count % 600 < len(text.split()):
                section += 1
                body.append(f"<h2>Part {section}</h2>")
            # Numbered, so that no paragraph repeats another (extraction drops repeats).
            body.append(f"<p>Paragraph {len(body) + 1}. {text}</p>")
            count += len(text.split())
            if count >= words:
                break
    html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>A long read"
            f"</title></head><body><article><h1>A long read of {words} words</h1>"
            + "\n".join(body) + "</article></body></html>")
    return html.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="pico,espeak",
                        help="engines, comma-separated; their runs alternate")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--words", type=int, nargs="*", default=[2500, 5000, 10000])
    parser.add_argument("--samples-only", action="store_true",
                        help="only the seed and the other samples, no generated articles")
    parser.add_argument("--seed-only", action="store_true",
                        help="of the samples, only the seed (with --words: the length series)")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = [(p.stem, p) for p in sorted((ROOT / "samples").glob("*.html"))]
        inputs.sort(key=lambda item: item[0] != "mel-resilience")  # the seed first
        if args.seed_only:
            inputs = inputs[:1]
        for words in [] if args.samples_only else args.words:
            page = tmp / f"long-{words}.html"
            page.write_bytes(long_article(words))
            inputs.append((f"generated {words} words", page))
        print(f"engines {', '.join(engines)}; {os.cpu_count()} cores; best of {args.repeat} "
              f"(wall), max RSS over runs; load average {os.getloadavg()[0]:.2f} at the start")
        header = (f"{'article':<28} {'engine':<7} {'wall s':>7} {'cpu s':>7} {'audio s':>8} "
                  f"{'RTF':>7} {'RSS MB':>7}  stages (s)")
        print(header)
        print("-" * len(header))
        for name, page in inputs:
            runs: dict[str, list] = {engine: [] for engine in engines}
            for _ in range(args.repeat):
                for engine in engines:
                    runs[engine].append(run_once(page, tmp / "out.mp3", engine))
            for engine in engines:
                best = min(runs[engine], key=lambda r: r["wall"])
                rss = max(r["rss_mb"] for r in runs[engine])
                stages = "  ".join(f"{k} {v:.2f}" for k, v in best["stages"].items())
                cpu = min(r["cpu"] for r in runs[engine])
                print(f"{name:<28} {engine:<7} {best['wall']:>7.2f} {cpu:>7.2f} {best['audio']:>8.1f} "
                      f"{best['wall'] / best['audio']:>7.4f} {rss:>7.1f}  {stages}", flush=True)


if __name__ == "__main__":
    main()
