"""Engine-aware speakable text: each engine's rules (narrator/data/speech/engines/*.toml) fix
what that engine reads wrongly, in what it is given, never in what a reader sees."""
from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from narrator.engines import engine_class, engine_names
from narrator.errors import NarratorError
from narrator.model import Chapter, Script, Utterance
from narrator.script import for_engine
from narrator.speech import normalize
from narrator.speech.engine_rules import load_engine_rules, parse_engine_rules

ROOT = Path(__file__).resolve().parent.parent
PICO = load_engine_rules("pico")


@pytest.mark.parametrize("written, given", [
    # The seed's own text: an editor's cut, a colon and a comma before non-breaking spaces.
    ("avec les différents paramètres [...] que nous détenons",
     "avec les différents paramètres, que nous détenons"),
    ("avec les différents paramètres […] que nous", "avec les différents paramètres, que nous"),
    ("ses parties prenantes :\u00a0partenaires privés", "ses parties prenantes : partenaires privés"),
    ("à l’innovation et au numérique,\u00a0explique", "à l’innovation et au numérique, explique"),
    ("Akim\u00a0Oural ajoute", "Akim Oural ajoute"),
    ("le mot,la ville;la mairie", "le mot, la ville; la mairie"),
    ("le conseil [la ville] décide {oui}", "le conseil (la ville) décide (oui)"),
    ("- Akim Oural, Adjoint au Maire", "Akim Oural, Adjoint au Maire"),
    ("les élus et/ou les agents", "les élus et ou les agents"),
    ("a | b * c _ d ^ e", "a b c d e"),
    ("les élu·e·s • Paris", "les élues, Paris"),
    ("moins de 5 % < 10 %", "moins de 5 % inférieur à 10 %"),
])
def test_pico_rules_fix_what_pico_reads_aloud(written, given):
    assert PICO.apply(written, "fr") == given


def test_numbers_and_dates_keep_their_punctuation():
    for text in ("3,5 millions", "à 13:59", "le 25/11/2026", "1 250,5"):
        assert PICO.apply(text, "fr") == text


def test_rules_follow_the_language():
    assert PICO.apply("x < 5 and y > 3", "en") == "x less than 5 and y more than 3"
    assert PICO.apply("x < 5", "de") == "x kleiner als 5"
    assert PICO.apply("Votre newsletter", "en") == "Votre newsletter"   # French words only
    assert PICO.apply("Votre Newsletter du WEEK-END", "fr") == "Votre niouzlèteur du ouikènde"
    # Whole words only
    assert PICO.apply("designer et co-design", "fr") == "designer et co-design"


def test_the_seed_with_normalisation_gives_pico_no_punctuation_to_name():
    from narrator.pipeline import extract, script_for

    script = script_for(extract((ROOT / "samples" / "mel-resilience.html").read_bytes()))
    fitted = for_engine(script, PICO)
    said = " ".join(u.speech for u in fitted.utterances())
    for mark in ("[", "]", "\u00a0", "\u202f", "/", "<"):
        assert mark not in said
    assert "coworking" in said                   # Pico says it right: left alone


def test_for_engine_changes_what_is_said_never_what_is_shown():
    script = Script("T", "fr", (Chapter("T", (
        Utterance("Les paramètres [...] que", "Les paramètres [...] que", "paragraph", 300),
        Utterance("Notre newsletter", "Notre newsletter", "title", 0, "quote"))),))
    fitted = for_engine(script, PICO)
    assert [u.text for u in fitted.utterances()] == ["Les paramètres [...] que", "Notre newsletter"]
    assert [u.speech for u in fitted.utterances()] == ["Les paramètres, que", "Notre niouzlèteur"]
    assert [(u.kind, u.pause_ms, u.role) for u in fitted.utterances()] == \
        [("paragraph", 300, "narrator"), ("title", 0, "quote")]
    assert fitted.chapters[0].title == "T"
    assert for_engine(script, load_engine_rules(None)) is script


