"""After `kill -9` of the server or of a batch, their narration processes end too (they would
otherwise wait for work forever, holding their memory)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server_support import ServeProcess
from test_batch_archive import build_archive, isolated_config  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":  # a zombie has ended; only its parent has not collected it yet
            left.add(pid)
    return left


def wait_gone(pids: set[int], seconds: float = 15) -> set[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


def test_killing_the_server_ends_its_narration_processes(tmp_path):
    srv = ServeProcess(tmp_path / "data", "--workers", "2").wait_ready()
    try:
        deadline = time.monotonic() + 30  # the narration processes start with the server
        while len(descendants(srv.proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = descendants(srv.proc.pid)
        assert len(workers) >= 3, workers  # forkserver, resource tracker, narration processes
    finally:
        srv.stop(kill=True)  # SIGKILL to the server alone, not its process group
    assert wait_gone(workers) == set()


def test_killing_a_batch_ends_its_workers(tmp_path):
    archive = tmp_path / "archive"
    build_archive(archive, 30)
    batch = subprocess.Popen([sys.executable, "-m", "narrator", "batch", str(archive), "-o",
                              str(tmp_path / "out"), "--engine", "espeak", "--workers", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(descendants(batch.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = descendants(batch.pid)
        assert len(workers) >= 3, workers
    finally:
        os.kill(batch.pid, 9)
        batch.wait(10)
    assert wait_gone(workers) == set()


def _synthesis_pool_then_wait(conn) -> None:
    """In a stand-in narration process: start a synthesis pool, say its workers, then wait."""
    from narrator.engines import create_engine
    from narrator.synthesize import EngineSpec, _executor

    engine = create_engine("espeak")
    pool, call = _executor(engine, EngineSpec("espeak", {}), 2)
    [pool.submit(call, "Bonjour.", "fr", "fr").result() for _ in range(4)]
    conn.send(sorted(descendants(os.getpid())))
    time.sleep(300)


def test_a_dying_narration_process_takes_its_synthesis_workers_along():
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    narration = context.Process(target=_synthesis_pool_then_wait, args=(theirs,))
    narration.start()
    try:
        assert mine.poll(60)
        workers = set(mine.recv())
        assert len(workers) >= 2, workers
    finally:
        os.kill(narration.pid, 9)  # a crash, or the server's terminate()
        narration.join(10)
    assert wait_gone(workers) == set()
