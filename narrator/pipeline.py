"""The whole line, stage after stage. The faces (CLI, batch, server) call only this module."""
from __future__ import annotations

import dataclasses
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .version import __version__
from .assemble import assemble
from .cache import open_cache
from .config import load_config
from .engines import create_engine
from .engines.auto import AUTO, choose_engine
from .engines.auto import _gtts_reason as gtts_reason
from .errors import EngineError, InputError
from .model import Article, Narration, Script
from .script import build_script, for_engine
from .speech.engine_rules import load_engine_rules
from .synthesize import EngineSpec, synthesize_stream

MAX_INPUT_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_S = 20
USER_AGENT = f"narrator/{__version__} (+https://github.com/narrator-tts/narrator)"


@dataclass(frozen=True)
class NarrateOptions:
    engine: str = "auto"  # narrator.engines.auto: configured or installed Piper, gTTS, espeak-ng
    voice: str | None = None
    language: str | None = None  # overrides the page's language
    bitrate_kbps: int = 64
    workers: int | None = None  # synthesis workers; None = one per core
    engine_options: dict = field(default_factory=dict)
    rules: tuple[Path, ...] = ()  # extra site rules files
    normalize_speech: bool = True
    use_cache: bool = True  # the synthesis cache of the config file / NARRATOR_CACHE_DIR


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class Source:
    html: bytes
    url: str | None = None
    content_type: str | None = None


def read_input(source: str, *, max_bytes: int = MAX_INPUT_BYTES) -> Source:
    """An HTML file path, an http(s) URL, or "-" for standard input."""
    if source == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        return Source(_capped(data, max_bytes, "standard input"))
    scheme = _SCHEME.match(source)
    if scheme and scheme[1].lower() not in ("http", "https"):
        raise InputError(f"the {scheme[1]}:// scheme is not supported: give an http(s) URL, "
                         f"a file, or - for standard input")
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:
                data = response.read(max_bytes + 1)
                return Source(_capped(data, max_bytes, source), response.geturl(),
                              response.headers.get("Content-Type"))
        except urllib.error.HTTPError as exc:
            raise InputError(f"cannot fetch {source}: HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(f"cannot fetch {source}: {reason}") from None
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{source} is a folder: give one article page (for a whole archive, "
                         f"use `narrator batch {source} -o OUTDIR`)")
    if not path.is_file():
        raise InputError(f"no such file: {source}")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}") from None
    return Source(_capped(data, max_bytes, source))


def _capped(data: bytes, max_bytes: int, name: str) -> bytes:
    if len(data) > max_bytes:
        raise InputError(f"{name} is larger than {max_bytes // (1024 * 1024)} MB")
    return data


def check_options(options: NarrateOptions) -> None:
    """Refuse, before any work and before anything is written, what would fail every
    article: a bitrate MP3 cannot use, an unknown engine or one that cannot run here, a voice
    it does not have, a language that it (or, for `auto`, every engine here) cannot read."""
    from .assemble import check_bitrate

    check_bitrate(options.bitrate_kbps)
    config = load_config()
    language = options.language.lower() if options.language else None
    if options.engine == AUTO and (language is None or options.voice is None):
        if language:
            choose_engine(language, config)  # raises when nothing here reads the language
        return  # without a language, the engine is chosen per article
    name, voice, _choice = (choose_voice(options, language, config) if language
                            else (options.engine, options.voice, ""))
    engine = create_engine(name, **{**config.engine_options(name), **options.engine_options})
    try:
        reason = _unavailable(engine)
        if reason:
            raise EngineError(f"engine {name!r} is unavailable: {reason}")
        if voice or language:
            engine.resolve_voice(language or "", voice)
    finally:
        engine.close()


def choose_voice(options: NarrateOptions, language: str, config) -> tuple[str, str | None, str]:
    """(engine name, voice or None for the engine's default, why auto chose it) for an
    article in `language`: auto's choice, else the engine asked for with the voice asked for,
    else the language's configured voice when it belongs to that engine."""
    name, voice, choice = options.engine, options.voice, ""
    if name == AUTO:
        name, chosen_voice, choice = choose_engine(language, config)
        voice = voice or chosen_voice
    elif voice is None and config.language(language).engine == name:
        voice = config.language(language).voice
    return name, voice, choice


def _unavailable(engine) -> str | None:
    """Why `engine` cannot run here, or None. A network engine's probe is a real request:
    its answer is remembered for a while (engine auto's memo), so that checking the options
    up front and then narrating, or narrating many articles, asks once."""
    if engine.name == "gtts":
        return gtts_reason(engine.options, probe=engine.unavailable_reason)
    return engine.unavailable_reason()


