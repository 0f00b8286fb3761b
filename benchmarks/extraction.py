#!/usr/bin/env python3
"""Extraction quality and speed on the Scrapinghub benchmark (../shared/eval).

Runs ../shared/eval/extract_eval.py for narrator through its command line
(`narrator extract {html} --url {url} --body-only`) and through the Python callable
`narrator.extract:extract_body_text`, and for trafilatura (include_comments=False) in the same
run, then prints one row per extractor. The benchmark's ground truth is the article body without
its title, so narrator is scored in its body-only mode (`--body-only`, a product option: the text
without the title line); the "title + body" row (`narrator.extract:extract_text`, what is spoken)
is printed too, for transparency: it shows what the title line costs against that truth.

    python benchmarks/extraction.py                  # all 181 pages, all rows
    python benchmarks/extraction.py --limit 40 --no-cli   # a quick subset
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"


def run(name: str, how: list[str], out_dir: Path, extra: list[str]) -> dict:
    slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    out = out_dir / f"{slug}.json"
    cmd = [sys.executable, str(EVAL / "extract_eval.py"), str(EVAL / "data" / "scrapinghub"), *how,
           "--name", slug, "--out", str(out), *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text("utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, help="only the first N pages")
    ap.add_argument("--no-cli", action="store_true", help="skip the (slow) command-line run")
    ap.add_argument("--no-trafilatura", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, help="folder for the result JSONs (default: a temp folder)")
    args = ap.parse_args()
    if not (EVAL / "extract_eval.py").exists():
        sys.exit(f"skipped: {EVAL} is absent (the shared evaluation data)")
    extra = ["--jobs", str(args.jobs)] + (["--limit", str(args.limit)] if args.limit else [])
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="narrator-extract-eval-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    narrator_bin = str(Path(sys.executable).with_name("narrator"))
    runs = [("narrator-py (body-only)", ["--py", "narrator.extract:extract_body_text"])]
    if not args.no_cli:
        runs.append(("narrator-cli (body-only)",
                     ["--cmd", f"{narrator_bin} extract {{html}} --url {{url}} --body-only"]))
    runs.append(("narrator-py (title + body)", ["--py", "narrator.extract:extract_text"]))
    if not args.no_trafilatura:
        runs.append(("trafilatura", ["--py", f"{EVAL / 'extractors.py'}:trafilatura_nocomments"]))
    rows = []
    for name, how in runs:
        start = time.time()
        r = run(name, how, out_dir, extra)
        t = r.get("text", {})
        rows.append((name, t.get("f1", 0), t.get("precision", 0), t.get("recall", 0), r["mean_ms_per_page"],
                     r["errors"], r["timeouts"], r["empty"], r["pages"], time.time() - start))
    print(f"Scrapinghub article-extraction benchmark, {time.strftime('%Y-%m-%d')}, "
          f"{platform.machine()} {platform.processor() or ''} {len(__import__('os').sched_getaffinity(0))} cores, "
          f"Python {platform.python_version()}, trafilatura {version('trafilatura')}, narrator {version('narrator')}")
    print("| extractor | F1 | P | R | ms/page | failed | empty | pages |")
    print("|---|---|---|---|---|---|---|---|")
    for name, f1, p, r, ms, err, to, empty, n, wall in rows:
        print(f"| {name} | {f1:.3f} | {p:.3f} | {r:.3f} | {ms:.0f} | {err} (timeouts {to}) | {empty} | {n} |")
    body = next((r for r in rows if r[0] == "narrator-py (body-only)"), None)
    if body is not None and not args.limit:
        _, f1, p, _, ms, err, _, _, _, _ = body
        checks = [("F1 >= 0.970", f1 >= 0.970), ("P >= 0.965", p >= 0.965), ("no page failed", err == 0),
                  ("<= 40 ms/page", ms <= 40)]
        print("issue-3 targets (narrator-py body-only): "
              + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in checks))
    print(f"result JSONs: {out_dir}")


if __name__ == "__main__":
    main()
