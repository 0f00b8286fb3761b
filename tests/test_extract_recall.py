"""Article text that trafilatura's main-content detection leaves out and narrator puts back:
a body split into sibling chunks, the lead quoted by the meta description; and what must stay
out (a standfirst box, another article's chunks)."""
from __future__ import annotations

import pytest

from narrator.extract import extract_text

SENT = ("Paragraph {n} of the story tells what the council decided on Tuesday night and why the "
        "plan for the old schools matters to the parents who live in the district.")


def paras(start: int, count: int) -> str:
    return "".join(f"<p>{SENT.format(n=n)}</p>" for n in range(start, start + count))


def page(body: str, head: str = "", title: str = "The council votes a school plan") -> bytes:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}'
            f'</head><body><div class="top"><a href="/">Home</a> <a href="/news">News</a></div>'
            f'<div class="page"><h1>{title}</h1>{body}</div>'
            f'<div class="bottom-links"><a href="/a">About</a> <a href="/c">Contact</a></div></body></html>'
            ).encode("utf-8")


def chunked(chunks: int = 3, per: int = 3, between: str = '<div class="ad-slot">Advertisement</div>') -> str:
    parts = []
    for c in range(chunks):
        parts.append(f'<div class="grid narrow"><div class="body__container article__body">'
                     f'{paras(c * per + 1, per)}</div></div>')
        parts.append(between)
    return '<div class="article__chunks">' + "".join(parts) + "</div>"


def test_body_split_in_sibling_chunks_is_read_whole():
    text = extract_text(page(chunked()))
    for n in range(1, 10):
        assert SENT.format(n=n) in text
    assert text.index("Paragraph 1 ") < text.index("Paragraph 4 ") < text.index("Paragraph 7 ")
    assert "Advertisement" not in text


def test_chunks_of_another_layout_or_after_another_h1_are_not_added():
    other = ('<div class="sidebar"><div class="body__container article__body">'
             + paras(50, 3) + "</div></div>")
    text = extract_text(page(chunked(chunks=1, per=4) + other))
    assert "Paragraph 50 " not in text
    # the next article of an endless page: the same layout, but below its own h1
    chunk = '<div class="grid narrow"><div class="body__container article__body">{}</div></div>'
    nxt = '<div class="grid narrow"><h1>Another story entirely</h1></div>'
    html = page('<div class="article__chunks">' + chunk.format(paras(1, 4)) + nxt
                + chunk.format(paras(60, 4)) + "</div>")
    text = extract_text(html)
    assert "Paragraph 1 " in text and "Paragraph 60 " not in text


LEAD = ("Following last year's vote, the council plans to renovate forty school buildings in the "
        "first half of next year, according to the minutes of the meeting.")


def _lead(html: bytes, raw: list) -> list:
    import lxml.html

    from narrator.extract.dom import Log
    from narrator.extract.metadata import extract_metadata
    from narrator.extract.lead import lead_paragraph

    tree = lxml.html.document_fromstring(html.decode("utf-8"))
    description = extract_metadata(tree, None).description or ""
    return lead_paragraph(description, tree.find("body"), raw, Log())


def test_lead_as_loose_text_before_the_first_child_is_put_back():
    # trafilatura drops a body container's own leading text on some pages (it reads children)
    from narrator.extract.blocks import RawBlock

    desc = f'<meta name="description" content="{LEAD[:110]}...">'
    body = (f'<div class="content">{LEAD[:-1]}, says <em><a href="/x">the report</a></em>.<br><br>'
            + "".join(f"{SENT.format(n=n)}<br><br>" for n in range(1, 6)) + "</div>")
    raw = [RawBlock("p", "A teaser from the sidebar that trafilatura kept, above the title."),
           *(RawBlock("p", SENT.format(n=n)) for n in range(1, 6))]
    out = _lead(page(body, head=desc), raw)
    assert [b.text[:20] for b in out[:3]] == [raw[0].text[:20], LEAD[:20], SENT.format(n=1)[:20]]
    assert out[1].text.endswith("says the report.")
    # already there: nothing added
    assert len(_lead(page(body, head=desc), out)) == len(out)


def test_standfirst_box_quoted_by_the_description_is_spoken_before_the_body():
    # not as the lead (it is no part of the body container), but as the standfirst: after the
    # title, before the body, once (issue 11: the precision pass dropped it)
    from narrator.extract.blocks import RawBlock

    dek = "A six-year plan for forty buildings, and what it means for the families of the district."
    desc = f'<meta name="description" content="{dek}">'
    for box in (f'<h2 class="sub-head">{dek}</h2>', f'<div class="summary">{dek}</div>'):
        body = f'{box}<div class="story">{paras(1, 5)}</div>'
        raw = [RawBlock("p", SENT.format(n=n)) for n in range(1, 6)]
        assert len(_lead(page(body, head=desc), raw)) == 5
        text = extract_text(page(body, head=desc))
        assert text.count(dek) == 1
        assert text.index("The council votes") < text.index(dek) < text.index("Paragraph 1 ")


