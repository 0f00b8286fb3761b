"""Claiming OUTDIR for one run: the folder must be narrator's (it has a catalog, or holds
nothing yet) or adopted with --adopt, and only one batch at a time writes in it.

Both are checked before the run touches anything there: a refused folder is left as it was,
and a second batch stops before it can remove the first one's files as leftovers."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import InputError
from .catalog import CATALOG_NAME
from .layout import LOCK_NAME, adoption_clashes, foreign_entries


class OutdirLock:
    """One batch at a time per OUTDIR (flock; released by the kernel when a process dies)."""

    def __init__(self, outdir: Path):
        self.fd = os.open(outdir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise InputError(f"another batch is already running in {outdir}") from None

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def check_outdir(outdir: Path, adopt: bool) -> None:
    """OUTDIR is narrator's when it has a catalog or holds nothing (but a lock file or the
    publisher's artwork); any other folder is refused, unless adopted."""
    if (outdir / CATALOG_NAME).is_file():
        return
    foreign = foreign_entries(outdir)
    if not foreign:
        return
    if not adopt:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3
                                          else "")
        raise InputError(f"{outdir} is not empty ({shown}) and is not a narrator batch folder "
                         f"(no {CATALOG_NAME}): give a new or empty folder, or --adopt to add "
                         f"narrator's files beside these (it never deletes files it did not "
                         f"write)")
    clashes = adoption_clashes(outdir)
    if clashes:
        raise InputError(f"cannot adopt {outdir}: narrator would overwrite its "
                         f"{', '.join(clashes)}; move {'it' if len(clashes) == 1 else 'them'} "
                         f"away first")
