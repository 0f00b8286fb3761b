"""narrator's config file and its folders.

The config file is TOML, read from `NARRATOR_CONFIG` or else `~/.config/narrator/config.toml`
(`$XDG_CONFIG_HOME/narrator/config.toml`). Every key is optional:

    engine = "auto"                      # default engine when the command line names none

    [languages.en]                       # per language (BCP 47 primary subtag)
    engine = "piper"
    voice = "en_US-joe-medium"           # a name in the voices folder, or a path to a .onnx
    quote_voice = "en_US-lessac-medium"  # optional second voice for quotes

    [engines.gtts]                       # options handed to the engine as it is created
    url = "https://translate.google.com"
    rate = 5

    [cache]
    dir = "~/.cache/narrator"
    max_size = "2 GB"                    # or a number of bytes
    enabled = true

    [feed]                               # a batch's podcast feed (OUTDIR/feed.xml)
    title = "Our articles, read aloud"
    author = "Example Newsroom"
    language = "fr"

    [voices]
    dir = "~/.local/share/narrator/voices"
    url = "https://huggingface.co/rhasspy/piper-voices/resolve/main"  # `voices install` source

Environment variables win over the file: NARRATOR_CACHE_DIR, NARRATOR_VOICES_DIR,
NARRATOR_PIPER_VOICES_URL.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NarratorError


class ConfigError(NarratorError):
    """The config file cannot be read or holds a bad value."""

    exit_code = 2


DEFAULT_CACHE_BYTES = 2 * 1024**3
DEFAULT_PIPER_VOICES_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/main"

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
          "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def user_config_path() -> Path:
    env = os.environ.get("NARRATOR_CONFIG")
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_CONFIG_HOME", ".config") / "narrator" / "config.toml"


def default_voices_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "narrator" / "voices"


def default_cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "narrator"


def parse_size(value) -> int:
    """`2 GB`, `500MiB`, `1e9` or an int -> bytes."""
    if isinstance(value, bool):
        raise ConfigError(f"bad size {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise ConfigError(f"bad size {value!r} (write e.g. \"500 MB\" or \"2 GiB\")")
    unit = (match.group(2) or "").lower().rstrip("b")
    return int(float(match.group(1)) * _UNITS[unit])


@dataclass(frozen=True)
class LanguageConfig:
    engine: str | None = None
    voice: str | None = None
    quote_voice: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # the file read, None when there was none
    engine: str | None = None
    languages: dict = field(default_factory=dict)  # lang -> LanguageConfig
    engines: dict = field(default_factory=dict)  # engine name -> options dict
    cache_dir: Path = field(default_factory=default_cache_dir)
    cache_max_bytes: int = DEFAULT_CACHE_BYTES
    cache_enabled: bool = True
    voices_dir: Path = field(default_factory=default_voices_dir)
    piper_voices_url: str = DEFAULT_PIPER_VOICES_URL
    feed: dict = field(default_factory=dict)  # title, author, language of a batch's feed

    def language(self, language: str) -> LanguageConfig:
        return self.languages.get(language, LanguageConfig())

    def engine_options(self, name: str) -> dict:
        return dict(self.engines.get(name, {}))


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    return value


def _str(value, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"{where} must be a string, not {value!r}")


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the config file (a missing default file is an empty config; a missing file that
    was named explicitly is an error), then apply the environment variables."""
    explicit = path is not None or bool(os.environ.get("NARRATOR_CONFIG"))
    path = Path(path).expanduser() if path is not None else user_config_path()
    data: dict = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    else:
        path = None
    where = str(path)

    languages = {}
    for lang, table in _table(data, "languages", where).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [languages.{lang}] must be a table")
        unknown = set(table) - {"engine", "voice", "quote_voice"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) in [languages.{lang}]: "
                              f"{', '.join(sorted(unknown))}")
        languages[lang.lower()] = LanguageConfig(
            engine=_str(table.get("engine"), f"languages.{lang}.engine"),
            voice=_str(table.get("voice"), f"languages.{lang}.voice"),
            quote_voice=_str(table.get("quote_voice"), f"languages.{lang}.quote_voice"))

    engines = {}
    for name, table in _table(data, "engines", where).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [engines.{name}] must be a table")
        engines[name] = dict(table)

    cache = _table(data, "cache", where)
    voices = _table(data, "voices", where)
    feed = _table(data, "feed", where)
    unknown = set(feed) - {"title", "author", "language"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in [feed]: {', '.join(sorted(unknown))}")
    feed = {k: _str(v, f"feed.{k}") for k, v in feed.items() if v}
    cache_dir = (os.environ.get("NARRATOR_CACHE_DIR") or _str(cache.get("dir"), "cache.dir"))
    voices_dir = (os.environ.get("NARRATOR_VOICES_DIR") or _str(voices.get("dir"), "voices.dir"))
    max_size = cache.get("max_size", cache.get("max_bytes", DEFAULT_CACHE_BYTES))
    enabled = cache.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: cache.enabled must be true or false")

    return Config(
        path=path,
        engine=_str(data.get("engine"), "engine"),
        languages=languages,
        engines=engines,
        cache_dir=Path(cache_dir).expanduser() if cache_dir else default_cache_dir(),
        cache_max_bytes=parse_size(max_size),
        cache_enabled=enabled,
        voices_dir=Path(voices_dir).expanduser() if voices_dir else default_voices_dir(),
        piper_voices_url=(os.environ.get("NARRATOR_PIPER_VOICES_URL")
                          or _str(voices.get("url"), "voices.url") or DEFAULT_PIPER_VOICES_URL),
        feed=feed,
    )


def voices_dir() -> Path:
    """The voices folder now in force (env, then config file, then the default)."""
    env = os.environ.get("NARRATOR_VOICES_DIR")
    if env:
        return Path(env).expanduser()
    try:
        return load_config().voices_dir
    except ConfigError:
        return default_voices_dir()
