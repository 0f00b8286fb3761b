"""`narrator batch SOURCE -o OUTDIR` narrates an archive; `narrator batch status OUTDIR`
shows its catalog. One command with a first word "status" rather than a sub-app, so that both
forms read naturally (a source folder literally named "status" is `./status`)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..errors import InputError, printable
from .options import BITRATE_HELP, check_rules_files

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def batch_command(
    source: str = typer.Argument(..., metavar="SOURCE | status",
                                 help="Folder of HTML files, WARC(.gz), sitemap.xml, RSS/Atom "
                                 "feed (file or URL), or text file of URLs/paths; or the word "
                                 "'status' followed by OUTDIR."),
    status_dir: Optional[Path] = typer.Argument(None, metavar="[OUTDIR]",
                                                help="With 'status': the batch's OUTDIR."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="OUTDIR",
                                          help="OUTDIR: audio, sidecars, catalog.sqlite and "
                                          "feed.xml go here."),
    engine: str = typer.Option("auto", "--engine", "-e", metavar="NAME",
                               help="Speech engine (default: chosen per language, as for "
                               "`narrator narrate`)."),
    voice: Optional[str] = typer.Option(None, "--voice", metavar="VOICE",
                                        help="Voice of the engine."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", metavar="CODE",
                                       help="Language override."),
    bitrate: int = typer.Option(64, "--bitrate", metavar="KBPS", help=BITRATE_HELP),
    rules: list[Path] = typer.Option([], "--rules", metavar="FILE",
                                     help="Extra site rules file (TOML); repeatable. Editing "
                                     "one re-narrates the articles."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", min=1, metavar="N",
                                          help="Articles narrated at once (default: cores)."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", metavar="ADDR",
                                                 help="Run on a Dask cluster, e.g. "
                                                 "tcp://host:8786 (OUTDIR on shared storage)."),
    prune: bool = typer.Option(False, "--prune", help="Remove articles gone from the source."),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="Retry articles that failed before."),
    adopt: bool = typer.Option(False, "--adopt", help="Use a non-empty OUTDIR that has no "
                               "narrator catalog (narrator adds its files, deletes none)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (for "
                               "scripts): no progress, no summary; the exit code tells."),
    base_url: Optional[str] = typer.Option(None, "--base-url", metavar="URL",
                                           help="Public URL of OUTDIR, for the links in "
                                           "feed.xml (remembered)."),
    feed_title: Optional[str] = typer.Option(None, "--title", "--feed-title", metavar="TITLE",
                                             help="The feed's title (remembered; default: the "
                                             "site's name, or a neutral one for several "
                                             "sites)."),
    feed_author: Optional[str] = typer.Option(None, "--author", metavar="NAME",
                                              help="The feed's author (remembered; default: "
                                              "the site, or the sites)."),
    feed_language: Optional[str] = typer.Option(None, "--language", metavar="CODE",
                                                help="The feed's language, e.g. fr "
                                                "(remembered; default: most articles' "
                                                "language, 'mul' if none has a majority). "
                                                "--lang sets the narration's."),
    delay: float = typer.Option(1.0, "--delay", min=0.0, metavar="SECONDS",
                                help="Seconds between two requests to one host (more if "
                                "robots.txt asks)."),
    per_host: int = typer.Option(1, "--per-host", min=1, max=2, metavar="N",
                                 help="Requests at once per host."),
    allow_net: list[str] = typer.Option([], "--allow-net", help="Network (CIDR) that URLs "
                                        "may reach although it is not public (by default "
                                        "only public addresses are fetched); repeatable."),
    article_timeout: float = typer.Option(900.0, "--article-timeout", min=0.0, metavar="SECONDS",
                                          help="Time one article may take; past it the article "
                                          "fails and the batch goes on (0: no limit)."),
) -> None:
    """Narrate an archive into OUTDIR, incrementally and resumably; or show its status."""
    if source == "status":
        target = status_dir or output
        if target is None:
            raise InputError("usage: narrator batch status OUTDIR [--json]")
        raise typer.Exit(show_status(target, as_json))
    if status_dir is not None:
        raise InputError(f"unexpected argument {status_dir} (OUTDIR goes after -o)")
    if output is None:
        raise InputError("missing -o OUTDIR")
    check_rules_files(rules)
    from ..batch import BatchOptions, run_batch

    if feed_language is not None and not _LANGUAGE.match(feed_language):
        raise InputError(f"--language must be a language code such as fr or en-GB, not "
                         f"{feed_language!r}")
    from ..net.guard import parse_networks

    parse_networks(allow_net)  # a bad --allow-net fails now, before OUTDIR is touched

    options = BatchOptions(engine=engine, voice=voice, language=lang, bitrate_kbps=bitrate,
                           rules=tuple(str(r.resolve()) for r in rules),
                           workers=workers, dask_scheduler=dask_scheduler, prune=prune,
                           retry_failed=retry_failed, adopt=adopt, base_url=base_url,
                           feed_title=feed_title, feed_author=feed_author,
                           feed_language=feed_language,
                           fetch_delay=delay, per_host=per_host, allow_net=tuple(allow_net),
                           article_timeout=article_timeout or None)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    events = (_QuietEvents() if quiet else _BarEvents(err) if sys.stderr.isatty()
              else _LogEvents(err))
    try:
        report = run_batch(source, output, options, events)
    finally:
        events.close()
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    elif not quiet:
        _summary(Console(highlight=False, soft_wrap=True), report)
    raise typer.Exit(130 if report.interrupted else 0 if report.ok else 1)


# ----------------------------------------------------------------------------- progress


class _QuietEvents:
    def total(self, n):
        pass

    def item(self, outcome, article, detail=""):
        pass

    def message(self, text):
        pass

    def close(self):
        pass


class _LogEvents:
    """Plain lines on stderr when it is not a terminal (logs, CI)."""

    def __init__(self, console: Console):
        self.console, self.n, self.count = console, 0, None

    def total(self, n):
        self.count = n

    def item(self, outcome, article, detail=""):
        if outcome in ("narrated", "failed", "unchanged", "still failed", "duplicate"):
            self.n += 1
        position = f"[{self.n}/{self.count}] " if self.count else ""
        line = f"{position}{outcome} {article}" + (f": {detail}" if detail else "")
        self.console.print(printable(line), markup=False)

    def message(self, text):
        self.console.print(printable(text), markup=False)

    def close(self):
        pass


class _BarEvents:
    """A rich progress bar with rate and ETA; failures are printed above it as they happen."""

    def __init__(self, console: Console):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.console = console
        self.bar = Progress(TextColumn("narrating"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=console,
                            transient=True)
        self.task = self.bar.add_task("batch", total=None, rate="")
        self.bar.start()

    def total(self, n):
        self.bar.update(self.task, total=n)

    def item(self, outcome, article, detail=""):
        if outcome in ("failed", "still failed", "gone", "pruned", "duplicate"):
            self.bar.console.print(printable(f"{outcome} {article}"
                                             + (f": {detail}" if detail else "")), markup=False)
        if outcome in ("narrated", "failed", "unchanged", "still failed", "duplicate"):
            self.bar.advance(self.task)
            task = self.bar.tasks[0]
            speed = task.speed
            self.bar.update(self.task, rate=f"{speed * 60:.1f}/min" if speed else "")

    def message(self, text):
        self.bar.console.print(printable(text), markup=False)

    def close(self):
        self.bar.stop()


# ----------------------------------------------------------------------------- reports


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def _summary(out: Console, report) -> None:
    r = report
    articles = f"{r.articles} article" + ("" if r.articles == 1 else "s")
    out.print(printable(f"{articles} from {r.source}") + f": {r.narrated} narrated, {r.skipped} "
              f"unchanged, {len(r.failed)} failed"
              + (f", {len(r.still_failed)} still failing (--retry-failed)" if r.still_failed
                 else "")
              + (f", {len(r.duplicates)} duplicates" if r.duplicates else ""), markup=False)
    out.print(f"audio: {_hours(r.audio_seconds)} narrated now, {_hours(r.catalog_audio_seconds)}"
              f" in the catalog; wall time {r.wall_seconds:.1f} s on {r.workers} "
              f"{r.backend} worker(s)", markup=False)
    if r.gone:
        out.print(f"{len(r.gone)} gone from the source" + (", pruned" if r.pruned else
                                                           " (--prune removes them)"),
                  markup=False)
    for failure in r.failed + r.still_failed:
        out.print(printable(f"  failed: {failure['id']}: {failure['error']}"), markup=False)
    if r.source_error:
        out.print(printable(f"  source error: {r.source_error}"), markup=False)
    out.print(f"feed: {r.feed}", markup=False)
    if r.interrupted:
        out.print("interrupted; run the same command again to resume", markup=False)


def show_status(outdir: Path, as_json: bool) -> int:
    from ..batch.catalog import Catalog

    catalog = Catalog.open_existing(outdir)
    try:
        rows = catalog.rows()
    finally:
        catalog.close()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    audio = sum(r.duration or 0.0 for r in rows if r.narrated_hash)
    if as_json:
        sys.stdout.write(json.dumps({"outdir": str(outdir), "counts": counts,
                                     "audio_hours": round(audio / 3600, 4),
                                     "articles": [r.as_dict() for r in rows]},
                                    indent=2, ensure_ascii=False) + "\n")
    else:
        out = Console(highlight=False, soft_wrap=True)
        for row in rows:
            detail = (f"{(row.duration or 0) / 60:5.1f} min, {row.chapters} ch"
                      if row.status == "done" else (row.error or ""))
            out.print(printable(f"{row.status:<7} {row.id}  {detail}"), markup=False)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        out.print(f"{len(rows)} articles ({summary or 'none'}); {_hours(audio)} of audio",
                  markup=False)
    return 1 if counts.get("failed") else 0


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
