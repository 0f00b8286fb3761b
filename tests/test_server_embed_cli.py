"""`narrator embed`: a self-contained snippet from a narration on disk (the browser test plays
one; these check its contents and its errors)."""
from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

import pytest

from server_support import article_html


def narrator(*args, cwd):
    return subprocess.run([sys.executable, "-m", "narrator", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "NARRATOR_CACHE_DIR": str(cwd / "cache")})


@pytest.fixture(scope="module")
def narration(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embed")
    page = folder / "story.html"
    page.write_text(article_html("Une histoire &lt;courte&gt;", [
        (None, ["Première phrase de l'histoire.", "Deuxième phrase."]),
        ("Suite", ["Dernière phrase."])], lang="fr"), encoding="utf-8")
    (folder / "audio").mkdir()
    r = narrator("narrate", page, "-o", folder / "audio" / "story.mp3", cwd=folder)
    assert r.returncode == 0, r.stderr
    return folder


def data_block(snippet: str) -> str:
    return re.search(r'<script type="application/json">(.*?)</script>', snippet, re.S).group(1)


def test_snippet_references_the_audio_by_relative_path(narration):
    out = narration / "site" / "player.html"
    r = narrator("embed", narration / "audio" / "story.mp3", "-o", out, cwd=narration)
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert 'data-narrator="../audio/story.mp3"' in html
    assert 'data-lang="fr"' in html  # from the MP3's TLAN tag
    assert "<courte>" not in html and "\\u003ccourte\\u003e" in data_block(html)
    assert "WEBVTT" in data_block(html) and '"chapters"' in data_block(html)
    assert html.count("<script") == 2 and "<style>" in html


def test_audio_url_and_inline_audio(narration):
    mp3 = narration / "audio" / "story.mp3"
    out = narration / "cdn.html"
    r = narrator("embed", mp3, "-o", out, "--audio-url", "https://cdn.example/a.mp3",
                 cwd=narration)
    assert r.returncode == 0 and 'data-narrator="https://cdn.example/a.mp3"' in out.read_text()
    r = narrator("embed", mp3, "-o", out, "--inline-audio", cwd=narration)
    assert r.returncode == 0, r.stderr
    uri = re.search(r'data-narrator="data:audio/mpeg;base64,([^"]+)"', out.read_text()).group(1)
    assert base64.b64decode(uri) == mp3.read_bytes()


def test_missing_mp3_or_sidecars_is_a_clear_error(narration, tmp_path):
    r = narrator("embed", tmp_path / "none.mp3", "-o", tmp_path / "x.html", cwd=narration)
    assert r.returncode != 0 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = narrator("embed", tmp_path, "-o", tmp_path / "x.html", cwd=narration)
    assert r.returncode != 0 and "is a folder" in r.stderr and "Traceback" not in r.stderr
    lone = tmp_path / "lone.mp3"
    lone.write_bytes((narration / "audio" / "story.mp3").read_bytes())
    r = narrator("embed", lone, "-o", tmp_path / "x.html", cwd=narration)
    assert r.returncode != 0 and "chapters.json is missing" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "x.html").exists()
