"""An Article as text: the `narrator extract` format (DEVELOPERS.md), and each block as the
narrator says it. Shared by extraction (its text output) and the script stage, so neither
reaches into the other."""
from __future__ import annotations

import re

from .language import LanguageProfile, profile
from .model import Article, Block, ListBlock, Paragraph, Quote

_SPACE = re.compile(r"\s+")
_ATTRIBUTION_DASH = re.compile(r"^\s*[-\u2010-\u2015\u2212~]+\s*")


def clean(text: str) -> str:
    """Whitespace collapsed to single spaces, ends stripped."""
    return _SPACE.sub(" ", text).strip()


def quote_sentence(quote: Quote, lang: LanguageProfile) -> str:
    """The quote as the narrator says it, attribution included, in the language's form."""
    text = clean(quote.text).rstrip()
    if text.endswith(".") and not text.endswith("..."):
        text = text[:-1].rstrip()
    speaker = clean(_ATTRIBUTION_DASH.sub("", quote.attribution or ""))
    if speaker:
        return lang.quote_with_speaker.format(quote=text, speaker=speaker.rstrip("."))
    return lang.quote_without_speaker.format(quote=text)


def block_text(block: Block, lang: LanguageProfile) -> str:
    if isinstance(block, Paragraph):
        return clean(block.text)
    if isinstance(block, Quote):
        return quote_sentence(block, lang)
    if isinstance(block, ListBlock):
        return "\n".join(clean(item) for item in block.items if clean(item))
    raise TypeError(f"unknown block {block!r}")


def render_text(article: Article) -> str:
    """The spoken text before speech normalisation: the `narrator extract` text format."""
    lang = profile(article.language)
    parts = [clean(article.title)]
    for section in article.sections:
        if section.heading:
            parts.append(clean(section.heading))
        parts.extend(block_text(block, lang) for block in section.blocks)
    return "\n\n".join(p for p in parts if p) + "\n"
