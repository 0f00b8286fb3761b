"""Steps that turn written quantities into words: money, rates, units, fractions, ordinals,
numbers (dates and times, which run before them, are in calendar.py).

They run in that order: each consumes the numbers it understands (so '13:59' is a time before
it could be two numbers), and `spell_numbers` says whatever digits are left.
"""
from __future__ import annotations

import re

from . import numbers as n
from .rules import Context, alternatives


def spell_money(text: str, ctx: Context) -> str:
    """'3,5 M€' -> 'trois virgule cinq millions d'euros', '12,50 €' -> 'douze euros cinquante',
    '$1.5bn' -> 'one point five billion dollars', '£1' -> 'one pound'."""
    currencies = {k: v for k, v in ctx.rules.table("currencies").items() if isinstance(v, dict)}
    if not currencies:
        return text
    mults = ctx.rules.table("multipliers")
    mult_words = {w: spec for spec in mults.values() for w in (spec["one"], spec["many"])}
    template = ctx.rules.table("currencies").get("cents_template", "{units} {currency} {cents}")
    num = ctx.rules.number_pattern
    cur = alternatives(currencies)
    mul = alternatives(list(mults) + list(mult_words)) or "(?!)"

    def render(amount: str, mult: str | None, symbol: str) -> str:
        spec = currencies[symbol]
        feminine = bool(spec.get("feminine"))
        if mult:
            m = mults.get(mult) or mult_words[mult]
            singular = n.is_singular(amount, ctx)
            said = f"{n.say(amount, ctx)} {m['one'] if singular else m['many']} "
            return said + (spec["of"] if m.get("of") else spec["many"])
        whole, frac = n.split_number(amount, ctx)
        if frac and len(frac) == 2 and "cents_one" in spec:
            units = n.cardinal(int(whole), ctx, feminine=feminine)
            name = spec["one"] if int(whole) == 1 else spec["many"]
            if frac == "00":
                return f"{units} {name}"
            cents = int(frac)
            return template.format(units=units, currency=name, cents=n.cardinal(cents, ctx),
                                   subunit=spec["cents_one"] if cents == 1 else spec["cents_many"])
        name = spec["one"] if n.is_singular(amount, ctx) else spec["many"]
        return f"{n.say(amount, ctx, feminine=feminine)} {name}"

    after = rf"({num})\s?(?:({mul})\s?)?({cur})(?![\w])"
    before = rf"(?<![\w])({cur})\s?({num})(?:\s?({mul})(?![\w]))?"
    text = re.sub(after, lambda m: render(m.group(1), m.group(2), m.group(3)), text)
    return re.sub(before, lambda m: render(m.group(2), m.group(3), m.group(1)), text)


def spell_rates(text: str, ctx: Context) -> str:
    """'12 €/mois' -> '12 € par mois', '130 g/km' -> '130 g par kilomètre', 'habitants/km²'
    -> 'habitants par kilomètre carré'. Only a slash right after a word or unit and before a
    listed denominator: 'et/ou', '1/2' stay, and so does a unit of its own such as 'km/h'."""
    rates = ctx.rules.table("rates")
    denominators = rates.get("denominators")
    if not denominators:
        return text
    units = ctx.rules.table("units")

    def render(m: re.Match) -> str:
        if f"{m.group('left')}/{m.group('d')}" in units:
            return m.group(0)
        return f"{m.group('left')} {rates['per']} {denominators[m.group('d')]}"

    # `left` starts where its run of letters starts (the lookbehind): the leftmost match always
    # does, and trying every position inside a long word would be quadratic in its length.
    pattern = (rf"(?<![^\s\d/])(?P<left>[^\s\d/]*[^\s\d/.]\.?)/"
               rf"(?P<d>{alternatives(denominators)})(?![\w²³])")
    return re.sub(pattern, render, text)


def spell_units(text: str, ctx: Context) -> str:
    """'50 %' -> 'cinquante pour cent', '90 km/h' -> 'quatre-vingt-dix kilomètres heure',
    '-5 °C' -> 'moins cinq degrés Celsius'. Only a unit right after a number is a unit."""
    units = ctx.rules.table("units")
    if not units:
        return text
    minus = ctx.rules.table("numbers").get("minus_word")

    def render(m: re.Match) -> str:
        spec = units[m.group("glued") or m.group("spaced")]
        amount = m.group(2)
        said = n.say(amount, ctx, feminine=bool(spec.get("feminine")))
        if m.group(1) and minus:
            said = f"{minus} {said}"
        name = spec["one"] if n.is_singular(amount, ctx) else spec["many"]
        return f"{said} {name}"

    spaced = [u for u, spec in units.items() if spec.get("spaced")]
    glued = [u for u in units if u not in spaced] or ["(?!)"]
    unit = (rf"(?:\s?(?P<glued>{alternatives(glued)})|\s(?P<spaced>{alternatives(spaced)}))"
            if spaced else rf"\s?(?P<glued>{alternatives(glued)})")
    pattern = rf"(?:(?<![\w])([-−]))?({ctx.rules.number_pattern}){unit}(?![\w'/²³])"
    return re.sub(pattern, render, text)


