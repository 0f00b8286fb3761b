"""What the narrating commands (`narrate`, `batch`) share about their options: the bitrate's
help, and the check of `--rules` files before any work."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError

# The bitrates an MP3 at narrator's 22.05 kHz can use (narrator.assemble.mp3tag.bitrates).
BITRATE_HELP = ("MP3 bitrate in kbit/s, one of 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, "
                "144, 160 (mono at 22.05 kHz).")


def check_rules_files(rules: list[Path]) -> None:
    for path in rules:
        if not path.is_file():
            raise InputError(f"no such rules file: {path}")
