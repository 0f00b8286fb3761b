"""What the batch's faces (the CLI, the Python caller) and its runner exchange: the settings of
a run (`BatchOptions`), what the run did (`Report`), and what it tells as it goes (`Events`).
Plain values, so that a face builds and reads them without importing the runner's machinery."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..version import __version__


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
