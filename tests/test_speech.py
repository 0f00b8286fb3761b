"""Speech normalisation: one group per pipeline step, French and English, then the whole."""
from __future__ import annotations

import pytest

from narrator import speech
from narrator.speech import Context, normalize
from narrator.speech import numbers as n

FR = Context.for_language("fr")
EN = Context.for_language("en")
XX = Context.for_language("de")  # a language without rules: only neutral steps apply


def run(step, text, ctx=FR):
    return speech.tidy(step(text, ctx), ctx)


class TestRules:
    def test_language_tags_use_the_primary_subtag(self):
        assert Context.for_language("fr-FR").language == "fr"
        assert Context.for_language("EN_gb").rules.table("numbers")["decimal_word"] == "point"

    def test_unknown_language_has_no_rules(self):
        assert XX.rules.data == {}
        assert Context.for_language("").rules.data == {}
        assert Context.for_language("../../etc").rules.data == {}


class TestNumbersHelpers:
    def test_say_decimals_and_thousands(self):
        assert n.say("1 250 000", FR) == "un million deux cent cinquante mille"
        assert n.say("3,5", FR) == "trois virgule cinq"
        assert n.say("12,05", FR) == "douze virgule zéro cinq"
        assert n.say("1,250,000", EN) == "one million two hundred and fifty thousand"
        assert n.say("3.14", EN) == "three point one four"

    def test_leading_zeros_and_feminine(self):
        assert n.say("007", FR) == "zéro zéro sept"
        assert n.cardinal(21, FR, feminine=True) == "vingt et une"
        assert n.cardinal(21, EN, feminine=True) == "twenty-one"

    def test_ordinal_fixes_num2words_spelling(self):
        assert n.ordinal(80, FR) == "quatre-vingtième"
        assert n.ordinal(1, FR, "feminine") == "première"

    def test_roman_values(self):
        assert n.roman_value("XXI") == 21
        assert n.roman_value("MCMXCIX") == 1999
        assert n.roman_value("IIII") is None
        assert n.roman_value("SNCF") is None

    def test_singular(self):
        assert n.is_singular("1,5", FR) and not n.is_singular("2", FR)
        assert n.is_singular("1", EN) and not n.is_singular("1.5", EN)


class TestCleanCharacters:
    def test_spaces_apostrophes_and_superscripts(self):
        assert speech.clean_characters("1\u202f250\u00a0000 l\u2019eau 1ᵉʳ XXᵉ", FR) == \
            "1 250 000 l'eau 1er XXe"

    def test_ellipsis(self):
        assert speech.clean_characters("enfin... bon", EN) == "enfin… bon"


class TestEditorialBrackets:
    @pytest.mark.parametrize("cut", ["[...]", "[…]", "(...)", "[ … ]"])
    def test_cut_becomes_a_pause(self, cut):
        assert run(speech.drop_editorial_brackets, f"les paramètres {cut} que nous", XX) == \
            "les paramètres, que nous"

    def test_cut_at_sentence_end(self):
        assert run(speech.drop_editorial_brackets, "He said [...].", EN) == "He said."

    def test_ordinary_brackets_stay(self):
        assert run(speech.drop_editorial_brackets, "la MEL (Lille) [note]", FR) == \
            "la MEL (Lille) [note]"


class TestLexicon:
    def test_whole_word_case_sensitive(self):
        ctx = Context.for_language("fr", {"MEL": "Mel"})
        assert speech.apply_lexicon("la MEL, MELANIE, mel et la MEL.", ctx) == \
            "la Mel, MELANIE, mel et la Mel."

    def test_longest_entry_wins_and_neutral(self):
        ctx = Context.for_language("de", {"CSR": "C S R", "IMPACT CSR": "Impact"})
        assert speech.apply_lexicon("IMPACT CSR LEADERS", ctx) == "Impact LEADERS"

    def test_lexicon_beats_acronym_rules(self):
        assert normalize("la SNCF", "fr", lexicon={"SNCF": "Sncf"}) == "la Sncf"


