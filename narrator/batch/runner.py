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

import hashlib
import resource
import signal
import threading
import time
from collections import deque
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from ..errors import InputError, NarratorError
from ..net.guard import parse_networks
from .catalog import Catalog, Row
from .dispatch import Dispatcher
from .executors import make_executor
from .feed import publish_feed
from .fetch import Fetcher
from .layout import LOCK_NAME, clean_staging, clean_stale, outputs_complete, slug_for
from .options import BatchOptions, Events, Report
from .outcomes import Ledger
from .outdir import OutdirLock, check_outdir
from .identity import resolve_id
from .items import Item, Loaded
from .sources import open_source

__all__ = ["BatchOptions", "Events", "Report", "run_batch"]


def content_hash(html: bytes) -> str:
    return hashlib.sha256(html).hexdigest()


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
    check_outdir(outdir, options.adopt)  # before the lock file: a refused folder is untouched
    lock = OutdirLock(outdir)
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


class _Run:
    """One run's loop: items are loaded (read or fetched, a few ahead, in threads) and
    handled in source order; what needs narrating goes to the workers (dispatch.py); each
    outcome goes to the ledger (outcomes.py)."""

    def __init__(self, opened, fetcher, outdir, options, events, catalog, executor,
                 interrupt=None):
        self.outdir, self.options, self.events, self.catalog = outdir, options, events, catalog
        self.interrupt = interrupt or threading.Event()
        self.executor = executor
        self.settings = options.settings_hash()
        self.fetcher = fetcher
        self.source_name, self.items, self.total = opened
        self.report = Report(source=self.source_name, outdir=str(outdir))
        self.ledger = Ledger(catalog, self.report, events, outdir, self.source_name,
                             self.settings)
        self.workers: Dispatcher | None = None

    def run(self) -> Report:
        report = self.report
        report.cleaned = self._clean_stale()
        self.catalog.clear_pending()
        self.events.total(self.total)
        if self.executor is None:
            self.executor = make_executor(self.options)
        report.backend, report.workers = self.executor.kind, self.executor.workers
        if hasattr(self.executor, "check_outdir"):
            self.executor.check_outdir(self.outdir / LOCK_NAME)
        workers = self.workers = Dispatcher(self.executor, self.catalog, self.outdir,
                                            self.options.article_timeout)
        loads: deque[tuple[Future, Item, Row | None]] = deque()  # handled in source order
        items = iter(self.items)
        exhausted = False
        loader = ThreadPoolExecutor(max_workers=self.options.loader_threads,
                                    thread_name_prefix="load")
        try:
            while True:
                while (not exhausted and len(loads) < workers.window
                       and workers.in_hand() < workers.window):
                    try:
                        item = next(items)
                    except StopIteration:
                        exhausted = True
                    except NarratorError as exc:
                        report.source_error = str(exc)
                        exhausted = True
                    else:
                        self.ledger.seen_keys.add(item.key)
                        self._start_load(item, loader, loads)
                workers.dispatch()
                if not loads and not workers.jobs:
                    break
                waiting = list(workers.jobs) + ([loads[0][0]] if loads else [])
                # A short timeout, so that Ctrl-C (a flag set by the signal handler) stops
                # the batch within a second, not after the articles in hand; overrunning
                # articles are looked for at the same pace.
                done, _ = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                if self.interrupt.is_set():
                    self._interrupted()
                    break
                workers.stop_overruns()
                for future in done:
                    if future in workers.jobs:
                        job, result = workers.result(future)
                        if result is not None:
                            self.ledger.finished(job, result)
                while loads and loads[0][0].done():
                    future, item, known = loads.popleft()
                    self._loaded(item, future, known)
        finally:
            loader.shutdown(wait=False, cancel_futures=True)
            self.executor.close()
        if report.source_error is None and not report.interrupted:
            self.ledger.gone(self.options.prune)
        feed, report.catalog_audio_seconds = publish_feed(self.catalog, self.outdir,
                                                          self.options)
        report.feed = str(feed)
        return report

    def _clean_stale(self) -> list[str]:
        return clean_stale(self.outdir, self.catalog.slugs(), self.catalog.pending_slugs())

    def _interrupted(self) -> None:
        """Ctrl-C: stop the workers now (their articles are not recorded: the next run
        narrates them), and remove whatever they had renamed into audio/ without the
        catalog knowing it."""
        self.report.interrupted = True
        self.executor.terminate()
        self.report.cleaned += self._clean_stale()

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
                if self.ledger.first_sight(row.id, item.key):
                    self.ledger.unchanged(row.id)
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

    def _loaded(self, item: Item, future: Future, known: Row | None) -> None:
        """A page is in hand: unchanged, a duplicate, a known failure, or a job to narrate."""
        try:
            loaded: Loaded = future.result()
        except Exception as exc:
            self.ledger.load_failed(item.key, item.url, exc)
            return
        if loaded.not_modified and known is not None:
            if self.ledger.first_sight(known.id, item.key):
                self.ledger.unchanged(known.id)
            return
        article, note = resolve_id(loaded, item.key)
        if note:
            self.events.message(note)
        if not self.ledger.first_sight(article, item.key):
            return
        digest = content_hash(loaded.html)
        row = self.catalog.get(article)
        if self._on_disk(row, digest):
            self.ledger.unchanged(article)
            return
        same = row is not None and row.content_hash == digest and row.settings_hash == self.settings
        if same and row.status == "failed" and not self.options.retry_failed:
            self.ledger.still_failed(article, row.error)
            return
        self.workers.ready.append(dict(
            id=article, key=item.key, hash=digest,
            slug=row.slug if row and row.slug else slug_for(article),
            html=loaded.html, url=loaded.url, content_type=loaded.content_type,
            outdir=str(self.outdir), options=self.options.narrate_options(),
            timeout=self.options.article_timeout, etag=loaded.etag,
            last_modified=loaded.last_modified, fetched_at=loaded.fetched_at))


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
