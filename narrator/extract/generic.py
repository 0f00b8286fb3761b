"""Generic main-content detection, for pages without a content rule that holds the article:
trafilatura in its precision mode on the cleaned page, then recall (the standfirst, the lead,
a body's other chunks, later sections and lists, found again in the page) and narrator's own
filters. trafilatura's XML output becomes the same RawBlock list as the walker's."""
from __future__ import annotations

from lxml import etree

from .blocks import RawBlock, comparison_key, links_list, squash, table_block
from .heads import dropped_headings
from .dom import ATTRIBUTION_ATTR, QUOTE_ATTR, Log, text_of
from .lead import lead_paragraph, standfirst as put_standfirst
from .recover import body_units, paragraph_index, sibling_chunks
from .rules import RuleSet, norm_phrase
from .teasers import site_host, teaser_list

TITLE_LINE_WORDS = 8


_INLINE_STYLED = etree.XPath(
    "//p//*[self::span or self::a or self::em or self::strong or self::b or self::i or self::u or self::font]"
    "[@class or @id or @style]")


def generic_blocks(tree, url, rs: RuleSet, log: Log, note, description: str = "", standfirst=None,
                   canonical: str | None = None) -> list[RawBlock]:
    """The article's raw blocks by trafilatura (precision mode), then what it dropped put back
    (recover.py, lead.py), then its lists of links out."""
    import trafilatura

    quotes = {}
    for q in tree.xpath(f"//*[@{QUOTE_ATTR}]"):
        quotes[norm_phrase(text_of(q))] = q.get(ATTRIBUTION_ATTR)
    # inside a paragraph, markup is the sentence's: trafilatura's precision mode drops inline
    # elements by class or style (class="link", a "border" style), which cuts words out of the
    # middle of a sentence. The drop rules have already run, so these attributes can go.
    for el in _INLINE_STYLED(tree):
        for attr in ("class", "id", "style"):
            el.attrib.pop(attr, None)
    doc = trafilatura.bare_extraction(tree, url=url, include_comments=False,
                                      include_tables=rs.options.get("tables") != "drop",
                                      include_images=False, include_formatting=False, include_links=False,
                                      with_metadata=False, deduplicate=False,
                                      favor_precision=True)  # measured: P +0.009, R -0.007
    if doc is None or doc.body is None:
        return []
    raw = from_trafilatura(doc.body, rs.options, log, note, quotes)
    body = tree.find("body")
    if body is not None:
        raw = drop_link_lists(body, raw, log)
        index = paragraph_index(body)
        raw = sibling_chunks(body, raw, rs.options, log, note, index)
        raw = body_units(body, raw, rs.options, log, note, index)
        raw = dropped_headings(raw, index, log)
        raw = drop_trailing_teasers(body, raw, log, site_host(url, canonical))
        raw = lead_paragraph(description, body, raw, log)
        raw = put_standfirst(description, body, raw, standfirst, index, log)
    if log.enabled:  # name what the main-content detection left out
        kept = {norm_phrase(b.text) for b in raw} | {norm_phrase(i) for b in raw for i in b.items}
        for el in (body if body is not None else tree).iter("p", "h1", "h2", "h3", "h4", "li", "div", "span", "a", "td"):
            if len(el) and any(isinstance(c.tag, str) and c.tag in ("p", "div", "ul", "ol", "table", "li", "section")
                               for c in el):
                continue  # a container: its leaves speak for it
            text = text_of(el)
            if text and norm_phrase(text) not in kept and not any(norm_phrase(text) in k for k in kept):
                log.add(text, "main-content detection (trafilatura): not part of the article")
    return raw


def _xml_text(el) -> str:
    parts = []
    if el.text:
        parts.append(el.text)
    for c in el:
        if c.tag == "lb":
            parts.append(" ")
        elif isinstance(c.tag, str) and c.tag != "graphic":
            parts.append(_xml_text(c))
        if c.tail:
            parts.append(c.tail)
    return "".join(parts)


def _li_index(body) -> dict:
    """The page's list items by comparison key (first 100 characters; first one wins)."""
    items: dict = {}
    for li in body.iter("li"):
        key = comparison_key(li.text_content())[:100]
        if key and key not in items:
            items[key] = li
    return items


