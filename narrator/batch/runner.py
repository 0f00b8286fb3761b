"""The batch: enumerate the source, skip what is already narrated, narrate the rest in
parallel, record each outcome in the catalog, report what has gone, write the feed.

Crash safety rests on three rules: a worker renames only complete files into OUTDIR; the
catalog records "done" only after it has checked those files; a run starts by removing what
an interrupted run may have left (staging folders, temp files, outputs of articles it had
handed to a worker but never recorded). So after kill -9 at any moment, running the same
command again redoes exactly the articles whose completion was never recorded. Nothing that
narrator cannot prove it wrote is ever deleted, and a non-empty OUTDIR without a catalog is
someone else's folder: refused unless adopted (--adopt).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import signal
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from concurrent.futures import (FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor,
                                wait)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..version import __version__
from ..errors import InputError, NarratorError
from ..net.guard import parse_networks
from ..timelimit import OUTSIDE_GRACE_S
from .catalog import CATALOG_NAME, Catalog, Row
from .fetch import Fetcher
from .layout import (LOCK_NAME, adoption_clashes, clean_staging, clean_stale, foreign_entries,
                     outputs_complete, remove_outputs, slug_for, staging_folder)
from .sources import Item, Loaded, open_source, resolve_id
from .worker import PID_FILE



@dataclass
class BatchOptions:
    engine: str = "auto"  # as `narrator narrate`: per language, from the config and what is installed
    voice: str | None = None
    language: str | None = None
    bitrate_kbps: int = 64
    engine_options: dict = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # extra site rules files (TOML), as for `narrator narrate`
    workers: int | None = None  # None = one per core
    dask_scheduler: str | None = None
    prune: bool = False
    retry_failed: bool = False
    adopt: bool = False  # write into a non-empty OUTDIR that has no catalog (deleting nothing)
    base_url: str | None = None
    feed_title: str | None = None  # the feed's channel; each remembered in the catalog
    feed_author: str | None = None
    feed_language: str | None = None
    # polite fetching
    fetch_delay: float = 1.0
    per_host: int = 1
    fetch_timeout: float = 20.0
    max_bytes: int = 10_000_000
    loader_threads: int = 4
    # networks (CIDR) URLs may reach although not public (`--allow-net`); none by default
    allow_net: tuple[str, ...] = ()
    # seconds one article may take in a worker (extraction + narration); 0 or None: no limit
    article_timeout: float | None = 900.0

    def narrate_options(self) -> dict:
        """NarrateOptions fields for the workers. One synthesis process per article: the batch
        already runs one article per core, nested pools would only oversubscribe."""
        return dict(engine=self.engine, voice=self.voice, language=self.language,
                    bitrate_kbps=self.bitrate_kbps, engine_options=dict(self.engine_options),
                    rules=tuple(Path(r) for r in self.rules), workers=1)

    def settings_hash(self) -> str:
        """What the narration of an unchanged page depends on: a change re-narrates it."""
        settings = {k: v for k, v in self.narrate_options().items() if k != "workers"}
        settings["rules"] = [hashlib.sha256(Path(r).read_bytes()).hexdigest() if
                             Path(r).is_file() else str(r) for r in self.rules]
        payload = json.dumps([__version__, settings], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class Report:
    source: str
    outdir: str
    backend: str = "local"
    workers: int = 0
    articles: int = 0
    narrated: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)  # [{"id", "error"}] failed in this run
    still_failed: list = field(default_factory=list)  # unchanged failures not retried
    duplicates: list = field(default_factory=list)
    gone: list = field(default_factory=list)
    pruned: list = field(default_factory=list)
    source_error: str | None = None
    audio_seconds: float = 0.0  # narrated by this run
    catalog_audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_rss_mb: dict = field(default_factory=dict)  # worker -> MB
    batch_peak_rss_mb: float = 0.0  # this (the catalog-writing) process
    worker_cpu_seconds: float = 0.0  # CPU the narrations used (workers and their child processes)
    worker_cpu_wait_seconds: float = 0.0  # time workers were ready to run but had no CPU
    feed: str | None = None
    cleaned: list = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C (SIGINT): run the same command to resume

    @property
    def ok(self) -> bool:
        return (not self.failed and not self.still_failed and self.source_error is None
                and not self.interrupted)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        out["unchanged"] = self.skipped  # the summary's word; "skipped" kept for old scripts
        out["audio_hours"] = round(self.audio_seconds / 3600, 4)
        out["catalog_audio_hours"] = round(self.catalog_audio_seconds / 3600, 4)
        return out


class Events:
    """What the runner tells the face (CLI progress bar or log lines); all no-ops here."""

    def total(self, n: int | None) -> None: ...
    def item(self, outcome: str, article: str, detail: str = "") -> None: ...
    def message(self, text: str) -> None: ...


def content_hash(html: bytes) -> str:
    return hashlib.sha256(html).hexdigest()


class _Lock:
    """One batch at a time per OUTDIR (flock; released by the kernel when a process dies)."""

    def __init__(self, outdir: Path):
        self.fd = os.open(outdir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise InputError(f"another batch is already running in {outdir}") from None

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def run_batch(source: str, outdir: str | Path, options: BatchOptions = BatchOptions(),
              events: Events | None = None, executor=None) -> Report:
    events = events or Events()
    started = time.perf_counter()
    outdir = Path(outdir).expanduser().resolve()
    # Before anything is created: settings that would fail every article, and a source
    # that is not there, leave no OUTDIR behind.
    from ..pipeline import NarrateOptions, check_options
    check_options(NarrateOptions(**options.narrate_options()))
    fetcher = Fetcher(delay=options.fetch_delay, per_host=options.per_host,
                      timeout=options.fetch_timeout, max_bytes=options.max_bytes,
                      allow_networks=parse_networks(options.allow_net))
    opened = open_source(source, fetcher)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {outdir}: {exc.strerror or exc}") from None
    _check_outdir(outdir, options.adopt)  # before the lock file: a refused folder is untouched
    lock = _Lock(outdir)
    interrupt = threading.Event()
    try:
        catalog = Catalog(outdir)
    except BaseException:
        lock.release()
        raise
    try:
        with _interrupt_sets(interrupt):
            report = _Run(opened, fetcher, outdir, options, events, catalog, executor,
                          interrupt).run()
    finally:  # also on Ctrl-C: the workers have stopped, what they staged is of no use
        clean_staging(outdir)
        catalog.close()
        lock.release()
    report.wall_seconds = round(time.perf_counter() - started, 3)
    report.batch_peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report


@contextmanager
def _interrupt_sets(event: threading.Event):
    """While the batch runs (in the main thread), the first Ctrl-C sets `event`, which the
    loop sees within 0.2 s: it stops the workers, cleans up and reports. A second Ctrl-C
    interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def first(signum, frame):
        event.set()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
