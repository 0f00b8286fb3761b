"""Pool processes: started ready to narrate, and ended when the process that started them is gone.

A `ProcessPoolExecutor` worker waits for its next call on a queue that its parent feeds; if
the parent is killed (`kill -9`, the OOM killer), nothing tells the worker, and it waits
forever, holding its memory. `watch_parent` runs in each worker (the pool's `initializer`)
and ends the worker once the parent is gone, abandoning the job in hand: its result has no
one left to receive it, and the files it was writing are temporary ones.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

# What a narration imports: a forkserver that has imported it once starts each worker at once.
NARRATION_MODULES = ("narrator.pipeline", "narrator.extract", "narrator.speech",
                     "narrator.engines.espeak", "trafilatura", "narrator.lifeline")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # pragma: no cover - the pid was reused by another user
        return True
    try:  # Linux: a dead process its own parent has not collected yet is a zombie
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def watch_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what an
    # interrupt means (stop, clean up, report); a worker that took it too would only print a
    # traceback of where it was waiting.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while not _gone(parent_pid):
            time.sleep(interval_s)
        os._exit(0)

    threading.Thread(target=watch, name="narrator-lifeline", daemon=True).start()


def pool_processes(pool: ProcessPoolExecutor) -> list:
    """A pool's worker processes, to end them now or to know their pids. ProcessPoolExecutor
    has no public way to either: `_processes` is the pid -> Process table it keeps (CPython
    3.8 to 3.13)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def narration_pool(workers: int, *, modules: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """`workers` processes forked from a forkserver that has imported the narration modules
    (and `modules`, where the job functions live), each ending with this process."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*modules, *NARRATION_MODULES])
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=watch_parent,
                               initargs=(os.getpid(),))
