"""The narrate command end to end, as a user runs it: a real process, real files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audio_checks import (decode_errors, decoded_duration, id3_chapters, json_chapters,
                          loudness, vtt_cues)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "mel-resilience.html"


def narrator(*args, stdin: bytes | None = None, cwd=None):
    return subprocess.run([sys.executable, "-m", "narrator", *map(str, args)], input=stdin,
                          capture_output=True, cwd=cwd, timeout=300,
                          env={**os.environ, "NARRATOR_CACHE_DIR": str(cwd or ROOT / ".cache")})


@pytest.fixture(scope="module")
def seed_narration(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    result = narrator("narrate", SEED, "-o", folder / "mel.mp3", cwd=folder)
    assert result.returncode == 0, result.stderr.decode()
    return folder, result.stdout.decode()


def test_seed_mp3_has_contiguous_chapters_matching_the_sidecars(seed_narration):
    folder, stdout = seed_narration
    mp3 = folder / "mel.mp3"
    assert decode_errors(mp3) == ""
    chapters = id3_chapters(mp3)
    assert len(chapters) >= 3
    assert chapters[0][0] == 0
    assert all(a[1] == b[0] for a, b in zip(chapters, chapters[1:]))
    assert chapters[-1][1] == pytest.approx(decoded_duration(mp3), abs=0.05)
    js = json_chapters(folder / "mel.chapters.json")
    vtt = vtt_cues(folder / "mel.chapters.vtt")
    assert len(js) == len(vtt) == len(chapters)
    for (start, end, title), (js_start, js_title), (v_start, v_end, v_title) in zip(
            chapters, js, vtt):
        assert abs(start - js_start) <= 0.05 and abs(start - v_start) <= 0.05
        assert abs(end - v_end) <= 0.05
        assert title == js_title == v_title
    # CHAP frames are stored in time order (players that read them in file order), their
    # titles differing in length (mutagen alone writes the longest first)
    from mutagen.id3 import ID3

    frames = ID3(mp3).getall("CHAP")  # in file order
    assert [f.start_time for f in frames] == sorted(f.start_time for f in frames)
    assert len({len(f.sub_frames["TIT2"].text[0]) for f in frames}) > 1
    # the command prints the chapter list with start times, and the total
    assert "00:00  Métropole Européenne Lille" in stdout
    assert "total " in stdout


def test_seed_is_read_by_pico_offline_and_says_so(seed_narration):
    pytest.importorskip("py_nanotts", reason="no py-nanotts wheel here: espeak-ng reads it")
    folder, stdout = seed_narration
    lines = stdout.splitlines()
    assert ", pico voice fr-FR, " in lines[0]
    assert lines[1] == "engine auto: pico voice fr-FR (Pico, offline; -v: why)"
    chapters = json.loads((folder / "mel.chapters.json").read_text(encoding="utf-8"))
    assert chapters["narrator"]["engine"] == "pico" and chapters["narrator"]["voice"] == "fr-FR"


def test_seed_loudness_is_minus_16_lufs_with_true_peak_headroom(seed_narration):
    folder, _ = seed_narration
    integrated, true_peak = loudness(folder / "mel.mp3")
    assert integrated == pytest.approx(-16.0, abs=1.5)
    assert true_peak <= -1.0


def test_seed_chapters_follow_the_pull_quotes(seed_narration):
    folder, _ = seed_narration
    titles = [t for _, _, t in id3_chapters(folder / "mel.mp3")]
    assert titles[0].startswith("Métropole Européenne Lille")
    assert titles[1].startswith("La résilience c’est un peu notre capacité")
    assert titles[2].startswith("Fonctionnelle et sociale")


def test_narrate_reads_stdin(tmp_path):
    result = narrator("narrate", "-", "-o", tmp_path / "in.mp3", stdin=SEED.read_bytes(),
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert decode_errors(tmp_path / "in.mp3") == ""


def _fails_cleanly(result, folder: Path, fragment: str):
    err = result.stderr.decode()
    assert result.returncode != 0
    assert "Traceback" not in err
    assert err.startswith("narrator: error:") and fragment.lower() in err.lower(), err
    assert len(err.strip().splitlines()) == 1, err
    leftovers = [p.name for p in folder.iterdir() if p.suffix in (".mp3", ".json", ".vtt", ".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("name,content,fragment", [
    ("photo.html", bytes(range(256)) * 40, "not"),
    ("empty.html", b"", "empty"),
    ("blank.html", b"<html><head><title>x</title></head><body><nav>Menu</nav></body></html>",
     "article"),
])
def test_bad_pages_fail_with_one_line(tmp_path, name, content, fragment):
    page = tmp_path / name
    page.write_bytes(content)
    _fails_cleanly(narrator("narrate", page, "-o", tmp_path / "out.mp3", cwd=tmp_path),
                   tmp_path, fragment)


def test_missing_file_unknown_engine_and_unknown_voice_fail_with_one_line(tmp_path):
    _fails_cleanly(narrator("narrate", tmp_path / "nope.html", "-o", tmp_path / "o.mp3",
                            cwd=tmp_path), tmp_path, "no such file")
    _fails_cleanly(narrator("narrate", SEED, "-o", tmp_path / "o.mp3", "--engine", "nosuch",
                            cwd=tmp_path), tmp_path, "unknown engine")
    _fails_cleanly(narrator("narrate", SEED, "-o", tmp_path / "o.mp3", "--voice", "zz-nosuch",
                            cwd=tmp_path), tmp_path, "no voice")
    # MP3 at 22.05 kHz stops at 160 kbit/s: refused before any work, for narrate and batch
    _fails_cleanly(narrator("narrate", SEED, "-o", tmp_path / "o.mp3", "--bitrate", "192",
                            cwd=tmp_path), tmp_path, "must be one of 8, 16")
    _fails_cleanly(narrator("batch", SEED.parent, "-o", tmp_path / "out", "--bitrate", "100",
                            cwd=tmp_path), tmp_path, "not 100")


def test_output_folder_takes_the_page_name_and_a_folder_input_is_refused(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    result = narrator("narrate", SEED, "-o", out, "--engine", "espeak", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == [
        "mel-resilience.chapters.json", "mel-resilience.chapters.vtt", "mel-resilience.mp3",
        "mel-resilience.transcript.vtt"]
    assert decode_errors(out / "mel-resilience.mp3") == ""
    _fails_cleanly(narrator("narrate", SEED.parent, "-o", tmp_path / "o.mp3", cwd=tmp_path),
                   tmp_path, "is a folder")


def test_the_pipeline_refuses_a_folder_as_its_mp3(tmp_path):
    from narrator.errors import InputError
    from narrator.output import output_in_folder
    from narrator.pipeline import NarrateOptions, narrate

    with pytest.raises(InputError, match="is a folder"):
        narrate(SEED.read_bytes(), tmp_path, options=NarrateOptions(engine="espeak"))
    assert list(tmp_path.iterdir()) == []
    assert output_in_folder(tmp_path, "https://ex.com/2026/%C3%A9t%C3%A9-vert?x=1") == \
        tmp_path / "été-vert.mp3"
    assert output_in_folder(tmp_path, "https://ex.com/") == tmp_path / "ex.com.mp3"
    assert output_in_folder(tmp_path, "-") == tmp_path / "narration.mp3"


def test_help_says_what_each_command_does():
    result = narrator("--help")
    assert result.returncode == 0
    assert "narrate" in result.stdout.decode()
    narrate_help = narrator("narrate", "--help").stdout.decode()
    assert "chaptered MP3" in narrate_help and "--engine" in narrate_help
