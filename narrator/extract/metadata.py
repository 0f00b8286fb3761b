"""Metadata from JSON-LD, OpenGraph, <meta> tags and markup (read before clean-up: it needs
the <script type="application/ld+json"> blocks that clean-up removes)."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from itertools import islice
from urllib.parse import urljoin, urlsplit

from ..model import Metadata
from .chars import strip_invisible

_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "scholarlyarticle",
                  "techarticle", "report", "liveblogposting", "webpage", "posting", "socialmediaposting"}
_SPACE = re.compile(r"\s+")
_TITLE_SUFFIX = re.compile(r"\s+[|\u2013\u2014·•:-]\s+[^|\u2013\u2014·•]{1,60}$")


def clean(text) -> str:
    return _SPACE.sub(" ", strip_invisible(str(text or ""))).strip()


def _types(obj) -> set[str]:
    t = obj.get("@type", "")
    return {str(x).lower() for x in (t if isinstance(t, list) else [t])}


def _walk_ld(data, out: list) -> None:
    if isinstance(data, list):
        for item in data[:50]:
            _walk_ld(item, out)
    elif isinstance(data, dict):
        if _types(data) & _ARTICLE_TYPES:
            out.append(data)
        for key in ("@graph", "mainEntity"):
            if key in data:
                _walk_ld(data[key], out)


def _json_ld(tree) -> dict:
    found: list[dict] = []
    scripts = [s for s in tree.iter("script") if "ld+json" in (s.get("type") or "").lower()]
    for script in scripts[:20]:
        raw = (script.text or "").strip()
        if not raw or len(raw) > 1_000_000:
            continue
        try:
            _walk_ld(json.loads(raw), found)
        except (ValueError, RecursionError):
            continue
    # an article type beats a plain WebPage
    found.sort(key=lambda d: "webpage" in _types(d))
    return found[0] if found else {}


def _names(value) -> list[str]:
    if isinstance(value, str):
        return [clean(value)]
    if isinstance(value, dict):
        return [clean(value.get("name", ""))]
    if isinstance(value, list):
        return [n for v in value[:10] for n in _names(v)]
    return []


def _url(value) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _url(value.get("url") or value.get("@id") or value.get("contentUrl"))
    if isinstance(value, list) and value:
        return _url(value[0])
    return None


def language_tag(value: str | None) -> str | None:
    """'fr-FR', 'fr_FR', 'FR' -> 'fr'."""
    if not value:
        return None
    m = re.match(r"\s*([A-Za-z]{2,3})(?:[-_]|\s*$)", str(value))
    return m.group(1).lower() if m else None


def heading_title(tree, hint: str = "") -> str:
    """The article's h1: the one that matches the declared title, else the first real one."""
    body = tree.find("body")
    h1s = [clean(h.text_content()) for h in islice((body if body is not None else tree).iter("h1"), 20)]
    h1s = [h for h in h1s if h]
    low = hint.lower()
    for h in h1s:
        if low and (h.lower() in low or low in h.lower()) and len(h) >= 4:
            return h
    for h in h1s:
        if len(h) >= 10 and len(h.split()) >= 2:
            return h
    return ""


_SUBTITLE_NAMES = ("alternativeHeadline", "standfirst", "chapo", "subtitle", "dek")
_SUBTITLE_CLASSES = _SUBTITLE_NAMES[1:]


def _subtitle_elements(tree):
    """Elements marked as a subtitle (itemprop) or named like one (class), in page order (a
    Python pass: twice as fast as the equivalent XPath's string tests on every element)."""
    for el in tree.iter():
        cls = el.get("class")
        if (cls and any(n in cls for n in _SUBTITLE_CLASSES)) or el.get("itemprop") == "alternativeHeadline":
            yield el


SUBTITLE_CHARS = (20, 600)


