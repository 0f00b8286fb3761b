"""`narrator narrate`: one article page -> a chaptered MP3 and its sidecar files."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn



def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def narrate_command(
    input: str = typer.Argument(..., metavar="INPUT",
                                help="An article page: HTML file, http(s) URL, or - for stdin."),
    output: Path = typer.Option(..., "-o", "--output", help="The MP3 to write (sidecars go "
                                "beside it: OUT.chapters.json, OUT.chapters.vtt, "
                                "OUT.transcript.vtt), or an existing folder to write "
                                "PAGE-NAME.mp3 in."),
    engine: str = typer.Option("auto", "--engine", "-e", help="Speech engine (see "
                               "`narrator voices`); auto: the language's configured or "
                               "installed Piper voice, else gTTS if it answers, else Pico "
                               "(fr, en, de, es, it), else espeak-ng."),
    voice: Optional[str] = typer.Option(None, "--voice", "-v", help="Voice of the engine; "
                                        "default: the engine's voice for the language."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Language, overriding the "
                                       "page's (fr, en, ...)."),
    bitrate: int = typer.Option(64, "--bitrate", min=8, max=320, help="MP3 bitrate, kbit/s."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", min=1,
                                          help="Synthesis workers (default: one per core)."),
    url: Optional[str] = typer.Option(None, "--url", help="The page's URL, when INPUT is a "
                                      "file or stdin (recorded in the tags)."),
    rules: list[Path] = typer.Option([], "--rules", help="Extra site rules file (TOML); "
                                     "repeatable."),
    timings: bool = typer.Option(False, "--timings", help="Print the seconds spent in each "
                                 "stage on stderr."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse and keep synthesized "
                               "utterances in the synthesis cache (NARRATOR_CACHE_DIR)."),
) -> None:
    """Narrate one article: extract, script, synthesize, and write a chaptered MP3."""
    # Imported here: the pipeline pulls in numpy and the engines, which `narrator extract`
    # and `--help` do not need.
    from ..assemble import check_bitrate
    from ..pipeline import NarrateOptions, narrate, output_in_folder, read_input

    check_bitrate(bitrate)
    if output.is_dir():  # -o FOLDER: the MP3 takes the page's name
        output = output_in_folder(output, input)
    source = read_input(input)
    options = NarrateOptions(engine=engine, voice=voice, language=lang, bitrate_kbps=bitrate,
                             workers=workers, rules=tuple(rules), use_cache=cache)
    err = Console(stderr=True)
    if sys.stderr.isatty():
        with Progress(TextColumn("synthesizing"), BarColumn(), TextColumn("{task.completed}/"
                      "{task.total}"), TimeRemainingColumn(), console=err,
                      transient=True) as bar:
            task = bar.add_task("synthesize", total=None)
            narration = narrate(source.html, output, url=url or source.url,
                                content_type=source.content_type, options=options,
                                progress=lambda done, total: bar.update(task, completed=done,
                                                                        total=total))
    else:
        narration = narrate(source.html, output, url=url or source.url,
                            content_type=source.content_type, options=options)
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"{narration.mp3_path}  ({_clock(narration.timeline.duration)}, "
              f"{narration.engine} voice {narration.voice}, "
              f"{narration.loudness_lufs:.1f} LUFS)")
    if narration.engine_choice:
        out.print(f"engine auto: {narration.engine} voice {narration.voice} "
                  f"({narration.engine_choice})", markup=False)
    if narration.cache:
        out.print(f"cache: {narration.cache['hits']} hits, {narration.cache['misses']} misses "
                  f"(utterances synthesized: {narration.cache['misses']})", markup=False)
    for i, chapter in enumerate(narration.timeline.chapters, 1):
        out.print(f"  {i:>2}. {_clock(chapter.start)}  {chapter.title}")
    out.print(f"total {_clock(narration.timeline.duration)}; chapters also in "
              f"{narration.chapters_json_path} and {narration.chapters_vtt_path}")
    if timings:
        stages = ", ".join(f"{name} {seconds:.3f}"
                           for name, seconds in narration.stage_seconds.items())
        sys.stderr.write(f"timings (s): {stages}; audio {narration.timeline.duration:.3f}\n")


def register(app: typer.Typer) -> None:
    app.command("narrate")(narrate_command)
