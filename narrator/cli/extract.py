"""`narrator extract`: preview what will be spoken (or, with --explain, what was left out)."""
from __future__ import annotations

import dataclasses
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..model import ListBlock, Paragraph, Quote


class Format(str, Enum):
    text = "text"
    json = "json"


def _block_json(block) -> dict:
    if isinstance(block, Quote):
        return {"type": "quote", "text": block.text, "attribution": block.attribution}
    if isinstance(block, ListBlock):
        return {"type": "list", "items": list(block.items), "ordered": block.ordered}
    if isinstance(block, Paragraph):
        return {"type": "paragraph", "text": block.text}
    return {"type": type(block).__name__.lower()}


def article_json(article) -> dict:
    return {
        "title": article.title,
        "language": article.language,
        "meta": dataclasses.asdict(article.meta),
        "sections": [{"heading": s.heading, "level": s.level, "blocks": [_block_json(b) for b in s.blocks]}
                     for s in article.sections],
    }


def extract_command(
    input: str = typer.Argument(..., metavar="INPUT",
                                help="An article page: HTML file, http(s) URL, or - for stdin."),
    url: Optional[str] = typer.Option(None, "--url", metavar="URL",
                                      help="The page's URL, when INPUT is a file or stdin."),
    format: Format = typer.Option(Format.text, "--format", "-f", metavar="[text|json]",
                                  help="text (what will be spoken) or json (metadata and "
                                  "sections)."),
    explain: bool = typer.Option(False, "--explain", help="Also show what was dropped and which rule "
                                 "or heuristic dropped it (on stderr with --format text)."),
    rules: list[Path] = typer.Option([], "--rules", metavar="FILE",
                                     help="Extra site rules file (TOML); repeatable. "
                                     "Files listed as extract.rules in the config file apply too."),
    max_size: int = typer.Option(10_000_000, "--max-size", min=1, metavar="BYTES",
                                 help="Refuse pages larger than this "
                                 "many bytes."),
    body_only: bool = typer.Option(False, "--body-only", help="Print the article body without the title "
                                   "line (text format; the JSON has the title as a field of its own)."),
) -> None:
    """Print the cleaned article, the text that will be spoken, without synthesizing it."""
    from .. import extract as ex
    from ..errors import InputError
    from ..pipeline import read_input
    from ..render import render_text

    format = format.value
    if body_only and format != "text":
        raise InputError("--body-only applies to the text format (the JSON has the title as a field)")
    source = read_input(input, max_bytes=max_size)
    page_url = url or source.url
    from ..extract.userconfig import config_rules

    kwargs = dict(url=page_url, content_type=source.content_type, rules=config_rules() + tuple(rules),
                  max_bytes=max_size)
    if explain:
        report = ex.explain(source.html, **kwargs)
        article = report.article
    else:
        report, article = None, ex.extract_article(source.html, **kwargs)
    if format == "json":
        data = article_json(article)
        if report is not None:
            data["explain"] = {"encoding": report.encoding, "rule_sets": report.rule_sets,
                               "main_content": report.engine, "main_text_chars": report.main_chars,
                               "dropped": [{"text": t, "rule": r, "main_text_chars": c} for t, r, c in report.dropped],
                               "kept_by_guard": [{"text": t, "why": r, "main_text_chars": c}
                                                 for t, r, c in report.spared],
                               "recovered": [{"text": t, "why": r} for t, r in report.recovered]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(ex.body_only(article) if body_only else article))
        if report is not None:
            sys.stdout.flush()
            sys.stderr.write("\n" + report.render())


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)
