from narrator.language import primary_subtag, profile
from narrator.model import Article, ListBlock, Metadata, Paragraph, Quote, Section
from narrator.render import quote_sentence, render_text
from narrator.script import build_script, split_sentences

FR = profile("fr")
EN = profile("en")


def article(sections, language="fr"):
    return Article(title="Le titre", language=language, sections=tuple(sections),
                   meta=Metadata(title="Le titre"))


def test_language_tags_reduce_to_primary_subtag():
    assert primary_subtag("fr-FR") == "fr"
    assert primary_subtag("EN_us") == "en"
    assert primary_subtag(None) == "en"
    assert profile("de").quote_with_speaker == EN.quote_with_speaker  # falls back


def test_french_quote_takes_guillemets_and_speaker_without_dash():
    quote = Quote("La mixité est fondamentale.", "- Akim Oural, adjoint au maire de Lille")
    assert quote_sentence(quote, FR) == (
        "« La mixité est fondamentale », a déclaré Akim Oural, adjoint au maire de Lille.")


def test_english_quote_and_quote_without_speaker():
    assert quote_sentence(Quote("We adapt.", "— Jane Roe"), EN) == "\u201cWe adapt,\u201d said Jane Roe."
    assert quote_sentence(Quote("Pourquoi ?"), FR) == "« Pourquoi ? »."


def test_sentences_do_not_split_after_abbreviations_or_initials():
    text = "M. Dupont et Mme Durand arrivent. J. Martin aussi, etc. Puis ? Fin."
    assert split_sentences(text, FR) == [
        "M. Dupont et Mme Durand arrivent.", "J. Martin aussi, etc. Puis ?", "Fin."]
    assert split_sentences("Dr. Who met Mr. Smith. Then he left!", EN) == [
        "Dr. Who met Mr. Smith.", "Then he left!"]


def test_headless_article_chapters_at_pull_quotes_titled_by_opening_words():
    a = article([Section(None, (
        Paragraph("Le chapeau."),
        Quote("La résilience c’est un peu notre capacité à tous à répondre.", "- A. Oural"),
        Paragraph("Le corps. Deux phrases."),
        Quote("Fonctionnelle et sociale, la mixité est fondamentale.", "- A. Oural"),
        Paragraph("La fin."),
    ))])
    script = build_script(a, normalize_speech=False)
    assert [c.title for c in script.chapters] == [
        "Le titre", "La résilience c’est un peu notre capacité…",
        "Fonctionnelle et sociale, la mixité est fondamentale"]
    first, second, third = script.chapters
    assert [u.kind for u in first.utterances] == ["title", "paragraph"]
    assert second.utterances[0].kind == "quote" and second.utterances[0].role == "quote"
    assert [u.text for u in second.utterances[1:]] == ["Le corps.", "Deux phrases."]
    # pauses: sentence < paragraph < chapter, and nothing after the very end
    assert second.utterances[1].pause_ms == FR.sentence_pause_ms
    assert first.utterances[-1].pause_ms == FR.chapter_pause_ms
    assert third.utterances[-1].pause_ms == 0


def test_one_chapter_per_heading_and_lists_spoken_item_by_item():
    a = article([
        Section(None, (Paragraph("Intro."),)),
        Section("Partie un", (ListBlock(("premier point", "second point")),), 2),
        Section("Détail", (Paragraph("Texte."), Quote("Une citation.")), 3),
    ])
    script = build_script(a, normalize_speech=False)
    assert [c.title for c in script.chapters] == ["Le titre", "Partie un", "Détail"]
    assert [u.text for u in script.chapters[1].utterances] == [
        "Partie un", "premier point", "second point"]
    # a quote under a heading does not open a chapter of its own
    assert len(script.chapters[2].utterances) == 3


def test_render_text_is_the_extract_format():
    a = article([Section(None, (Paragraph("  Un   paragraphe. "), Quote("Dit.", "- X"))),
                 Section("Titre deux", (ListBlock(("a", "b")),))])
    assert render_text(a) == ("Le titre\n\nUn paragraphe.\n\n« Dit », a déclaré X.\n\n"
                              "Titre deux\n\na\nb\n")


def test_speech_text_is_normalised_but_display_text_is_not():
    a = article([Section(None, (Paragraph("Il a 50% du territoire."),))])
    script = build_script(a)
    utterance = script.chapters[0].utterances[-1]
    assert utterance.text == "Il a 50% du territoire."
    assert "50" not in utterance.speech and "cinquante" in utterance.speech
