"""The batch's podcast feed for archives of several sites and languages: channel title,
author and language given (--title, --author, --language, remembered, or the config file's
[feed]) or derived from all the articles, never from the first one; and artwork that shows
the feed's title. Real `narrator batch` subprocesses, feeds read with feedparser."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from PIL import Image

from narrator.artwork import generated_title

ROOT = Path(__file__).resolve().parent.parent


def page(site: str, slug: str, lang: str, title: str) -> str:
    words = {"fr": "Une phrase courte pour cet article de test.",
             "en": "A short sentence for this test article."}[lang]
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}'
            f'</title><link rel="canonical" href="https://{site}/{slug}"></head><body><main>'
            f'<article><h1>{title}</h1><p>{words}</p><p>{words}</p></article></main>'
            f'</body></html>')


def batch(archive: Path, outdir: Path, *extra: str, env: dict | None = None) -> dict:
    import os
    r = subprocess.run([sys.executable, "-m", "narrator", "batch", str(archive), "-o",
                        str(outdir), "--engine", "espeak", "--workers", "1", "--json", *extra],
                       capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Two sites, two languages; the first page (in file order) is the only one of its kind."""
    root = tmp_path_factory.mktemp("mixed")
    pages = [("a-first.example", "un", "fr", "Le premier article"),
             ("news.example", "two", "en", "The second article"),
             ("news.example", "three", "en", "The third article"),
             ("blog.example", "four", "fr", "Le quatrième article")]
    for i, (site, slug, lang, title) in enumerate(pages):
        (root / f"{i}-{slug}.html").write_text(page(site, slug, lang, title), encoding="utf-8")
    return root


def feed(outdir: Path):
    parsed = feedparser.parse(str(outdir / "feed.xml"))
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def test_a_mixed_archive_gets_a_neutral_channel_not_the_first_articles(mixed, tmp_path):
    out = tmp_path / "out"
    batch(mixed, out)
    parsed = feed(out)
    assert len(parsed.entries) == 4
    channel = parsed.feed
    assert channel.title == "Narrated articles"
    assert "a-first.example" not in channel.title
    assert channel.author == "news.example, a-first.example, blog.example"
    assert channel.language == "mul"  # two languages, two articles each: no majority
    assert "3 sites" in channel.subtitle or "3 sites" in channel.summary


def test_title_author_language_given_remembered_and_from_the_config_file(mixed, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[feed]\ntitle = "From the config"\nauthor = "Config Newsroom"\n'
                      'language = "fr"\n')
    env = {"NARRATOR_CONFIG": str(config)}
    out = tmp_path / "out"
    batch(mixed, out, env=env)
    channel = feed(out).feed
    assert (channel.title, channel.author, channel.language) == \
        ("From the config", "Config Newsroom", "fr")
    batch(mixed, out, "--title", "Our stories, read aloud", "--author", "The Newsroom",
          "--language", "en", env=env)
    channel = feed(out).feed
    assert (channel.title, channel.author, channel.language) == \
        ("Our stories, read aloud", "The Newsroom", "en")
    batch(mixed, out, env=env)  # remembered for this OUTDIR, over the config file
    channel = feed(out).feed
    assert (channel.title, channel.author, channel.language) == \
        ("Our stories, read aloud", "The Newsroom", "en")
    assert generated_title((out / "artwork.png").read_bytes()) == "Our stories, read aloud"


def test_bad_feed_language_is_refused_before_any_work(mixed, tmp_path):
    r = subprocess.run([sys.executable, "-m", "narrator", "batch", str(mixed), "-o",
                        str(tmp_path / "out"), "--language", "not a language"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode != 0 and r.stderr.startswith("narrator: error: --language")
    assert not (tmp_path / "out").exists()


def test_artwork_shows_the_title_and_follows_it_but_never_replaces_the_publishers(mixed,
                                                                                    tmp_path):
    out = tmp_path / "out"
    batch(mixed, out, "--title", "Stories from the valley")
    png = (out / "artwork.png").read_bytes()
    image = Image.open(out / "artwork.png")
    assert image.format == "PNG" and image.size[0] == image.size[1]
    assert 1400 <= image.size[0] <= 3000
    assert generated_title(png) == "Stories from the valley"
    # Type on a background: the image is mostly one colour with a good share of text pixels.
    colours = image.convert("RGB").getcolors(1 << 16)
    background = max(colours)[0] / (image.size[0] ** 2)
    white = sum(n for n, rgb in colours if min(rgb) > 200) / (image.size[0] ** 2)
    assert 0.5 < background < 0.97 and white > 0.03, (background, white)
    assert feed(out).feed.image.href.endswith("artwork.png")

    batch(mixed, out, "--title", "Another title")
    again = (out / "artwork.png").read_bytes()
    assert again != png and generated_title(again) == "Another title"

    own = Image.new("RGB", (1500, 1500), (200, 10, 10))
    own.save(out / "artwork.png")
    mine = (out / "artwork.png").read_bytes()
    batch(mixed, out, "--title", "Yet another title")
    assert (out / "artwork.png").read_bytes() == mine
