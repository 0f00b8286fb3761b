"""The player's HTML: the iframe-able embed page of `narrator serve`, and the self-contained
snippet of `narrator embed`. Article-derived strings go through `html.escape` in HTML and
through `script_json` (no "<", ">" or "&" left) inside a <script> element."""
from __future__ import annotations

import base64
import html
import json
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

STATIC = Path(__file__).parent / "static"

# The embed page loads only its own script and style, and the audio and sidecars from here.
EMBED_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
             "frame-ancestors {ancestors}")


def script_json(value) -> str:
    """JSON that is safe inside <script>: it can neither close the element nor open a comment."""
    return (json.dumps(value, ensure_ascii=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@lru_cache(maxsize=1)
def player_strings() -> dict:
    text = resources.files("narrator").joinpath("data/player.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def player_js() -> str:
    source = (STATIC / "player.js").read_text(encoding="utf-8")
    marker = '/*@STRINGS@*/{"en": {"listen": "Listen to this article"}}'
    assert marker in source, "player.js lost its strings marker"
    assert "</script" not in source.lower(), "player.js must stay inlinable"
    return source.replace(marker, script_json(player_strings()))


@lru_cache(maxsize=1)
def player_css() -> str:
    return (STATIC / "player.css").read_text(encoding="utf-8")


def _attr(value) -> str:
    return html.escape(str(value), quote=True)


def embed_page(id: str, *, title: str, language: str, static_prefix: str = "/static/") -> str:
    lang = _attr(language or "en")
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{html.escape(title or "")}</title>
<link rel="stylesheet" href="{_attr(static_prefix)}player.css">
</head>
<body class="nr-embed">
<div data-narrator="{_attr(id)}" data-lang="{lang}" data-title="{_attr(title or "")}"></div>
<script src="{_attr(static_prefix)}player.js"></script>
</body>
</html>
"""


def iframe_snippet(server: str, id: str, title: str = "", height: int = 400) -> str:
    """The <iframe> for a publisher's page, with the listener that lets the player set the
    frame's height (README, "Server and player")."""
    src = f"{server.rstrip('/')}/embed/{id}"
    return (f'<iframe src="{_attr(src)}" title="{_attr(title or "Audio")}" loading="lazy" '
            f'style="width:100%;height:{int(height)}px;border:0"></iframe>\n'
            + resize_listener(server))


def resize_listener(server: str) -> str:
    """A script for the parent page: each narrator iframe takes the height its player asks
    for. Messages are taken only from the narrator server's origin."""
    origin = script_json(server.rstrip("/"))
    return ("<script>addEventListener(\"message\", function (e) {\n"
            f"  if (e.origin !== {origin} || !e.data || e.data.type !== \"narrator:resize\")"
            " return;\n"
            "  document.querySelectorAll(\"iframe\").forEach(function (f) {\n"
            "    if (f.contentWindow === e.source) f.style.height = e.data.height + \"px\";\n"
            "  });\n"
            "});</script>\n")


def failed_page(reason: str) -> str:
    """The embed page of a narration that failed: says so, and why, once (no refresh)."""
    return ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>narrator</title>"
            "<p>This narration failed: " + html.escape(reason or "no reason given") + "</p>"
            "</html>\n")


def snippet(*, audio_src: str, chapters: dict, transcript: str, title: str, language: str | None,
            key: str) -> str:
    """A block to paste into an article page: it needs nothing but the audio it points to."""
    data = {"chapters": chapters, "transcript": transcript, "title": title}
    if language:
        data["language"] = language
    lang_attr = f' data-lang="{_attr(language)}"' if language else ""
    return (f'<!-- narrator player: "{html.escape(title or "")}" -->\n'
            f'<style>{player_css()}</style>\n'
            f'<div data-narrator="{_attr(audio_src)}"{lang_attr} data-title="{_attr(title)}"'
            f' data-key="{_attr(key)}">\n'
            f'<script type="application/json">{script_json(data)}</script>\n</div>\n'
            f'<script>{player_js()}</script>\n')


def data_uri(path: Path, media_type: str = "audio/mpeg") -> str:
    return f"data:{media_type};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
