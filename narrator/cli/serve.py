"""`narrator serve` (the narration service and web player) and `narrator embed` (a
self-contained player snippet for one MP3, no server needed)."""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import socket
import sys
import tomllib
from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError

TOKEN_ENV = "NARRATOR_API_TOKEN"
# ISO 639-2 (the ID3 TLAN frame) -> the BCP 47 primary subtag the player uses.
_TLAN = {"fre": "fr", "fra": "fr", "eng": "en", "ger": "de", "deu": "de", "spa": "es",
         "ita": "it", "por": "pt", "dut": "nl", "nld": "nl"}


def _server_config() -> dict:
    """The optional [server] table of the config file: fetch_allow, cors_origins, workers,
    public_url, [server.pages] (limits of /v1/pages) and [[server.sites]]."""
    from ..config import user_config_path

    path = user_config_path()
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("server", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read config file {path}: {exc}") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: [server] must be a table")
    return table


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    data: Path = typer.Option(..., "--data", help="Folder for the job database and the audio."),
    engine: str = typer.Option("auto", "--engine", "-e", help="Speech engine for jobs (auto: "
                               "chosen per article's language, as narrate does)."),
    no_auth: bool = typer.Option(False, "--no-auth", help=f"Accept writes without the "
                                 f"{TOKEN_ENV} bearer token (local use only)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                          help="Jobs narrated at once (default 1, or config)."),
    allow_net: list[str] = typer.Option([], "--allow-net", help="Network (CIDR) that URL "
                                        "fetching may reach although it is not public; "
                                        "repeatable. Adds to [server] fetch_allow."),
    cors_origin: list[str] = typer.Option([], "--cors-origin", help="Origin allowed to call "
                                          "the API from a browser; repeatable ('*' for any)."),
    job_timeout: float = typer.Option(900.0, "--job-timeout", min=0.0, metavar="SECONDS",
                                      help="Time one narration may take before its job fails "
                                      "(0: no limit)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No access log and no line per "
                               "job (warnings and errors still print)."),
    site: list[str] = typer.Option([], "--site", metavar="ORIGIN", help="A site whose pages "
                                   "readers' players may have narrated (GET /v1/pages), e.g. "
                                   "https://www.example.org; repeatable. More settings: "
                                   "[[server.sites]] in the config file."),
    public_url: Optional[str] = typer.Option(None, "--public-url", help="This server's public "
                                             "address, for the links in site feeds (default: "
                                             "the address each request came to)."),
) -> None:
    """Run the narration service: HTTP API, job queue, audio and the web player."""
    import uvicorn

    from ..pipeline import NarrateOptions, check_options
    from ..server import create_app
    from ..server.fetch import Fetcher, parse_networks
    from ..server.pages import PageLimits
    from ..server.sites import Sites

    token = os.environ.get(TOKEN_ENV) or None
    if token is None and not no_auth:
        raise InputError(f"set {TOKEN_ENV} to the API token, or pass --no-auth explicitly")
    if no_auth:
        token = None
    check_options(NarrateOptions(engine=engine))  # an unknown engine fails now, not in a job
    if data.exists() and not data.is_dir():
        raise InputError(f"--data must be a folder: {data}")
    config = _server_config()
    nets = parse_networks([*config.get("fetch_allow", []), *allow_net])
    origins = [*config.get("cors_origins", []), *cor_list(cors_origin)]
    sites = Sites.load(site, config.get("sites", []), where="[[server.sites]]")
    _check_sites(sites, engine)
    pages_table = config.get("pages", {})
    if not isinstance(pages_table, dict):
        raise InputError("[server.pages] must be a table")
    public_url = public_url or config.get("public_url")
    _setup_logging(quiet)
    sock = listen(host, port)  # a port in use is one error line, before anything starts
    jobs_at_once = workers or int(config.get("workers", 1))
    try:
        app = create_app(data, token, engine, workers=jobs_at_once,
                         fetcher=Fetcher(allow_networks=nets), cors_origins=origins,
                         job_timeout=job_timeout or None, access_log=not quiet,
                         sites=sites, page_limits=PageLimits.from_table(pages_table),
                         public_url=public_url)
    except BaseException:
        sock.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    sys.stderr.write(f"narrator: listening on http://{shown}:{bound_port}, data "
                     f"{data.resolve()}, engine {engine}, {jobs_at_once} worker"
                     f"{'s' if jobs_at_once != 1 else ''}"
                     + (f", sites {' '.join(s.origin for s in sites)}" if sites else "") + "\n")
    sys.stderr.flush()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           proxy_headers=False, server_header=False))
    server.run(sockets=[sock])