class TestWebAddresses:
    def test_french_url_and_email(self):
        assert run(speech.speak_web_addresses, "Voir https://www.mel.fr/agenda/ ou a.b@mel.fr.") == \
            "Voir w w w point mel point fr slash agenda ou a point b arobase mel point fr."

    def test_english_query_is_dropped(self):
        assert run(speech.speak_web_addresses, "See www.example.com/a_b?x=1, now", EN) == \
            "See w w w dot example dot com slash a underscore b, now"

    def test_no_rules_no_change(self):
        assert speech.speak_web_addresses("www.x.de", XX) == "www.x.de"


class TestParentheticalPrefixes:
    def test_prefix(self):
        assert run(speech.expand_parenthetical_prefixes, "les acteurs (para)publics") == \
            "les acteurs publics et parapublics"
        assert run(speech.expand_parenthetical_prefixes, "(non)profit groups", EN) == \
            "profit and nonprofit groups"

    def test_inclusive_writing(self):
        assert run(speech.expand_parenthetical_prefixes, "les élu·e·s, élu(e)s, acteur(s)") == \
            "les élus, élus, acteurs"

    def test_short_parentheses_stay(self):
        assert run(speech.expand_parenthetical_prefixes, "(a)b et (PS)", FR) == "(a)b et (PS)"


class TestAbbreviations:
    def test_french(self):
        assert run(speech.expand_abbreviations,
                   "M. Dupont et Mme Roux, p. ex. le n° 5, cf. le Dr Martin, etc. Puis") == \
            ("Monsieur Dupont et Madame Roux, par exemple le numéro 5, confer le Docteur Martin,"
             " et cetera. Puis")

    def test_sentence_final_m_is_not_monsieur(self):
        assert run(speech.expand_abbreviations, "le groupe M. il") == "le groupe M. il"

    def test_full_stop_kept_only_at_sentence_end(self):
        assert run(speech.expand_abbreviations, "livres, etc. et disques") == \
            "livres, et cetera et disques"
        assert run(speech.expand_abbreviations, "livres, etc.") == "livres, et cetera."

    def test_english(self):
        assert run(speech.expand_abbreviations, "Mr. Smith, e.g. No. 10 vs. Dr. Who", EN) == \
            "Mister Smith, for example number 10 versus Doctor Who"

    def test_no_in_a_word_untouched(self):
        assert run(speech.expand_abbreviations, "Nos 5 piano, no 5", EN) == "Nos 5 piano, no 5"


class TestDates:
    def test_french_numeric(self):
        assert run(speech.spell_dates, "le 25/11/2026 et le 2026-03-01") == \
            "le 25 novembre 2026 et le 1er mars 2026"

    def test_french_written_dates_stay_and_first_day(self):
        assert run(speech.spell_dates, "le 25 novembre 2026, le 1 mai") == \
            "le 25 novembre 2026, le 1er mai"

    def test_english(self):
        assert run(speech.spell_dates, "on 11/25/2026 and 25/11/2026 and November 3", EN) == \
            ("on November twenty-fifth, 2026 and November twenty-fifth, 2026 and "
             "November third")

    def test_impossible_dates_stay(self):
        assert run(speech.spell_dates, "score 45/13/2026") == "score 45/13/2026"


class TestTimes:
    def test_french_forms(self):
        assert run(speech.spell_times, "à 13h59, 13:59, 9 h 30, 21h et 1h") == \
            ("à treize heures cinquante-neuf, treize heures cinquante-neuf, neuf heures trente,"
             " vingt et une heures et une heure")

    def test_french_duration(self):
        assert run(speech.spell_times, "13:59 min") == "treize minutes cinquante-neuf"

    def test_minutes_are_feminine(self):
        assert run(speech.spell_times, "10h21") == "dix heures vingt et une"

    def test_english(self):
        assert run(speech.spell_times, "at 9:05 pm, 13:59 and 7:00", EN) == \
            "at nine oh five p m, thirteen fifty-nine and seven o'clock"

    def test_not_a_time(self):
        assert run(speech.spell_times, "ratio 3:75 et 30 heures, km/h") == \
            "ratio 3:75 et 30 heures, km/h"