def drop_link_lists(body, raw: list[RawBlock], log: Log) -> list[RawBlock]:
    """The walker's test for lists of links (related articles, "more stories"), on the lists of
    trafilatura's output, whose links are found again in the page (trafilatura's output, with
    its links kept, is cut differently)."""
    if not any(b.kind == "list" for b in raw):
        return raw
    items = _li_index(body)
    out = []
    for b in raw:
        if b.kind == "list":
            found = [items.get(comparison_key(i)[:100]) for i in b.items]
            if found and all(li is not None for li in found) and links_list(
                    [text_of(li) for li in found],
                    [sum(len(a.text_content().strip()) for a in li.iter("a")) for li in found]):
                log.add(" / ".join(b.items), "heuristic: list of links (related articles, navigation)")
                continue
        out.append(b)
    return out


def drop_trailing_teasers(body, raw: list[RawBlock], log: Log, host: str | None) -> list[RawBlock]:
    """A list that ends the article (what was put back included) and links each item to
    another page of the site (teasers.teaser_list) is a "more stories" list, not all links:
    it goes, with the title line before it."""
    last = max((i for i, b in enumerate(raw) if b.kind != "h"), default=-1)
    if last < 1 or raw[last].kind != "list":
        return raw
    items = _li_index(body)
    found = [items.get(comparison_key(i)[:100]) for i in raw[last].items]
    if not all(li is not None for li in found) or not teaser_list(found, host):
        return raw
    log.add(" / ".join(raw[last].items), "heuristic: list of the site's other stories after the article")
    out = raw[:last]
    if _title_line(out[-1]):
        log.add(out.pop().text, "heuristic: the title of a list of other stories")
    return out + raw[last + 1:]


def _title_line(b: RawBlock) -> bool:
    """A heading, or a short line that ends as no sentence does: a box's title."""
    text = b.text.rstrip()
    return b.kind == "h" or (b.kind == "p" and len(text.split()) <= TITLE_LINE_WORDS
                             and not text.endswith((".", "!", "?", "…", ":", "»", "”", '"')))


def from_trafilatura(body, options: dict, log: Log, note: str | None, quotes: dict) -> list[RawBlock]:
    out: list[RawBlock] = []

    def visit(el):
        tag = el.tag
        if tag == "head":
            rend = el.get("rend") or "h2"
            level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
            out.append(RawBlock("h", squash(_xml_text(el)), level=level))
        elif tag == "list":
            items = [squash(_xml_text(i)) for i in el if i.tag == "item"]
            items = [i for i in items if i]
            if items:
                out.append(RawBlock("list", items=items, ordered=el.get("rend") == "ol"))
        elif tag == "quote":
            text = squash(_xml_text(el))
            if text:
                out.append(RawBlock("quote", text, attribution=quotes.get(norm_phrase(text))))
        elif tag == "table":
            rows = [[squash(_xml_text(c)) for c in r if c.tag == "cell"] for r in el.iter("row")]
            if max((len(c) for r in rows for c in r), default=0) > 200:
                for cell in el.iter("cell"):  # a layout table: its cells are the page's text
                    children(cell)
            else:
                table_block(out, options, log, squash(_xml_text(el)), rows, note)
        elif tag in ("p", "code", "hi", "ref", "item", "cell"):
            text = squash(_xml_text(el))
            if text:
                attribution = quotes.get(norm_phrase(text), False)
                if attribution is not False:
                    out.append(RawBlock("quote", text, attribution=attribution))
                else:
                    out.append(RawBlock("p", text, origin="p"))
        elif tag == "graphic":
            pass
        elif tag in ("div", "body", "main", "section"):
            children(el)
        else:
            text = squash(_xml_text(el))
            if text:
                out.append(RawBlock("p", text, origin="p"))

    def children(el):
        loose(el.text)
        for child in el:
            visit(child)
            loose(child.tail)  # trafilatura leaves some paragraphs as tail text

    def loose(text):
        text = squash(text)
        if text:
            out.append(RawBlock("p", text, origin="p"))

    children(body)
    return out
