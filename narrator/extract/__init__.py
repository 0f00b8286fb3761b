"""HTML bytes -> Article.

    decode (charset, mojibake) -> parse -> metadata -> rules (generic + detected CMS + user)
    -> clean (junk, embeds, quotes + attribution, drop selectors) -> main content
    (a rule's content root walked by us, else trafilatura) -> blocks (phrases, title/kicker,
    attribution lines, de-duplication) -> sections.

`extract_article` raises InputError (not HTML, binary, too big, undecodable) or
NoArticleError (no article text); anything else escaping is a bug.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import lxml.html
from lxml import etree

from ..errors import InputError, NoArticleError
from ..model import Article, Metadata
from ..timelimit import alarm
from .blocks import RawBlock, common_ancestor, from_trafilatura, walk_dom
from .clean import ATTRIBUTION_ATTR, QUOTE_ATTR, Log, clean_tree, text_of
from .decode import DEFAULT_MAX_BYTES, decode_html
from .limits import bound_attributes
from .metadata import extract_metadata
from .post import process, to_sections
from .recover import lead_paragraph, sibling_chunks
from .rules import RuleSet, compile_selector, norm_phrase, select_rules

__all__ = ["extract_article", "extract_text", "extract_body_text", "body_only", "explain", "Explanation", "DEFAULT_MAX_BYTES",
           "DEFAULT_TIME_LIMIT"]

DEFAULT_TIME_LIMIT = float(os.environ.get("NARRATOR_EXTRACT_TIME_LIMIT", "20"))
MIN_CONTENT_CHARS = 200
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


class ExtractTimeout(InputError):
    pass


def time_limit(seconds: float | None):
    """SIGALRM-based limit on extraction, only in the main thread (see narrator.timelimit)."""
    return alarm(seconds, lambda: ExtractTimeout(
        f"page took longer than {seconds:g} s to extract (time limit)"))


@dataclass
class Explanation:
    article: Article | None
    encoding: str
    rule_sets: list[str]
    engine: str
    dropped: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"encoding: {self.encoding}", f"rule sets: {', '.join(self.rule_sets)}",
                 f"main content: {self.engine}", f"dropped ({len(self.dropped)}):"]
        lines += [f"  - {text!r}\n      by {rule}" for text, rule in self.dropped]
        return "\n".join(lines) + "\n"


# C0 controls other than tab, newline and carriage return are not allowed in HTML text, and
# lxml refuses them in any string it is given back (an element's kept tail, say). decode_html
# drops the characters; the numeric character references that would make them ("&#8;",
# "&#x1F") are dropped before parsing.
_CONTROL_REFS = re.compile(r"&#(?:0*(?:[0-8]|1[124-9]|2[0-9]|3[01]|127)(?![0-9])"
                           r"|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])(?![0-9a-fA-F]));?")


_PARSERS = threading.local()


def _parser():
    """lxml.html's parser with the element class chosen in C: lxml.html's own lookup is Python
    code run for every element proxy (a few ms per page, in our passes and trafilatura's). Every
    element is an HtmlElement; form controls lose their lxml.html form helpers, unused here.
    One per thread: lxml parsers are not shared between threads."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = lxml.html.HTMLParser()
        parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
        _PARSERS.parser = parser
    return parser


def _parse(text: str):
    """text: decode_html's text, which holds no control characters (it removes them)."""
    text = _XML_DECL.sub("", text, count=1)
    text = bound_attributes(_CONTROL_REFS.sub("", text))  # libxml2 is quadratic in them
    try:
        tree = lxml.html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"cannot parse the page as HTML ({exc})") from None
    if tree is None or tree.tag != "html":
        wrapper = lxml.html.Element("html")
        body = etree.SubElement(wrapper, "body")
        if tree is not None:
            body.append(tree)
        tree = wrapper
    return tree


def _content_root(tree, rs: RuleSet, fallback: bool = False):
    for rule in (rs.fallback if fallback else rs.content):
        found = compile_selector(rule.value)(tree)
        found = [f for f in found if not any(a in found for a in f.iterancestors())]
        if not found:
            continue
        if len(found) == 1:
            root = found[0]
        else:
            root = common_ancestor(found)
            if root is None or root.tag in ("html", "body"):
                root = max(found, key=lambda f: len(text_of(f)))
        if len(text_of(root)) >= MIN_CONTENT_CHARS:
            return root, rule.source
    return None, None


def _has_text(blocks) -> bool:
    body = " ".join(b.text or " ".join(b.items) for b in blocks if b.kind in ("p", "quote", "list"))
    return len(body.strip()) >= 20


def _guess_language(text: str, rs: RuleSet) -> str | None:
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    if not words or not rs.stopwords:
        return None
    scores = {lang: sum(w in stop for w in words) for lang, stop in rs.stopwords.items()}
    lang, score = max(scores.items(), key=lambda kv: kv[1])
    return lang if score >= max(3, len(words) * 0.05) else None


