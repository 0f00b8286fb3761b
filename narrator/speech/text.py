"""Steps on characters and words: cleanup, editorial marks, lexicon, addresses, abbreviations,
acronyms, symbols, quotes. Each is `step(text, ctx) -> text` and leaves text it has no rule for
alone."""
from __future__ import annotations

import re

from .rules import Context

# Characters that look alike to a reader but not to an engine or a regex.
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2009\u2007\u2002\u2003\u200a\t\r\n"), " ")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_APOSTROPHES = dict.fromkeys(map(ord, "\u2019\u02bc\u2032"), "'")
# Superscript letters of ordinals as some sites type them: 1ᵉʳ, XXᵉ, 2ⁿᵈ.
_SUPERSCRIPT = {ord(k): v for k, v in zip("ᵉʳᵈⁿˢᵗʰ", "erdnsth")}
_HYPHENS = dict.fromkeys(map(ord, "\u2010\u2011"), "-")
_CHARACTERS = str.maketrans({**_SPACES, **_INVISIBLE, **_APOSTROPHES, **_SUPERSCRIPT, **_HYPHENS})


def clean_characters(text: str, ctx: Context) -> str:
    """Unify spaces, apostrophes, hyphens and superscript ordinal letters; '...' -> '…'.

    Language-neutral. Non-breaking and narrow spaces become plain spaces, so later steps see
    '1 250 000' whatever the page typed.
    """
    text = text.translate(_CHARACTERS)
    return re.sub(r"\.{3,}", "…", text)


_EDITORIAL = re.compile(r"\s*[\[(]\s*(?:…|\.\s?\.\s?\.)\s*[\])]\s*")


def drop_editorial_brackets(text: str, ctx: Context) -> str:
    """'[...]' and '[…]' (an editor's cut) become a short pause: a comma.

    Language-neutral; `tidy` then removes a comma that lands next to other punctuation.
    """
    return _EDITORIAL.sub(", ", text)


def apply_lexicon(text: str, ctx: Context) -> str:
    """The site's pronunciation lexicon: whole words, case-sensitive ('MEL' -> 'Mel').

    Language-neutral; runs before the acronym step so that a lexicon entry wins.
    """
    if not ctx.lexicon:
        return text
    keys = sorted(ctx.lexicon, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, keys)) + r")(?![\w])")
    return pattern.sub(lambda m: ctx.lexicon[m.group(0)], text)


_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"«»“”]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def _say_address(address: str, web) -> str:
    address = re.sub(r"[.,;:!?)\]]+$", "", address)
    if web.get("scheme_drop", True):
        address = re.sub(r"^[a-z]+://", "", address, flags=re.IGNORECASE)
    address = re.split(r"[?#]", address)[0].rstrip("/")
    parts = re.split(r"([./\-_@:])", address)
    said = []
    for part in parts:
        if part in web and part != "scheme_drop":
            said.append(web[part])
        elif part.lower() == "www" and "www" in web:
            said.append(web["www"])
        elif part:
            said.append(part)
    return " ".join(said)


def speak_web_addresses(text: str, ctx: Context) -> str:
    """'https://www.mel.fr/agenda' -> 'w w w point mel point fr slash agenda'; e-mails too."""
    web = ctx.rules.table("web")
    if not web:
        return text
    text = _EMAIL.sub(lambda m: _say_address(m.group(0), web), text)
    return _URL.sub(lambda m: _say_address(m.group(0), web)
                    + m.group(0)[len(m.group(0).rstrip(".,;:!?)]")):], text)


_PREFIX = re.compile(r"(?<!\w)\((\w+)\)(\w{3,})")
# Inclusive writing: élu(e)s, élu·e·s, acteur·rice·s -> the short form; acteur(s) -> acteurs.
_INCLUSIVE = re.compile(r"(?<=\w)(?:\((?:e|ne|ice|rice)\)|[·•](?:e|ne|ice|rice)[·•]?)(?=s?(?!\w))")
_PLURAL = re.compile(r"(?<=\w)\((s|x)\)(?!\w)")


def expand_parenthetical_prefixes(text: str, ctx: Context) -> str:
    """'(para)publics' -> 'publics et parapublics'; 'élu(e)s', 'élu·e·s' -> 'élus'."""
    join = ctx.rules.table("parenthetical").get("join")
    if not join:
        return text
    if ctx.language == "fr":
        # Inclusive writing: say the short form; the plural "s" is kept.
        text = _PLURAL.sub(r"\1", _INCLUSIVE.sub("", text))
    text = _PREFIX.sub(lambda m: f"{m.group(2)} {join} {m.group(1)}{m.group(2)}", text)
    return text