class TestMoney:
    def test_french_multipliers(self):
        assert run(speech.spell_money, "3,5 M€, 1 M€, 50 k€ et 2 Md€") == \
            ("trois virgule cinq millions d'euros, un million d'euros, cinquante mille euros et"
             " deux milliards d'euros")

    def test_french_cents_and_singular(self):
        assert run(speech.spell_money, "12,50 €, 1 €, 21 £ et 100 EUR") == \
            "douze euros cinquante, un euro, vingt et une livres et cent euros"

    def test_english_symbol_before(self):
        assert run(speech.spell_money, "$3.5m, $1, £20 and €12.50", EN) == \
            ("three point five million dollars, one dollar, twenty pounds and twelve euros and"
             " fifty cents")

    def test_english_multiplier_word(self):
        assert run(speech.spell_money, "$1.5 billion", EN) == "one point five billion dollars"


class TestUnits:
    def test_french(self):
        assert run(speech.spell_units, "50%, 50 %, 90 km/h, 1,5 km, -5 °C, 80 m², 1 kg") == \
            ("cinquante pour cent, cinquante pour cent, quatre-vingt-dix kilomètres heure,"
             " un virgule cinq kilomètre, moins cinq degrés Celsius,"
             " quatre-vingts mètres carrés, un kilo")

    def test_feminine_unit(self):
        assert run(speech.spell_units, "21 t") == "vingt et une tonnes"

    def test_english(self):
        assert run(speech.spell_units, "12.5% and 1 km, 3 kg", EN) == \
            "twelve point five percent and one kilometre, three kilograms"

    def test_decades_are_not_seconds(self):
        assert run(speech.spell_units, "the 1990s, 10 s", EN) == "the 1990s, ten seconds"
        assert run(speech.spell_numbers, "the 1990s and the '80s", EN) == \
            "the nineteen nineties and the eighties"

    def test_rates_say_per(self):
        assert normalize("850 €/mois, 5 000 hab./km², 130 g/km et 1 500 kWh/an", "fr") == \
            ("huit cent cinquante euros par mois, cinq mille habitants par kilomètre carré,"
             " cent trente grammes par kilomètre et mille cinq cents kilowattheures par an")
        assert normalize("$12/month and 5,000 people/km²", "en") == \
            "twelve dollars per month and five thousand people per square kilometre"

    def test_slashes_that_are_not_rates_stay(self):
        # a unit of its own, "and/or", a fraction, an unknown denominator
        assert run(speech.spell_rates, "90 km/h, et/ou, 1/2, TCP/IP, €/kilo") == \
            "90 km/h, et/ou, 1/2, TCP/IP, €/kilo"
        assert normalize("Ouvert 24h/24 et 7 j/7.", "fr") == \
            "Ouvert vingt-quatre heures sur vingt-quatre et sept jours sur sept."

    def test_fractions(self):
        assert run(speech.spell_fractions, "1/2, ½, 3/4, 1/3, 2/3, 2/5 et 1/10") == \
            "un demi, un demi, trois quarts, un tiers, deux tiers, deux cinquièmes et un dixième"
        assert run(speech.spell_fractions, "1/2, ¾, 2/3 and 2/5", EN) == \
            "one half, three quarters, two thirds and two fifths"
        # not fractions: over one, a large denominator, a path, a decimal
        assert run(speech.spell_fractions, "24/7, 5/4, 3/12, a/1/2, 1/2.5") == \
            "24/7, 5/4, 3/12, a/1/2, 1/2.5"
        assert normalize("ouvert 24/7, un partage 50/50", "fr") == \
            ("ouvert vingt-quatre heures sur vingt-quatre, sept jours sur sept,"
             " un partage cinquante-cinquante")
        assert normalize("open 24/7, a 50/50 split", "en") == \
            "open twenty-four seven, a fifty-fifty split"

    def test_day_and_month_without_a_year_after_le_du_au(self):
        assert normalize("le 12/05, du 1/06 au 15/06, mais 3/4 des élèves", "fr") == \
            "le douze mai, du premier juin au quinze juin, mais trois quarts des élèves"

    def test_unit_letters_inside_words_stay(self):
        assert run(speech.spell_units, "12 mai, 3 l'ont vu, 4G") == "12 mai, 3 l'ont vu, 4G"


