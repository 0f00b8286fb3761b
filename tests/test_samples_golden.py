"""The sample pages against their golden texts.

Each `samples/NAME.html` with a `samples/NAME.txt` beside it is extracted and rendered in the
`narrator extract` text format; the result must equal the golden text exactly. The goldens are
the specification of what a listener hears (see samples/README.md): when this fails, fix the
extractor, not the golden.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PAGES = sorted(p for p in SAMPLES.glob("*.html") if p.with_suffix(".txt").exists())


def _readable_diff(expected: str, actual: str, name: str) -> str:
    """A block-aware unified diff: one line per block line, blank lines between blocks kept."""
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                fromfile=f"{name} (golden)", tofile=f"{name} (extracted)",
                                lineterm="", n=1)
    # Long paragraphs: show where two differing lines part ways.
    lines = list(diff)
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if line.startswith("-") and not line.startswith("---") and i + 1 < len(lines) \
                and lines[i + 1].startswith("+") and not lines[i + 1].startswith("+++"):
            a, b = line[1:], lines[i + 1][1:]
            k = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            out.append(f"?  first difference at column {k}: golden {a[k:k + 40]!r} / "
                       f"extracted {b[k:k + 40]!r}")
    return "\n".join(out)


def test_there_are_enough_samples():
    # issue 3: at least 8 article pages, French and English, each with its golden text
    assert len(PAGES) >= 8, [p.name for p in PAGES]
    langs = set()
    for page in PAGES:
        head = page.read_bytes()[:2000].decode("ascii", "replace")
        m = re.search(r'<html[^>]*\slang="([a-z]{2})', head)
        assert m, f"{page.name}: no <html lang>"
        langs.add(m.group(1))
    assert {"fr", "en"} <= langs


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_golden_file_is_well_formed(page):
    """The format of DEVELOPERS.md: blocks split by one blank line, one final newline."""
    text = page.with_suffix(".txt").read_bytes().decode("utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\r" not in text and "\t" not in text
    for block in text[:-1].split("\n\n"):
        assert block, "empty block (two blank lines in a row)"
        for line in block.split("\n"):
            assert line and line == line.strip(), f"stray whitespace in {line!r}"
            assert "  " not in line and "\u00a0" not in line, f"uncollapsed whitespace in {line!r}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_extraction_matches_golden(page):
    from narrator.extract import extract_article
    from narrator.render import render_text

    expected = page.with_suffix(".txt").read_bytes().decode("utf-8")
    actual = render_text(extract_article(page.read_bytes(), url=None))
    if actual != expected:
        pytest.fail(f"{page.name}: extracted text differs from the golden\n"
                    + _readable_diff(expected, actual, page.stem), pytrace=False)