def _abbreviation_re(keys, after: str) -> re.Pattern:
    alternatives = "|".join(map(re.escape, sorted(keys, key=len, reverse=True)))
    return re.compile(rf"(?<![\w.])(?:{alternatives})(?:(?<=\.)|(?![\w]))(?={after})")


def expand_abbreviations(text: str, ctx: Context) -> str:
    """'M. Dupont' -> 'Monsieur Dupont', 'p. ex.' -> 'par exemple', 'n° 5' -> 'numéro 5'.

    Three tables: anywhere, before a capitalised name only, before a number only. An
    abbreviation listed in [sentences] final_abbreviations ('etc.') keeps its full stop when
    it ends the sentence (no lower-case word follows).
    """
    tables = [("abbreviations", ""), ("abbreviations_before_name", r"\s+[A-ZÀ-ÖØ-Þ]"),
              ("abbreviations_before_number", r"\s*\d")]
    final = set(ctx.rules.table("sentences").get("final_abbreviations", ()))
    for name, after in tables:
        table = ctx.rules.table(name)
        if not table:
            continue

        def expand(m: re.Match, table=table) -> str:
            word = table[m.group(0)]
            rest = m.string[m.end():]
            ends_sentence = m.group(0) in final and not re.match(r"\s*[a-zà-ÿ,;:)0-9]", rest)
            return word + ("." if ends_sentence else "")

        text = _abbreviation_re(table, after).sub(expand, text)
    return text


_ACRONYM = re.compile(r"(?<![\w-])[A-ZÀ-ÖØ-Þ]{2,}(?![\w])")


def _pronounceable(word: str, vowels: str) -> bool:
    return (len(word) >= 3 and any(c in vowels for c in word)
            and not re.search(rf"[^{vowels}]{{3}}", word))


def spell_acronyms(text: str, ctx: Context) -> str:
    """All-capital words: listed ones spelled ('SNCF' -> 'S N C F') or read ('ONU' -> 'Onu');
    others spelled when short and unpronounceable, else read as a word; in a line written in
    capitals, unlisted words are read ('LA MEL DE LILLE' -> 'La Mel De Lille')."""
    acr = ctx.rules.table("acronyms")
    if not acr:
        return text
    spell, read = set(acr.get("spell", ())), set(acr.get("read", ()))
    vowels = acr.get("vowels", "AEIOUY")
    limit = acr.get("spell_max_length", 5)

    # A line in capitals (a shouted heading) is words, not acronyms, unless listed.
    words = re.findall(r"[^\W\d_]+", text)
    shouting = len(words) >= 3 and sum(w.isupper() for w in words) >= 0.8 * len(words)

    def say(m: re.Match) -> str:
        word = m.group(0)
        if word in read:
            return word.capitalize()
        short_and_unsayable = len(word) <= limit and not _pronounceable(word, vowels)
        # In a shouted line ("IMPACT RSS LEADERS") short words are words ("LE", "DE"), but
        # one with no vowel at all is still letters.
        if word in spell or (short_and_unsayable and (
                not shouting or not any(c in vowels for c in word))):
            return " ".join(word)
        return word.capitalize()

    return _ACRONYM.sub(say, text)


def speak_symbols(text: str, ctx: Context) -> str:
    """'R&D' -> 'R et D', ' + ' -> ' plus '; symbols from the language's [symbols] table."""
    for symbol, word in ctx.rules.table("symbols").items():
        text = re.sub(rf"\s*{re.escape(symbol)}\s*", f" {word} ", text)
    return text


def normalize_quotes(text: str, ctx: Context) -> str:
    """Straight and foreign quotation marks -> the language's own pair (« » in French)."""
    quotes = ctx.rules.table("quotes")
    if not quotes:
        return text
    open_, close = quotes["open"], quotes["close"]
    inner = " {} " if open_ == "«" else "{}"
    return re.sub(r"[\"“„«]\s*([^\"“”„«»]*?)\s*[\"”»]",
                  lambda m: open_ + inner.format(m.group(1)) + close, text)


def tidy(text: str, ctx: Context) -> str:
    """Collapse spaces and stray punctuation left by the other steps. Language-neutral."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"([(“])\s+", r"\1", text)
    text = re.sub(r"\s+([,.)])", r"\1", text)
    text = re.sub(r",(?:\s*,)+", ",", text)
    text = re.sub(r",\s*([.;:!?…])", r"\1", text)
    text = re.sub(r"([(“])\s*,\s*", r"\1", text)
    text = re.sub(r"«\s*,\s*", "« ", text)
    text = re.sub(r"\.\.(?!\.)", ".", re.sub(r"\.{3,}", "…", text))
    return re.sub(r"\s+", " ", text).strip(" ,")