class TestOrdinals:
    def test_french_arabic(self):
        assert run(speech.spell_ordinals, "1er, 1re, 1ère, 3e, 3ème, 2nd, 2nde, 80e") == \
            "premier, première, première, troisième, troisième, second, seconde, quatre-vingtième"

    def test_french_plural(self):
        assert run(speech.spell_ordinals, "les 1ers jours, les 1res places, les 3es, les 2ndes") == \
            "les premiers jours, les premières places, les troisièmes, les secondes"

    def test_french_roman(self):
        assert run(speech.spell_ordinals, "au XXe siècle, au XXIe siècle, la Ve République") == \
            "au vingtième siècle, au vingt et unième siècle, la cinquième République"

    def test_french_regnal_and_words(self):
        assert run(speech.spell_ordinals, "Louis XIV, Jean-Paul II, François Ier. Le De Ce") == \
            "Louis quatorze, Jean-Paul deux, François premier. Le De Ce"

    def test_english(self):
        assert run(speech.spell_ordinals, "1st, 2nd, 3rd, 21st, XX century, Henry VIII. Then I", EN) == \
            "first, second, third, twenty-first, twentieth century, Henry the eighth. Then I"


class TestNumbers:
    def test_french(self):
        assert run(speech.spell_numbers, "1 250 000 et 1.250.000, 12,5, -3, 2020-2026") == \
            ("un million deux cent cinquante mille et un million deux cent cinquante mille,"
             " douze virgule cinq, moins trois, deux mille vingt à deux mille vingt-six")

    def test_english_years_and_thousands(self):
        assert run(speech.spell_numbers, "In 1999, 1,250,000 and 12.5; 2026 and 5000", EN) == \
            ("In nineteen ninety-nine, one million two hundred and fifty thousand and twelve point"
             " five; twenty twenty-six and five thousand")

    def test_elision_before_spelled_numbers(self):
        assert run(speech.spell_numbers, "de 1 à 2, plus que 1, de une") == \
            "d'un à deux, plus qu'un, d'une"

    def test_glued_to_letters(self):
        assert run(speech.spell_numbers, "COP21 et A380") == "COP vingt et un et A trois cent quatre-vingts"

    def test_neutral_language_untouched(self):
        assert speech.spell_numbers("3 Äpfel", XX) == "3 Äpfel"


class TestAcronyms:
    def test_french(self):
        assert run(speech.spell_acronyms, "la SNCF, l'ONU, la MEL, la CSR, IMPACT, IA") == \
            "la S N C F, l'Onu, la Mel, la C S R, Impact, I A"

    def test_english(self):
        assert run(speech.spell_acronyms, "the BBC and NASA, NATO, PWC", EN) == \
            "the B B C and Nasa, Nato, P W C"

    def test_line_in_capitals_is_read(self):
        assert run(speech.spell_acronyms, "LA MEL DE LILLE ET LA SNCF") == \
            "La Mel De Lille Et La S N C F"

    def test_mixed_case_words_stay(self):
        assert run(speech.spell_acronyms, "Lille, McDonald's, iPhone") == "Lille, McDonald's, iPhone"


class TestSymbols:
    def test_french_and_english(self):
        assert run(speech.speak_symbols, "R&D + 1") == "R et D plus 1"
        assert run(speech.speak_symbols, "R & D", EN) == "R and D"


