"""The worker pool: threads of the server process that claim queued jobs and hand each to a
runner (by default a narration process each, see runner.py), and the data-folder lock that
keeps a second server from putting the first one's running jobs back in the queue.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

from ..errors import InputError, NarratorError
from .job import MAX_INTERRUPTIONS, Job
from .jobs import JobStore

log = logging.getLogger("narrator.server")

# run(store, job) does the narration and returns (title, language, duration), optionally
# followed by a dict of extras ({"spoken": hash, "cache": {"hits", "misses"}}); it reports
# progress with store.progress. Injected so the pool does not import the pipeline itself.
Runner = Callable[["JobStore", Job], tuple]


def lock_data_folder(data_dir: Path):
    """One server per data folder: a second one would put the first one's running jobs back
    in the queue. The lock goes with the process, however it ends."""
    import fcntl

    handle = open(Path(data_dir) / "server.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise InputError(f"another narrator serve is using {data_dir}") from None
    return handle


class WorkerPool:
    def __init__(self, store: JobStore, runner: Runner, workers: int = 1, poll_s: float = 1.0):
        self.store = store
        self.runner = runner
        self.workers = max(1, workers)
        self.poll_s = poll_s
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listeners: list[Callable[[str], None]] = []  # called with a job's id as it ends

    def start(self) -> None:
        leftovers = self.store.remove_temp_files()
        if leftovers:
            log.info("removed %d temp file(s) a stopped server left in job folders",
                     len(leftovers))
        resumed, given_up = self.store.requeue_interrupted()
        if resumed:
            log.info("resuming %d interrupted job(s)", resumed)
        if given_up:
            log.warning("%d job(s) failed: the server stopped in the middle of each %d times",
                        given_up, MAX_INTERRUPTIONS)
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"narrator-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.notify()
        close = getattr(self.runner, "close", None)
        if close is not None:  # narration processes: the jobs they hold are resumed next start
            close()
        for t in self._threads:
            t.join(timeout)

    def _loop(self) -> None:
        warm = getattr(self.runner, "warm", None)
        if warm is not None:
            try:
                warm()
            except Exception:  # the first job will start the process, or say why it cannot
                log.warning("could not start a narration process ahead of the first job",
                            exc_info=True)
        while not self._stop.is_set():
            job = self.store.claim()
            if job is None:
                with self._wake:
                    self._wake.wait(self.poll_s)
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        log.debug("narrating %s", job.id)
        started = time.monotonic()
        try:
            result = self.runner(self.store, job)
        except NarratorError as exc:
            if not self._requeued_on_stop(job):
                self._failed(job, str(exc))
        except Exception as exc:  # a bug; the job says so and the server keeps serving
            if not self._requeued_on_stop(job):
                log.error("job %s crashed:\n%s", job.id, traceback.format_exc())
                self._failed(job, f"internal error: {type(exc).__name__}")
        else:
            title, language, duration = result[:3]
            extra = result[3] if len(result) > 3 else {}
            self.store.finish(job.id, title=title, language=language, duration=duration,
                              spoken=extra.get("spoken"), cache=extra.get("cache"))
            cache = extra.get("cache") or {}
            log.info("job %s done in %.1f s: %s (%s of audio%s)", job.id,
                     time.monotonic() - started, title or job.url or "untitled",
                     _minutes(duration), f"; cache: {cache.get('hits', 0)} hits, "
                     f"{cache.get('misses', 0)} misses" if cache else "")
            self._ended(job.id)

    def _failed(self, job: Job, reason: str) -> None:
        self.store.fail(job.id, reason)
        log.info("job %s failed: %s", job.id, reason)
        self._ended(job.id)

    def _ended(self, id: str) -> None:
        for listener in list(self.listeners):
            try:
                listener(id)
            except Exception:  # a listener's bug must not stop the worker
                log.error("job listener failed:\n%s", traceback.format_exc())

    def _requeued_on_stop(self, job: Job) -> bool:
        """A job stopped with the server (its narration process too) goes back to the queue:
        the next start resumes it, and it does not count as a crash."""
        if not self._stop.is_set():
            return False
        self.store.requeue(job.id)
        return True


def _minutes(seconds: float | None) -> str:
    seconds = int(round(seconds or 0))
    return f"{seconds // 60}:{seconds % 60:02d}"
