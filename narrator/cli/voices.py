"""`narrator voices`: the engines, their languages and voices, and why one cannot run here;
`narrator voices install NAME...`: download Piper or Kokoro voices into the voices folder."""
from __future__ import annotations

import textwrap
from typing import Optional

import typer

from ..config import load_config
from ..engines import engine_names
from ..engines.catalog import engine_report

voices_app = typer.Typer(help="List speech engines and voices; install Piper and Kokoro voices.",
                         no_args_is_help=False, add_completion=False)


@voices_app.callback(invoke_without_command=True)
def list_voices(
    ctx: typer.Context,
    lang: Optional[str] = typer.Option(None, "--lang", "-l", metavar="CODE", help="Only voices for this "
                                       "language (fr, en, ...), and what `auto` picks for it."),
) -> None:
    """List engines, their languages and voices, and why an engine is unavailable."""
    if ctx.invoked_subcommand is not None:
        return
    config = load_config()
    out = typer.echo
    language = lang.lower() if lang else None
    for name in engine_names():
        reason, voices = engine_report(name, config, language)
        status = f"unavailable: {reason}" if reason else "available"
        out(f"{name}  ({status})")
        if voices:
            languages = sorted({code for v in voices for code in v.languages})
            out(textwrap.fill(", ".join(languages), width=88, initial_indent="  languages: ",
                              subsequent_indent="    "))
            ids = ", ".join(v.id for v in voices)
            out(textwrap.fill(ids, width=88, initial_indent="  voices: ",
                              subsequent_indent="    "))
        elif not reason:
            out("  no voice" + (f" for {language!r}" if language else ""))
    out(f"voices folder: {config.voices_dir}")
    if language:
        from ..engines.auto import choose_engine
        engine, voice, why = choose_engine(language, config)
        out(f"auto for {language!r}: {engine} voice {voice or '(default)'} -- {why}")


@voices_app.command("install")
def install(
    names: list[str] = typer.Argument(..., metavar="NAME...", help="Piper voice names, like "
                                      "en_US-lessac-medium, or Kokoro voice names, like "
                                      "ff_siwis or af_heart."),
    force: bool = typer.Option(False, "--force", help="Download again even if installed."),
) -> None:
    """Download voices into narrator's voices folder: a Piper voice (.onnx + .onnx.json) from
    the Piper voices host (config: voices.url), a Kokoro voice (NAME.bin) from the npm registry's
    kokoro-js 1.2.1 package (27 MB, checked; NARRATOR_KOKORO_VOICES_URL for another copy)."""
    from ..engines.kokoro_install import install_voices, is_kokoro_voice
    from ..engines.piper_install import install_voice

    config = load_config()
    kokoro = [name for name in names if is_kokoro_voice(name)]
    for path in install_voices(kokoro, config.voices_dir, force=force) if kokoro else []:
        typer.echo(f"installed {path.stem} (Kokoro voice, {path.stat().st_size / 1e6:.1f} MB) "
                   f"in {path.parent}")
    for name in names:
        if name in kokoro:
            continue
        model = install_voice(name, config.voices_dir, config.piper_voices_url, force=force)
        size = model.stat().st_size / 1e6
        typer.echo(f"installed {name} ({size:.1f} MB) in {model.parent}")


def register(app: typer.Typer) -> None:
    app.add_typer(voices_app, name="voices")