def _check_outdir(outdir: Path, adopt: bool) -> None:
    """OUTDIR is narrator's when it has a catalog or holds nothing (but a lock file or the
    publisher's artwork); any other folder is refused, unless adopted."""
    if (outdir / CATALOG_NAME).is_file():
        return
    foreign = foreign_entries(outdir)
    if not foreign:
        return
    if not adopt:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3
                                          else "")
        raise InputError(f"{outdir} is not empty ({shown}) and is not a narrator batch folder "
                         f"(no {CATALOG_NAME}): give a new or empty folder, or --adopt to add "
                         f"narrator's files beside these (it never deletes files it did not "
                         f"write)")
    clashes = adoption_clashes(outdir)
    if clashes:
        raise InputError(f"cannot adopt {outdir}: narrator would overwrite its "
                         f"{', '.join(clashes)}; move {'it' if len(clashes) == 1 else 'them'} "
                         f"away first")


class _Run:
    def __init__(self, opened, fetcher, outdir, options, events, catalog, executor,
                 interrupt=None):
        self.outdir, self.options, self.events, self.catalog = outdir, options, events, catalog
        self.interrupt = interrupt or threading.Event()
        self.executor = executor
        self.settings = options.settings_hash()
        self.fetcher = fetcher
        self.source_name, self.items, total = opened
        self.report = Report(source=self.source_name, outdir=str(outdir))
        self.total = total
        self.seen_ids: set[str] = set()
        self.seen_keys: set[str] = set()
        self.unknown_keys: set[str] = set()  # keys whose page could not be loaded
        self.ready: deque[dict] = deque()  # jobs waiting for a worker
        self.suspects: deque[dict] = deque()  # jobs in flight when a worker process died
        self.window = 2

    # ------------------------------------------------------------------ main loop

    def run(self) -> Report:
        report = self.report
        report.cleaned = clean_stale(self.outdir, self.catalog.slugs(),
                                     self.catalog.pending_slugs())
        self.catalog.clear_pending()
        self.events.total(self.total)
        if self.executor is None:
            self.executor = _make_executor(self.options)
        report.backend, report.workers = self.executor.kind, self.executor.workers
        if hasattr(self.executor, "check_outdir"):
            self.executor.check_outdir(self.outdir / LOCK_NAME)
        window = self.window = max(2, 2 * self.executor.workers)
        loads: deque[tuple[Future, Item, Row | None]] = deque()  # handled in source order
        jobs: dict[Future, dict] = {}
        items = iter(self.items)
        exhausted = False
        loader = ThreadPoolExecutor(max_workers=self.options.loader_threads,
                                    thread_name_prefix="load")
        try:
            while True:
                while (not exhausted and len(loads) < window
                       and len(jobs) + len(self.ready) < window):
                    try:
                        item = next(items)
                    except StopIteration:
                        exhausted = True
                    except NarratorError as exc:
                        report.source_error = str(exc)
                        exhausted = True
                    else:
                        self.seen_keys.add(item.key)
                        self._start_load(item, loader, loads)
                self._dispatch(jobs)
                if not loads and not jobs:
                    break
                waiting = list(jobs) + ([loads[0][0]] if loads else [])
                # A short timeout, so that Ctrl-C (a flag set by the signal handler) stops
                # the batch within a second, not after the articles in hand; overrunning
                # articles are looked for at the same pace.
                done, _ = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                if self.interrupt.is_set():
                    self._interrupted()
                    break
                self._stop_overruns(jobs)
                for future in done:
                    if future in jobs:
                        self._finished(jobs.pop(future), future, jobs)
                while loads and loads[0][0].done():
                    future, item, known = loads.popleft()
                    self._loaded(item, future, known)
        finally:
            loader.shutdown(wait=False, cancel_futures=True)
            self.executor.close()
        if report.source_error is None and not report.interrupted:
            self._gone()
        self._finish()
        return report

    # ------------------------------------------------------------------ steps

    def _interrupted(self) -> None:
        """Ctrl-C: stop the workers now (their articles are not recorded: the next run
        narrates them), and remove whatever they had renamed into audio/ without the
        catalog knowing it."""
        self.report.interrupted = True
        self.executor.terminate()
        self.report.cleaned += clean_stale(self.outdir, self.catalog.slugs(),
                                           self.catalog.pending_slugs())

    def _start_load(self, item: Item, loader: ThreadPoolExecutor, loads: deque) -> None:
        """Read or fetch a page, unless the source says it has not changed since the
        narration on disk (sitemap <lastmod>); a page fetched before is fetched with a
        conditional GET (ETag, Last-Modified), so an unchanged site costs 304s only."""
        row = self.catalog.by_key(self.source_name, item.key)
        if not self._on_disk(row):
            row = None
        if row and item.lastmod and row.fetched_at:
            changed = _timestamp(item.lastmod)
            if changed is not None and changed < row.fetched_at:
                self._unchanged(row, item)
                return
        validators = {"etag": row.etag, "last_modified": row.last_modified} if row else None
        loads.append((loader.submit(item.load, validators), item, row))

    def _on_disk(self, row: Row | None, digest: str | None = None) -> bool:
        """Is there a complete narration of this row, made with these settings (and of the
        page with this content hash, when given)?"""
        return (row is not None and row.narrated_hash is not None
                and (digest is None or row.narrated_hash == digest)
                and row.narrated_settings == self.settings
                and outputs_complete(self.outdir, row.slug, row.mp3_bytes))

    def _unchanged(self, row: Row, item: Item) -> None:
        if row.id in self.seen_ids:
            self.report.duplicates.append({"id": row.id, "key": item.key})
            self.events.item("duplicate", row.id, f"also at {item.key}")
            return
        self.seen_ids.add(row.id)
        self.catalog.record_unchanged(row.id)
        self.report.articles += 1
        self.report.skipped += 1
        self.events.item("unchanged", row.id)

    def _loaded(self, item: Item, future: Future, known: Row | None) -> None:
        try:
            loaded: Loaded = future.result()
        except Exception as exc:
            message = _message(exc)
            self.unknown_keys.add(item.key)
            row = self.catalog.by_key(self.source_name, item.key)
            article = row.id if row else (item.url or item.key)
            self.catalog.record_failed(id=article, source=self.source_name, key=item.key,
                                       content_hash=None, settings_hash=self.settings,
                                       error=message)
            self.report.failed.append({"id": article, "error": message})
            self.events.item("failed", article, message)
            return
        if loaded.not_modified and known is not None:
            self._unchanged(known, item)
            return
        article, note = resolve_id(loaded, item.key)
        if note:
            self.events.message(note)
        if article in self.seen_ids:
            self.report.duplicates.append({"id": article, "key": item.key})
            self.events.item("duplicate", article, f"also at {item.key}")
            return
        self.seen_ids.add(article)
        self.report.articles += 1
        digest = content_hash(loaded.html)
        row = self.catalog.get(article)
        if self._on_disk(row, digest):
            self.catalog.record_unchanged(article)
            self.report.skipped += 1
            self.events.item("unchanged", article)
            return
        same = row is not None and row.content_hash == digest and row.settings_hash == self.settings
        if same and row.status == "failed" and not self.options.retry_failed:
            self.report.still_failed.append({"id": article, "error": row.error})
            self.events.item("still failed", article, row.error or "")
            return
        job = dict(id=article, key=item.key, hash=digest, slug=(row.slug if row and row.slug
                                                               else slug_for(article)),
                   html=loaded.html, url=loaded.url, content_type=loaded.content_type,
                   outdir=str(self.outdir), options=self.options.narrate_options(),
                   timeout=self.options.article_timeout,
                   etag=loaded.etag, last_modified=loaded.last_modified,
                   fetched_at=loaded.fetched_at)
        self.ready.append(job)

    def _dispatch(self, jobs: dict) -> None:
        """Hand ready jobs to the executor. After a worker process died, the jobs it may have
        killed (all that were in flight) run one at a time, alone, until each has either
        finished or died alone: only the article that kills its worker fails."""
        if self.suspects or any(job.get("suspect") for job in jobs.values()):
            if not jobs and self.suspects:
                self._submit(dict(self.suspects.popleft(), suspect=True), jobs)
            return
        while self.ready and len(jobs) < self.window:
            self._submit(self.ready.popleft(), jobs)

    def _submit(self, job: dict, jobs: dict) -> None:
        self.catalog.mark_pending(job["slug"])  # before any file of it can reach audio/
        job.setdefault("token", uuid.uuid4().hex[:12])  # names its staging folder
        future = self.executor.submit(job)
        job["generation"] = getattr(self.executor, "generation", 0)
        jobs[future] = job

    def _kills_overruns(self) -> bool:
        return bool(self.options.article_timeout) and hasattr(self.executor, "worker_pids")

    def _stop_overruns(self, jobs: dict) -> None:
        """Kill a local worker whose article has run OUTSIDE_GRACE_S past --article-timeout:
        its alarm could not stop it (C code that does not return). Its pool breaks; the
        article fails with TimeLimitError, the others in flight are tried again."""
        if not self._kills_overruns():
            return
        limit, now, pids = self.options.article_timeout, time.time(), None
        for job in jobs.values():
            if job.get("killed"):
                continue
            marker = staging_folder(self.outdir, job["slug"], job["token"]) / PID_FILE
            try:
                started, pid = marker.stat().st_mtime, int(marker.read_text())
            except (OSError, ValueError):  # not started yet, or already finished
                continue
            if now - started <= limit + OUTSIDE_GRACE_S:
                continue
            pids = self.executor.worker_pids() if pids is None else pids
            if pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                job["killed"] = True

    def _finished(self, job: dict, future: Future, jobs: dict) -> None:
        try:
            result = future.result()
        except BrokenProcessPool:
            # A worker process died (a crash in a native library, the OOM killer, or killed
            # here for overrunning its limit): the pool is gone with every job it held.
            # Start a new one (once) and isolate the suspects.
            if job["generation"] == getattr(self.executor, "generation", 0):
                self.executor.reset()
            if job.get("killed"):
                result = {"ok": False, "error": (
                    f"TimeLimitError: narration took longer than "
                    f"{self.options.article_timeout:g} s (--article-timeout); its worker "
                    f"process was stopped")}
            elif not job.get("suspect"):
                self.suspects.append(job)
                return
            else:
                result = {"ok": False, "error": "the worker process died while narrating it"}
        except CancelledError:  # its pool was dropped after another worker died: again
            self.ready.append(job)
            return
        except Exception as exc:  # Dask: KilledWorker, lost connection...
            result = {"ok": False, "error": f"worker failure: {_message(exc)}"}
        timings = result.get("timings") or {}
        self.report.worker_cpu_seconds += timings.get("cpu_seconds") or 0.0
        self.report.worker_cpu_wait_seconds += timings.get("cpu_wait_seconds") or 0.0
        if timings.get("worker"):
            rss = self.report.peak_rss_mb
            rss[timings["worker"]] = max(rss.get(timings["worker"], 0), timings["peak_rss_mb"])
        article = job["id"]
        if result.get("ok") and not outputs_complete(self.outdir, job["slug"],
                                                     result.get("mp3_bytes")):
            result = dict(result, ok=False, error=(
                f"the worker's files are not in {self.outdir / 'audio'} (with Dask, OUTDIR must"
                f" be shared storage mounted at the same path on every worker)"))
        if result.get("ok"):
            result = dict(result, etag=job.get("etag"), last_modified=job.get("last_modified"),
                          fetched_at=job.get("fetched_at"))
            self.catalog.record_done(id=article, source=self.source_name, key=job["key"],
                                     content_hash=job["hash"], settings_hash=self.settings,
                                     slug=job["slug"], result=result)
            # Its row now names its files. A failure stays pending: whatever it may have put
            # in audio/ is removed at the next start, unless a row names that slug.
            self.catalog.clear_pending({job["slug"]})
            self.report.narrated += 1
            self.report.audio_seconds += result.get("duration") or 0.0
            self.events.item("narrated", article, f"{result.get('duration', 0):.0f} s of audio"
                             f" in {result.get('seconds', 0):.1f} s")
        else:
            error = result.get("error") or "unknown error"
            # A transient failure (a full disk) is recorded without the page's hashes, so the
            # next plain run tries the article again, as after a failed fetch.
            transient = bool(result.get("transient"))
            self.catalog.record_failed(id=article, source=self.source_name, key=job["key"],
                                       content_hash=None if transient else job["hash"],
                                       settings_hash=None if transient else self.settings,
                                       error=error)
            self.report.failed.append({"id": article, "error": error})
            self.events.item("failed", article, error)

    def _gone(self) -> None:
        for row in self.catalog.rows(source=self.source_name):
            if row.id in self.seen_ids or row.key in self.unknown_keys:
                continue
            if row.key in self.seen_keys and row.narrated_hash is None:
                self.catalog.delete(row.id)  # a failure now known under another id
                continue
            self.report.gone.append(row.id)
            if self.options.prune:
                if row.slug:
                    remove_outputs(self.outdir, row.slug)
                self.catalog.delete(row.id)
                self.report.pruned.append(row.id)
                self.events.item("pruned", row.id)
            else:
                self.events.item("gone", row.id, "no longer in the source (--prune removes it)")

    def _finish(self) -> None:
        from ..config import ConfigError, load_config
        from .feed import write_feed

        given = {"base_url": self.options.base_url, "feed_title": self.options.feed_title,
                 "feed_author": self.options.feed_author,
                 "feed_language": self.options.feed_language}
        for key, value in given.items():  # remembered for the next runs on this OUTDIR
            if value:
                self.catalog.set_meta(key, value)
        try:
            configured = load_config().feed
        except ConfigError:
            configured = {}

        def setting(key: str) -> str | None:
            return self.catalog.get_meta(f"feed_{key}") or configured.get(key)

        self.report.catalog_audio_seconds = sum(
            row.duration or 0.0 for row in self.catalog.published_rows())
        self.report.feed = str(write_feed(self.catalog, self.outdir,
                                          base_url=self.catalog.get_meta("base_url"),
                                          title=setting("title"), author=setting("author"),
                                          language=setting("language")))


def _make_executor(options: BatchOptions):
    from .executors import DaskExecutor, LocalExecutor, default_workers

    if options.dask_scheduler:
        return DaskExecutor(options.dask_scheduler)
    workers = options.workers or default_workers()
    if workers < 1:
        raise InputError("--workers must be at least 1")
    return LocalExecutor(workers)


def _timestamp(text: str) -> float | None:
    """A sitemap's W3C datetime as a POSIX time. A bare date counts as the end of that day,
    so a page changed later on the day it was fetched is not taken as unchanged."""
    from datetime import datetime, timedelta, timezone

    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(text) <= 10:
        parsed += timedelta(days=1)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _message(exc: BaseException) -> str:
    if isinstance(exc, NarratorError):
        return f"{type(exc).__name__}: {exc}"
    return f"internal error {type(exc).__name__}: {exc}"
