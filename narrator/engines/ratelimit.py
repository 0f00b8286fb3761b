"""A request-rate limit for a network engine, shared by threads and by processes.

A remote service sees one machine, not our processes: a batch runs one worker process per
core, and a `narrator narrate` or the server may run beside it. So where the platform has
file locks (POSIX), the next free request slot of an endpoint lives in a small file that
every narrator process of this user on this machine reserves from under `flock`. Elsewhere
the limit holds per process. Slots are reserved, then waited for outside any lock: a
thread that sleeps holds nobody up.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

# A stored slot further ahead than this is not a queue but a broken file or a clock that
# stepped back: start from now.
_MAX_AHEAD_S = 600.0
_SLOT_BYTES = 32


def _runtime_dir() -> Path | None:
    """This user's private folder for the slot files ($NARRATOR_RUNTIME_DIR, else
    narrator-UID under $XDG_RUNTIME_DIR or the temp folder), or None if it cannot be trusted."""
    if os.environ.get("NARRATOR_RUNTIME_DIR"):
        folder = Path(os.environ["NARRATOR_RUNTIME_DIR"])
    else:
        base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
        folder = base / f"narrator-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    # Another user's folder, or a link planted in a shared /tmp, is not used.
    if info.st_uid != os.getuid() or not folder.is_dir() or folder.is_symlink():
        return None
    return folder


class RateLimiter:
    """At most `rate` request starts per second for one endpoint, spaced evenly."""

    def __init__(self, rate: float, key: str = ""):
        self.rate = rate
        self._lock = threading.Lock()
        self._next = 0.0
        self._pid = os.getpid()  # a forked child makes its own (this lock may be held)
        self.path: Path | None = None
        if fcntl is not None and key:
            folder = _runtime_dir()
            if folder is not None:
                digest = hashlib.sha256(key.encode()).hexdigest()[:16]
                self.path = folder / f"rate-{digest}"

    def acquire(self) -> float:
        """Wait for our slot; return its start time (what the spacing guarantee is about:
        the wake-up after it may be late on a loaded machine, never early)."""
        with self._lock:
            start = self._reserve()
        delay = start - time.time()
        if delay > 0:
            time.sleep(delay)
        return start

    def _reserve(self) -> float:
        """The start time of our request; the slot after it is the next caller's."""
        now = time.time()
        if self.path is not None:
            try:
                return self._reserve_shared(now)
            except OSError:
                self.path = None  # an unusable file: this process limits on its own
        start = max(now, self._next)
        self._next = start + 1.0 / self.rate
        return start

    def _reserve_shared(self, now: float) -> float:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                stored = float(os.pread(fd, _SLOT_BYTES, 0).decode("ascii").strip() or 0)
            except (ValueError, UnicodeDecodeError):
                stored = 0.0
            start = now if stored - now > _MAX_AHEAD_S else max(now, stored)
            os.pwrite(fd, f"{start + 1.0 / self.rate:.6f}".ljust(_SLOT_BYTES).encode(), 0)
            return start
        finally:
            os.close(fd)  # also releases the lock


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(endpoint: str, rate: float) -> RateLimiter:
    """The limiter of an endpoint in this process (shared with the others through its slot
    file); the latest configured rate applies."""
    with _limiters_lock:
        limiter = _limiters.get(endpoint)
        if limiter is None or limiter._pid != os.getpid():
            limiter = _limiters[endpoint] = RateLimiter(rate, key=endpoint)
        limiter.rate = rate
        return limiter
