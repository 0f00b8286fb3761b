"""Jobs run in narration processes: a crash fails one job and the server keeps serving; the
time limit stops even a stuck extraction; a stopping server requeues what it was doing."""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import httpx

from narrator.server import create_app
from narrator.server.runner import ProcessRunner, narrate_job
from server_support import TOKEN, ThreadServer, article_html, wait_done

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def page(title: str, marker: str = "") -> str:
    return article_html(title, [(None, [f"{title} is a short story.", "It ends here."])]) \
        .replace("</body>", f"<!-- {marker} --></body>")


def crash_or_hang_on_marker(data_dir, job_id, url, options, timeout, synth_workers):
    """A job function that dies like a segfault, or never leaves extraction, on marked pages."""
    import narrator.pipeline as pipeline

    html = (Path(data_dir) / "narrations" / job_id / "source.html").read_bytes()
    if b"KILL-THE-PROCESS" in html:
        os._exit(70)
    if b"HANG-IN-EXTRACTION" in html:
        def stuck(*args, **kwargs):
            while True:
                time.sleep(0.01)
        pipeline.extract = stuck  # this process only; it is recycled with the test's server
    if b"SLOW-JOB" in html:
        time.sleep(60)
    return narrate_job(data_dir, job_id, url, options, timeout, synth_workers)


def serve(tmp_path, *, job_timeout=None, workers=2):
    runner = ProcessRunner(job_timeout=job_timeout, job_function=crash_or_hang_on_marker)
    app = create_app(tmp_path / "data", TOKEN, "espeak", workers=workers, runner=runner)
    return ThreadServer(app)


def post(client, html: str) -> str:
    response = client.post("/v1/narrations", json={"html": html}, headers=AUTH)
    assert response.status_code in (200, 202), response.text
    return response.json()["id"]


def test_a_crashing_narration_fails_its_job_only_and_the_server_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    with serve(tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        good = post(c, page("Before the crash"))
        assert wait_done(c, good)["status"] == "done"
        crash = post(c, page("The crash", "KILL-THE-PROCESS"))
        beside = post(c, page("Beside the crash"))  # on the other worker, at the same time
        state = wait_done(c, crash)
        assert state["status"] == "failed" and "narration process died" in state["error"]
        assert wait_done(c, beside)["status"] == "done"
        # The server still serves what it had, and narrates again (a new process).
        audio = c.get(f"/v1/narrations/{good}/audio.mp3")
        assert audio.status_code == 200 and audio.content[:3] == b"ID3"
        after = post(c, page("After the crash"))
        assert wait_done(c, after)["status"] == "done"


def test_the_time_limit_stops_a_stuck_extraction(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    with serve(tmp_path, job_timeout=2, workers=1) as srv, \
            httpx.Client(base_url=srv.url, timeout=60) as c:
        started = time.monotonic()
        stuck = post(c, page("Stuck", "HANG-IN-EXTRACTION"))
        state = wait_done(c, stuck, timeout=60)
        assert state["status"] == "failed" and "longer than 2 s" in state["error"], state
        assert time.monotonic() - started < 30


def test_a_stopping_server_requeues_the_job_it_was_narrating(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    with serve(tmp_path, workers=1) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        slow = post(c, page("Slow", "SLOW-JOB"))
        deadline = time.monotonic() + 30
        while c.get(f"/v1/narrations/{slow}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 15  # did not wait for the 60 s job
    db = sqlite3.connect(tmp_path / "data" / "jobs.sqlite3")
    status, interrupted = db.execute("SELECT status, interrupted FROM jobs WHERE id=?",
                                     (slow,)).fetchone()
    db.close()
    assert (status, interrupted) == ("queued", 0)
