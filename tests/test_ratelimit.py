"""The request-rate limit holds across processes: a batch's workers share one budget."""
from __future__ import annotations

import multiprocessing
import os
import sys
import time

import pytest

from narrator.engines.ratelimit import RateLimiter, shared_limiter

RATE = 20.0


def starts(key: str, count: int, queue) -> None:
    limiter = RateLimiter(RATE, key=key)
    times = []
    for _ in range(count):
        slot = limiter.acquire()
        woke = time.time()
        assert woke >= slot - 0.001, "a request started before its slot"
        times.append(slot)
    queue.put((os.getpid(), times, str(limiter.path)))


def run_processes(key: str, processes: int, count: int) -> list[float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=starts, args=(key, count, queue)) for _ in range(processes)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(10)
    assert len({pid for pid, _, _ in results}) == processes
    assert all(path != "None" for _, _, path in results), "no shared slot file"
    return sorted(t for _, times, _ in results for t in times)


def spacing_ok(times: list[float]) -> bool:
    # The slots the processes were given (the slot file keeps microseconds); the wake-up
    # after each is checked in starts(): never before its slot.
    return all(b - a >= 1 / RATE - 2e-6 for a, b in zip(times, times[1:]))


@pytest.mark.skipif(sys.platform == "win32", reason="file locks: POSIX only (per process there)")
def test_three_processes_share_one_rate():
    times = run_processes("http://127.0.0.1:9/shared", processes=3, count=8)
    assert len(times) == 24
    assert spacing_ok(times), [round(b - a, 3) for a, b in zip(times, times[1:])]
    assert (len(times) - 1) / (times[-1] - times[0]) <= RATE * 1.02


def test_different_endpoints_do_not_wait_for_each_other(tmp_path):
    a, b = RateLimiter(RATE, key="http://a.example/"), RateLimiter(RATE, key="http://b.example/")
    assert a.path != b.path
    a.acquire()
    before = time.time()
    b.acquire()  # b's first slot is free now, whatever a did
    assert time.time() - before < 1 / RATE


def test_a_broken_or_far_future_slot_file_does_not_stall(tmp_path):
    limiter = RateLimiter(RATE, key="http://broken.example/")
    limiter.path.write_text("not a time")
    limiter.acquire()
    limiter.path.write_text(f"{time.time() + 10_000:.6f}")
    before = time.time()
    limiter.acquire()
    assert time.time() - before < 1.0


def test_an_unusable_runtime_folder_falls_back_to_one_process(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("NARRATOR_RUNTIME_DIR", str(blocker / "sub"))
    limiter = RateLimiter(RATE, key="http://fallback.example/")
    assert limiter.path is None
    limiter.acquire()
    limiter.acquire()  # spaced in process, no error


def test_a_forked_child_gets_its_own_limiter():
    parent = shared_limiter("http://fork.example/", RATE)
    assert shared_limiter("http://fork.example/", RATE) is parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        child = shared_limiter("http://fork.example/", RATE)
        os.write(write, b"new" if child is not parent else b"same")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 8) == b"new"
