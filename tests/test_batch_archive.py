"""An archive of many distinct, short article pages derived from samples/*.html, shared by the
batch tests (imported as `test_batch_archive`), and the checks that it is what they need."""
from __future__ import annotations

import functools
import json
import random
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from lxml import html as lxml_html

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SUFFIXES = (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt")


@pytest.fixture(scope="module", autouse=True)
def isolated_config(tmp_path_factory):
    """Batch runs (and the processes they start) use an empty config file and a synthesis
    cache of their own, never the user's. Import this fixture into each batch test module."""
    root = tmp_path_factory.mktemp("narrator-home")
    (root / "config.toml").write_text("")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NARRATOR_CONFIG", str(root / "config.toml"))
        patch.setenv("NARRATOR_CACHE_DIR", str(root / "cache"))
        yield root


def sample_pages() -> list[Path]:
    pages = sorted(SAMPLES.glob("*.html"))
    assert pages, f"no sample pages in {SAMPLES}"
    return pages


@functools.lru_cache(maxsize=None)
def _article_text(sample: Path) -> str:
    from narrator.pipeline import extract

    article = extract(sample.read_bytes())
    texts = [getattr(b, "text", None) or " ".join(getattr(b, "items", ()))
             for b in article.blocks()]
    return _letters(" ".join(texts))


def _letters(text: str) -> str:
    """Letters and digits only: compares text across entity, quote and space differences."""
    return re.sub(r"\W+", "", text.lower())


def derive_page(sample: Path, n: int, *, paragraphs: int = 1, min_chars: int = 250, stamp: str = "") -> bytes:
    """Page number `n` from `sample`: a title and canonical URL of its own, and only a few of
    the body's paragraphs (a different subset per n), so it narrates in a few seconds."""
    from narrator.extract.decode import decode_html

    text, _ = decode_html(sample.read_bytes())  # the sample's own encoding, as narrator reads it
    doc = lxml_html.fromstring(text)
    for meta in doc.xpath("//meta[@charset]"):  # the derived page is written in UTF-8
        meta.set("charset", "utf-8")
    for meta in doc.xpath("//meta[translate(@http-equiv, 'CONTENT-TYPE', 'content-type')"
                          " = 'content-type']"):
        meta.set("content", "text/html; charset=utf-8")
    suffix = f" - part {n}{stamp}"
    for el in doc.xpath("//title | //h1"):
        el.text = (el.text_content().strip() + suffix)
        for child in list(el):
            el.remove(child)
    for meta in doc.xpath("//meta[@property='og:title' or @name='twitter:title']"):
        meta.set("content", meta.get("content", "") + suffix)
    for link in doc.xpath("//link[@rel='canonical'] | //meta[@property='og:url']"):
        attr = "href" if link.tag == "link" else "content"
        link.set(attr, link.get(attr).split("?")[0] + f"?part={n}")
    # Thin the body: drop headings, quotes, lists and figures, keep a few long paragraphs.
    for el in doc.xpath("//body//*[self::h2 or self::h3 or self::blockquote or self::ul or "
                        "self::ol or self::figure or self::aside]"):
        if el.getparent() is not None:
            el.getparent().remove(el)
    body = _article_text(sample)  # keep paragraphs of the article, not of its boilerplate
    long_ps = [p for p in doc.xpath("//body//p") if len(p.text_content().strip()) > 120
               and _letters(p.text_content())[:80] in body]
    order = list(range(len(long_ps)))
    random.Random(f"{sample.name}-{n}").shuffle(order)
    keep, chars = set(), 0
    for i in order:  # enough text to be an article, little enough to narrate fast
        if len(keep) >= paragraphs and chars >= min_chars:
            break
        keep.add(i)
        chars += len(long_ps[i].text_content().strip())
    for i, p in enumerate(long_ps):
        if i not in keep and p.getparent() is not None:
            p.getparent().remove(p)
    return lxml_html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>")


def build_archive(root: Path, count: int, *, stamp: str = "") -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    samples = sample_pages()
    paths = []
    for n in range(count):
        sample = samples[n % len(samples)]
        folder = root / sample.stem  # nested folders: the folder source is recursive
        folder.mkdir(exist_ok=True)
        path = folder / f"{sample.stem}-{n:03d}.html"
        path.write_bytes(derive_page(sample, n, stamp=stamp))
        paths.append(path)
    return paths


def ffmpeg_decodes(mp3: Path) -> float:
    """Decode the whole file; fail on any decoding error. Returns the decoded seconds."""
    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror", "-i",
                             str(mp3), "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
                            capture_output=True)
    assert result.returncode == 0 and not result.stderr, (mp3, result.stderr[-500:])
    return len(result.stdout) / 2 / 8000


def check_outputs(outdir: Path, row: dict) -> None:
    """Every output of a done row is there and complete."""
    base = outdir / "audio" / row["slug"]
    for suffix in SUFFIXES:
        assert Path(f"{base}{suffix}").is_file(), f"{base}{suffix} missing"
    mp3 = Path(f"{base}.mp3")
    assert mp3.stat().st_size == row["mp3_bytes"]
    decoded = ffmpeg_decodes(mp3)
    assert abs(decoded - row["duration"]) < 1.0, (mp3, decoded, row["duration"])
    chapters = json.loads(Path(f"{base}.chapters.json").read_text())
    assert chapters["chapters"], base
    assert Path(f"{base}.transcript.vtt").read_text().startswith("WEBVTT")


# ----------------------------------------------------------------------------- tests


def test_derived_pages_are_distinct_short_articles(tmp_path):
    from narrator.batch.identity import canonical_url
    from narrator.pipeline import extract

    paths = build_archive(tmp_path, len(sample_pages()) + 1)
    pages = [p.read_bytes() for p in paths]
    assert len(set(pages)) == len(pages)
    assert len({canonical_url(p) for p in pages}) == len(pages)
    for path in paths:  # one or two per sample
        article = extract(path.read_bytes())
        text = " ".join(getattr(b, "text", "") for b in article.blocks())
        assert article.title.endswith(f"part {int(path.stem[-3:])}")
        assert 15 < len(text.split()) < 200, (path, len(text.split()))
        assert "Ã" not in article.title + text, path  # the sample's encoding was respected
