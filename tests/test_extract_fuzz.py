"""Fuzz: random and mutated HTML never escapes extract_article as anything but a
NarratorError. Duration: NARRATOR_FUZZ_SECONDS (default 5 s here; CI sets 60)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from narrator.errors import NarratorError
from narrator.extract import extract_article

pytestmark = pytest.mark.hostile  # part of issue 12's hostile-input suite

SECONDS = float(os.environ.get("NARRATOR_FUZZ_SECONDS", "5"))
SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.html"))
SEEDS = [p.read_bytes() for p in SAMPLES[:4]] or [
    b"<html lang='fr'><body><article><h1>Titre</h1><p>Un paragraphe assez long pour compter.</p>"
    b"<blockquote>Une citation.</blockquote><p>- Quelqu'un</p></article></body></html>"]

TAGS = ["p", "div", "span", "a", "h1", "h2", "h3", "ul", "ol", "li", "table", "tr", "td", "th", "blockquote",
        "figure", "figcaption", "cite", "footer", "header", "nav", "aside", "article", "main", "section", "br",
        "script", "style", "iframe", "svg", "template", "meta", "title", "head", "body", "html", "pre", "code"]
ATTRS = ['class="w-dyn-empty"', 'class="quote_author"', 'class="pull-quote"', 'hidden', 'style="display:none"',
         'class="entry-content"', 'itemprop="articleBody"', 'class="w-richtext"', 'lang="fr"', 'charset="utf-16"',
         'content="WordPress"', 'name="generator"', 'class="related"', 'aria-hidden="true"', 'class="kicker"']
WORDS = ["Le", "conseil", "a", "voté", "- Akim Oural", "13:59 min", "No items found.", "« citation »", "&nbsp;",
         "&amp;", "&#0;", "&#xD800;", "Ã©tÃ©", "\u202e", "\x00", "\ufeff", "été", "[...]", "—", "<!--", "-->",
         "<![CDATA[", "]]>", "<?xml version='1.0' encoding='latin-1'?>", "<!DOCTYPE html>", "&", "<", ">"]

fragment = st.recursive(
    st.sampled_from(WORDS) | st.text(max_size=30),
    lambda children: st.builds(
        lambda tag, attr, inner, close: f"<{tag} {attr}>{''.join(inner)}" + (f"</{tag}>" if close else ""),
        st.sampled_from(TAGS), st.sampled_from([""] + ATTRS), st.lists(children, max_size=5), st.booleans()),
    max_leaves=40)


def check(raw: bytes) -> None:
    try:
        extract_article(raw, time_limit_s=10)
    except NarratorError as exc:
        assert str(exc) and "\n" not in str(exc)


def run_for(seconds: float, strategy, encode) -> int:
    """Run hypothesis in rounds of 25 examples until the time is spent (at least one round)."""
    end = time.monotonic() + seconds
    count = 0

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def inner(value):
        nonlocal count
        count += 1
        check(encode(value))

    while True:
        inner()
        if time.monotonic() > end:
            return count


def test_fuzz_random_markup():
    n = run_for(SECONDS * 0.4, st.lists(fragment, max_size=12),
                lambda parts: ("<html><body>" + "".join(parts) + "</body></html>").encode("utf-8", "surrogatepass"))
    assert n > 0


def test_fuzz_random_bytes():
    n = run_for(SECONDS * 0.2, st.binary(max_size=4000), lambda b: b)
    assert n > 0


@st.composite
def mutated(draw):
    page = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, max(0, len(page) - 1)))
        if op == 0:  # flip bytes
            page[pos:pos + 1] = bytes([draw(st.integers(0, 255))])
        elif op == 1:  # cut a span
            del page[pos:pos + draw(st.integers(1, 2000))]
        elif op == 2:  # insert markup or junk
            page[pos:pos] = draw(st.sampled_from(WORDS + ["<div>", "</div>", "<blockquote>", "</p>", "<table>",
                                                          "<td>", "\xff\xfe", "<meta charset='utf-16'>"])).encode(
                "utf-8", "surrogatepass")
        else:  # duplicate a span (deeper nesting, repeated blocks)
            span = page[pos:pos + draw(st.integers(1, 3000))]
            page[pos:pos] = span
    return bytes(page)


def test_fuzz_mutated_samples():
    n = run_for(SECONDS * 0.4, mutated(), lambda b: b)
    assert n > 0
