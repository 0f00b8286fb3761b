"""Jobs of the server: one narration per content, input checks, failures, and restarts that
lose nothing (a real `narrator serve` killed with SIGKILL and started again)."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from narrator.server import create_app
from narrator.server.app import pipeline_runner
from narrator.server.jobs import JobStore
from server_support import TOKEN, ServeProcess, ThreadServer, article_html, wait_done

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGE = article_html("Twenty readers, one narration", [
    (None, ["The same page arrives twenty times at once.", "It is spoken only once."]),
    ("Why it matters", ["Synthesis costs time and money."])])


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    return {"NARRATOR_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture
def counted(tmp_path, cache_env):
    """A server whose runner is the real pipeline, counting how often it is called."""
    calls: list[str] = []
    real = pipeline_runner(1)

    def runner(store, job):
        calls.append(job.id)
        return real(store, job)

    app = create_app(tmp_path / "data", TOKEN, "espeak", workers=2, runner=runner)
    with ThreadServer(app) as srv:
        srv.calls = calls
        srv.client = httpx.Client(base_url=srv.url, timeout=60)
        yield srv
        srv.client.close()


def test_same_content_posted_concurrently_is_narrated_once(counted):
    ids, statuses = [], []

    def post():
        with httpx.Client(base_url=counted.url, timeout=60) as c:
            r = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH)
            statuses.append(r.status_code)
            ids.append(r.json()["id"])

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 20 and len(set(ids)) == 1
    assert set(statuses) <= {200, 202}
    state = wait_done(counted.client, ids[0])
    assert state["status"] == "done", state
    assert state["attempts"] == 1 and counted.calls == [ids[0]]
    assert state["progress"] == 1.0
    assert state["utterances"]["done"] == state["utterances"]["total"] > 0
    again = counted.client.post("/v1/narrations", json={"html": PAGE}, headers=AUTH)
    assert again.status_code == 200 and again.json()["status"] == "done"
    assert counted.calls == [ids[0]]
    # other options are another narration
    other = counted.client.post("/v1/narrations", json={"html": PAGE, "bitrate_kbps": 32},
                                headers=AUTH)
    assert other.json()["id"] != ids[0]


@pytest.mark.parametrize("body, status", [
    ({}, 400), ({"html": 5}, 400), ({"html": "   "}, 400), ({"url": 7}, 400),
    ({"html": "<p>x</p>", "bitrate_kbps": 9999}, 400), ({"html": "<p>x</p>", "voice": 3}, 400),
    ({"html": "<p>x</p>", "bitrate_kbps": 192}, 400),
    ({"html": "<p>x</p>", "bitrate_kbps": True}, 400), ([1, 2], 400),
    ({"html": "<p>x</p>", "voice": "../../../etc/passwd"}, 400),
    ({"html": "<p>x</p>", "voice": "/models/x.onnx"}, 400),
    ({"html": "<p>x</p>", "language": "../fr"}, 400),
    ({"html": "<p>x</p>", "engine": "gtts"}, 400)])
def test_bad_requests_are_refused_with_a_message(counted, body, status):
    r = counted.client.post("/v1/narrations", json=body, headers=AUTH)
    assert r.status_code == status and r.json()["error"]
    assert counted.calls == []


def test_not_json_and_too_large(counted):
    r = counted.client.post("/v1/narrations", content=b"{not json", headers=AUTH)
    assert r.status_code == 400
    r = counted.client.post("/v1/narrations", content=b"x" * (7 * 1024 * 1024), headers=AUTH)
    assert r.status_code == 413


def test_a_page_without_an_article_fails_with_a_reason_and_can_be_retried(counted):
    empty = "<html><body><nav>Home</nav></body></html>"
    id = counted.client.post("/v1/narrations", json={"html": empty}, headers=AUTH).json()["id"]
    state = wait_done(counted.client, id)
    assert state["status"] == "failed" and state["error"]
    assert "internal error" not in state["error"]
    assert counted.client.get(f"/v1/narrations/{id}/audio.mp3").status_code == 404
    assert counted.client.get(f"/embed/{id}").status_code == 404  # failed: final, no refresh
    retry = counted.client.post("/v1/narrations", json={"html": empty}, headers=AUTH).json()
    assert retry["id"] == id and retry["status"] in ("queued", "running", "failed")
    assert wait_done(counted.client, id)["attempts"] == 2


def test_restart_loses_no_job(tmp_path, cache_env):
    data = tmp_path / "data"
    pages = [article_html(f"Restart story {i}", [(None, [f"Story number {i} is short."])])
             for i in range(3)]
    srv = ServeProcess(data, "--workers", "1", env=cache_env).wait_ready()
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        ids = [c.post("/v1/narrations", json={"html": p}, headers=AUTH).json()["id"]
               for p in pages]
    srv.stop(kill=True)  # SIGKILL: no chance to tidy up
    with sqlite3.connect(data / "jobs.sqlite3") as db:
        left = dict(db.execute("SELECT id, status FROM jobs").fetchall())
    assert set(left) == set(ids)
    # a job caught mid-run by the crash, whatever the timing above was
    store = JobStore(data)
    with store._lock:
        store._db.execute("UPDATE jobs SET status='running' WHERE id=?", (ids[0],))
    store.close()

    srv = ServeProcess(data, "--workers", "1", env=cache_env).wait_ready()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for id in ids:
                state = wait_done(c, id)
                assert state["status"] == "done", state
                audio = c.get(f"/v1/narrations/{id}/audio.mp3")
                assert audio.status_code == 200 and len(audio.content) > 1000
    finally:
        srv.stop()


def test_a_job_that_keeps_killing_the_server_is_failed_not_retried_forever(tmp_path):
    """A job left running by MAX_INTERRUPTIONS dead servers fails instead of killing the next."""
    from narrator.server.jobs import MAX_INTERRUPTIONS

    store = JobStore(tmp_path)
    job, _ = store.submit(b"<html>poison</html>", {"engine": "espeak"}, None)
    for attempt in range(1, MAX_INTERRUPTIONS + 1):
        claimed = store.claim()  # the server starts it ... and dies (nothing else happens)
        assert claimed.id == job.id and claimed.attempts == attempt
        store.close()
        store = JobStore(tmp_path)  # the next server
        requeued, given_up = store.requeue_interrupted()
        assert (requeued, given_up) == ((1, 0) if attempt < MAX_INTERRUPTIONS else (0, 1))
    failed = store.get(job.id)
    assert failed.status == "failed" and f"{MAX_INTERRUPTIONS} times" in failed.error
    assert store.claim() is None
    # Submitting it again starts anew: three more server deaths before it is given up.
    again, created = store.submit(b"<html>poison</html>", {"engine": "espeak"}, None)
    assert not created and again.status == "queued"
    assert store.claim().attempts == MAX_INTERRUPTIONS + 1
    assert store.requeue_interrupted() == (1, 0)
    store.close()


def test_a_data_folder_from_before_the_interruption_count_opens(tmp_path):
    with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:
        db.executescript("""CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL,
            done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, error TEXT,
            url TEXT, options TEXT NOT NULL, title TEXT, language TEXT, duration REAL,
            attempts INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, updated REAL NOT NULL);
            INSERT INTO jobs (id, status, options, attempts, created, updated)
            VALUES ('%s', 'running', '{}', 1, 0, 0);""" % ("a" * 32))
    db.close()
    store = JobStore(tmp_path)
    assert store.requeue_interrupted() == (1, 0)
    assert store.get("a" * 32).status == "queued"
    store.close()


def test_serve_reports_a_job_given_up_after_repeated_crashes(tmp_path, cache_env):
    data = tmp_path / "data"
    store = JobStore(data)
    job, _ = store.submit(PAGE.encode(), {"engine": "espeak"}, None)
    with store._lock:  # as two servers killed in the middle of it, and a third now, leave it
        store._db.execute("UPDATE jobs SET status='running', interrupted=2 WHERE id=?", (job.id,))
    store.close()
    srv = ServeProcess(data, "--workers", "1", env=cache_env).wait_ready()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            state = c.get(f"/v1/narrations/{job.id}").json()
            assert state["status"] == "failed", state
            assert "stopped while narrating it 3 times" in state["error"]
    finally:
        srv.stop()


def test_a_job_past_its_time_limit_fails_with_the_reason(tmp_path, cache_env):
    app = create_app(tmp_path / "data", TOKEN, "espeak", job_timeout=1e-6)
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        id = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH).json()["id"]
        state = wait_done(c, id)
        assert state["status"] == "failed", state
        assert "took longer than 1e-06 s (the server's --job-timeout)" in state["error"]
        assert c.get(f"/v1/narrations/{id}/audio.mp3").status_code == 404


def test_serve_refuses_unknown_engine_without_traceback(tmp_path):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "narrator", "serve", "--data", str(tmp_path),
                        "--engine", "nope", "--no-auth"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "nope" in r.stderr and "Traceback" not in r.stderr


def test_no_auth_accepts_writes(tmp_path, cache_env):
    app = create_app(tmp_path / "d", None, "espeak", runner=lambda store, job: ("t", "en", 1.0))
    with ThreadServer(app) as srv:
        r = httpx.post(srv.url + "/v1/narrations", json={"html": PAGE})
        assert r.status_code == 202


def test_one_server_per_data_folder(tmp_path, cache_env):
    data = tmp_path / "data"
    first = ServeProcess(data, env=cache_env).wait_ready()
    try:
        second = ServeProcess(data, env=cache_env)
        assert second.proc.wait(60) != 0
        second.stop()
        log = Path(second.log.name).read_text()
        assert "another narrator serve is using" in log and "Traceback" not in log
    finally:
        first.stop()


def test_serve_fetch_allow_list_from_flag_and_config(tmp_path, cache_env):
    from server_support import PageServer
    page = article_html("Fetched by URL", [(None, ["A page on a private address."])]).encode()
    origin = PageServer({"/a": (200, {"Content-Type": "text/html"}, page)}, host="127.0.0.2")
    config = tmp_path / "config.toml"
    config.write_text('[server]\nfetch_allow = ["127.0.0.2/32"]\n')
    try:
        plain = ServeProcess(tmp_path / "d1", env=cache_env).wait_ready()
        try:
            r = httpx.post(plain.url + "/v1/narrations", json={"url": origin.url + "/a"},
                           headers=AUTH)
            assert r.status_code == 400 and "not public" in r.json()["error"]
        finally:
            plain.stop()
        assert origin.hits == []
        for extra, env in ((("--allow-net", "127.0.0.2/32"), {}),
                           ((), {"NARRATOR_CONFIG": str(config)})):
            srv = ServeProcess(tmp_path / f"d{len(extra)}x", *extra,
                               env={**cache_env, **env}).wait_ready()
            try:
                r = httpx.post(srv.url + "/v1/narrations", json={"url": origin.url + "/a"},
                               headers=AUTH)
                assert r.status_code == 202, r.text
            finally:
                srv.stop()
        assert origin.hits == ["/a", "/a"]
    finally:
        origin.close()
