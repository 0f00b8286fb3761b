"""Assembly: one timeline feeds the MP3's ID3 chapters, the JSON and the VTT sidecars."""
from __future__ import annotations

import json

import numpy as np
import pytest

from audio_checks import (decode_errors, decoded_duration, id3_chapters, json_chapters,
                          loudness, toc, vtt_cues)
from narrator import engines
from narrator.assemble.loudness import integrated_loudness
from narrator.assemble.sidecars import webvtt
from narrator.errors import EngineError, InputError
from narrator.model import Article, Metadata, Paragraph, Quote, Section, Span
from narrator.pipeline import NarrateOptions, narrate_article, script_for


@pytest.fixture(autouse=True)
def tone_engine(monkeypatch):
    monkeypatch.setitem(engines._BUILTIN, "tone", "fake_engines:ToneEngine")


def sample_article(n=12):
    paragraphs = [Paragraph(f"Phrase numéro {i}. Elle parle de la ville {i}.") for i in range(n)]
    return Article(
        title="Une ville résiliente", language="fr",
        sections=(Section(None, tuple(paragraphs[:4]) + (Quote("Demain se prépare.", "- A. B."),)
                          + tuple(paragraphs[4:8]) + (Quote("Ensemble.", "- C. D."),)
                          + tuple(paragraphs[8:])),),
        meta=Metadata(title="Une ville résiliente", site_name="Le Hub", authors=("Ana Li",),
                      published="2024-03-05T10:00:00Z", canonical_url="https://example.org/a"))


def test_meter_reads_the_reference_sine_at_minus_23_lufs():
    rate = 48000
    t = np.arange(rate * 5) / rate
    assert integrated_loudness(0.1 * np.sin(2 * np.pi * 997 * t), rate) == pytest.approx(
        -23.0, abs=0.05)


def test_meter_gates_silence():
    assert integrated_loudness(np.zeros(22050 * 3, dtype=np.int16), 22050) == float("-inf")


def test_vtt_escapes_markup_and_formats_hours():
    text = webvtt((Span(3725.5, 3726.25, "a <b> & c --> d"),), "cue")
    assert "01:02:05.500 --> 01:02:06.250" in text
    assert "a &lt;b&gt; &amp; c --&gt; d" in text


@pytest.mark.parametrize("engine_rate", [16000, 24000])
def test_one_timeline_for_id3_json_and_vtt(tmp_path, engine_rate):
    out = tmp_path / "a.mp3"
    narration = narrate_article(sample_article(), out, options=NarrateOptions(
        engine="tone", engine_options={"rate": engine_rate}, normalize_speech=False, workers=2))
    assert decode_errors(out) == ""
    duration = decoded_duration(out)
    id3 = id3_chapters(out)
    assert len(id3) == 3
    assert id3[0][0] == 0
    for (_, end, _), (start, _, _) in zip(id3, id3[1:]):
        assert end == start  # contiguous
    assert id3[-1][1] / 1 == pytest.approx(duration, abs=0.05)
    table = toc(out)
    assert table.child_element_ids == sorted(table.child_element_ids, key=lambda e: int(e[3:]))
    assert len(table.child_element_ids) == 3
    js = json_chapters(tmp_path / "a.chapters.json")
    vtt = vtt_cues(tmp_path / "a.chapters.vtt")
    for (start, _, title), (js_start, js_title), (vtt_start, _, vtt_title) in zip(id3, js, vtt):
        assert abs(start - js_start) <= 0.05 and abs(start - vtt_start) <= 0.05
        assert title == js_title == vtt_title
    assert vtt[-1][1] == pytest.approx(duration, abs=0.05)
    transcript = vtt_cues(tmp_path / "a.transcript.vtt")
    assert transcript[0][2] == "Une ville résiliente"
    assert len(transcript) == len(list(script_for(
        sample_article(), NarrateOptions(normalize_speech=False)).utterances()))
    assert all(a[1] <= b[0] for a, b in zip(transcript, transcript[1:]))  # in order, no overlap
    meta = json.loads((tmp_path / "a.chapters.json").read_text())["narrator"]
    assert meta["engine"] == "tone" == narration.engine


