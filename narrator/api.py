"""narrator's public Python API, also importable from the package itself:

    from narrator import narrate, extract_article, extract_text, list_voices

A page is given as HTML (`bytes`, or a `str` that holds markup), as a path to an HTML file
(`pathlib.Path`, or a `str` without markup), or as an http(s) URL (`str`). Errors a caller
can act on are `narrator.NarratorError`s with a one-line message, as on the command line.
Heavy modules (numpy, the engines, the extractor) load on first use, not on import.
"""
from __future__ import annotations

import os
from typing import Callable, Union

from .errors import InputError
from .model import Article, Narration

Page = Union[bytes, str, "os.PathLike[str]"]


def _read(page: Page, url: str | None) -> tuple[bytes, str | None, str | None, str]:
    """(HTML bytes, URL, content type, name for the output file) of a page."""
    from .pipeline import read_input

    if isinstance(page, (bytes, bytearray, memoryview)):
        return bytes(page), url, None, "-"
    if isinstance(page, os.PathLike):
        page = os.fspath(page)
        source = read_input(page if page != "-" else "./-")
        return source.html, url, None, page
    if not isinstance(page, str):
        raise InputError(f"a page is HTML (bytes or str), a path or a URL, not "
                         f"{type(page).__name__}")
    if "<" in page:  # markup, not a name
        return page.encode("utf-8"), url, "text/html; charset=utf-8", "-"
    source = read_input(page)
    return source.html, url or source.url, source.content_type, page


def narrate(page: Page, output: str | os.PathLike[str] | None = None, *,
            engine: str = "auto", voice: str | None = None, language: str | None = None,
            bitrate: int = 64, workers: int | None = None, url: str | None = None,
            cache: bool = True,
            progress: Callable[[int, int], None] | None = None) -> Narration:
    """Narrate one article page into a chaptered MP3, with its sidecars beside it
    (NAME.chapters.json, NAME.chapters.vtt, NAME.transcript.vtt).

    `output` follows the command line's `-o`: an MP3 path (`.mp3` added when it has no
    extension), a folder (existing, or a name ending in "/") that gets PAGE-NAME.mp3, or None
    for PAGE-NAME.mp3 in the current folder. `engine`, `voice`, `language` (overriding the
    page's), `bitrate` (kbit/s), `workers` and `cache` are `narrator narrate`'s options;
    `url` is the page's address when it is given as HTML or a file (it goes in the tags).
    `progress(done, total)` is called as utterances are synthesized.

    Returns a `Narration`: `mp3_path`, the sidecars' paths, `timeline` (`duration` in
    seconds, `chapters` and `utterances` as spans with `start`, `end` and `title`), `engine`,
    `voice` and `loudness_lufs`. Same page, settings and engine: byte-identical files.
    """
    from .output import resolve_output
    from .pipeline import NarrateOptions, check_options
    from .pipeline import narrate as run

    options = NarrateOptions(engine=engine, voice=voice, language=language,
                             bitrate_kbps=bitrate, workers=workers, use_cache=cache)
    check_options(options)
    html, page_url, content_type, name = _read(page, url)
    target = os.fspath(output) if output is not None else None
    if target == "-":
        raise InputError("narrate() writes a file: give a path (the command line's `-o -` "
                         "streams to standard output)")
    out_mp3 = resolve_output(target, name)
    return run(html, out_mp3, url=page_url, content_type=content_type, options=options,
               progress=progress)


def extract_article(page: Page, *, url: str | None = None) -> Article:
    """The article of a page, as narrator will speak it: `title`, `language`, `sections`
    (each with its `heading` and `blocks`: paragraphs, quotes with attribution, lists) and
    `meta` (authors, site name, dates, canonical URL...)."""
    from .extract import extract_article as run

    html, page_url, content_type, _name = _read(page, url)
    return run(html, url=page_url, content_type=content_type)


def extract_text(page: Page, *, url: str | None = None, body_only: bool = False) -> str:
    """What will be spoken, before speech normalisation: the title, then one block per
    heading, paragraph, list or quote, separated by blank lines (`narrator extract`'s text).
    With `body_only`, without the title line."""
    from .extract import body_only as without_title
    from .render import render_text

    article = extract_article(page, url=url)
    return render_text(without_title(article) if body_only else article)


def list_voices(language: str | None = None) -> dict[str, list]:
    """The voices each engine that can run here offers (engine name -> list of `VoiceInfo`:
    `id`, `languages`, `description`), only those for `language` when given. An engine that
    cannot run here (not installed, no voice file, endpoint unreachable) is left out;
    `narrator voices` says why."""
    from .config import load_config
    from .engines import engine_names
    from .engines.catalog import engine_report

    config = load_config()
    wanted = language.lower() if language else None
    found: dict[str, list] = {}
    for name in engine_names():
        reason, voices = engine_report(name, config, wanted)
        if voices and not reason:
            found[name] = voices
    return found


__all__ = ["narrate", "extract_article", "extract_text", "list_voices", "Page"]