class TestQuotes:
    def test_french_guillemets(self):
        assert run(speech.normalize_quotes, 'Il dit “revenir” et "oui".') == \
            "Il dit « revenir » et « oui »."

    def test_english_curly(self):
        assert run(speech.normalize_quotes, 'He said "yes".', EN) == "He said \u201cyes\u201d."


class TestTidy:
    def test_stray_punctuation(self):
        assert speech.tidy("  a ,  b , , c ( ) d , . ", FR) == "a, b, c d."


class TestNormalize:
    def test_french_sentence(self):
        assert normalize("Le 25/11/2026 à 13h59, 3,5 M€ (+50 %).", "fr") == \
            ("Le vingt-cinq novembre deux mille vingt-six à treize heures cinquante-neuf, trois"
             " virgule cinq millions d'euros (plus cinquante pour cent).")

    def test_seed_sentences(self):
        text = ("La MEL, métropole la plus agricole de France avec 50% de son territoire,"
                " les différents paramètres [...] que nous détenons, les acteurs (para)publics.")
        assert normalize(text, "fr", lexicon={"MEL": "Mel"}) == \
            ("La Mel, métropole la plus agricole de France avec cinquante pour cent de son"
             " territoire, les différents paramètres, que nous détenons, les acteurs publics et"
             " parapublics.")

    def test_english_sentence(self):
        assert normalize("On 11/25/2026, Mr. Smith paid $3.5m (12.5%).", "en-US") == \
            ("On November twenty-fifth, twenty twenty-six, Mister Smith paid three point five"
             " million dollars (twelve point five percent).")

    def test_unknown_language_neutral_steps_only(self):
        assert normalize("Am 3. Mai [...] 13:59 Uhr, MEL", "de", lexicon={"MEL": "Mel"}) == \
            "Am 3. Mai, 13:59 Uhr, Mel"

    def test_extra_steps_run_before_tidy(self):
        def shout(text, ctx):
            return text.upper() + "  ,"

        assert normalize("le 1er mai", "fr", extra=[shout]) == "LE PREMIER MAI"

    def test_replacing_the_pipeline(self):
        assert normalize("50 %", "fr", steps=[speech.spell_units]) == "cinquante pour cent"
        assert normalize("50 %", "fr", steps=[]) == "50 %"

    def test_plain_text_is_unchanged(self):
        text = "Fonctionnelle et sociale, la mixité est absolument fondamentale."
        assert normalize(text, "fr") == text


class TestProperties:
    """Random sentences made of the forms the steps handle: nothing raises, every digit is
    said in words, and normalising speech again changes nothing."""

    TOKENS = {
        "fr": ["le", "la", "Akim", "MEL", "SNCF", "3,5 M€", "1 250 000", "12,5", "50 %", "50%",
               "13h59", "9 h 30", "25/11/2026", "1er", "3e", "XXIe siècle", "12,50 €", "90 km/h",
               "-5 °C", "80 m²", "M. Dupont", "Mme", "p. ex.", "n° 5", "etc.", "[...]", "(para)publics",
               "“oui”", "contact@mel.fr", "2020-2026", "COP21", ",", "."],
        "en": ["the", "a", "Smith", "BBC", "NASA", "$3.5m", "1,250,000", "12.5", "50%", "9:05 pm",
               "11/25/2026", "1st", "21st", "$12.50", "£20", "90 km/h", "Mr. Jones", "e.g.",
               "No. 5", "etc.", "[...]", "1990s", "2026", "\"yes\"", ",", "."],
    }

    @pytest.mark.parametrize("language", ["fr", "en"])
    def test_random_sentences(self, language):
        from hypothesis import given, settings, strategies as st

        @settings(max_examples=150, deadline=None)
        @given(st.lists(st.sampled_from(self.TOKENS[language]), min_size=1, max_size=12))
        def check(tokens):
            said = normalize(" ".join(tokens), language)
            assert not any(c.isdigit() for c in said), said
            assert normalize(said, language) == said

        check()
