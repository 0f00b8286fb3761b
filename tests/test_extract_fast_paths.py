"""The extraction's fast paths give what the slow ones gave: one-pass selector matching equals
lxml's CSS selectors, control characters go whatever the encoding, CMS detection still finds
its selectors."""
from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from lxml.cssselect import CSSSelector

from narrator.extract import extract_article
from narrator.extract.select import selection
from narrator.extract.decode import decode_html
from narrator.extract.rules import select_rules

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.html"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_one_pass_selection_equals_css_selectors(path):
    text, _ = decode_html(path.read_bytes())
    tree = lxml.html.document_fromstring(text)
    rs = select_rules(tree, text[:200_000])
    groups = selection(tree, rs)
    for group, rules in (("quote", rs.quote_selectors), ("attribution", rs.attribution_selectors),
                         ("standfirst", rs.standfirst), ("drop", rs.drop)):
        expected = []
        for rule in rules:
            expected.extend(CSSSelector(rule.value, translator="html")(tree))
        order = {el: i for i, el in enumerate(tree.iter())}
        want = sorted(set(expected), key=order.get)
        assert [el for el, _ in groups[group]] == want, group


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
def test_control_characters_are_removed_in_any_encoding(encoding):
    html = ('<html><head><meta charset="%s"></head><body><p>caf\u00e9\x01 \x08au lait\x7f '
            'and more text</p></body></html>' % encoding)
    raw = html.encode(encoding)
    text, _ = decode_html(raw)
    assert not any(ord(c) < 9 or 13 < ord(c) < 32 or ord(c) == 127 for c in text)
    assert "café au lait" in text


def test_cms_detection_by_selector_still_works():
    # webflow is detected by html[data-wf-site] (no generator meta, no marker text)
    html = ('<html data-wf-site="x"><head><title>T</title></head><body><article><h1>Title of it</h1>'
            '<div class="w-richtext"><p>' + "Some words of the article body here. " * 10 + '</p></div>'
            '</article></body></html>')
    tree = lxml.html.document_fromstring(html)
    assert "webflow" in select_rules(tree, html).names
    tree = lxml.html.document_fromstring(html.replace(' data-wf-site="x"', ""))
    assert "webflow" not in select_rules(tree, html.replace(' data-wf-site="x"', "")).names
    assert extract_article(html.encode()).sections


def test_rule_sets_are_merged_once_but_each_page_gets_its_own(tmp_path):
    html = "<html><head><title>T</title></head><body><p>x</p></body></html>"
    tree = lxml.html.document_fromstring(html)
    first = select_rules(tree, html)
    first.options["captions"] = True
    first.drop.clear()
    first.notes["table"]["en"] = "changed"
    user = tmp_path / "mine.toml"
    user.write_text('name = "mine"\n[options]\ntables = "read"\n[drop]\nselectors = [".mine"]\n', "utf-8")
    with_user = select_rules(tree, html, user=[user])
    assert with_user.options["tables"] == "read" and any(r.value == ".mine" for r in with_user.drop)
    again = select_rules(tree, html)
    assert again.options["captions"] is False and again.options["tables"] == "note"
    assert again.drop and not any(r.value == ".mine" for r in again.drop)
    assert again.notes["table"]["en"] != "changed"
