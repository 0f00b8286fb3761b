"""Time limits on a piece of work (extracting a page, narrating an article).

Two mechanisms, because Python can interrupt only its main thread:
- `alarm`: SIGALRM, in the main thread. It stops any Python code, even a stage that never
  reports progress (a pathological page in the parser's Python passes). Alarms nest: an outer,
  earlier alarm is left to fire, and an outer, later one is restored afterwards.
- `Deadline.check`: called by long loops between steps (synthesis, between utterances). It
  works in any thread: a Dask worker's, the server's.

Neither stops C code that does not return (an alarm's handler runs only once it does). That
is enforced from outside: the server and the batch kill a narration process that overruns its
limit, and a process of its own (the CLI) can `enable_hard_stop`: a block still running a grace
period after its alarm should have stopped it ends the process, from a watchdog thread (libxml2
and the other C code narrator calls release the GIL, so the thread runs).
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Callable

GRACE_S = 2.0  # how long past its limit a block may run in C code before a hard stop
# How long past its limit a parent (the server, the batch) waits for a narration process's own
# alarm, and for the process to start, before it kills the process.
OUTSIDE_GRACE_S = 5.0
_hard_stop: Callable[[BaseException], None] | None = None


def enable_hard_stop(on_overrun: Callable[[BaseException], None]) -> None:
    """For a process of one's own: when an alarm's block overruns its limit by GRACE_S (stuck
    in C code), call `on_overrun(error)` from a watchdog thread; it must end the process."""
    global _hard_stop
    _hard_stop = on_overrun


def alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def alarm(seconds: float | None, make_error: Callable[[], BaseException]):
    """Raise `make_error()` if the block runs longer than `seconds` (main thread only; a no-op
    elsewhere, and for 0 or None)."""
    if not seconds or not alarm_available():
        yield
        return
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if remaining and remaining < seconds:
        yield  # someone else's alarm fires first (an article's limit, a benchmark harness)
        return

    def on_alarm(signum, frame):
        raise make_error()

    old = signal.signal(signal.SIGALRM, on_alarm)
    start = time.monotonic()
    watchdog = None
    if _hard_stop is not None:
        watchdog = threading.Timer(seconds + GRACE_S, lambda: _hard_stop(make_error()))
        watchdog.daemon = True
        watchdog.start()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if watchdog is not None:
            watchdog.cancel()
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, max(0.001, remaining - (time.monotonic() - start)))


@contextmanager
def limit(seconds: float | None, make_error: Callable[[], BaseException]):
    """Both mechanisms for one piece of work: the alarm (where it can be set) for the block,
    and the `Deadline` it yields, for the block's loops to `check()` between steps (an alarm
    that fires inside a native callback cannot raise; a thread has no alarm)."""
    with alarm(seconds, make_error):
        yield Deadline(seconds, make_error)


class Deadline:
    """A point in time after which `check()` raises `make_error()`; never, for 0 or None."""

    def __init__(self, seconds: float | None, make_error: Callable[[], BaseException]):
        self.seconds = seconds or None
        self.at = time.monotonic() + seconds if seconds else None
        self.make_error = make_error

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise self.make_error()

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())
