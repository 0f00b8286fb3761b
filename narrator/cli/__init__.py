"""The `narrator` command. Each face lives in its own module with a `register(app)` function;
this module only assembles them and turns NarratorError into one line on stderr."""
from __future__ import annotations

import os
import sqlite3
import sys
from importlib import import_module

import typer

from ..errors import NarratorError, disk_full, printable
from ..timelimit import enable_hard_stop

app = typer.Typer(
    name="narrator",
    help="Turn published articles into narrated, chaptered MP3s.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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


def _overrun(exc: BaseException) -> None:
    """A time limit that C code kept its alarm from enforcing (see narrator.timelimit): the
    same one line, then the process ends (no output file exists during extraction)."""
    sys.stderr.write(f"narrator: error: {printable(str(exc))}\n")
    sys.stderr.flush()
    os._exit(getattr(exc, "exit_code", 1))


def main() -> None:
    enable_hard_stop(_overrun)
    try:
        app()
    except NarratorError as exc:
        sys.stderr.write(f"narrator: error: {printable(str(exc))}\n")
        sys.exit(exc.exit_code)
    except (OSError, sqlite3.OperationalError) as exc:  # a full disk is no bug: one line
        if not disk_full(exc):
            raise
        sys.stderr.write("narrator: error: no space left on the device (or over quota): free "
                         "some space, then run the command again\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("narrator: interrupted\n")
        sys.exit(130)
