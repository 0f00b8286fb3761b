"""The Kokoro engine with the real model (the four part packages of the test extra, joined) and
two real voices, ff_siwis and af_heart, that scripts/setup.sh installs from kokoro-js into
.test-data/kokoro-voices: sentences, a page narrated end to end, voice errors, and
`narrator voices install` from a copy of the kokoro-js tarball on 127.0.0.1."""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import json
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from cli_support import isolated_env, narrator
from narrator.config import load_config
from narrator.engines import create_engine, engine_class, engine_names
from narrator.engines import kokoro, kokoro_files, kokoro_phonemes
from narrator.engines.auto import choose_engine
from narrator.errors import EngineError, UnknownVoice

ROOT = Path(__file__).resolve().parent.parent
VOICES = ROOT / ".test-data" / "kokoro-voices"
FRENCH = "Le week-end dernier, la newsletter de la métropole a annoncé un nouveau plan."
ENGLISH = "The city planted four hundred trees along the river last spring."


@pytest.fixture(scope="module")
def joined_model(tmp_path_factory) -> Path:
    """The model joined from the installed part packages, once for the module."""
    for name in ("ff_siwis", "af_heart"):
        assert (VOICES / f"{name}.bin").is_file(), \
            f"{VOICES / name}.bin is missing: run scripts/setup.sh (it installs the test voices)"
    return kokoro_files.join_parts(tmp_path_factory.mktemp("kokoro") / kokoro_files.MODEL_NAME)


@pytest.fixture
def voices(tmp_path, monkeypatch, joined_model) -> Path:
    folder = tmp_path / "voices"
    folder.mkdir()
    for voice in VOICES.glob("*.bin"):
        (folder / voice.name).symlink_to(voice)
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(folder))
    monkeypatch.setenv("NARRATOR_KOKORO_MODEL", str(joined_model))
    return folder


def _rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2)))


def test_joined_model_is_the_published_one(joined_model):
    digest = hashlib.sha256(joined_model.read_bytes()).hexdigest()
    assert digest == kokoro_files.MODEL_SHA256
    assert joined_model.stat().st_size == kokoro_files.MODEL_SIZE


def test_registered_process_based_and_chosen_by_auto_only_when_configured(voices, tmp_path):
    assert "kokoro" in engine_names()
    assert engine_class("kokoro").concurrency == "process"
    assert engine_class("kokoro").unavailable_reason() is None
    config = tmp_path / "config.toml"
    config.write_text("")
    assert choose_engine("fr", load_config(config))[0] != "kokoro"  # installed is not enough
    config.write_text('[languages.fr]\nengine = "kokoro"\n')
    assert choose_engine("fr", load_config(config))[:2] == ("kokoro", "ff_siwis")
    config.write_text(f'[languages.en]\nvoice = "{voices / "af_heart.bin"}"\n')
    assert choose_engine("en", load_config(config))[:2] == ("kokoro", str(voices / "af_heart.bin"))


def test_french_sentence_without_language_switch_marks(voices):
    engine = create_engine("kokoro")
    audio = engine.synthesize(FRENCH, language="fr")
    assert audio.sample_rate == 24000
    # 13 words: about 4 s (5 s when the model spoke espeak-ng's "(en)" "(fr)" marks too).
    assert 2.5 < audio.duration < 6.5
    assert _rms(audio.pcm) > 1000
    phonemes = kokoro_phonemes.phonemize(kokoro._loaded(1), FRENCH, "fr-fr", {})
    assert "(en)" not in phonemes and "(fr)" not in phonemes and "(" not in phonemes
    assert "wˈiːkˈɛnd" in phonemes  # the English word's phonemes stay, without the marks
    assert "metʁopˈɔl" in phonemes


