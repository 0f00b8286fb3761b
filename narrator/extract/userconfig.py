"""Site rules named in the user's config file:

    [extract]
    rules = ["~/narrator/rules/my-site.toml", "rules/other.toml"]  # relative to the config file

They apply before the ones given with --rules (which therefore win)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import InputError


def config_rules() -> tuple[Path, ...]:
    from ..config import user_config_path

    path = user_config_path()
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read config file {path}: {exc}") from None
    rules = data.get("extract", {}).get("rules", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise InputError(f"{path}: [extract] rules must be a list of file paths")
    out = []
    for r in rules:
        p = Path(r).expanduser()
        out.append(p if p.is_absolute() else path.parent / p)
    return tuple(out)
