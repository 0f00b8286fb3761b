"""The Pico engine through the real py-nanotts library (no mock), and narrations that use it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("py_nanotts", reason="py-nanotts has no wheel for this platform")

from narrator.engines import create_engine, engine_names  # noqa: E402
from narrator.errors import EngineError, UnknownVoice  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FR = "Bonjour, ceci est un essai de la voix française de narrator."
EN = "Hello, this is a test of the English voice of narrator."


def _rms(audio) -> float:
    samples = np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples ** 2)))


def _voiced_share(audio, upto_hz: float = 4000) -> float:
    """Share of the energy below `upto_hz`: speech has most of it there, noise does not."""
    samples = np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64)
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / audio.sample_rate)
    return float(power[freqs < upto_hz].sum() / power.sum())


def test_pico_is_registered_with_its_six_voices():
    assert "pico" in engine_names()
    engine = create_engine("pico")
    voices = {v.id: v.languages for v in engine.voices()}
    assert voices == {"fr-FR": ("fr",), "en-US": ("en",), "en-GB": ("en",), "de-DE": ("de",),
                      "es-ES": ("es",), "it-IT": ("it",)}
    assert [engine.resolve_voice(lang, None) for lang in ("fr", "en", "de", "es", "it")] == \
        ["fr-FR", "en-US", "de-DE", "es-ES", "it-IT"]
    assert engine.resolve_voice("en", "en_gb") == "en-GB"
    with pytest.raises(UnknownVoice):
        engine.resolve_voice("fr", "fr-CA")
    with pytest.raises(UnknownVoice):
        engine.default_voice("nl")


@pytest.mark.parametrize("language, voice, text", [("fr", "fr-FR", FR), ("en", "en-US", EN),
                                                   ("en", "en-GB", EN)])
def test_pico_speaks_french_and_english(language, voice, text):
    engine = create_engine("pico")
    audio = engine.synthesize(text, language=language, voice=voice)
    assert audio.sample_rate == 16000
    # About 12-16 syllables a second of speech is normal; Pico is near 14 words in 4 s.
    assert 2.0 < audio.duration < 6.0
    assert _rms(audio) > 1000                  # not silence
    assert _voiced_share(audio) > 0.8          # speech, not noise
    longer = engine.synthesize(f"{text} {text}", language=language, voice=voice)
    assert longer.duration == pytest.approx(2 * audio.duration, rel=0.2)


def test_the_two_english_voices_differ_and_speed_is_an_option():
    engine = create_engine("pico")
    us = engine.synthesize(EN, language="en", voice="en-US")
    gb = engine.synthesize(EN, language="en", voice="en-GB")
    assert us.pcm != gb.pcm
    fast = create_engine("pico", speed=1.5).synthesize(EN, language="en", voice="en-US")
    assert fast.duration < 0.8 * us.duration
    assert create_engine("pico", speed=1.5).settings() == {"speed": 1.5}
    with pytest.raises(EngineError, match="no option 'rate'"):
        create_engine("pico", rate=170)
    with pytest.raises(EngineError, match="speed must be a number from 0.2 to 5.0"):
        create_engine("pico", speed=9)


def test_pico_markup_never_reaches_it(tmp_path):
    # Pico obeys <genfile file=...> (it writes the audio there) and <play file=...>: text from
    # a page must not be able to make it write or read files.
    target = tmp_path / "written-by-pico.wav"
    engine = create_engine("pico")
    audio = engine.synthesize(f'Bonjour <genfile file="{target}">à tous</genfile> ici.',
                              language="fr")
    assert not target.exists()
    assert audio.duration > 1.0


_SAME_BYTES = """
import hashlib, sys
from narrator.engines import create_engine
engine = create_engine("pico")
for text in sys.argv[1:]:
    audio = engine.synthesize(text, language="fr")
