"""Handing articles to the workers, and surviving the workers' deaths.

A worker process that dies (a crash in a native library, the OOM killer) takes down its pool
with every article in flight, and nothing says which one killed it. Those articles become
suspects and run again one at a time, alone, so that only the article that kills its worker
fails. A local worker stuck in C code past --article-timeout (its alarm cannot reach it) is
killed from here, which looks like such a death; its article fails with the time limit.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from collections import deque
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..timelimit import OUTSIDE_GRACE_S
from .catalog import Catalog
from .layout import staging_folder
from .outcomes import error_message
from .worker import PID_FILE


class Dispatcher:
    def __init__(self, executor, catalog: Catalog, outdir: Path, article_timeout: float | None):
        self.executor, self.catalog, self.outdir = executor, catalog, outdir
        self.article_timeout = article_timeout
        self.window = max(2, 2 * executor.workers)  # jobs in hand at once
        self.jobs: dict[Future, dict] = {}  # in flight
        self.ready: deque[dict] = deque()  # waiting for a worker
        self.suspects: deque[dict] = deque()  # in flight when a worker process died

    def in_hand(self) -> int:
        return len(self.jobs) + len(self.ready)

    def dispatch(self) -> None:
        """Hand ready jobs to the executor; after a death, the suspects one at a time."""
        if self.suspects or any(job.get("suspect") for job in self.jobs.values()):
            if not self.jobs and self.suspects:
                self._submit(dict(self.suspects.popleft(), suspect=True))
            return
        while self.ready and len(self.jobs) < self.window:
            self._submit(self.ready.popleft())

    def _submit(self, job: dict) -> None:
        self.catalog.mark_pending(job["slug"])  # before any file of it can reach audio/
        job.setdefault("token", uuid.uuid4().hex[:12])  # names its staging folder
        future = self.executor.submit(job)
        job["generation"] = getattr(self.executor, "generation", 0)
        self.jobs[future] = job

    def stop_overruns(self) -> None:
        """Kill a local worker whose article has run OUTSIDE_GRACE_S past --article-timeout:
        its alarm could not stop it (C code that does not return). Its pool breaks; the
        article fails with TimeLimitError, the others in flight are tried again."""
        if not (self.article_timeout and hasattr(self.executor, "worker_pids")):
            return
        limit, now, pids = self.article_timeout, time.time(), None
        for job in self.jobs.values():
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

    def result(self, future: Future) -> tuple[dict, dict | None]:
        """(job, its worker's result) for a finished future; the result is None when the job
        goes back to run again."""
        job = self.jobs.pop(future)
        try:
            return job, future.result()
        except BrokenProcessPool:
            # A worker process died (a crash in a native library, the OOM killer, or killed
            # here for overrunning its limit): the pool is gone with every job it held.
            # Start a new one (once) and isolate the suspects.
            if job["generation"] == getattr(self.executor, "generation", 0):
                self.executor.reset()
            if job.get("killed"):
                return job, {"ok": False, "error": (
                    f"TimeLimitError: narration took longer than "
                    f"{self.article_timeout:g} s (--article-timeout); its worker "
                    f"process was stopped")}
            if not job.get("suspect"):
                self.suspects.append(job)
                return job, None
            return job, {"ok": False, "error": "the worker process died while narrating it"}
        except CancelledError:  # its pool was dropped after another worker died: again
            self.ready.append(job)
            return job, None
        except Exception as exc:  # Dask: KilledWorker, lost connection...
            return job, {"ok": False, "error": f"worker failure: {error_message(exc)}"}
