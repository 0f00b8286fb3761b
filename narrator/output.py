"""Where `narrate` writes, from what the user gave as `-o` (or nothing).

The rules, as the README states them:
- no `-o`: PAGE-NAME.mp3 in the current folder (the page's file name, or a URL's last path
  segment; `narration.mp3` for standard input);
- `-o -`: the MP3 goes to standard output (no sidecars), the report to standard error;
- `-o FOLDER/` (a trailing slash) or an existing folder: FOLDER/PAGE-NAME.mp3, the folder
  created if it does not exist;
- `-o NAME.mp3`: that file; its folder must exist;
- `-o NAME` without an extension, or with one that is not a media type: NAME.mp3;
- `-o NAME.wav` (or another audio, video or text extension): refused, narrator writes MP3.
"""
from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

from .errors import InputError

STDOUT = "-"
# Extensions that say the user expects another format: writing MP3 bytes there is a surprise.
_OTHER_FORMATS = {".wav", ".wave", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".m4b", ".aac",
                  ".mp4", ".m4v", ".webm", ".mkv", ".mov", ".avi", ".wma", ".aiff", ".aif",
                  ".amr", ".mp2", ".txt", ".json", ".vtt", ".srt", ".html", ".htm", ".xml"}


def output_in_folder(folder: Path, source: str) -> Path:
    """Where `narrate SOURCE -o FOLDER/` writes: the page's name with .mp3 ("page.html" ->
    "page.mp3", ".../2026/ma-ville-resiliente" -> "ma-ville-resiliente.mp3", stdin ->
    "narration.mp3")."""
    if source.startswith(("http://", "https://")):
        parsed = urllib.parse.urlsplit(source)
        segments = [s for s in parsed.path.split("/") if s]
        stem = Path(urllib.parse.unquote(segments[-1])).stem if segments else parsed.hostname or ""
    else:
        stem = "" if source == "-" else Path(source).stem
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-")[:100] or "narration"
    return Path(folder) / f"{stem}.mp3"


def resolve_output(output: str | None, source: str, *, create: bool = True) -> Path | None:
    """The MP3 path for `-o OUTPUT` (None: standard output). With `create`, a folder named
    with a trailing slash is made; call it only once the settings have been checked."""
    if output is None:
        return output_in_folder(Path("."), source)
    if output == STDOUT:
        return None
    path = Path(output).expanduser()
    if output.endswith(("/", os.sep)) or path.is_dir():
        if path.exists() and not path.is_dir():
            raise InputError(f"-o {output}: {path} exists and is not a folder")
        if create:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create the folder {path}: "
                                 f"{exc.strerror or exc}") from None
        return output_in_folder(path, source)
    suffix = path.suffix.lower()
    if suffix in _OTHER_FORMATS:
        raise InputError(f"-o {output}: narrator writes MP3 audio only; give a name ending "
                         f"in .mp3 (for example {path.with_suffix('.mp3')})")
    if suffix != ".mp3":
        path = path.with_name(path.name + ".mp3")
    if not path.parent.is_dir():
        raise InputError(f"output folder does not exist: {path.parent} (end -o with / to "
                         f"have narrator create a folder)")
    return path