def test_espeak_engine_keeps_its_sound_after_kokoro_in_the_same_process(voices):
    """Kokoro's phonemizer loads libespeak-ng and never unloads it; on espeakng-loader's own
    file that pinned the library narrator's espeak engine reloads before each utterance."""
    from narrator.engines.espeak import EspeakEngine

    create_engine("kokoro").synthesize("Bonjour à tous.", language="fr")
    espeak = EspeakEngine()
    sentence = "La résilience, c'est notre capacité à rebondir après une crise."
    first = espeak.synthesize(sentence, language="fr").pcm
    espeak.synthesize("Bonjour à tous, quelle belle journée ! Vraiment ?", language="fr")
    assert espeak.synthesize(sentence, language="fr").pcm == first


def test_english_sentence_and_same_samples_every_time(voices):
    engine = create_engine("kokoro")
    assert engine.resolve_voice("en", None) == "af_heart"
    first = engine.synthesize(ENGLISH, language="en")
    assert 2.0 < first.duration < 6.0 and _rms(first.pcm) > 1000
    assert engine.synthesize(ENGLISH, language="en").pcm == first.pcm
    slower = create_engine("kokoro", speed=0.8).synthesize(ENGLISH, language="en")
    assert slower.duration > first.duration * 1.1
    assert engine.synthesize("  ", language="en").pcm == b""


def test_voice_and_option_errors(voices, tmp_path, monkeypatch):
    engine = create_engine("kokoro")
    with pytest.raises(UnknownVoice, match="not found"):
        engine.resolve_voice("fr", "ff_nobody")
    with pytest.raises(UnknownVoice, match="speaks 'en', not 'fr'"):
        engine.resolve_voice("fr", "af_heart")
    with pytest.raises(UnknownVoice, match="no Kokoro voice for language 'de'"):
        engine.resolve_voice("de", None)
    short = tmp_path / "ff_short.bin"
    short.write_bytes(b"\0" * 1000)
    with pytest.raises(UnknownVoice, match="is not a Kokoro voice file"):
        engine.resolve_voice("fr", str(short))
    assert engine.resolve_voice("fr", str(voices / "ff_siwis.bin")) == str(voices / "ff_siwis.bin")
    with pytest.raises(EngineError, match="speed must be a number from 0.5 to 2.0"):
        create_engine("kokoro", speed=3)
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "empty"))
    assert "no Kokoro voice file in" in engine_class("kokoro").no_voice_reason()


PAGE = ("<!doctype html><html lang='fr'><head><title>Les bus</title></head><body><article>"
        "<h1>Les bus arrivent en retard</h1><p>Les bus sont arrivés en retard lundi matin. "
        "Les chauffeurs ont accusé la neige.</p><p>Le service est revenu à la normale vers "
        "midi, selon la métropole.</p></article></body></html>")