print(hashlib.sha256(audio.pcm).hexdigest())
"""


def test_the_same_text_gives_the_same_samples_whatever_was_said_before():
    # Pico reads memory it has not written; what a worker spoke before must not leak in.
    def digest(*texts):
        done = subprocess.run([sys.executable, "-c", _SAME_BYTES, *texts], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    fresh = digest(FR)
    after_others = digest("Un.", "Deux phrases, pour commencer la journée.",
                          "Trois : une autre encore, bien plus longue que les autres.", FR)
    assert fresh == after_others


_AFTER_LEFTOVERS = """
import ctypes, hashlib, random, sys
from narrator.engines import create_engine
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
engine = create_engine("pico")
digests = set()
for round in range(3):
    # What a long-lived worker's heap looks like: chunks of many sizes, written and freed.
    draw = random.Random(round)
    chunks = []
    for _ in range(400):
        size = draw.choice([64, 200, 1000, 5000, 40000, 100000, 300000, 900000])
        chunk = libc.malloc(size)
        libc.memset(chunk, draw.randrange(1, 256), size)
        chunks.append(chunk)
    draw.shuffle(chunks)
    for chunk in chunks:
        libc.free(chunk)
    digests.add(hashlib.sha256(engine.synthesize(sys.argv[1], language="fr").pcm).hexdigest())
print(" ".join(sorted(digests)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap")
def test_the_same_text_gives_the_same_samples_whatever_the_heap_holds():
    # Pico's working memory may come from a heap full of leftovers (a forked worker inherits
    # its parent's): the samples must be those of a fresh process all the same.
    fresh = subprocess.run([sys.executable, "-c", _SAME_BYTES, FR], capture_output=True,
                           text=True, timeout=60)
    after = subprocess.run([sys.executable, "-c", _AFTER_LEFTOVERS, FR], capture_output=True,
                           text=True, timeout=60)
    assert fresh.returncode == 0 and after.returncode == 0, fresh.stderr + after.stderr
    assert after.stdout.split() == [fresh.stdout.strip()]


def test_no_text_gives_no_audio():
    audio = create_engine("pico").synthesize("  ", language="fr")
    assert audio.pcm == b"" and audio.sample_rate == 16000


def test_a_narration_in_english_with_auto_uses_pico_and_keeps_the_written_text(tmp_path):
    from narrator.pipeline import NarrateOptions, narrate

    html = (b"<html lang='en'><head><title>Heat</title></head><body><article>"
            b"<h1>City heat: what we know</h1>"
            b"<p>The council [...] said on Monday that the plan costs $3.5 million.</p>"
            b"<p>- Jane Roe, mayor</p></article></body></html>")
    out = tmp_path / "heat.mp3"
    narration = narrate(html, out, options=NarrateOptions(engine="auto"))
    assert (narration.engine, narration.voice) == ("pico", "en-US")
    assert "Pico, offline" in narration.engine_choice
    cues = (tmp_path / "heat.transcript.vtt").read_text(encoding="utf-8")
    assert "City heat: what we know" in cues
    assert narration.timeline.duration > 3



def test_the_english_sample_narrated_offline_is_read_by_pico(tmp_path):
    from narrator.pipeline import NarrateOptions, narrate

    html = (ROOT / "samples" / "en-city-heat.html").read_bytes()
    narration = narrate(html, tmp_path / "heat.mp3", options=NarrateOptions(engine="auto"))
    assert (narration.engine, narration.voice) == ("pico", "en-US")
    assert narration.loudness_lufs == pytest.approx(-16.0, abs=1.0)
    assert 150 < narration.timeline.duration < 260   # 185 s with espeak-ng, ~205 s with Pico
    assert len(narration.timeline.chapters) >= 2


def test_narrations_with_one_or_two_workers_give_identical_files(tmp_path):
    # Which worker speaks which sentence depends on scheduling: the bytes must not.
    import hashlib
    import os

    digests = set()
    for run, workers in enumerate((2, 1, 2)):
        out = tmp_path / f"run{run}.mp3"
        done = subprocess.run([sys.executable, "-m", "narrator", "narrate",
                               str(ROOT / "samples" / "mel-resilience.html"), "-o", str(out),
                               "--engine", "pico", "--no-cache", "--workers", str(workers)],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "NARRATOR_CACHE_DIR": str(tmp_path / "c")})
        assert done.returncode == 0, done.stderr
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1
