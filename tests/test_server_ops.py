"""What an operator and an API client meet: the start-up line, job lines and the access log
(off with --quiet), a port already in use, listing and deleting narrations, options refused at
once, and a failed narration that says so. Real `narrator serve` processes, real HTTP."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from narrator.server import create_app
from server_support import ROOT, TOKEN, ServeProcess, ThreadServer, article_html, wait_done

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGE = article_html("An operator's story", [(None, ["A short article for the logs."])])
EMPTY = "<html><body><nav>Home</nav></body></html>"
CLF = re.compile(r'^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
                 r'"(\w+) (\S+) HTTP/1\.1" (\d{3}) (\d+|-) "[^"]*" "[^"]*"$')


def _log(srv: ServeProcess) -> str:
    srv.log.flush()
    return Path(srv.log.name).read_text()


def _wait_for(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_start_up_line_job_lines_and_access_log(tmp_path):
    srv = ServeProcess(tmp_path / "data", "--workers", "2").wait_ready()
    try:
        with httpx.Client(base_url=srv.url, timeout=30, headers={"User-Agent": "ops-test"}) as c:
            good = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH).json()["id"]
            bad = c.post("/v1/narrations", json={"html": EMPTY}, headers=AUTH).json()["id"]
            assert wait_done(c, good)["status"] == "done"
            failed = wait_done(c, bad)
            assert failed["status"] == "failed"
            c.get(f"/v1/narrations/{good}/audio.mp3", headers={"Range": "bytes=0-99"})
        assert _wait_for(lambda: f"job {bad} failed" in _log(srv))
        # an access line is written once its response is sent: the client may see it first
        assert _wait_for(lambda: '/audio.mp3 HTTP/1.1" 206' in _log(srv))
        log = _log(srv)
    finally:
        srv.stop()
    lines = log.splitlines()
    starts = [line for line in lines if line.startswith("narrator: listening on")]
    assert starts == [f"narrator: listening on http://127.0.0.1:{srv.port}, data "
                      f"{(tmp_path / 'data').resolve()}, engine espeak, 2 workers"]
    assert re.search(rf"job {good} done in \d+\.\d s: An operator's story \(0:\d\d of audio",
                     log), log
    assert f"job {bad} failed: {failed['error']}" in log
    access = [CLF.match(line) for line in lines if line.startswith("127.0.0.1 - - [")]
    assert access and all(access), log
    requests = [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in access]
    assert any(r[:3] == ("POST", "/v1/narrations", "202") and int(r[3]) > 100
               for r in requests)
    assert ("GET", f"/v1/narrations/{good}/audio.mp3", "206", "100") in requests
    assert all('"ops-test"' in line for line in lines if "/v1/narrations" in line
               and line.startswith("127.0.0.1"))
    assert TOKEN not in log and "Traceback" not in log


def test_quiet_has_no_access_log_nor_job_lines(tmp_path):
    srv = ServeProcess(tmp_path / "data", "--quiet").wait_ready()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            id = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH).json()["id"]
            assert wait_done(c, id)["status"] == "done"
        log = _log(srv)
    finally:
        srv.stop()
    assert "narrator: listening on" in log
    assert "GET /" not in log and "POST /" not in log and f"job {id}" not in log


def test_a_port_in_use_is_one_error_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "narrator", "serve", "--no-auth", "--port",
                            str(port), "--data", str(tmp_path / "d")], capture_output=True,
                           text=True, timeout=60, cwd=ROOT)
    assert r.returncode != 0
    assert r.stderr.splitlines() == [f"narrator: error: port {port} on 127.0.0.1 is already "
                                     f"in use (another server?); choose another --port"]


@pytest.fixture
def api(tmp_path):
    app = create_app(tmp_path / "data", TOKEN, "espeak")
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        srv.client = c
        srv.data = tmp_path / "data"
        yield srv


def test_list_narrations_paged_and_by_status(api):
    c = api.client
    pages = [article_html(f"Listed story {i}", [(None, [f"Story {i} of the list."])])
             for i in range(3)]
    ids = []
    for page in pages:
        ids.append(c.post("/v1/narrations", json={"html": page}, headers=AUTH).json()["id"])
        time.sleep(0.01)  # distinct creation times: newest first is well defined
    failed = c.post("/v1/narrations", json={"html": EMPTY}, headers=AUTH).json()["id"]
    for id in ids + [failed]:
        wait_done(c, id)
    assert c.get("/v1/narrations").status_code == 401
    everything = c.get("/v1/narrations", headers=AUTH).json()
    assert [n["id"] for n in everything["narrations"]] == [failed, *reversed(ids)]
    assert everything["next"] is None
    first = c.get("/v1/narrations?status=done&limit=2", headers=AUTH).json()
    assert [n["id"] for n in first["narrations"]] == [ids[2], ids[1]]
    assert all(n["status"] == "done" and n["links"]["audio"] for n in first["narrations"])
    second = c.get(first["next"], headers=AUTH).json()
    assert [n["id"] for n in second["narrations"]] == [ids[0]]
    assert c.get(second["next"], headers=AUTH).json() == {"narrations": [], "next": None} \
        if second["next"] else True
    only_failed = c.get("/v1/narrations?status=failed", headers=AUTH).json()["narrations"]
    assert [(n["id"], bool(n["error"])) for n in only_failed] == [(failed, True)]
    for bad in ("status=finished", "limit=0", "limit=1000", "cursor=nonsense"):
        r = c.get(f"/v1/narrations?{bad}", headers=AUTH)
        assert r.status_code == 400 and r.json()["error"], bad


def test_delete_a_narration_and_its_files(api):
    c = api.client
    id = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH).json()["id"]
    assert wait_done(c, id)["status"] == "done"
    assert c.get(f"/v1/narrations/{id}/audio.mp3").status_code == 200
    assert c.delete(f"/v1/narrations/{id}").status_code == 401
    assert c.delete(f"/v1/narrations/{id}", headers={"Authorization": "Bearer no"}) \
        .status_code == 401
    assert (api.data / "narrations" / id).is_dir()
    r = c.delete(f"/v1/narrations/{id}", headers=AUTH)
    assert r.status_code == 204
    assert not (api.data / "narrations" / id).exists()
    assert c.get(f"/v1/narrations/{id}").status_code == 404
    assert c.get(f"/v1/narrations/{id}/audio.mp3").status_code == 404
    assert c.delete(f"/v1/narrations/{id}", headers=AUTH).status_code == 404
    assert c.delete("/v1/narrations/../../etc", headers=AUTH).status_code == 404
    # the same page again is a new narration
    again = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH)
    assert again.status_code == 202 and again.json()["id"] == id


def test_a_running_narration_is_not_deleted(tmp_path):
    import threading
    release = threading.Event()

    def slow(store, job):
        release.wait(30)
        return "t", "en", 1.0

    app = create_app(tmp_path / "d", TOKEN, "espeak", runner=slow)
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        id = c.post("/v1/narrations", json={"html": PAGE}, headers=AUTH).json()["id"]
        assert _wait_for(lambda: c.get(f"/v1/narrations/{id}").json()["status"] == "running")
        r = c.delete(f"/v1/narrations/{id}", headers=AUTH)
        assert r.status_code == 409 and "running" in r.json()["error"]
        release.set()
        assert wait_done(c, id)["status"] == "done"
        assert c.delete(f"/v1/narrations/{id}", headers=AUTH).status_code == 204


@pytest.mark.parametrize("options, words", [
    ({"voice": "nosuchvoice"}, "nosuchvoice"),
    ({"language": "xx"}, "'xx'"),
    ({"language": "zz-QQ", "voice": "en"}, None)])
def test_a_voice_or_language_the_engine_lacks_is_a_400_at_once(api, options, words):
    r = api.client.post("/v1/narrations", json={"html": PAGE, **options}, headers=AUTH)
    if words is None:  # a known voice speaks any language the page declares: accepted
        assert r.status_code == 202, r.text
        return
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]
    assert api.client.get("/v1/narrations", headers=AUTH).json()["narrations"] == []


def test_good_voice_and_language_are_accepted(api):
    r = api.client.post("/v1/narrations", json={"html": PAGE, "voice": "fr", "language": "fr"},
                        headers=AUTH)
    assert r.status_code == 202, r.text
    assert wait_done(api.client, r.json()["id"])["status"] == "done"


def test_a_failed_narration_says_so_in_its_embed_page_and_audio(api):
    c = api.client
    id = c.post("/v1/narrations", json={"html": EMPTY}, headers=AUTH).json()["id"]
    state = wait_done(c, id)
    assert state["status"] == "failed" and state["error"]
    page = c.get(f"/embed/{id}")
    assert "refresh" not in page.text.lower() and "retry-after" not in page.headers
    assert "failed" in page.text and state["error"].split(":")[0] in page.text
    audio = c.get(f"/v1/narrations/{id}/audio.mp3")
    assert audio.status_code == 404
    assert audio.json()["error"] == f"the narration failed: {state['error']}"
    assert "not ready" not in audio.text


def test_the_server_chooses_the_engine_per_language_by_default(tmp_path):
    # Like narrate and batch: engine auto, so a French article is read by Pico where its wheel
    # installs (espeak-ng elsewhere), an English one likewise; the start-up line says auto.
    from narrator.engines.pico import PicoEngine

    expected = "espeak" if PicoEngine.unavailable_reason() else "pico"
    french = article_html("Un article court", [(None, ["Une phrase pour le serveur."])],
                          lang="fr")
    srv = ServeProcess(tmp_path / "data", "--workers", "1", engine=None,
                       env={"NARRATOR_CACHE_DIR": str(tmp_path / "cache")}).wait_ready()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            job = c.post("/v1/narrations", json={"html": french}, headers=AUTH).json()["id"]
            state = wait_done(c, job)
            chapters = c.get(state["links"]["chapters"]).json()
        assert state["status"] == "done", state
        assert chapters["narrator"]["engine"] == expected, chapters
        assert "engine auto," in _log(srv)
    finally:
        srv.stop()