def test_narrate_a_small_page_with_kokoro(tmp_path, joined_model):
    env = isolated_env(tmp_path)
    env["TMPDIR"] = str(tmp_path / "tmp")  # the workers' temporary files: none may be left
    (tmp_path / "tmp").mkdir()
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "ff_siwis.bin").symlink_to(VOICES / "ff_siwis.bin")
    page = tmp_path / "bus.html"
    page.write_text(PAGE, encoding="utf-8")
    out = tmp_path / "bus.mp3"
    # No NARRATOR_KOKORO_MODEL: the model is joined into this cache folder, as for a user.
    result = narrator("narrate", page, "-o", out, "--engine", "kokoro", "--voice", "ff_siwis",
                      "--workers", "2", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "kokoro voice ff_siwis" in result.stdout
    chapters = json.loads(out.with_suffix(".chapters.json").read_text(encoding="utf-8"))
    assert chapters["narrator"]["engine"] == "kokoro"
    assert chapters["narrator"]["voice"] == "ff_siwis"
    assert 8 < chapters["narrator"]["duration"] < 25  # 32 words
    joined = tmp_path / "cache" / "kokoro" / kokoro_files.MODEL_NAME
    assert joined.stat().st_size == kokoro_files.MODEL_SIZE
    # The same page, one worker instead of two, nothing from the cache: the same file.
    again = narrator("narrate", page, "-o", tmp_path / "again.mp3", "--engine", "kokoro",
                     "--workers", "1", "--no-cache", env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.mp3").read_bytes() == out.read_bytes()
    # (onnxruntime keeps one small session-id file, .ses, in the temporary folder: not ours.)
    assert [p.name for p in (tmp_path / "tmp").iterdir() if p.name != ".ses"] == []
    bad = narrator("narrate", page, "-o", tmp_path / "no.mp3", "--engine", "kokoro",
                   "--voice", "ff_nobody", env=env, timeout=120)
    assert bad.returncode == 3 and bad.stderr.startswith("narrator: error: ")
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no.mp3").exists()


@pytest.fixture
def tarball_host(tmp_path):
    """kokoro-js's layout on 127.0.0.1: the real ff_siwis, and an af_heart that is not."""
    root = tmp_path / "host"
    root.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("ff_siwis", (VOICES / "ff_siwis.bin").read_bytes()),
                           ("af_heart", bytes(kokoro_files.VOICE_BYTES))):
            info = tarfile.TarInfo(f"package/voices/{name}.bin")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (root / "kokoro-js.tgz").write_bytes(buffer.getvalue())
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,),
                   {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/kokoro-js.tgz"
    server.shutdown()
    server.server_close()


def test_voices_install_checks_each_voice(tmp_path, tarball_host, joined_model):
    env = isolated_env(tmp_path)
    env["NARRATOR_KOKORO_VOICES_URL"] = tarball_host
    folder = tmp_path / "voices"
    listed = narrator("voices", "--lang", "fr", env=env, timeout=120)
    assert "kokoro  (unavailable: no Kokoro voice file in" in listed.stdout
    ok = narrator("voices", "install", "ff_siwis", env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert (folder / "ff_siwis.bin").read_bytes() == (VOICES / "ff_siwis.bin").read_bytes()
    listed = narrator("voices", "--lang", "fr", env=env, timeout=120)
    assert "kokoro  (available)" in listed.stdout and "voices: ff_siwis" in listed.stdout
    tampered = narrator("voices", "install", "af_heart", env=env, timeout=120)
    assert tampered.returncode == 3 and "SHA-256 mismatch" in tampered.stderr
    assert "Traceback" not in tampered.stderr
    unknown = narrator("voices", "install", "ff_nobody", env=env, timeout=120)
    assert unknown.returncode == 3 and "is not a Kokoro voice" in unknown.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["ff_siwis.bin"]  # nothing half-written



def test_not_installed_is_said(tmp_path):
    """As without the kokoro extra: `kokoro_onnx` cannot be imported (None in sys.modules)."""
    import subprocess
    import sys
    env = isolated_env(tmp_path)
    page = tmp_path / "bus.html"
    page.write_text(PAGE, encoding="utf-8")
    absent = "import sys; sys.modules['kokoro_onnx'] = None; from narrator.cli import main; main()"
    listed = subprocess.run([sys.executable, "-c", absent, "voices"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "kokoro  (unavailable: not installed (pip install 'narrator[kokoro]'))" \
        in listed.stdout
    narrate = subprocess.run([sys.executable, "-c", absent, "narrate", str(page), "-o",
                              str(tmp_path / "bus.mp3"), "-e", "kokoro"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert narrate.returncode == 3 and "not installed" in narrate.stderr
    assert "Traceback" not in narrate.stderr and not (tmp_path / "bus.mp3").exists()


def test_a_killed_process_leaves_no_library_copy(tmp_path, voices):
    """A batch or server kills a narration process that overruns its limit: once Kokoro has
    spoken, nothing of its espeak-ng library copies may be left in the temporary folder."""
    import subprocess
    import sys
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    speak_then_die = ("import os, signal; from narrator.engines import create_engine; "
                      "create_engine('kokoro').synthesize('Bonjour.', language='fr'); "
                      "os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", speak_then_die], env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    assert [p.name for p in (tmp_path / "tmp").iterdir() if p.name != ".ses"] == []
