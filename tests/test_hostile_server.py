"""Hostile clients and origins against `narrator serve` (issue 12): real HTTP on loopback.

A slow-drip origin cannot hold a fetch past its deadline nor the threads that answer status
requests; odd Range, JSON and paths get the right status and one line; a killed server's
temp files go at the next start; a narration stuck in C code is stopped from outside."""
from __future__ import annotations

import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import hostile_corpus as corpus
from narrator.server import create_app
from narrator.server.fetch import Fetcher
from narrator.server.runner import ProcessRunner, narrate_job
from server_support import TOKEN, ThreadServer, article_html, wait_done

pytestmark = pytest.mark.hostile

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGE = article_html("A hostile morning", [(None, ["The server keeps answering.",
                                                  "Every request gets one clear answer."])])


class DripServer:
    """An origin on 127.0.0.2 that answers every request one byte every `every` seconds."""

    def __init__(self, every: float = 2.0):
        self.every, self.stop = every, threading.Event()
        self.sock = socket.create_server(("127.0.0.2", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.2:{self.sock.getsockname()[1]}/article"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + b"<p>x</p>" * 1000
        with conn:
            try:
                conn.recv(65536)
                for byte in answer:
                    if self.stop.wait(self.every):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NARRATOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        app = create_app(data, TOKEN, "espeak", synth_workers=1,
                         fetcher=Fetcher(allow_networks=("127.0.0.2/32",)))
        with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
            srv.client = client
            yield srv


@pytest.fixture(scope="module")
def done_job(server):
    r = server.client.post("/v1/narrations", json={"html": PAGE}, headers=AUTH)
    assert r.status_code in (200, 202), r.text
    state = wait_done(server.client, r.json()["id"])
    assert state["status"] == "done", state
    return state["id"]


def test_a_slow_drip_origin_is_cut_at_the_deadline_and_status_keeps_answering(server,
                                                                              done_job):
    drip = DripServer(every=2.0)
    try:
        fetch_limit = Fetcher().timeout_s  # 10 s for the whole fetch
        results = []

        def submit():
            started = time.monotonic()
            with httpx.Client(base_url=server.url, timeout=120) as client:
                r = client.post("/v1/narrations", json={"url": drip.url}, headers=AUTH)
            results.append((r.status_code, r.json().get("error", ""),
                            time.monotonic() - started))

        with ThreadPoolExecutor(42) as pool:
            for _ in range(42):
                pool.submit(submit)
            time.sleep(2.0)  # the fetches have started and are being dripped on
            latencies = []
            for _ in range(5):
                started = time.monotonic()
                r = server.client.get(f"/v1/narrations/{done_job}")
                latencies.append(time.monotonic() - started)
                assert r.status_code == 200
                audio = server.client.get(f"/v1/narrations/{done_job}/audio.mp3",
                                          headers={"Range": "bytes=0-99"})
                assert audio.status_code == 206
                time.sleep(0.5)
        # Before: the drip held each fetch 78 s and 42 of them took every thread: a status
        # request waited 75 s.
        assert max(latencies) < 1.0, latencies
        assert len(results) == 42
        for status, error, took in results:
            assert status in (400, 503), (status, error)
            assert took < fetch_limit + 5, (status, error, took)
            if status == 400:
                assert "timed out" in error, error
        assert sum(status == 400 for status, _, _ in results) >= 1
    finally:
        drip.close()


@pytest.mark.parametrize("header,expected", [
    (corpus.long_range(5000), 200),  # the last 10^5000 bytes: all of them
    ("bytes=" + "9" * 5000 + "-", 416),
    ("bytes=0-" + "9" * 5000, 206),
])
def test_a_range_of_thousands_of_digits_is_answered_not_a_500(server, done_job, header,
                                                               expected, caplog):
    with caplog.at_level(logging.ERROR):
        r = server.client.get(f"/v1/narrations/{done_job}/audio.mp3",
                              headers={"Range": header})
    assert r.status_code == expected, r.text[:200]
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


@pytest.mark.parametrize("body,words", [
    (corpus.deep_json(), "nested too deeply"),
    (corpus.lone_surrogate_json(), "not Unicode text"),
    (b'{"\\udfff": "x"}', "not Unicode text"),
    (b'{"url": "http://127.0.0.2/\\ud800"}', "not Unicode text"),
    (b"\xff\xfe{}", "must be JSON"),
])
def test_malformed_json_is_a_400_with_a_message(server, body, words):
    r = server.client.post("/v1/narrations", content=body,
                           headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text[:200]
    assert words in r.json()["error"]


def test_the_trailing_slash_redirect_does_not_echo_the_host(server, done_job):
    r = server.client.get(f"/v1/narrations/{done_job}/?x=1",
                          headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == f"/v1/narrations/{done_job}?x=1"
    assert "evil" not in r.text
    for path in ("//evil.example/", "/nowhere/"):
        r = server.client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code == 404 and "location" not in r.headers


def test_a_starting_server_removes_the_temp_files_a_killed_one_left(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    folder = data / "narrations" / ("ab" * 16)
    folder.mkdir(parents=True)
    left = [".audio.mp3.k2j3h4g5.tmp", ".audio.transcript.vtt.x_y9z8w7.tmp", ".source.1234.tmp"]
    mine = ["notes.tmp", "audio.mp3", ".audio.mp3.tmp"]  # not names narrator writes
    for name in left + mine:
        (folder / name).write_bytes(b"partial")
    app = create_app(data, TOKEN, "espeak", synth_workers=1)
    with ThreadServer(app):
        assert sorted(p.name for p in folder.iterdir()) == sorted(mine)


def stuck_in_c(data_dir, job_id, url, options, timeout, synth_workers):
    """A narration stuck in C code: libxml2 given 300,000 attributes directly (minutes, and
    no alarm can interrupt it), on marked pages."""
    html = (Path(data_dir) / "narrations" / job_id / "source.html").read_bytes()
    if b"STUCK-IN-C" in html:
        import lxml.html

        from narrator.timelimit import limit
        from narrator.errors import TimeLimitError

        crowded = "<div " + " ".join(f"a{i}" for i in range(300_000)) + ">"
        with limit(timeout, lambda: TimeLimitError("alarm")):
            lxml.html.document_fromstring(crowded)
    return narrate_job(data_dir, job_id, url, options, timeout, synth_workers)


def test_a_narration_stuck_in_c_code_is_stopped_from_outside(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    limit = 2.0
    runner = ProcessRunner(job_timeout=limit, job_function=stuck_in_c)
    app = create_app(tmp_path / "data", TOKEN, "espeak", workers=1, runner=runner)
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        stuck = client.post("/v1/narrations", headers=AUTH,
                            json={"html": PAGE.replace("</body>", "<!-- STUCK-IN-C --></body>")})
        started = time.monotonic()
        state = wait_done(client, stuck.json()["id"], timeout=120)
        took = time.monotonic() - started
        assert state["status"] == "failed", state
        assert "--job-timeout" in state["error"] and "stopped" in state["error"]
        assert took < limit + 5.0 + 5, took  # narrator.timelimit.OUTSIDE_GRACE_S: 5 s
        after = client.post("/v1/narrations", json={"html": PAGE}, headers=AUTH)
        assert wait_done(client, after.json()["id"])["status"] == "done"
