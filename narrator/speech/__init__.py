"""Speech normalisation: the text a reader sees -> the text an engine should speak.

    normalize("Le 25/11/2026 à 13h59, 3,5 M€ (+50 %).", "fr")
    -> "Le vingt-cinq novembre deux mille vingt-six à treize heures cinquante-neuf, trois
        virgule cinq millions d'euros (plus cinquante pour cent)."

The work is a pipeline of small steps, each `step(text, ctx) -> text` (see `PIPELINE` for the
order and why). Rules are data, per language, in `narrator/data/speech/<lang>.toml`; a language
without a file gets only the language-neutral steps. Callers extend the pipeline with
`normalize(..., extra=[fn])` (run after the built-in steps, before the final tidy) or replace it
with `steps=[...]`, for example `steps=[my_step, *PIPELINE]`.
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

from .bounds import drop_unspeakable
from .calendar import spell_dates, spell_times
from .quantities import (spell_fractions, spell_money, spell_numbers, spell_ordinals,
                         spell_rates, spell_units)
from .rules import Context, LanguageRules, load_rules
from .text import (apply_lexicon, clean_characters, drop_editorial_brackets,
                   expand_abbreviations, expand_parenthetical_prefixes, normalize_quotes,
                   speak_symbols, speak_web_addresses, spell_acronyms, tidy)

Step = Callable[[str, Context], str]

# Order matters: characters are cleaned before anything matches them; then what no one could
# say is dropped, which bounds every later step's work (see bounds.py); the lexicon runs before
# the acronym step so a site's word wins; addresses go before anything that reads dots or
# digits; abbreviations before dates (no. 5, p. 12); dates, times, money and units each take
# the numbers they understand before ordinals and plain numbers take the rest; acronyms come
# after numbers (COP21 -> COP vingt et un -> Cop vingt et un); `tidy` is always last.
PIPELINE: tuple[Step, ...] = (
    clean_characters,
    drop_unspeakable,
    drop_editorial_brackets,
    apply_lexicon,
    speak_web_addresses,
    expand_parenthetical_prefixes,
    expand_abbreviations,
    spell_dates,
    spell_times,
    spell_money,
    spell_rates,
    spell_units,
    spell_fractions,
    spell_ordinals,
    spell_numbers,
    spell_acronyms,
    speak_symbols,
    normalize_quotes,
    tidy,
)


def normalize(text: str, language: str, *, lexicon: Mapping[str, str] | None = None,
              extra: Iterable[Step] = (), steps: Iterable[Step] | None = None) -> str:
    """The speakable form of `text` in `language` (BCP 47; 'fr', 'en-GB'...).

    `lexicon`: the site's pronunciations, whole words, case-sensitive ({"MEL": "Mel"}).
    `extra`: steps run after the built-in ones and before the final tidy.
    `steps`: a whole pipeline instead of `PIPELINE` (`extra` still runs before its last step).
    """
    ctx = Context.for_language(language, lexicon)
    pipeline = list(PIPELINE if steps is None else steps)
    extra = list(extra)
    if extra:
        if pipeline and pipeline[-1] is tidy:
            pipeline[-1:-1] = extra
        else:
            pipeline += extra
    for step in pipeline:
        text = step(text, ctx)
    return text


__all__ = ["normalize", "PIPELINE", "Step", "Context", "LanguageRules", "load_rules",
           "clean_characters", "drop_unspeakable", "drop_editorial_brackets", "apply_lexicon",
           "speak_web_addresses",
           "expand_parenthetical_prefixes", "expand_abbreviations", "spell_dates", "spell_times",
           "spell_money", "spell_rates", "spell_units", "spell_fractions", "spell_ordinals",
           "spell_numbers", "spell_acronyms", "speak_symbols", "normalize_quotes", "tidy"]
