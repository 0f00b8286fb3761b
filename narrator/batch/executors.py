"""Where jobs run: a local process pool, or a Dask distributed cluster. Both hand back
standard `concurrent.futures.Future`s, so the runner has one loop for both."""
from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from ..errors import InputError, NarratorError
from ..lifeline import narration_pool, pool_processes
from .options import BatchOptions
from .worker import narrate_job, run_job


def make_executor(options: BatchOptions):
    """Where a run's jobs go: the Dask cluster named, else a local pool of --workers."""
    if options.dask_scheduler:
        return DaskExecutor(options.dask_scheduler)
    workers = options.workers or default_workers()
    if workers < 1:
        raise InputError("--workers must be at least 1")
    return LocalExecutor(workers)


def default_workers() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """A process pool. Workers are forked from a forkserver that has imported the pipeline
    once (fast start, no threads inherited from the batch process).

    A worker's memory creeps up over many articles (allocator fragmentation, caches), so
    after `recycle_after` articles per worker the pool is retired (it finishes what it
    holds, then its processes exit) and a fresh one takes the next jobs: peak RSS per worker
    stays flat however large the archive."""

    kind = "local"

    def __init__(self, workers: int, recycle_after: int = 20,
                 job_function: Callable[[dict], dict] = narrate_job):
        self.workers = workers
        self.job_function = job_function  # tests give one that crashes or hangs on a page
        self.recycle_after = recycle_after * workers
        self.generation = 0  # one per pool: which pool a job was given to
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0
        self._retired: list[ProcessPoolExecutor] = []

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is not None and self._submitted >= self.recycle_after:
            self._pool.shutdown(wait=False)
            self._retired.append(self._pool)
            self._pool = None
            self.generation += 1
        if self._pool is None:
            self._pool = narration_pool(self.workers, modules=("narrator.batch.worker",))
            self._submitted = 0
        self._submitted += 1
        return self._pool

    def submit(self, job: dict) -> Future:
        return self._ensure().submit(run_job, self.job_function, job)

    def _pools(self) -> list[ProcessPoolExecutor]:
        return self._retired + ([self._pool] if self._pool is not None else [])

    def worker_pids(self) -> set[int]:
        return {process.pid for pool in self._pools() for process in pool_processes(pool)}

    def reset(self) -> None:
        """After a worker died (BrokenProcessPool): drop the pool, the next submit starts one."""
        self.generation += 1
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        for pool in self._pools():
            pool.shutdown(wait=True, cancel_futures=True)
        self._retired.clear()
        self._pool = None

    def terminate(self) -> None:
        """Stop now (Ctrl-C): end the worker processes, not waiting for their articles, and
        return once they are gone (nothing of theirs moves in OUTDIR after this)."""
        pools = self._pools()
        processes = [process for pool in pools for process in pool_processes(pool)]
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(5)
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        self._retired.clear()
        self._pool = None


class DaskExecutor:
    """Jobs on a Dask cluster (`distributed`). Results come back to this process, which stays
    the only writer of the catalog; workers write the audio into OUTDIR on shared storage."""

    kind = "dask"

    def __init__(self, address: str, timeout: float = 30.0):
        try:
            from distributed import Client
        except ImportError:
            raise NarratorError("--dask-scheduler needs the 'distributed' package "
                                "(pip install 'narrator[batch]')") from None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise NarratorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        info = self.client.scheduler_info()
        workers = info.get("workers", {}) if isinstance(info, dict) else {}
        self.workers = max(1, sum(w.get("nthreads", 1) for w in workers.values()))
        self._remote: set = set()  # this batch's tasks on the cluster, until they end

    def check_outdir(self, marker: Path) -> None:
        """Fail before any work if a worker cannot see OUTDIR (`marker` is a file in it)."""
        seen = self.client.run(os.path.exists, str(marker))
        blind = sorted(address for address, ok in seen.items() if not ok)
        if blind:
            raise NarratorError(
                f"Dask worker(s) {', '.join(blind)} cannot see {marker.parent}: OUTDIR must be "
                f"shared storage mounted at the same path on every worker")

    def submit(self, job: dict) -> Future:
        done: Future = Future()
        remote = self.client.submit(narrate_job, job, pure=False,
                                    key=f"narrate-{job['slug']}-{os.urandom(4).hex()}")

        def transfer(finished) -> None:
            try:
                done.set_result(finished.result())
            except BaseException as exc:  # KilledWorker, cancelled, lost scheduler
                done.set_exception(exc)

        remote.add_done_callback(transfer)
        done.remote = remote  # keep a reference: Dask forgets tasks whose futures are dropped
        self._remote.add(remote)
        remote.add_done_callback(self._remote.discard)
        return done

    def reset(self) -> None:
        pass

    def terminate(self) -> None:
        """Stop now (Ctrl-C): cancel what the cluster holds for this batch."""
        self.client.cancel(list(self._remote), force=True)
        self.client.close()

    def close(self) -> None:
        self.client.close()
