#!/usr/bin/env python3
"""Extraction quality and cost on the shared evaluation sets (../shared/eval), narrator against
trafilatura, in one run.

For each set (Scrapinghub, fundus-dev) every page is extracted by narrator's Python callable
(`narrator.extract:extract_body_text`: the body without the title line, as the ground truth is)
and by trafilatura 2.x (`include_comments=False`, the adapter of ../shared/eval/extractors.py),
alternating which goes first, page by page, in this one process. Cost is CPU time
(time.process_time) of each call: the machine is shared, so wall time, or two sequential runs,
would compare the neighbours' load rather than the extractors. Scores are
../shared/eval/extract_eval.py's (4-gram multisets per page, macro precision and recall, F1 of
the two means); the paired difference (narrator - trafilatura) comes with a bootstrap 95 %
interval over pages. fundus-dev is also scored per half of its publishers (by a hash of the
publisher's name), to show whether a gain holds on publishers apart.

    python benchmarks/extraction.py                 # both sets, all pages
    python benchmarks/extraction.py --cli           # plus the `narrator extract` command on Scrapinghub
    python benchmarks/extraction.py --sets fundus-dev --limit 30
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
SETS = ("scrapinghub", "fundus-dev")
TARGETS = {"scrapinghub": (("F1", 0.975), ("P", 0.970)), "fundus-dev": (("F1", 0.965),)}


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(fn, raw: bytes, url: str | None) -> tuple[str, float, str | None]:
    start = time.process_time()
    try:
        text, err = fn(raw, url) or "", None
    except Exception as exc:  # a crash is an empty output, as in the harness
        text, err = "", f"{type(exc).__name__}: {str(exc)[:120]}"
    return text, time.process_time() - start, err


def run_set(name: str, extractors: dict, limit: int | None, metric) -> dict:
    data = EVAL / "data" / name
    truth = json.loads((data / "ground-truth.json").read_text("utf-8"))
    ids = sorted(truth)[:limit] if limit else sorted(truth)
    out = {k: {"text": {}, "cpu": {}, "err": {}} for k in extractors}
    names = list(extractors)
    for n, pid in enumerate(ids):
        raw = (data / "html" / f"{pid}.html").read_bytes()
        order = names if n % 2 == 0 else names[::-1]  # neither always runs on a warm cache
        for key in order:
            text, cpu, err = _call(extractors[key], raw, truth[pid].get("url"))
            out[key]["text"][pid], out[key]["cpu"][pid] = text, cpu
            if err:
                out[key]["err"][pid] = err
    pairs = {k: [(truth[i]["articleBody"], out[k]["text"][i]) for i in ids] for k in names}
    per_page = {k: [metric.page_pr(*metric.overlap(t, p, 4)) for t, p in pairs[k]] for k in names}
    return {"ids": ids, "out": out, "per_page": per_page, "truth": truth}


def summary(res: dict, key: str, metric, idx=None) -> dict:
    idx = range(len(res["ids"])) if idx is None else idx
    rows = [res["per_page"][key][i] for i in idx]
    p, r, f1 = metric.macro(rows)
    ids = [res["ids"][i] for i in idx]
    out = res["out"][key]
    return {"F1": f1, "P": p, "R": r, "n": len(ids),
            "cpu_ms": 1000 * statistics.fmean(out["cpu"][i] for i in ids),
            "failed": sum(i in out["err"] for i in ids),
            "empty": sum(not out["text"][i].strip() for i in ids)}


def paired(res: dict, a: str, b: str, metric, idx=None, n_boot: int = 1000, seed: int = 0):
    """F1(a) - F1(b) on the pages, and a bootstrap 95 % interval (pages resampled together)."""
    idx = list(range(len(res["ids"]))) if idx is None else list(idx)
    pa, pb = res["per_page"][a], res["per_page"][b]
    diff = metric.macro([pa[i] for i in idx])[2] - metric.macro([pb[i] for i in idx])[2]
    rng, boots = random.Random(seed), []
    for _ in range(n_boot):
        sample = [idx[rng.randrange(len(idx))] for _ in idx]
        boots.append(metric.macro([pa[i] for i in sample])[2] - metric.macro([pb[i] for i in sample])[2])
    boots.sort()
    return diff, boots[int(0.025 * n_boot)], boots[int(0.975 * n_boot) - 1]


def publisher_half(pid: str) -> int:
    """0 or 1 by a hash of the publisher (the page id without its -V1... suffix)."""
    return int(hashlib.md5(pid.rsplit("-", 1)[0].encode()).hexdigest(), 16) % 2


def _shared_setup() -> None:
    """Set-up that trafilatura does once per process, on the first page whose extraction falls
    back to jusText (its stop words of every language, a fifth of a second): both extractors
    share it, so whichever meets such a page first would pay it for the other."""
    try:
        from trafilatura import external
        if not getattr(external, "JT_STOPLIST", None):
            external.jt_stoplist_init()
    except (ImportError, AttributeError):
        pass


def cli_row(limit: int | None, jobs: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="narrator-extract-cli-")) / "cli.json"
    narrator_bin = str(Path(sys.executable).with_name("narrator"))
    cmd = [sys.executable, str(EVAL / "extract_eval.py"), str(EVAL / "data" / "scrapinghub"),
           "--cmd", f"{narrator_bin} extract {{html}} --url {{url}} --body-only", "--name", "narrator-cli",
           "--out", str(out), "--jobs", str(jobs)] + (["--limit", str(limit)] if limit else [])
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text("utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated: scrapinghub,fundus-dev")
    ap.add_argument("--limit", type=int, help="only the first N pages of each set")
    ap.add_argument("--cli", action="store_true", help="also score `narrator extract --body-only` (a "
                    "process per page, wall time) on Scrapinghub")
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes for the --cli row")
    ap.add_argument("--save", type=Path, help="write each extracted text to DIR/<set>/<extractor>/<id>.txt")
    args = ap.parse_args()
    if not (EVAL / "extract_eval.py").exists():
        sys.exit(f"skipped: {EVAL} is absent (the shared evaluation data)")
    metric = _load(EVAL / "extract_eval.py")
    adapters = _load(EVAL / "extractors.py")
    from narrator.extract import extract_body_text

    extractors = {"narrator": extract_body_text, "trafilatura": adapters.trafilatura_nocomments}
    for fn in extractors.values():  # imports and first-call set-up outside the measurement
        _call(fn, b"<html><body><article><p>" + b"Warm up sentence. " * 30 + b"</p></article></body></html>", None)
    _shared_setup()
    load = os.getloadavg()
    print(f"Extraction benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.machine()} "
          f"{len(os.sched_getaffinity(0))} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
          f"Python {platform.python_version()}, trafilatura {version('trafilatura')}, narrator {version('narrator')}")
    print("Python callables, one process, interleaved page by page; ms = CPU ms per page\n")
    print("| set | extractor | F1 | P | R | CPU ms/page | failed | empty | pages |")
    print("|---|---|---|---|---|---|---|---|---|")
    verdicts, extra = [], []
    for name in args.sets.split(","):
        res = run_set(name, extractors, args.limit, metric)
        s = {k: summary(res, k, metric) for k in extractors}
        for k in extractors:
            m = s[k]
            print(f"| {name} | {k} | {m['F1']:.3f} | {m['P']:.3f} | {m['R']:.3f} | {m['cpu_ms']:.1f} | "
                  f"{m['failed']} | {m['empty']} | {m['n']} |")
        d, lo, hi = paired(res, "narrator", "trafilatura", metric)
        extra.append(f"{name}: F1 narrator - trafilatura = {d:+.3f} (95 % bootstrap interval {lo:+.3f} .. {hi:+.3f}); "
                     f"CPU narrator / trafilatura = {s['narrator']['cpu_ms'] / s['trafilatura']['cpu_ms']:.2f}")
        if name == "fundus-dev":
            for half in (0, 1):
                idx = [i for i, pid in enumerate(res["ids"]) if publisher_half(pid) == half]
                a, b = summary(res, "narrator", metric, idx), summary(res, "trafilatura", metric, idx)
                d, lo, hi = paired(res, "narrator", "trafilatura", metric, idx)
                extra.append(f"  publishers half {'AB'[half]} ({len(idx)} pages): narrator F1 {a['F1']:.3f}, "
                             f"trafilatura {b['F1']:.3f}, difference {d:+.3f} ({lo:+.3f} .. {hi:+.3f})")
        n = s["narrator"]
        if not args.limit:
            for label, goal in TARGETS.get(name, ()):
                verdicts.append((f"{name} {label} >= {goal}", n[label] >= goal))
            verdicts.append((f"{name}: no page failed or empty", n["failed"] == 0 and n["empty"] == 0))
            verdicts.append((f"{name}: CPU per page <= trafilatura's", n["cpu_ms"] <= s["trafilatura"]["cpu_ms"]))
        for pid, err in res["out"]["narrator"]["err"].items():
            extra.append(f"  narrator failed on {name}/{pid}: {err}")
        if args.save:
            for k in extractors:
                folder = args.save / name / k
                folder.mkdir(parents=True, exist_ok=True)
                for pid, text in res["out"][k]["text"].items():
                    (folder / f"{pid}.txt").write_text(text, "utf-8")
    if args.cli and "scrapinghub" in args.sets:
        r = cli_row(args.limit, args.jobs)
        t = r["text"]
        print(f"| scrapinghub | narrator CLI `narrator extract {{html}} --url {{url}} --body-only` | {t['f1']:.3f} | "
              f"{t['precision']:.3f} | {t['recall']:.3f} | {r['mean_ms_per_page']:.0f} (wall, process start "
              f"included, {args.jobs} at a time) | {r['errors']} | {r['empty']} | {r['pages']} |")
    print()
    print("\n".join(extra))
    if verdicts:
        print("targets: " + "; ".join(f"{label} {'met' if ok else 'NOT met'}" for label, ok in verdicts))


if __name__ == "__main__":
    main()
