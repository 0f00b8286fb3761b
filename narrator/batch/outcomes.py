"""Each article's outcome, recorded in the three places that must agree: the catalog (what
the next run relies on), the report (what this run did) and the face's events (what the
user sees as it happens). The run loop (runner.py) decides what happened; this module is
the one place that writes it down.

An article counts once per run: the first item of the source that names it is the one
narrated, any later one is reported as a duplicate ("also at ...").
"""
from __future__ import annotations

from pathlib import Path

from ..errors import NarratorError
from .catalog import Catalog
from .layout import AUDIO_DIR, outputs_complete, remove_outputs
from .options import Events, Report


class Ledger:
    def __init__(self, catalog: Catalog, report: Report, events: Events, outdir: Path,
                 source_name: str, settings: str):
        self.catalog, self.report, self.events, self.outdir = catalog, report, events, outdir
        self.source_name, self.settings = source_name, settings
        self.seen_ids: set[str] = set()
        self.seen_keys: set[str] = set()
        self.unknown_keys: set[str] = set()  # keys whose page could not be loaded

    def first_sight(self, article: str, key: str) -> bool:
        """Whether this is the run's first item for the article (counted); else a duplicate."""
        if article in self.seen_ids:
            self.report.duplicates.append({"id": article, "key": key})
            self.events.item("duplicate", article, f"also at {key}")
            return False
        self.seen_ids.add(article)
        self.report.articles += 1
        return True

    def unchanged(self, article: str) -> None:
        """The narration on disk is the page's, with these settings: nothing to do."""
        self.catalog.record_unchanged(article)
        self.report.skipped += 1
        self.events.item("unchanged", article)

    def still_failed(self, article: str, error: str | None) -> None:
        """The same page failed before with the same settings (retried with --retry-failed)."""
        self.report.still_failed.append({"id": article, "error": error})
        self.events.item("still failed", article, error or "")

    def load_failed(self, key: str, url: str | None, exc: BaseException) -> None:
        """The page could not be read or fetched; its row keeps the hashes it had."""
        self.unknown_keys.add(key)
        row = self.catalog.by_key(self.source_name, key)
        self.failed(row.id if row else (url or key), key, error_message(exc), None,
                    self.settings)

    def failed(self, article: str, key: str, error: str, content_hash: str | None,
               settings_hash: str | None) -> None:
        self.catalog.record_failed(id=article, source=self.source_name, key=key,
                                   content_hash=content_hash, settings_hash=settings_hash,
                                   error=error)
        self.report.failed.append({"id": article, "error": error})
        self.events.item("failed", article, error)

    def finished(self, job: dict, result: dict) -> None:
        """A worker's result. "Done" is recorded only once its files are checked in audio/."""
        self._worker_timings(result.get("timings") or {})
        if result.get("ok") and not outputs_complete(self.outdir, job["slug"],
                                                     result.get("mp3_bytes")):
            result = dict(result, ok=False, error=(
                f"the worker's files are not in {self.outdir / AUDIO_DIR} (with Dask, OUTDIR"
                f" must be shared storage mounted at the same path on every worker)"))
        if result.get("ok"):
            self._narrated(job, result)
            return
        # A transient failure (a full disk) is recorded without the page's hashes, so the
        # next plain run tries the article again, as after a failed fetch.
        transient = bool(result.get("transient"))
        self.failed(job["id"], job["key"], result.get("error") or "unknown error",
                    None if transient else job["hash"], None if transient else self.settings)

    def _narrated(self, job: dict, result: dict) -> None:
        article = job["id"]
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

    def _worker_timings(self, timings: dict) -> None:
        self.report.worker_cpu_seconds += timings.get("cpu_seconds") or 0.0
        self.report.worker_cpu_wait_seconds += timings.get("cpu_wait_seconds") or 0.0
        if timings.get("worker"):
            rss = self.report.peak_rss_mb
            rss[timings["worker"]] = max(rss.get(timings["worker"], 0), timings["peak_rss_mb"])

    def gone(self, prune: bool) -> None:
        """Articles of this source that the whole source no longer lists: reported, and with
        `prune` removed (their files too). Only after a complete, uninterrupted listing."""
        for row in self.catalog.rows(source=self.source_name):
            if row.id in self.seen_ids or row.key in self.unknown_keys:
                continue
            if row.key in self.seen_keys and row.narrated_hash is None:
                self.catalog.delete(row.id)  # a failure now known under another id
                continue
            self.report.gone.append(row.id)
            if prune:
                if row.slug:
                    remove_outputs(self.outdir, row.slug)
                self.catalog.delete(row.id)
                self.report.pruned.append(row.id)
                self.events.item("pruned", row.id)
            else:
                self.events.item("gone", row.id, "no longer in the source (--prune removes it)")


def error_message(exc: BaseException) -> str:
    if isinstance(exc, NarratorError):
        return f"{type(exc).__name__}: {exc}"
    return f"internal error {type(exc).__name__}: {exc}"
