"""The `narrator` command. Each face lives in its own module with a `register(app)` function;
this module only assembles them and turns errors into one line on stderr and an exit code."""
from __future__ import annotations

import errno
import os
import sqlite3
import sys
from importlib import import_module
from typing import Optional

import typer

from .. import __version__
from ..errors import NarratorError, disk_full, printable
from ..timelimit import enable_hard_stop

# The exit codes, as `narrator --help` and the README list them (the README's table is
# checked against this one by a test).
EXIT_CODES = (
    (0, "success"),
    (1, "failure: an article of a batch failed, or an internal error"),
    (2, "bad usage or input: an unknown option, a page that cannot be read or has no article"),
    (3, "engine or voice: unknown, not installed here, or failed while speaking"),
    (4, "output: the audio or a file could not be written (permissions, disk full)"),
    (130, "interrupted (Ctrl-C)"),
)
EPILOG = "Exit codes:\n" + "\n".join(f"  {code:>3}  {what}" for code, what in EXIT_CODES)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"narrator {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="narrator",
    help="Turn published articles into narrated, chaptered MP3s.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(version: Optional[bool] = typer.Option(
        None, "--version", "-V", callback=_version, is_eager=True,
        help="Print narrator's version and exit.")) -> None:
    """Turn published articles into narrated, chaptered MP3s."""


# One module per face; each defines register(app).
COMMAND_MODULES = [
    "narrate",
    "voices",
    "extract",
    "serve",
    "batch",
]

for _name in COMMAND_MODULES:
    import_module(f"{__name__}.{_name}").register(app)


def fail(message: str, code: int = 1) -> "typer.Exit":
    sys.stderr.write(f"narrator: error: {printable(message)}\n")
    return typer.Exit(code)


_METAVARS = {"str": "TEXT", "path": "PATH", "int": "N", "float": "NUMBER"}


def _tidy_help(command) -> None:
    """typer prints a type placeholder beside every parameter (`<str>`, `<bool>`,
    `<list[Path]>`) and a required argument as `{INPUT}`; narrator's parameters name their
    value themselves (`-o PATH`, `--engine NAME`), and a flag takes none."""
    get_help_option = command.get_help_option

    def help_option(ctx):
        option = get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument":
            name = param.metavar or param.name.upper()
            param.display_type_rich = lambda ctx: None
            param._usage_display_name = lambda name=name: name
        elif getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
            param.metavar = ""
        elif param.metavar is None:  # a value named by its kind, as click names it
            try:  # typer's "<list[Path]>", "<int range>"
                kind = param.display_type(None).strip("<>").split()[0].lower()
            except Exception:  # another typer: keep its own display
                continue
            kind = kind.removeprefix("list[").removesuffix("]")
            param.metavar = _METAVARS.get(kind, kind.upper())
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


def _overrun(exc: BaseException) -> None:
    """A time limit that C code kept its alarm from enforcing (see narrator.timelimit): the
    same one line, then the process ends (no output file exists during extraction)."""
    sys.stderr.write(f"narrator: error: {printable(str(exc))}\n")
    sys.stderr.flush()
    os._exit(getattr(exc, "exit_code", 1))


def main() -> None:
    enable_hard_stop(_overrun)
    sys.exit(run())


def run(args: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see EXIT_CODES)."""
    command = typer.main.get_command(app)
    _tidy_help(command)
    try:
        code = command.main(args, prog_name="narrator", standalone_mode=False)
    except typer.Abort:  # end of input while prompting
        sys.stderr.write("narrator: interrupted\n")
        return 130
    except typer.TyperException as exc:  # typer's usage errors (its own click)
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # `narrator` alone: the help
            exc.show()
            return 0
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        message = message.replace("Value error, ", "")  # pydantic's prefix in typer's text
        sys.stderr.write(f"narrator: error: {message}{hint}\n")
        return 2 if ctx is not None else exc.exit_code
    except NarratorError as exc:
        sys.stderr.write(f"narrator: error: {printable(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("narrator: interrupted\n")
        return 130
    except (OSError, sqlite3.OperationalError) as exc:  # a file outside the checked paths
        if disk_full(exc):  # a full disk is no bug: one line, and what to do
            sys.stderr.write("narrator: error: no space left on the device (or over quota): "
                             "free some space, then run the command again\n")
            return 4
        if not isinstance(exc, OSError):
            raise
        if exc.errno == errno.EPIPE:  # `narrator ... | head`: the reader has gone
            return 1
        where = f": {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"narrator: error: {exc.strerror or exc}{where}\n")
        return 4
    if code == 130:  # typer turned Ctrl-C into exit code 130
        sys.stderr.write("narrator: interrupted\n")
    return code if isinstance(code, int) else 0