def spell_fractions(text: str, ctx: Context) -> str:
    """'1/2', '½' -> 'un demi', '3/4' -> 'trois quarts', '2/5' -> 'deux cinquièmes'. Only a
    numerator under a denominator up to `max_denominator`: '24/7' and '12/05' are no fractions
    (and a date with its year was read before this step)."""
    fractions = ctx.rules.table("fractions")
    if not fractions:
        return text
    names = fractions.get("names", {})
    largest = int(fractions.get("max_denominator", 10))
    for glyph, written in fractions.get("glyphs", {}).items():
        text = text.replace(glyph, written)

    def render(m: re.Match) -> str:
        top, bottom = int(m.group(1)), int(m.group(2))
        if not 0 < top < bottom <= largest:
            return m.group(0)
        named = names.get(str(bottom))
        if named:
            name = named["one"] if top == 1 else named["many"]
        else:
            name = n.ordinal(bottom, ctx) + ("" if top == 1 else fractions.get("plural", ""))
        return f"{n.cardinal(top, ctx, feminine=bool(named and named.get('feminine')))} {name}"

    return re.sub(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)", render, text)


def spell_ordinals(text: str, ctx: Context) -> str:
    """'1er' -> 'premier', '3e' -> 'troisième', 'XXIe siècle' -> 'vingt et unième siècle',
    'Louis XIV' -> 'Louis quatorze'; English '21st' -> 'twenty-first', 'Henry VIII' ->
    'Henry the eighth'."""
    ordinals = ctx.rules.table("ordinals")
    suffixes = ordinals.get("suffixes", {})
    if not suffixes:
        return text
    second = ordinals.get("second", {})
    second_suffixes = set(ordinals.get("second_suffixes", ()))
    plural = set(ordinals.get("plural_suffixes", ()))

    def say(value: int | None, suffix: str, original: str) -> str:
        if value is None:
            return original
        gender = suffixes[suffix]
        if value == 2 and suffix in second_suffixes and gender in second:
            words = second[gender]
        else:
            words = n.ordinal(value, ctx, gender)
        return words + ("s" if suffix in plural else "")

    alts = alternatives(suffixes)
    text = re.sub(rf"(?<![\w,.])(\d+)({alts})(?!\w)",
                  lambda m: say(int(m.group(1)), m.group(2), m.group(0)), text)
    # A lone L, C, D or M before a suffix is a word (Le, Ce, De, Me), never a numeral.
    text = re.sub(rf"(?<![\w-])([IVX]|[IVXLCDM]{{2,}})({alts})(?!\w)",
                  lambda m: say(n.roman_value(m.group(1)), m.group(2), m.group(0)), text)
    before = alternatives(ordinals.get("roman_before", []))
    if before:
        text = re.sub(rf"(?<![\w-])([IVXLCDM]+) (?=(?:{before})\b)",
                      lambda m: say(n.roman_value(m.group(1)), next(iter(suffixes)), m.group(1))
                      + " ", text)
    regnal = ordinals.get("regnal")
    if regnal:
        def monarch(m: re.Match) -> str:
            value = n.roman_value(m.group(2))
            if value is None:
                return m.group(0)
            if regnal == "the_ordinal":
                return f"{m.group(1)} the {n.ordinal(value, ctx)}"
            return f"{m.group(1)} {n.cardinal(value, ctx)}"

        # A capitalised name (not an all-capital word) then I, V, X only: Louis XIV, Jean-Paul II.
        text = re.sub(r"\b([A-ZÀ-Þ][a-zà-ÿ]+(?:-[A-ZÀ-Þ][a-zà-ÿ]+)?) (II|III|IV|V|VI|VII|VIII|IX|X"
                      r"|XI|XII|XIII|XIV|XV|XVI|XVII|XVIII|XIX|XX|XXI|XXII|XXIII)(?![\w-])",
                      monarch, text)
    return text


def spell_numbers(text: str, ctx: Context) -> str:
    """Every number left: '1 250 000' -> 'un million deux cent cinquante mille', '12,5' ->
    'douze virgule cinq', '-3' -> 'moins trois', '2020-2026' -> '2020 à 2026'; English
    four-digit years -> 'nineteen ninety-nine'. Then the [elisions] table: 'de un' -> 'd'un'."""
    num = ctx.rules.table("numbers")
    if not num:
        return text
    pattern = ctx.rules.number_pattern
    if num.get("range_word"):
        text = re.sub(r"(?<![\w-])(\d{1,4}) ?[-–] ?(\d{1,4})(?![\w-])",
                      rf"\1 {num['range_word']} \2", text)
    low, high = (num.get("years") or [0, -1])[:2]
    if num.get("decades"):  # 1990s -> nineteen nineties, 80s -> eighties
        def decade(m: re.Match) -> str:
            value = int(m.group(1))
            words = n.year(value, ctx) if low <= value <= high else n.cardinal(value, ctx)
            return words[:-1] + "ies" if words.endswith("y") else words + "s"

        text = re.sub(r"(?<![\w'’])['’]?(\d*0)s(?!\w)", decade, text)

    def render(m: re.Match) -> str:
        written = m.group(2)
        if re.fullmatch(r"\d{4}", written) and low <= int(written) <= high:
            said = n.year(int(written), ctx)
        else:
            said = n.say(written, ctx)
        if m.group(1):
            said = f"{num.get('minus_word', '-')} {said}"
        # Keep words apart from letters the number was glued to: COP21 -> COP vingt et un.
        start = m.start() > 0 and m.string[m.start() - 1].isalpha()
        end = m.end() < len(m.string) and m.string[m.end()].isalpha()
        return (" " if start else "") + said + (" " if end else "")

    text = re.sub(rf"(?:(?<![\w])([-−])(?=\d))?({pattern})", render, text)
    # Words that elide before a spelled number: "de un euro" -> "d'un euro".
    for written, elided in ctx.rules.table("elisions").items():
        text = re.sub(rf"(?<![\w']){re.escape(written)}(?![\w'])", elided, text)
    return text