def _check_sites(sites, engine: str) -> None:
    """Each site's engine and voice, now rather than in its first narration."""
    from ..errors import EngineError
    from ..pipeline import NarrateOptions, check_options
    from ..server.voicecheck import check_voice

    for site in sites:
        name = site.engine or engine
        check_options(NarrateOptions(engine=name))
        if site.voice:
            try:
                check_voice(name, site.voice, None)
            except EngineError as exc:
                raise InputError(f"site {site.origin}: {exc}") from None


def _setup_logging(quiet: bool) -> None:
    """Job lines as `TIME message`; the access log as its own format says, on stdout."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    server_log = logging.getLogger("narrator.server")
    server_log.addHandler(handler)
    server_log.setLevel(logging.WARNING if quiet else logging.INFO)
    server_log.propagate = False
    access = logging.getLogger("narrator.access")
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(out)
    access.setLevel(logging.WARNING if quiet else logging.INFO)
    access.propagate = False


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, or one clear InputError (port in use, no such address,
    a privileged port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on --host {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"port {port} on {host} is already in use (another server?); "
                             f"choose another --port") from None
        if exc.errno == errno.EACCES:
            raise InputError(f"no permission to listen on port {port} of {host} (ports under "
                             f"1024 need privileges)") from None
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def cor_list(values: list[str]) -> list[str]:
    return [v.rstrip("/") for v in values if v]


def _id3_title_language(mp3: Path) -> tuple[str | None, str | None]:
    try:
        from mutagen.id3 import ID3, ID3NoHeaderError
        try:
            tags = ID3(str(mp3))
        except ID3NoHeaderError:
            return None, None
    except Exception:  # unreadable tags: the sidecars still give the title
        return None, None
    title = str(tags["TIT2"].text[0]) if "TIT2" in tags else None
    lang = str(tags["TLAN"].text[0]).lower() if "TLAN" in tags else None
    return title, _TLAN.get(lang, lang if lang and len(lang) == 2 else None)


def embed_command(
    mp3: Path = typer.Argument(..., metavar="OUT.mp3", help="A narration written by `narrator "
                               "narrate` (its .chapters.json and .transcript.vtt beside it)."),
    output: Path = typer.Option(..., "-o", "--output", help="The HTML snippet to write."),
    audio_url: Optional[str] = typer.Option(None, "--audio-url", help="URL of the MP3 as the "
                                            "page will see it (default: the snippet's "
                                            "relative path to it)."),
    inline_audio: bool = typer.Option(False, "--inline-audio", help="Put the MP3 inside the "
                                      "snippet as a data: URI (large; no other file needed)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="Player language (default: the "
                                       "MP3's, else the page's)."),
) -> None:
    """Write a self-contained player snippet (player + chapters + transcript) for one MP3."""
    from ..server import embed

    if mp3.is_dir():
        raise InputError(f"{mp3} is a folder: give the MP3 that `narrator narrate` wrote")
    if not mp3.is_file():
        raise InputError(f"no such file: {mp3}")
    stem = mp3.with_suffix("")
    chapters_path = stem.with_name(stem.name + ".chapters.json")
    transcript_path = stem.with_name(stem.name + ".transcript.vtt")
    for side in (chapters_path, transcript_path):
        if not side.is_file():
            raise InputError(f"{side} is missing: embed needs the sidecars `narrator narrate` "
                             f"writes beside the MP3")
    try:
        chapters = json.loads(chapters_path.read_text(encoding="utf-8"))
        transcript = transcript_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read the sidecars of {mp3}: {exc}") from None
    if not isinstance(chapters, dict) or not transcript.startswith("WEBVTT"):
        raise InputError(f"the sidecars of {mp3} are not narrator chapters / WebVTT files")
    tag_title, tag_lang = _id3_title_language(mp3)
    title = str(chapters.get("title") or tag_title or mp3.stem)
    if inline_audio:
        src = embed.data_uri(mp3)
    elif audio_url:
        src = audio_url
    else:
        src = os.path.relpath(mp3.resolve(), output.resolve().parent).replace(os.sep, "/")
    key = hashlib.sha256(mp3.read_bytes()).hexdigest()[:32]
    text = embed.snippet(audio_src=src, chapters=chapters, transcript=transcript, title=title,
                         language=(lang or tag_lang), key=key)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    typer.echo(f"{output}  ({len(text.encode()) // 1024} KB; audio: "
               f"{'inline' if inline_audio else src})")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.command("embed")(embed_command)

