"""The public Python API, called as a user would: `from narrator import ...`, a page given as
bytes, as a str of markup, as a path and as a URL served on 127.0.0.1."""
from __future__ import annotations

import functools
import hashlib
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "mel-resilience.html"
PAGE = ("<!doctype html><html lang='en'><head><title>Heat</title></head><body><article>"
        "<h1>Heat in the city</h1><p>The city is getting hotter every summer, and the council "
        "has a plan for its streets and its parks that starts this year.</p><h2>Trees</h2>"
        "<p>Ten thousand trees will be planted along the main avenues before the next heat "
        "wave, the mayor said on Tuesday.</p></article></body></html>")


def test_import_is_cheap_and_typed():
    code = ("import sys, narrator\n"
            "assert 'numpy' not in sys.modules and 'narrator.pipeline' not in sys.modules\n"
            "print(narrator.narrate.__annotations__['return'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Narration" in result.stdout
    import narrator

    for name in narrator.__all__:
        assert getattr(narrator, name) is not None
    assert narrator.narrate.__doc__ and narrator.extract_article.__doc__


def test_extract_from_str_bytes_and_path():
    from narrator import Article, extract_article, extract_text

    text = extract_text(PAGE)
    assert text.splitlines()[0] == "Heat in the city" and "Ten thousand trees" in text
    assert extract_text(PAGE.encode()) == text
    assert extract_text(PAGE, body_only=True).startswith("The city is getting hotter")
    article = extract_article(SEED)
    assert isinstance(article, Article) and article.language == "fr"
    assert extract_text(str(SEED)) == (ROOT / "samples" / "mel-resilience.txt").read_text()


def test_narrate_from_each_kind_of_page_gives_the_same_file(tmp_path):
    from narrator import Narration, narrate

    by_path = narrate(SEED, tmp_path / "a.mp3", engine="espeak", cache=False)
    assert isinstance(by_path, Narration) and by_path.mp3_path == str(tmp_path / "a.mp3")
    assert round(by_path.timeline.duration) == 246 and len(by_path.timeline.chapters) == 3
    by_bytes = narrate(SEED.read_bytes(), tmp_path / "b", engine="espeak")  # .mp3 added
    assert by_bytes.mp3_path == str(tmp_path / "b.mp3")
    by_str = narrate(SEED.read_text(encoding="utf-8"), tmp_path / "c.mp3", engine="espeak")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=ROOT / "samples")
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/mel-resilience.html"
        by_url = narrate(url, f"{tmp_path}/site/", engine="espeak")  # a folder, created
    finally:
        server.shutdown()
        server.server_close()
    assert by_url.mp3_path == str(tmp_path / "site" / "mel-resilience.mp3")
    digests = {hashlib.sha256(Path(n.mp3_path).read_bytes()).hexdigest()
               for n in (by_path, by_bytes, by_str, by_url)}
    # The URL is recorded in the tags when the page has no canonical URL of its own;
    # the seed has one, so all four are the same file.
    assert len(digests) == 1


def test_errors_are_narrator_errors_and_nothing_is_written(tmp_path):
    from narrator import NarratorError, list_voices, narrate

    with pytest.raises(NarratorError, match="unknown engine 'festival'"):
        narrate(PAGE, tmp_path / "x.mp3", engine="festival")
    with pytest.raises(NarratorError, match="MP3 audio only"):
        narrate(PAGE, tmp_path / "x.wav", engine="espeak")
    with pytest.raises(NarratorError, match="no such file"):
        narrate(tmp_path / "missing.html", tmp_path / "x.mp3", engine="espeak")
    assert list(tmp_path.iterdir()) == []
    voices = list_voices("fr")
    assert [v.id for v in voices["espeak"]] == ["fr"]
    assert "piper" not in voices  # no voice here (the tests leave packages' voices out)