def extract_metadata(tree, url: str | None = None, markup: str | None = None) -> Metadata:
    """markup: the page's HTML text, when known: lets the subtitle search skip pages that name
    none of its classes (a pass over every element)."""
    meta, fallback = read_metadata(tree, url)
    if meta.subtitle is None and (markup is None or any(n in markup for n in _SUBTITLE_NAMES)):
        for el in islice(_subtitle_elements(tree), 3):
            text = clean(el.text_content())
            if SUBTITLE_CHARS[0] <= len(text) <= SUBTITLE_CHARS[1]:
                return replace(meta, subtitle=text)
    return meta if meta.subtitle is not None else replace(meta, subtitle=fallback)


def read_metadata(tree, url: str | None = None) -> tuple[Metadata, str | None]:
    """The page's metadata with a subtitle only when JSON-LD names one, and the subtitle to use
    when the page's markup names none (its description). Extraction completes the subtitle
    with the standfirst its rules find (the same class names, and more)."""
    metas: dict[str, str] = {}
    for m in tree.iter("meta"):
        content = clean(m.get("content"))
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (m.get(attr) or "").strip().lower()
            if key:
                metas.setdefault(key, content)

    def meta(*names: str) -> str | None:
        for name in names:
            if name.lower() in metas:
                return metas[name.lower()]
        return None

    ld = _json_ld(tree)
    og_title = meta("og:title", "twitter:title")
    ld_title = clean(ld.get("headline") or ld.get("name") or "")
    head = tree.find("head")
    title_el = head.find("title") if head is not None else None
    doc_title = clean(title_el.text_content() if title_el is not None else "")
    hint = og_title or ld_title or doc_title
    title = heading_title(tree, hint) or og_title or ld_title or _TITLE_SUFFIX.sub("", doc_title)

    subtitle = clean(ld.get("alternativeHeadline") or "") or None
    description = meta("og:description", "description", "twitter:description")
    fallback = description or clean(ld.get("description")) or None

    authors = [a for a in _names(ld.get("author")) if a]
    if not authors:
        a = meta("author", "article:author", "dc.creator", "citation_author")
        if a and not a.startswith("http"):
            authors = [a]
    if not authors:
        authors = [clean(x.text_content()) for x in tree.xpath("//*[@rel='author']")[:3] if clean(x.text_content())]
    authors = list(dict.fromkeys(a for a in authors if len(a) < 100))

    published = clean(ld.get("datePublished")) or meta("article:published_time", "datePublished", "date",
                                                         "dc.date", "pubdate", "publishdate") or None
    if not published:
        times = tree.xpath("//time[@datetime]/@datetime")
        published = clean(times[0]) if times else None
    modified = clean(ld.get("dateModified")) or meta("article:modified_time", "og:updated_time", "dateModified") or None

    site = meta("og:site_name", "application-name") or None
    if not site and isinstance(ld.get("publisher"), dict):
        site = clean(ld["publisher"].get("name")) or None

    lang = None
    for value in (tree.xpath("/html/@lang | /html/@xml:lang")[:1] or [None])[0], meta("og:locale"), \
            ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None, \
            meta("content-language", "language", "dc.language"):
        lang = language_tag(value)
        if lang:
            break

    links = (head if head is not None else tree).iter("link")
    canonical = next((link.get("href") for link in links if link.get("rel") == "canonical" and link.get("href")), None) \
        or meta("og:url") or _url(ld.get("mainEntityOfPage")) or url
    image = meta("og:image", "og:image:url", "twitter:image") or _url(ld.get("image"))
    if canonical:
        canonical = _join(url, canonical.strip())
    if image:
        image = _join(url or canonical, image.strip())
    return Metadata(title=title, subtitle=subtitle, description=description,
                    authors=tuple(authors), published=published,
                    modified=modified, site_name=site, language=lang,
                    canonical_url=canonical.strip() if canonical else None, image_url=image,
                    source_url=url), fallback


def _join(base: str | None, link: str) -> str | None:
    """`link` resolved against `base` (when there is one); None when either is not a valid
    URL: a page's metadata is not worth failing over ("http://[bad/" makes urllib raise)."""
    try:
        joined = urljoin(base, link) if base else link
        urlsplit(joined).port  # parses the host part too, where bad brackets or ports fail
        return joined
    except ValueError:
        return None
