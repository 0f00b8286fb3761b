"""What no one could say is not said: the step that bounds the work of every later one.

A "word" of thousands of letters, or a number of thousands of digits, is not language: reading
it would take an hour (or crash: int() refuses more than 4,300 digits). Such a token is dropped
from the speech (the transcript keeps the text as written). Runs of spaces are collapsed too.
After this step every token is short, so a later step's regular expression, at worst quadratic
in the length of one token, is linear in the length of the text.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .rules import Context

# Longer than any word in use (the longest are under 50 letters) and than a web address worth
# reading aloud; a token is a run of characters without white space.
MAX_TOKEN_CHARS = 120
# Beyond octillions no one says a number: 30 digits, thousands groups and decimals included.
MAX_NUMBER_DIGITS = 30

_LONG_TOKEN = re.compile(r"(?<!\S)\S{%d,}" % (MAX_TOKEN_CHARS + 1))
_SPACES = re.compile(r"\s{2,}")


@lru_cache(maxsize=None)
def _number_re(thousands: str, decimal: str) -> re.Pattern:
    """One written number, groups and decimals included; possessive, so linear."""
    groups = rf"(?:[{re.escape(thousands)}]\d{{3}}(?!\d))*+" if thousands else ""
    decimals = rf"(?:{re.escape(decimal)}\d++)?+" if decimal else ""
    return re.compile(rf"\d++{groups}{decimals}")


def _too_long(m: re.Match) -> str:
    written = m.group(0)
    return " " if sum(c.isdigit() for c in written) > MAX_NUMBER_DIGITS else written


def drop_unspeakable(text: str, ctx: Context) -> str:
    """Drop tokens over MAX_TOKEN_CHARS characters and numbers over MAX_NUMBER_DIGITS digits;
    collapse white space. Language-neutral (the language's number separators say where a
    written number ends)."""
    text = _SPACES.sub(" ", _LONG_TOKEN.sub(" ", text))
    num = ctx.rules.table("numbers")
    pattern = _number_re("".join(num.get("thousands_separators", ())),
                         num.get("decimal_separator", ""))
    return pattern.sub(_too_long, text)
