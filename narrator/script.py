"""Article -> Script: what is said, in which order, in which chapters, with which pauses.

Chapters: one per section heading. An article without headings takes its chapters from its
structure: the title and lead first, then a new chapter at each pull-quote, titled by the
quote's opening words.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable, Iterable, Mapping

from .language import LanguageProfile, profile
from .model import Article, Block, Chapter, ListBlock, Quote, Script, Utterance
from .render import clean, quote_sentence

CHAPTER_TITLE_WORDS = 7
Normalizer = Callable[[str, str], str]


# ----------------------------------------------------------------------------- sentences


def split_sentences(text: str, lang: LanguageProfile) -> list[str]:
    """Split a paragraph at sentence ends, not after known abbreviations or initials."""
    text = clean(text)
    sentences: list[str] = []
    start = 0
    for match in re.finditer(r"[.!?\u2026]+[\"'\u201d\u00bb)\]]*(?=\s+[\"'\u201c\u00ab(\[]?[A-Z\u00C0-\u00DE0-9])",
                             text):
        end = match.end()
        before = text[start:match.start()]
        word = re.search(r"([\w.\-]+)$", before)
        if match.group().startswith(".") and word:
            token = word.group(1)
            if token in lang.abbreviations or token.rstrip(".") in lang.abbreviations \
                    or (len(token) == 1 and token.isupper()):
                continue
        sentences.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# ----------------------------------------------------------------------------- chapters


def _opening_words(text: str, n: int = CHAPTER_TITLE_WORDS) -> str:
    words = clean(text).split(" ")
    title = " ".join(words[:n]).rstrip(",;:.")
    return title + ("\u2026" if len(words) > n else "")


def _chapter_plan(article: Article) -> list[tuple[str, list[tuple[str, Block | str]]]]:
    """[(chapter title, [("heading", text) | ("block", Block)])] in page order."""
    chapters: list[tuple[str, list]] = [(article.title, [("title", article.title)])]
    has_headings = any(s.heading for s in article.sections)
    for section in article.sections:
        if section.heading:
            chapters.append((section.heading, [("heading", section.heading)]))
        for block in section.blocks:
            # Headless articles: a pull-quote opens a chapter, unless it is the first thing.
            if (not has_headings and isinstance(block, Quote)
                    and any(kind == "block" for kind, _ in chapters[-1][1])):
                chapters.append((_opening_words(block.text), []))
            chapters[-1][1].append(("block", block))
    return [c for c in chapters if c[1]]


def for_engine(script: Script, rules) -> Script:
    """The script with each utterance's speech fitted to the engine that will read it
    (`rules`: narrator.speech.engine_rules.EngineRules). What a reader sees stays the same."""
    if not rules:
        return script
    chapters = tuple(
        Chapter(chapter.title, tuple(dataclasses.replace(u, speech=rules.apply(u.speech,
                                                                               script.language))
                                     for u in chapter.utterances))
        for chapter in script.chapters)
    return dataclasses.replace(script, chapters=chapters)


def _default_normalizer(text: str, language: str, lexicon: Mapping[str, str] | None) -> str:
    from .speech import normalize
    return normalize(text, language, lexicon=lexicon)


def build_script(article: Article, *, lexicon: Mapping[str, str] | None = None,
                 normalize_speech: bool = True) -> Script:
    lang = profile(article.language)
    lexicon = {**dict(article.lexicon), **(lexicon or {})} or None

    def speech(text: str) -> str:
        if not normalize_speech:
            return text
        return _default_normalizer(text, lang.code, lexicon)

    chapters = []
    for title, items in _chapter_plan(article):
        utterances: list[Utterance] = []
        for kind, item in items:
            if kind in ("title", "heading"):
                text = clean(item)
                utterances.append(Utterance(text, speech(text), kind, lang.paragraph_pause_ms))
            elif isinstance(item, Quote):
                text = quote_sentence(item, lang)
                utterances.append(Utterance(text, speech(text), "quote",
                                            lang.paragraph_pause_ms, role="quote"))
            else:
                pieces: Iterable[str] = (item.items if isinstance(item, ListBlock)
                                         else [item.text])
                kind_name = "list_item" if isinstance(item, ListBlock) else "paragraph"
                for piece in pieces:
                    sentences = split_sentences(piece, lang)
                    for i, sentence in enumerate(sentences):
                        last = i == len(sentences) - 1
                        pause = lang.paragraph_pause_ms if last else lang.sentence_pause_ms
                        utterances.append(Utterance(sentence, speech(sentence), kind_name, pause))
        if utterances:
            last = utterances[-1]
            utterances[-1] = Utterance(last.text, last.speech, last.kind, lang.chapter_pause_ms,
                                       last.role)
            chapters.append(Chapter(title=clean(title), utterances=tuple(utterances)))
    if chapters:  # no silence after the very end
        final = chapters[-1].utterances[-1]
        chapters[-1] = Chapter(chapters[-1].title, chapters[-1].utterances[:-1] + (
            Utterance(final.text, final.speech, final.kind, 0, final.role),))
    return Script(title=clean(article.title), language=lang.code, chapters=tuple(chapters),
                  meta=article.meta)
