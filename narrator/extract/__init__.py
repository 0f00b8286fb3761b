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
from .blocks import RawBlock, read_tables, walk_dom
from .clean import clean_tree
from .dom import Dropped, Log, text_of
from .content import Choice, content_root, drop_strays
from .decode import DEFAULT_MAX_BYTES, decode_html
from .generic import generic_blocks
from .limits import bound_attributes
from .metadata import SUBTITLE_CHARS, read_metadata
from .post import process, to_sections
from .rules import RuleSet, select_rules
from .teasers import drop_teasers, site_host

__all__ = ["extract_article", "extract_text", "extract_body_text", "body_only", "explain", "Explanation", "DEFAULT_MAX_BYTES",
           "DEFAULT_TIME_LIMIT"]

DEFAULT_TIME_LIMIT = float(os.environ.get("NARRATOR_EXTRACT_TIME_LIMIT", "20"))
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
    dropped: list[Dropped] = field(default_factory=list)   # (text, rule, main-text chars taken)
    spared: list[Dropped] = field(default_factory=list)    # kept by a guard: (text, why, chars)
    recovered: list[tuple[str, str]] = field(default_factory=list)  # put back: (text, why)
    main_chars: int = 0  # the main text's size, as estimated before any removal

    def render(self) -> str:
        lines = [f"encoding: {self.encoding}", f"rule sets: {', '.join(self.rule_sets)}",
                 f"main content: {self.engine}",
                 f"main text estimated before removals: {self.main_chars:,} characters",
                 f"dropped ({len(self.dropped)}):"]
        for text, rule, chars in self.dropped:
            took = "" if chars is None else f"  [took {chars:,} of {self.main_chars:,} main-text chars]"
            lines.append(f"  - {text!r}\n      by {rule}{took}")
        if self.spared:
            lines.append(f"kept by a guard ({len(self.spared)}):")
            lines += [f"  - {text!r}\n      {why}  [holds {chars:,} main-text chars]"
                      for text, why, chars in self.spared]
        if self.recovered:
            lines.append(f"recovered ({len(self.recovered)}):")
            lines += [f"  - {text!r}\n      {why}" for text, why in self.recovered]
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
    meta, fallback_subtitle = read_metadata(tree, url)
    rs = select_rules(tree, text[:200_000], user=tuple(rules))
    if options:
        rs.options.update(options)
    lang = meta.language or "en"
    cleaned = clean_tree(tree, rs, log)
    standfirst, main = cleaned.standfirst, cleaned.main
    if meta.subtitle is None:  # JSON-LD names none: the standfirst the rules found, else the description
        found = text_of(standfirst) if standfirst is not None else ""
        meta = _replace(meta, subtitle=found if SUBTITLE_CHARS[0] <= len(found) <= SUBTITLE_CHARS[1]
                        else fallback_subtitle)
    log.main_chars = main.total
    drop_teasers(main, site_host(url, meta.canonical_url, meta.source_url), log)
    choice = content_root(tree, rs, main) if rs.options.get("engine", "auto") != "trafilatura" else Choice()
    root, source, why = choice.root, choice.source, choice.why
    raw: list[RawBlock]
    note_lang = meta.language or "en"
    note = rs.note("table", note_lang)
    if root is not None:
        engine = f"content root from rule {source}: {why}"
        raw = walk_dom(root, rs.options, log, note)
        dom_path = True
        if standfirst is not None and not any(a is root for a in standfirst.iterancestors()) \
                and standfirst is not root:
            raw.insert(0, RawBlock("p", text_of(standfirst), origin="standfirst"))
    else:
        engine = (f"trafilatura (generic detection won: {why})" if why
                  else "trafilatura (no content rule matched)")
        drop_strays(choice, log)
        raw = generic_blocks(tree, url, rs, log, note, meta.description or "", standfirst,
                             meta.canonical_url or meta.source_url)
        dom_path = False
    blocks = process(read_tables(raw, log), meta.title, rs, log, dom_path=dom_path)
    if not dom_path and not _has_text(blocks):
        # trafilatura found nothing it trusts: walk the page's declared article container
        choice = content_root(tree, rs, main, fallback=True)
        root, source = choice.root, choice.source
        if root is not None:
            engine = f"content root from fallback rule {source} (trafilatura found no text)"
            blocks = process(read_tables(walk_dom(root, rs.options, log, note), log), meta.title, rs, log,
                             dom_path=True)
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
    return Explanation(article, encoding, rs.names, engine, log.entries, log.spared, log.recovered, log.main_chars)


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
    from ..render import render_text

    return render_text(extract_article(html, url=url))


def body_only(article: Article) -> Article:
    """The article without its title, so that its text starts with the body (what
    `narrator extract --body-only` prints: for transcripts and feeds that show the title apart)."""
    from dataclasses import replace

    return replace(article, title="")


def extract_body_text(html: bytes, url: str | None = None) -> str:
    """The `narrator extract --body-only` text of a page: the article body without the title line."""
    from ..render import render_text

    return render_text(body_only(extract_article(html, url=url)))
