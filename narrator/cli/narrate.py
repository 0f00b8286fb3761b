"""`narrator narrate`: one article page -> a chaptered MP3 and its sidecar files."""
from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import InputError
from ..output import output_in_folder
from .options import BITRATE_HELP, check_rules_files


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def narrate_command(
    input: str = typer.Argument(..., metavar="INPUT",
                                help="An article page: HTML file, http(s) URL, or - for stdin."),
    output: Optional[str] = typer.Option(
        None, "-o", "--output", metavar="PATH",
        help="The MP3 to write (.mp3 is added to a name without it; another extension such "
        "as .wav is refused); sidecars go beside it (NAME.chapters.json, NAME.chapters.vtt, "
        "NAME.transcript.vtt). A folder (an existing one, or a name ending in /, created) "
        "gets PAGE-NAME.mp3. - writes the MP3 to standard output (no sidecars; the report "
        "goes to stderr). Default: PAGE-NAME.mp3 in the current folder."),
    engine: str = typer.Option("auto", "--engine", "-e", metavar="NAME",
                               help="Speech engine (see `narrator voices`); auto: the "
                               "language's configured or installed Piper voice, else gTTS if "
                               "it answers, else Pico (fr, en, de, es, it), else espeak-ng."),
    voice: Optional[str] = typer.Option(None, "--voice", metavar="VOICE",
                                        help="Voice of the engine; default: the engine's "
                                        "voice for the language."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", metavar="CODE",
                                       help="Language, overriding the page's (fr, en, ...)."),
    bitrate: int = typer.Option(64, "--bitrate", metavar="KBPS", help=BITRATE_HELP),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", min=1, metavar="N",
                                          help="Synthesis workers (default: one per core)."),
    url: Optional[str] = typer.Option(None, "--url", metavar="URL",
                                      help="The page's URL, when INPUT is a file or stdin "
                                      "(recorded in the tags)."),
    rules: list[Path] = typer.Option([], "--rules", metavar="FILE",
                                     help="Extra site rules file (TOML); repeatable."),
    timings: bool = typer.Option(False, "--timings", help="Print the seconds spent in each "
                                 "stage on stderr."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse and keep synthesized "
                               "utterances in the synthesis cache (NARRATOR_CACHE_DIR)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (for "
                               "scripts): no progress bar, no report."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print the whole reason for "
                                 "engine auto's choice (every engine it passed over, and why)."),
) -> None:
    """Narrate one article: extract, script, synthesize, and write a chaptered MP3."""
    # Imported here: the pipeline pulls in numpy and the engines, which `narrator extract`
    # and `--help` do not need.
    from ..output import resolve_output
    from ..pipeline import NarrateOptions, check_options, narrate, read_input

    options = NarrateOptions(engine=engine, voice=voice, language=lang, bitrate_kbps=bitrate,
                             workers=workers, rules=tuple(rules), use_cache=cache)
    to_stdout = output == "-"
    if to_stdout and sys.stdout.isatty():
        raise InputError("-o - writes MP3 audio to standard output, which is a terminal here: "
                         "redirect it (-o - > file.mp3, or | a player)")
    check_rules_files(rules)
    check_options(options)  # before reading the page and before creating anything
    source = read_input(input)
    out_mp3 = resolve_output(output, input)
    report = Console(stderr=True, highlight=False, soft_wrap=True) if to_stdout else \
        Console(highlight=False, soft_wrap=True)
    with tempfile.TemporaryDirectory(prefix="narrator-") if to_stdout else \
            contextlib.nullcontext() as scratch:
        target = Path(scratch) / output_in_folder(Path("."), input).name if to_stdout else out_mp3
        narration = _narrate_with_progress(narrate, source, target, url, options, quiet)
        if to_stdout:
            _copy_to_stdout(Path(narration.mp3_path))
    if not quiet:
        _report(report, narration, verbose=verbose, to_stdout=to_stdout)
    if timings:
        stages = ", ".join(f"{name} {seconds:.3f}"
                           for name, seconds in narration.stage_seconds.items())
        sys.stderr.write(f"timings (s): {stages}; audio {narration.timeline.duration:.3f}\n")


def _narrate_with_progress(narrate, source, target: Path, url, options, quiet: bool):
    kwargs = dict(url=url or source.url, content_type=source.content_type, options=options)
    if quiet or not sys.stderr.isatty():
        return narrate(source.html, target, **kwargs)
    err = Console(stderr=True)
    with Progress(TextColumn("synthesizing"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task("synthesize", total=None)
        return narrate(source.html, target, progress=lambda done, total: bar.update(
            task, completed=done, total=total), **kwargs)


def _copy_to_stdout(mp3: Path) -> None:
    out = sys.stdout.buffer
    with mp3.open("rb") as handle:
        shutil.copyfileobj(handle, out, 1 << 20)
    out.flush()


def _one_line(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(10, width - 1)].rstrip() + "…"


def _report(out: Console, narration, *, verbose: bool, to_stdout: bool) -> None:
    name = "(standard output)" if to_stdout else narration.mp3_path
    out.print(f"{name}  ({_clock(narration.timeline.duration)}, "
              f"{narration.engine} voice {narration.voice}, "
              f"{narration.loudness_lufs:.1f} LUFS)", markup=False)
    if narration.engine_choice:
        why = narration.engine_choice
        line = f"engine auto: {narration.engine} voice {narration.voice} ({why})"
        if not verbose:  # the gist on one line; every engine passed over, with -v
            gist = why.split(" (", 1)[0]
            more = "; -v: why" if gist != why else ""
            line = _one_line(f"engine auto: {narration.engine} voice {narration.voice} "
                             f"({gist}{more})", shutil.get_terminal_size().columns)
        out.print(line, markup=False)
    if narration.cache:
        out.print(f"cache: {narration.cache['hits']} hits, {narration.cache['misses']} misses "
                  f"(utterances synthesized: {narration.cache['misses']})", markup=False)
    for i, chapter in enumerate(narration.timeline.chapters, 1):
        out.print(f"  {i:>2}. {_clock(chapter.start)}  {chapter.title}", markup=False)
    where = ("" if to_stdout else f"; chapters also in {narration.chapters_json_path} and "
             f"{narration.chapters_vtt_path}")
    out.print(f"total {_clock(narration.timeline.duration)}{where}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("narrate")(narrate_command)