def test_loudness_is_normalised_with_true_peak_headroom(tmp_path):
    out = tmp_path / "loud.mp3"
    narrate_article(sample_article(20), out, options=NarrateOptions(
        engine="tone", normalize_speech=False))
    integrated, true_peak = loudness(out)
    assert integrated == pytest.approx(-16.0, abs=1.0)
    assert true_peak <= -1.0


def test_engine_failure_leaves_previous_output_untouched_and_no_temp_files(tmp_path):
    out = tmp_path / "a.mp3"
    narrate_article(sample_article(), out, options=NarrateOptions(engine="tone",
                                                                   normalize_speech=False))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(EngineError, match="refused"):
        narrate_article(sample_article(), out, options=NarrateOptions(
            engine="tone", engine_options={"fail_on": "numéro 9"}, normalize_speech=False,
            workers=2))
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before


def test_missing_output_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="output folder"):
        narrate_article(sample_article(), tmp_path / "nope" / "a.mp3",
                        options=NarrateOptions(engine="tone"))


def test_meter_matches_a_time_domain_k_weighting_on_speech_like_noise():
    from scipy.signal import lfilter

    from narrator.assemble.loudness import gated_loudness, k_weighting
    rate = 22050
    rng = np.random.default_rng(7)
    envelope = np.repeat(rng.random(300) ** 3, rate // 20)  # bursts and near-silences
    x = rng.standard_normal(envelope.size) * envelope * 0.2
    y = x
    for b, a in k_weighting(rate):
        y = lfilter(b, a, y)
    step = rate // 10
    exact = gated_loudness((y[:y.size // step * step] ** 2).reshape(-1, step).sum(1), step)
    assert integrated_loudness(x, rate) == pytest.approx(exact, abs=0.05)


def test_limiter_keeps_the_ceiling_and_leaves_quiet_audio_alone():
    from narrator.assemble.dynamics import limit
    rate = 22050
    t = np.arange(rate) / rate
    quiet = 0.3 * np.sin(2 * np.pi * 300 * t)
    assert np.array_equal(limit(quiet, 0.8, rate), quiet)
    loud = quiet.copy()
    loud[5000:5040] *= 4  # a sharp peak at 1.2
    out = limit(loud, 0.8, rate)
    assert np.max(np.abs(out)) <= 0.8
    # only the neighbourhood of the peak is touched (within 15 ms)
    far = np.r_[0:5000 - 331, 5040 + 331:rate]
    assert np.allclose(out[far], loud[far])
    # and the gain changes smoothly: no step larger than the signal's own slope allows
    assert np.max(np.abs(np.diff(out))) < 0.2


def test_leveller_brings_a_quiet_voice_and_a_loud_voice_to_the_same_loudness():
    from narrator.assemble.dynamics import Leveller
    rate = 22050
    rng = np.random.default_rng(1)
    speechy = rng.standard_normal(rate // 20 * 40) * np.repeat(rng.random(40), rate // 20)
    readings = []
    for level in (0.02, 0.5):
        leveller = Leveller(rate, -16.0, -2.0)
        out = leveller.process((np.clip(speechy * level, -1, 1) * 32767).astype("<i2"))
        readings.append(integrated_loudness(out, rate))
        assert np.max(np.abs(out)) <= 10 ** (-2 / 20) * 32768
    assert readings[0] == pytest.approx(-16.0, abs=0.5)
    assert readings[1] == pytest.approx(-16.0, abs=0.5)


@pytest.mark.parametrize("victim", ["Une ville", "numéro 7"])  # first utterance, or later
def test_a_synthesis_worker_that_dies_is_an_engine_error_and_leaves_nothing(tmp_path, victim):
    out = tmp_path / "a.mp3"
    with pytest.raises(EngineError, match="worker process died"):
        narrate_article(sample_article(), out, options=NarrateOptions(
            engine="tone", engine_options={"die_on": victim}, normalize_speech=False,
            workers=2))
    assert list(tmp_path.iterdir()) == []