def _run(html: bytes, url, content_type, rules, max_bytes, log: Log, options: dict | None):
    text, encoding = decode_html(html, content_type=content_type, max_bytes=max_bytes)
    tree = _parse(text)
    meta = extract_metadata(tree, url, markup=text)
    rs = select_rules(tree, text[:200_000], user=tuple(rules))
    if options:
        rs.options.update(options)
    lang = meta.language or "en"
    standfirst = clean_tree(tree, rs, log)
    engine_choice = rs.options.get("engine", "auto")
    root, source = (None, None)
    if engine_choice != "trafilatura":
        root, source = _content_root(tree, rs)
    raw: list[RawBlock]
    note_lang = meta.language or "en"
    note = rs.note("table", note_lang)
    if root is not None:
        engine = f"content root from rule {source}"
        raw = walk_dom(root, rs.options, log, note)
        dom_path = True
        if standfirst is not None and not any(a is root for a in standfirst.iterancestors()) \
                and standfirst is not root:
            raw.insert(0, RawBlock("p", text_of(standfirst), origin="standfirst"))
    else:
        engine = "trafilatura (no content rule matched)"
        raw = _trafilatura(tree, url, rs, log, note, meta.description or "")
        dom_path = False
    blocks = process(raw, meta.title, rs, log, dom_path=dom_path)
    if not dom_path and not _has_text(blocks):
        # trafilatura found nothing it trusts: walk the page's declared article container
        root, source = _content_root(tree, rs, fallback=True)
        if root is not None:
            engine = f"content root from fallback rule {source} (trafilatura found no text)"
            blocks = process(walk_dom(root, rs.options, log, note), meta.title, rs, log, dom_path=True)
    if not _has_text(blocks):
        raise NoArticleError("no article text found on the page")
    sections = to_sections(blocks, log)
    body_text = " ".join(b.text or " ".join(b.items) for b in blocks if b.kind != "h")
    if not meta.language:
        lang = _guess_language(body_text, rs) or "en"
        meta = _replace(meta, language=lang)
        if lang != note_lang:
            sections = _renote(sections, rs.note("table", note_lang), rs.note("table", lang))
    title = meta.title or ""
    article = Article(title=title, language=lang, sections=sections, meta=meta,
                      lexicon=tuple(sorted(rs.pronunciation.items())))
    return article, encoding, rs, engine


def _replace(meta: Metadata, **kw) -> Metadata:
    from dataclasses import replace
    return replace(meta, **kw)


def _renote(sections, old, new):
    from dataclasses import replace
    from ..model import Paragraph
    if not old or not new or old == new:
        return sections
    return tuple(replace(s, blocks=tuple(Paragraph(new) if isinstance(b, Paragraph) and b.text == old else b
                                         for b in s.blocks)) for s in sections)


_INLINE_STYLED = etree.XPath(
    "//p//*[self::span or self::a or self::em or self::strong or self::b or self::i or self::u or self::font]"
    "[@class or @id or @style]")


def _trafilatura(tree, url, rs: RuleSet, log: Log, note, description: str = ""):
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
    # the metadata is read: the head's scripts and styles (a third of a page's markup, on the
    # Scrapinghub set) would only be copied by trafilatura, several times, then thrown away
    head = tree.find("head")
    if head is not None:
        for el in list(head.iter("script", "style", "link", "noscript")):
            if el.tag != "script" or (el.get("type") or "").lower() != "application/ld+json":
                el.getparent().remove(el)
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
        raw = sibling_chunks(body, raw, rs.options, log, note)
        raw = lead_paragraph(description, body, raw, log)
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


def extract_article(html: bytes, *, url: str | None = None, content_type: str | None = None,
                    rules: Sequence[Path] = (), max_bytes: int = DEFAULT_MAX_BYTES,
                    time_limit_s: float | None = DEFAULT_TIME_LIMIT, options: dict | None = None) -> Article:
    """The article of one HTML page. Raises InputError / NoArticleError with a one-line message."""
    return _guarded(html, url, content_type, rules, max_bytes, time_limit_s, Log(False), options)[0]


def explain(html: bytes, *, url: str | None = None, content_type: str | None = None,
            rules: Sequence[Path] = (), max_bytes: int = DEFAULT_MAX_BYTES,
            time_limit_s: float | None = DEFAULT_TIME_LIMIT, options: dict | None = None) -> Explanation:
    """Like extract_article, plus what was dropped and by which rule or heuristic."""
    log = Log(True)
    article, encoding, rs, engine = _guarded(html, url, content_type, rules, max_bytes, time_limit_s, log, options)
    return Explanation(article, encoding, rs.names, engine, log.entries)


def _guarded(html, url, content_type, rules, max_bytes, limit, log, options):
    with time_limit(limit):
        try:
            return _run(html, url, content_type, rules, max_bytes, log, options)
        except RecursionError:
            raise InputError("page markup is nested too deeply to read") from None
        except MemoryError:
            raise InputError("page is too large to read") from None


def extract_text(html: bytes, url: str | None = None) -> str:
    """The `narrator extract` text of a page (for the evaluation harness)."""
    from ..script import render_text

    return render_text(extract_article(html, url=url))


def body_only(article: Article) -> Article:
    """The article without its title, so that its text starts with the body (what
    `narrator extract --body-only` prints: for transcripts and feeds that show the title apart)."""
    from dataclasses import replace

    return replace(article, title="")


def extract_body_text(html: bytes, url: str | None = None) -> str:
    """The `narrator extract --body-only` text of a page: the article body without the title line."""
    from ..script import render_text

    return render_text(body_only(extract_article(html, url=url)))
