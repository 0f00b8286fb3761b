"""Batch throughput and memory: prints figures, asserts nothing.

    python benchmarks/batch.py [--speed 80] [--articles 20] [--big 200] [--repeat 3] [--skip-dask] [--skip-memory]

1. throughput of `narrator batch` with 1 and 2 local workers on the same archive of SPEED
   short pages derived from samples/ (target: 2 workers >= 1.7x one worker, on an idle
   2-core box), REPEAT alternating pairs and their median, and the unchanged re-run as a
   fraction of the first run;
2. peak RSS per worker process (ru_maxrss, as reported by the workers) and of the batch
   process for archives of ARTICLES and BIG articles: it should be flat, not grow with size;
3. the same job on a Dask LocalCluster (2 worker processes, 1 thread each).

Each run is the real CLI in a subprocess, with a fresh OUTDIR. CPU heavy: run it on a quiet
machine, and read the load average it prints before comparing figures.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_batch_archive import build_archive  # noqa: E402  (the tests' archive builder)


def run_batch(archive: Path, outdir: Path, *extra: str) -> dict:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", "from narrator.cli import main; main()",
                             "batch", str(archive), "-o", str(outdir), "--json",
                             "--engine", "espeak", *extra],
                            capture_output=True, text=True)
    if not result.stdout:
        raise SystemExit(f"batch failed: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    report["process_seconds"] = time.perf_counter() - started
    if report["failed"]:
        print(f"  warning: {len(report['failed'])} failed: {report['failed'][:2]}")
    return report


def line(label: str, report: dict) -> str:
    wall = report["wall_seconds"]
    rss = sorted(report["peak_rss_mb"].values()) or [0]
    return (f"{label:<28} {report['narrated']:>4} narrated in {wall:7.2f} s = "
            f"{report['narrated'] / wall:5.2f} articles/s, "
            f"{report['audio_seconds'] / wall:6.1f} s of audio per s; "
            f"{report['worker_cpu_seconds'] / wall:4.2f} cores busy, workers waited "
            f"{report['worker_cpu_wait_seconds']:.1f} s for a CPU; peak RSS of "
            f"{len(rss)} worker processes: median {rss[len(rss) // 2]:.0f} MB, max {rss[-1]:.0f}"
            f" MB; batch process {report['batch_peak_rss_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20, help="small archive (RSS)")
    parser.add_argument("--big", type=int, default=200, help="large archive (RSS)")
    parser.add_argument("--speed", type=int, default=80,
                        help="archive for the 1 vs 2 workers and Dask throughput")
    parser.add_argument("--repeat", type=int, default=3, help="1 vs 2 workers pairs")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-memory", action="store_true", help="only the throughput runs")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="narrator-batch-bench-") as tmp:
        tmp = Path(tmp)
        # No synthesis cache: every run synthesizes everything, so runs compare.
        (tmp / "config.toml").write_text("[cache]\nenabled = false\n")
        os.environ["NARRATOR_CONFIG"] = str(tmp / "config.toml")
        small, big, speed = tmp / "small", tmp / "big", tmp / "speed"
        if not args.skip_memory:
            build_archive(small, args.articles)
            build_archive(big, args.big)
        build_archive(speed, args.speed)

        # 1. throughput (wall time includes starting the worker processes). The machine may
        # be shared: 1 and 2 workers alternate, and the median pair is the figure.
        pairs = []
        for attempt in range(args.repeat):
            one = run_batch(speed, tmp / f"out1-{attempt}", "--workers", "1")
            print(line(f"{args.speed} articles, 1 worker", one))
            two = run_batch(speed, tmp / "out2", "--workers", "2")
            print(line(f"{args.speed} articles, 2 workers", two))
            pairs.append((one["wall_seconds"] / two["wall_seconds"], one, two))
            first_run = two  # what the unchanged re-run below repeats
            if attempt + 1 < args.repeat:
                shutil.rmtree(tmp / "out2")
        pairs.sort(key=lambda pair: pair[0])
        ratio, one, two = pairs[len(pairs) // 2]
        print(f"speed-up with 2 workers: {ratio:.2f}x, the median of "
              f"{', '.join(f'{p[0]:.2f}' for p in pairs)} (target >= 1.7x)")
        again = run_batch(speed, tmp / "out2", "--workers", "2")
        print(f"unchanged re-run: {again['wall_seconds']:.3f} s = "
              f"{100 * again['wall_seconds'] / first_run['wall_seconds']:.1f} % of the first run "
              f"({again['process_seconds']:.2f} s with interpreter start-up, "
              f"{100 * again['process_seconds'] / first_run['process_seconds']:.1f} %)")

        # 2. memory, small and large archive
        if not args.skip_memory:
            low = run_batch(small, tmp / "out3", "--workers", "2")
            print(line(f"{args.articles} articles, 2 workers", low))
            high = run_batch(big, tmp / "out4", "--workers", "2")
            print(line(f"{args.big} articles, 2 workers", high))
            print(f"max peak RSS per worker, {args.articles} vs {args.big} articles: "
                  f"{max(low['peak_rss_mb'].values()):.0f} MB vs "
                  f"{max(high['peak_rss_mb'].values()):.0f} MB; batch process "
                  f"{low['batch_peak_rss_mb']:.0f} MB vs {high['batch_peak_rss_mb']:.0f} MB")

        # 3. the same job on a Dask LocalCluster
        if not args.skip_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None, silence_logs=logging.ERROR) as cluster:
                dask = run_batch(speed, tmp / "out5", "--dask-scheduler",
                                 cluster.scheduler_address)
            print(line(f"{args.speed} articles, Dask 2x1", dask))
            print(f"Dask LocalCluster vs local pool, 2 workers each: "
                  f"{two['wall_seconds'] / dask['wall_seconds']:.2f}x the local throughput")


if __name__ == "__main__":
    main()