CTA = ("Join our reader club today to get every story of the week, the morning briefing and "
       "invitations to our events, all for the price of one coffee a month, with no commitment "
       "and a free first month for every new member.")
MEAL = ("Asparagus and eggs: one cup of asparagus, two soft-boiled or poached eggs, half a cup "
        "of sweet potato or one slice of whole-grain toast, and one teaspoon of olive oil for the "
        "potatoes or of grass-fed butter for the toast.")


def test_repeated_block_is_spoken_once_but_a_repeated_run_is_kept():
    body = (f"<p>{CTA}</p>{paras(1, 3)}<p>{CTA}</p>{paras(4, 2)}"
            f"<h2>Plan A</h2><p>Eat sixty to ninety minutes before your workout.</p><p>{MEAL}</p>{paras(6, 1)}"
            f"<h2>Plan B</h2><p>Eat sixty to ninety minutes before your workout.</p><p>{MEAL}</p>{paras(7, 1)}")
    text = extract_text(page(f'<div class="story">{body}</div>'))
    assert text.count("Join our reader club") == 1
    assert text.count("Asparagus and eggs") == 2


def test_inline_markup_inside_a_sentence_is_never_cut_out():
    # trafilatura's precision mode drops class="link" spans and "border" styles wherever they are
    body = ('<div class="story"><p>Our reporter said that <span class="link"><a href="/x">the league will '
            'fine the player</a></span> for his role in the fight, and that <span style="border-bottom:1px '
            'solid">the appeal is due</span> on Friday.</p>' + paras(1, 4) + "</div>")
    text = extract_text(page(body))
    assert ("Our reporter said that the league will fine the player for his role in the fight, and that "
            "the appeal is due on Friday.") in text


def test_a_short_paragraph_with_a_link_in_its_own_card_is_not_lost():
    # one wrapper per paragraph: trafilatura's precision mode deletes a short wrapped paragraph
    # that holds a link; it sits between two extracted ones, in the same layout: put back
    card = '<div class="card collection-item"><div class="card-content card-article">{}</div></div>'
    hole = '<p>The study was published on Monday in <a href="/j">the journal Nature Astronomy</a>.</p>'
    cards = [f"<p>{SENT.format(n=n)}</p>" for n in range(1, 4)] + [hole] + \
            [f"<p>{SENT.format(n=n)}</p>" for n in range(4, 7)]
    text = extract_text(page('<div class="story-cards">' + "".join(card.format(c) for c in cards) + "</div>"))
    assert "The study was published on Monday in the journal Nature Astronomy." in text
    assert text.index("Paragraph 3 ") < text.index("The study was") < text.index("Paragraph 4 ")


def test_a_dateline_lead_above_the_title_is_kept_a_kicker_is_not():
    from narrator.extract.blocks import RawBlock
    from narrator.extract.dom import Log
    from narrator.extract.post import process
    import lxml.html

    from narrator.extract.rules import select_rules

    rules = select_rules(lxml.html.fromstring("<html><body><p>x</p></body></html>"))
    assert "CNN" in rules.options["dateline_sources"]  # the agencies are data (generic.toml)
    title = "Why you cannot trust the statement"
    lead = ("(CNN)The president made an unscheduled trip to the hospital on Saturday for a quick exam, "
            "according to the White House.")
    raw = [RawBlock("p", "POLITICS"), RawBlock("p", lead), RawBlock("h", title, level=1),
           RawBlock("p", SENT.format(n=1))]
    texts = [b.text for b in process(raw, title, rules, Log(), dom_path=False)]
    assert texts == [lead, SENT.format(n=1)]


@pytest.mark.parametrize("opening", ["(CNN)", "PARIS (AFP) -", "LONDON, March 3 (Reuters) -",
                                     "SÃO PAULO (Reuters) -", "München (dpa) -",
                                     "MADRID, 5 mar. (EFE).-"])
def test_dateline_forms_agencies_write(opening):
    from narrator.extract.post import _dateline

    pattern = _dateline(("AP", "AFP", "CNN", "Reuters", "dpa", "EFE"))
    text = f"{opening} The council voted on Tuesday to renovate forty schools next year, it said."
    assert pattern.match(text)
    assert not pattern.match("Opinion " + text[len(opening):])
    assert not pattern.match("By Jane Doe (AP Photo) " + text[len(opening):])
