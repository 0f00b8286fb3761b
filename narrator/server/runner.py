"""How the server narrates a job: in a pool of narration processes, not in the server's own.

A crash in a native library (an engine, the MP3 encoder, the OOM killer) then kills one
narration process, not the server with every download in flight: the job fails with a reason,
the pool is started again, and the server keeps serving. A narration process runs the job on
its main thread, so the time limit is an alarm that stops any stage, extraction included; C
code that never returns cannot be interrupted by it, so the server also waits at most
OUTSIDE_GRACE_S longer, then kills the narration process (and starts a new one). The
process reports progress into the job database itself (SQLite in WAL mode takes writers from
several processes). Processes are recycled after some jobs, so their memory stays flat.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable

from ..version import __version__
from ..errors import NarratorError, TimeLimitError
from ..lifeline import NARRATION_MODULES, narration_pool, pool_processes
from ..timelimit import OUTSIDE_GRACE_S
from .job import SIDE_FILES, Job
from .jobs import JobStore

ARTICLE_META = "article.json"  # in a job's folder, not served: read by the site feeds
_stores: dict[str, JobStore] = {}  # in a narration process: one connection per data folder


def spoken_hash(script, options: dict) -> str:
    """What a narration says and how: two jobs with the same hash give the same audio, so
    the second can take the first one's files (a page whose markup changed but whose text
    did not is not narrated again)."""
    payload = json.dumps([__version__, options, repr(script)], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _reuse(store: JobStore, job_id: str, spoken: str) -> tuple | None:
    """The files of an earlier job that says the same thing, linked into this job's folder."""
    earlier = store.done_with_spoken(spoken, but=job_id)
    if earlier is None:
        return None
    source, target = store.folder(earlier.id), store.folder(job_id)
    names = list(SIDE_FILES.values())
    if not all((source / name).is_file() for name in names):
        return None  # deleted meanwhile: narrate
    for name in names:
        tmp = target / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            os.link(source / name, tmp)  # finished files never change: sharing them is safe
        except OSError:
            tmp.write_bytes((source / name).read_bytes())
        tmp.replace(target / name)
    return (earlier.title, earlier.language, earlier.duration,
            {"spoken": spoken, "cache": {"hits": 0, "misses": 0}, "reused": earlier.id})


def _write_meta(folder: Path, article) -> None:
    """What feeds show of the article beside its audio (date, description, image)."""
    meta = article.meta
    data = {"published": meta.published, "description": meta.description,
            "image_url": meta.image_url, "canonical_url": meta.canonical_url}
    tmp = folder / f".{ARTICLE_META}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(folder / ARTICLE_META)


def article_meta(folder: Path) -> dict:
    try:
        return json.loads((folder / ARTICLE_META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def narrate_job(data_dir: str, job_id: str, url: str | None, options: dict,
                job_timeout: float | None, synth_workers: int | None) -> tuple:
    """In a narration process: narrate the job's page into its folder; (title, language,
    duration, extras). Raises NarratorError subclasses (picklable) for what the user can
    act on."""
    from ..pipeline import NarrateOptions, extract, narrate_article, script_for
    from ..timelimit import limit

    store = _stores.get(data_dir) or _stores.setdefault(data_dir, JobStore(Path(data_dir)))

    def too_long() -> TimeLimitError:
        return TimeLimitError(f"narration took longer than {job_timeout:g} s "
                              "(the server's --job-timeout)")

    folder = store.folder(job_id)
    page = (folder / "source.html").read_bytes()
    narrate_options = NarrateOptions(engine=options["engine"], voice=options.get("voice"),
                                     language=options.get("language"),
                                     bitrate_kbps=options.get("bitrate_kbps", 64),
                                     rules=tuple(Path(r) for r in options.get("rules", ())),
                                     workers=synth_workers)
    with limit(job_timeout, too_long) as deadline:

        def progress(done: int, total: int) -> None:
            store.progress(job_id, done, total)
            deadline.check()

        # narrate() in two steps, to keep the article's title and language for the player
        article = extract(page, url=url, options=narrate_options)
        _write_meta(folder, article)
        spoken = spoken_hash(script_for(article, narrate_options), options)
        reused = _reuse(store, job_id, spoken)
        if reused is not None:
            return reused
        narration = narrate_article(article, folder / "audio.mp3", options=narrate_options,
                                    progress=progress)
    return (article.title, article.language, narration.timeline.duration,
            {"spoken": spoken, "cache": {k: narration.cache.get(k, 0)
                                         for k in ("hits", "misses")}})


def _ready() -> int:
    for module in NARRATION_MODULES:  # already there from a forkserver; imported once by spawn
        importlib.import_module(module)
    return os.getpid()


class ProcessRunner:
    """A runner for `WorkerPool`: `runner(store, job)` narrates in a narration process.

    Each worker thread of the pool has its own narration process, so a crash fails only the
    job that caused it, never one that ran beside it."""

    def __init__(self, *, synth_workers: int | None = None, job_timeout: float | None = None,
                 recycle_after: int = 50, job_function: Callable = narrate_job):
        self.synth_workers = synth_workers
        self.job_timeout = job_timeout
        self.recycle_after = recycle_after
        self.job_function = job_function
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pools: set[ProcessPoolExecutor] = set()
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        pool, used = getattr(self._local, "pool", None), getattr(self._local, "used", 0)
        if pool is not None and used >= self.recycle_after:
            self._drop(pool, wait=False)  # finishes what it holds, then exits
            pool = None
        if pool is None:
            with self._lock:
                if self._closed:  # the server is stopping: the job goes back to the queue
                    raise NarratorError("the server is stopping")
                pool = narration_pool(1, modules=("narrator.server.runner",))
                self._pools.add(pool)
            self._local.pool, used = pool, 0
        self._local.used = used + 1
        return pool

    def _drop(self, pool: ProcessPoolExecutor, *, wait: bool) -> None:
        with self._lock:
            self._pools.discard(pool)
        if getattr(self._local, "pool", None) is pool:
            self._local.pool = None
        pool.shutdown(wait=wait, cancel_futures=True)

    def warm(self) -> None:
        """Start this thread's narration process now, so the first job does not wait for it."""
        self._executor().submit(_ready).result()

    def __call__(self, store: JobStore, job: Job) -> tuple:
        pool = self._executor()
        future = pool.submit(self.job_function, str(store.data_dir), job.id, job.url,
                             job.options, self.job_timeout, self.synth_workers)
        try:
            return future.result(self.job_timeout + OUTSIDE_GRACE_S if self.job_timeout
                                 else None)
        except BrokenProcessPool:
            self._drop(pool, wait=False)  # this thread's next job starts a new process
            raise NarratorError("the narration process died while narrating this page "
                                "(a crash in an engine or the encoder, or out of memory)")
        except TimeoutError:  # stuck where its alarm cannot reach: in C code
            self._terminate(pool)
            raise TimeLimitError(f"narration took longer than {self.job_timeout:g} s (the "
                                 "server's --job-timeout); its narration process was stopped")

    def _terminate(self, pool: ProcessPoolExecutor) -> None:
        for process in pool_processes(pool):  # the executor cannot stop a running call
            process.terminate()
        self._drop(pool, wait=False)

    def close(self) -> None:
        """Stops the narration processes now: a stopping server does not wait for a narration
        (its job is resumed at the next start)."""
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools), set()
        for pool in pools:
            self._terminate(pool)