def test_espeak_says_the_english_words_of_french_articles_without_switching_voice():
    from narrator.engines.espeak import phonemes

    words = tomllib.loads((resources.files("narrator") / "data" / "speech" / "engines"
                           / "espeak.toml").read_text(encoding="utf-8"))["words"]["fr"]
    for english, french in words.items():
        assert "(en)" in phonemes(english, "fr"), f"{english}: no entry needed"
        assert "(" not in phonemes(french, "fr"), f"{french} still switches language"
    rules = load_engine_rules("espeak")
    sentence = rules.apply("Retrouvez votre newsletter et nos espaces de coworking ce week-end.",
                           "fr")
    assert "(" not in phonemes(sentence, "fr")


def test_a_shouted_kicker_is_words_with_its_acronyms_spelled():
    # Every engine gets this from speech normalisation.
    assert normalize("IMPACT CSR LEADERS", "fr") == "Impact C S R Leaders"
    assert normalize("IMPACT RSS LEADERS", "fr") == "Impact R S S Leaders"
    assert normalize("LA MEL DE LILLE LANCE SON PLAN", "fr") == "La Mel De Lille Lance Son Plan"
    # ... and Pico then says the English word as a French reader does.
    assert PICO.apply(normalize("IMPACT CSR LEADERS", "fr"), "fr") == "Impact C S R lideurs"


def test_every_engine_that_names_rules_has_them():
    named = {}
    for name in engine_names():
        try:
            cls = engine_class(name)
        except NarratorError:
            continue
        if cls.speech_rules:
            named[name] = load_engine_rules(cls.speech_rules)
    assert set(named) >= {"pico", "espeak"}
    assert all(named.values())


def test_bad_rules_are_a_clear_error(tmp_path):
    with pytest.raises(NarratorError, match="replace rule 1 is invalid"):
        parse_engine_rules("x", {"replace": [{"pattern": "(", "with": ""}]})
    with pytest.raises(NarratorError, match="replace rule 1 is invalid"):
        parse_engine_rules("x", {"replace": [{"pattern": "a", "with": r"\2"}]})
    with pytest.raises(NarratorError, match="no engine speech rules"):
        load_engine_rules(str(tmp_path / "absent.toml"))
    own = tmp_path / "mine.toml"
    own.write_text("[[replace]]\npattern = 'foo'\nwith = 'bar'\n[words.fr]\nchat = 'chien'\n")
    assert load_engine_rules(str(own)).apply("foo le Chat", "fr") == "bar le chien"


def test_the_pipeline_gives_pico_the_fitted_text_and_shows_the_written_one(tmp_path, monkeypatch):
    pytest.importorskip("py_nanotts")
    from narrator.cache import SynthesisCache, cache_key
    from narrator.pipeline import NarrateOptions, narrate

    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    html = ("<html lang='fr'><head><title>T</title></head><body><article>"
            "<h1>Notre newsletter du lundi</h1>"
            "<p>Les paramètres [...] que nous détenons, dit-il :\u00a0les voici.</p>"
            "</article></body></html>").encode()
    narrate(html, tmp_path / "t.mp3", options=NarrateOptions(engine="pico"))
    cache = SynthesisCache(tmp_path / "cache", 10**9)
    settings = {}
    assert cache_key("pico", "fr-FR", settings, "Notre niouzlèteur du lundi") in cache
    assert cache_key("pico", "fr-FR", settings,
                     "Les paramètres, que nous détenons, dit-il : les voici.") in cache
    cues = (tmp_path / "t.transcript.vtt").read_text(encoding="utf-8")
    assert "Notre newsletter du lundi" in cues
    assert "Les paramètres [...] que nous détenons" in cues


@pytest.mark.parametrize("name", ["pico", "espeak"])
def test_hostile_text_is_fitted_in_linear_time(name):
    # Rules that start with \s* would try a whole run of spaces at every position: quadratic
    # (20,000 spaces took 21 s, "/ " x 100,000 took 91 s). Generous bound: 3 s for all.
    import time

    rules = load_engine_rules(name)
    started = time.perf_counter()
    for text in (" \u00a0" * 100_000, "/ " * 100_000, "< " * 100_000, " · " * 100_000,
                 "[ " * 100_000, "* " * 100_000, ",a" * 100_000, "|" * 200_000,
                 "[...] " * 50_000, "newsletter " * 50_000):
        rules.apply(text, "fr")
    assert time.perf_counter() - started < 3