def extract(html: bytes, *, url: str | None = None, content_type: str | None = None,
            options: NarrateOptions = NarrateOptions()) -> Article:
    from .extract import extract_article
    from .extract.userconfig import config_rules
    # The config file's site rules first, so that rules given for this run override them.
    article = extract_article(html, url=url, content_type=content_type,
                              rules=config_rules() + tuple(options.rules))
    if options.language:
        article = dataclasses.replace(article, language=options.language.lower())
    return article


def script_for(article: Article, options: NarrateOptions = NarrateOptions(),
               lexicon: dict | None = None) -> Script:
    return build_script(article, lexicon=lexicon, normalize_speech=options.normalize_speech)


def narrate_article(article: Article, out_mp3: Path, *, options: NarrateOptions = NarrateOptions(),
                    progress: Callable[[int, int], None] | None = None,
                    lexicon: dict | None = None) -> Narration:
    out_mp3 = Path(out_mp3)
    if out_mp3.is_dir():
        raise InputError(f"the output {out_mp3} is a folder: give the MP3's file name")
    if not out_mp3.parent.is_dir():
        raise InputError(f"output folder does not exist: {out_mp3.parent}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    script = script_for(article, options, lexicon)
    if not any(True for _ in script.utterances()):
        raise InputError("the article has nothing to say")
    timings["script"] = time.perf_counter() - started

    # Engine and voice are chosen once, before the first utterance, and hold for the whole
    # article: a failure later is an error, never a switch to another voice.
    config = load_config()
    name, voice, choice = choose_voice(options, script.language, config)
    engine_options = {**config.engine_options(name), **options.engine_options}
    engine = create_engine(name, **engine_options)
    reason = _unavailable(engine)
    if reason:
        raise EngineError(f"engine {name!r} is unavailable: {reason}")
    voice = engine.resolve_voice(script.language, voice)
    # What this engine reads wrongly is fixed in what it is given, not in what is shown.
    script = for_engine(script, load_engine_rules(getattr(engine, "speech_rules", None)))
    utterances = list(script.utterances())
    texts = [u.speech for u in utterances]
    # The config's second voice for quotes, when it belongs to the engine that reads.
    quote_voice = None
    configured = config.language(script.language)
    if configured.quote_voice and configured.engine == name:
        quote_voice = engine.resolve_voice(script.language, configured.quote_voice)
    elif configured.quote_voice and configured.engine in (None, AUTO):
        try:  # auto may have chosen an engine the quote voice is not for: then no quote voice
            quote_voice = engine.resolve_voice(script.language, configured.quote_voice)
        except EngineError:
            if choice:
                choice += f"; quote voice {configured.quote_voice} is not a {name} voice"
    if quote_voice and choice:
        choice += f"; quotes: {quote_voice}"
    voices = [quote_voice if quote_voice and u.role == "quote" else voice for u in utterances]
    # One cache object per narration, so its hit/miss counters are this narration's.
    cache = open_cache(config) if options.use_cache else None
    audio = synthesize_stream(texts, engine=engine, spec=EngineSpec(name, engine_options),
                              language=script.language, voice=voice, workers=options.workers,
                              progress=progress, cache=cache, voices=voices)
    try:
        narration = assemble(script, audio, out_mp3, engine=engine.name, voice=voice,
                             bitrate_kbps=options.bitrate_kbps, timings=timings,
                             background_encoding=options.workers != 1)
    finally:
        # Stop the synthesis workers now, whatever happened: left to the garbage collector,
        # a generator the error's traceback still holds is closed at interpreter exit, when
        # its pool's pipes may already be gone (a traceback after the one error line).
        audio.close()
        engine.close()
        if cache is not None:
            cache.close()
    return dataclasses.replace(narration, engine_choice=choice,
                               cache=cache.stats() if cache is not None else {})


def narrate(html: bytes, out_mp3: Path, *, url: str | None = None,
            content_type: str | None = None, options: NarrateOptions = NarrateOptions(),
            progress: Callable[[int, int], None] | None = None) -> Narration:
    """HTML bytes -> OUT.mp3 + OUT.chapters.json + OUT.chapters.vtt + OUT.transcript.vtt."""
    started = time.perf_counter()
    article = extract(html, url=url, content_type=content_type, options=options)
    extract_seconds = time.perf_counter() - started
    narration = narrate_article(article, out_mp3, options=options, progress=progress)
    narration.stage_seconds["extract"] = extract_seconds
    return narration
