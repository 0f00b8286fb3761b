"""Pool processes end when the process that started them is gone.

A `ProcessPoolExecutor` worker waits for its next call on a queue that its parent feeds; if
the parent is killed (`kill -9`, the OOM killer), nothing tells the worker, and it waits
forever, holding its memory. `watch_parent` runs in each worker (the pool's `initializer`)
and ends the worker once the parent is gone, abandoning the job in hand: its result has no
one left to receive it, and the files it was writing are temporary ones.
"""
from __future__ import annotations

import os
import threading
import time


def watch_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    def watch() -> None:
        while True:
            time.sleep(interval_s)
            try:
                os.kill(parent_pid, 0)  # signal 0: only asks whether the process exists
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # pragma: no cover - the pid was reused by another user
                os._exit(0)

    threading.Thread(target=watch, name="narrator-lifeline", daemon=True).start()
