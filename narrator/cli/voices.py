"""`narrator voices`: the engines, their languages and voices, and why one cannot run here;
`narrator voices install NAME`: download a Piper voice into the voices folder."""
from __future__ import annotations

import textwrap
from typing import Optional

import typer

from ..config import load_config
from ..engines import engine_names
from ..engines.catalog import engine_report

voices_app = typer.Typer(help="List speech engines and voices; install Piper voices.",
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
    name: str = typer.Argument(..., help="A Piper voice name, like en_US-lessac-medium."),
    force: bool = typer.Option(False, "--force", help="Download again even if installed."),
) -> None:
    """Download a Piper voice (.onnx + .onnx.json) into narrator's voices folder."""
    from ..engines.piper_install import install_voice

    config = load_config()
    model = install_voice(name, config.voices_dir, config.piper_voices_url, force=force)
    size = model.stat().st_size / 1e6
    typer.echo(f"installed {name} ({size:.1f} MB) in {model.parent}")


def register(app: typer.Typer) -> None:
    app.add_typer(voices_app, name="voices")
