"""Saying numbers in words with num2words, as each language's rules ask.

These helpers take a number *as written* ("1 250 000", "3,5", "12.05") so the steps never
have to know a language's separators.
"""
from __future__ import annotations

import re

from num2words import num2words

from .rules import Context

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_RE = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")


def roman_value(numeral: str) -> int | None:
    """The value of a well-formed Roman numeral ('XXI' -> 21), else None."""
    if not numeral or not _ROMAN_RE.fullmatch(numeral):
        return None
    total = 0
    for i, ch in enumerate(numeral):
        value = _ROMAN[ch]
        total += -value if i + 1 < len(numeral) and _ROMAN[numeral[i + 1]] > value else value
    return total


def split_number(written: str, ctx: Context) -> tuple[str, str | None]:
    """'1 250 000,5' -> ('1250000', '5'): digits of the integer part and of the fraction."""
    num = ctx.rules.table("numbers")
    dec = num.get("decimal_separator", ".")
    whole, _, frac = written.partition(dec)
    whole = re.sub(r"\D", "", whole)
    return whole, (frac or None)


def _words(value: int, ctx: Context, to: str = "cardinal") -> str:
    num = ctx.rules.table("numbers")
    lang = num.get("num2words_lang", ctx.language)
    try:
        text = num2words(value, lang=lang, to=to)
    except (NotImplementedError, OverflowError, ValueError):
        return str(value)
    # English num2words writes "one million, two hundred": a comma would make the engine pause.
    text = text.replace(",", "")
    for wrong, right in num.get("ordinal_fixes", {}).items():
        text = text.replace(wrong, right)
    return text


def feminize(words: str, ctx: Context) -> str:
    """French 'vingt et un' -> 'vingt et une' before a feminine noun."""
    num = ctx.rules.table("numbers")
    one, fem = num.get("masculine_one"), num.get("feminine_one")
    if one and fem:
        return re.sub(rf"\b{re.escape(one)}$", fem, words)
    return words


def cardinal(value: int, ctx: Context, *, feminine: bool = False) -> str:
    words = _words(value, ctx)
    return feminize(words, ctx) if feminine else words


def ordinal(value: int, ctx: Context, gender: str = "masculine") -> str:
    """1 -> premier / première / first; 2 with a 'second' suffix -> second(e)."""
    if value == 1:
        first = ctx.rules.table("ordinals").get("first", {})
        if gender in first:
            return first[gender]
    return _words(value, ctx, "ordinal")


def year(value: int, ctx: Context) -> str:
    """How a year is said: English 1999 -> nineteen ninety-nine; elsewhere the cardinal."""
    if ctx.rules.table("numbers").get("years"):
        return _words(value, ctx, "year")
    return cardinal(value, ctx)


def say(written: str, ctx: Context, *, feminine: bool = False) -> str:
    """A written number in words: '3,5' -> 'trois virgule cinq', '007' -> 'zéro zéro sept'."""
    num = ctx.rules.table("numbers")
    whole, frac = split_number(written, ctx)
    if not whole:
        return written
    zero = _words(0, ctx)
    lead = ""
    if len(whole) > 1 and whole.startswith("0") and frac is None:
        stripped = whole.lstrip("0") or "0"
        lead = " ".join([zero] * (len(whole) - len(stripped))) + " "
        whole = stripped
    words = lead + cardinal(int(whole), ctx, feminine=feminine and frac is None)
    if frac is not None:
        words += f" {num.get('decimal_word', 'point')} "
        if num.get("decimal_digits") == "digits":
            words += " ".join(_words(int(d), ctx) for d in frac)
        else:
            stripped = frac.lstrip("0")
            zeros = [zero] * (len(frac) - len(stripped))
            words += " ".join(zeros + ([cardinal(int(stripped), ctx)] if stripped else []))
    return words


def is_singular(written: str, ctx: Context) -> bool:
    """Whether a noun after this number takes the singular (French: below two)."""
    whole, frac = split_number(written, ctx)
    if not whole:
        return False
    value = float(f"{whole}.{frac}") if frac else float(whole)
    if ctx.rules.table("numbers").get("singular_below_two"):
        return value < 2
    return value == 1 and not frac
