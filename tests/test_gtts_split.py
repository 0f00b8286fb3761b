"""Splitting utterances into gTTS requests: under 100 characters, at clause boundaries,
never punctuation alone."""
import re

from hypothesis import given, settings, strategies as st

from narrator.engines.text_split import (avoidable_mid_clause_cuts, cut_at_boundary, speakable,
                                         split_text)

LONG_FR = ("La Métropole européenne de Lille (MEL), qui regroupe 95 communes et plus de 1,1 "
           "million d’habitants, a présenté mardi son plan de résilience climatique — un "
           "document de 300 pages — adopté à l’unanimité; il prévoit notamment la plantation "
           "de 100 000 arbres, la désimperméabilisation des cours d’école et un fonds de 3,5 M€.")


def _assert_valid(text, chunks, limit=100):
    assert all(len(c) <= limit for c in chunks)
    assert all(speakable(c) for c in chunks), chunks
    # Nothing lost, nothing reordered: the requests say the text, word for word.
    assert " ".join(chunks) == " ".join(text.split())


def test_short_text_is_one_request_and_whitespace_is_collapsed():
    assert split_text("  Bonjour,\n  le monde.  ") == ["Bonjour, le monde."]


def test_long_sentence_cuts_only_at_clause_boundaries():
    chunks = split_text(LONG_FR)
    _assert_valid(LONG_FR, chunks)
    assert len(chunks) == 4                       # the fewest possible for 327 characters
    for chunk, following in zip(chunks, chunks[1:] + [None]):
        assert cut_at_boundary(chunk, following), (chunk, following)


def test_stronger_boundary_wins_when_request_count_is_equal():
    text = ("Le conseil a voté le budget, après un long débat sur les transports; "
            "les élus ont ensuite examiné le plan climat, les mesures pour l’eau et les arbres.")
    chunks = split_text(text)
    assert len(chunks) == 2
    assert chunks[0].endswith("transports;")


def test_cuts_before_an_opening_bracket_or_quote():
    text = ("Les experts du groupe de travail régional ont rendu leur rapport au président "
            "(un texte de quarante pages sur les inondations) avant la séance publique.")
    chunks = split_text(text)
    _assert_valid(text, chunks)
    assert any(c.startswith("(") for c in chunks[1:]), chunks
    for chunk, following in zip(chunks, chunks[1:] + [None]):
        assert cut_at_boundary(chunk, following), (chunk, following)


def test_numbers_times_and_initials_are_not_cut():
    text = ("M. Dupont a annoncé à 10:30 une hausse de 3,5 % du budget des transports "
            "publics de la métropole, ce qui représente un effort considérable pour les communes.")
    chunks = split_text(text)
    _assert_valid(text, chunks)
    assert chunks[0].endswith("métropole,")
    assert not any(re.search(r"(^|\s)M\.$", c) for c in chunks)


def test_punctuation_only_is_never_a_request():
    assert split_text("« … » — ( ) ; !") == []
    assert split_text("") == []
    text = "Fin du premier point de l’ordre du jour et des débats " * 2 + "— ( … ) — " + "x" * 60
    chunks = split_text(text)
    _assert_valid(text, chunks)


def test_a_clause_over_the_limit_is_cut_between_words():
    text = ("le rapport recommande de planter des arbres dans toutes les cours des écoles "
            "primaires de la métropole avant la fin du mandat actuel des élus locaux")
    chunks = split_text(text)
    _assert_valid(text, chunks)
    assert len(chunks) == 2
    assert all(not c.startswith(" ") and c.split()[-1].isalpha() for c in chunks)


def test_a_word_over_the_limit_is_cut_inside():
    url = "https://example.org/" + "a" * 230
    chunks = split_text(f"Voir {url} pour le détail.")
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(chunks).replace(" ", "") == f"Voir{url}pourledétail."


_word = st.text(alphabet="abcdéèàçxyzAB0123456789", min_size=1, max_size=14)
_short_word = st.text(alphabet="abcdéèàçxyz0123456789", min_size=1, max_size=10)
_punct = st.sampled_from(["", "", "", ",", ";", ":", ".", " —", " (", ")", " «", " »", "…"])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(_word, _punct), min_size=1, max_size=80),
       st.integers(min_value=20, max_value=120))
def test_any_text_splits_into_valid_requests(pieces, limit):
    text = " ".join(w + p for w, p in pieces)
    chunks = split_text(text, limit)
    _assert_valid(text, chunks, limit)
    assert avoidable_mid_clause_cuts(text, chunks, limit) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_short_word, min_size=1, max_size=8), min_size=1, max_size=12),
       st.lists(st.sampled_from([",", ";", ":", " —"]), min_size=12, max_size=12))
def test_short_clauses_are_never_cut_inside(clauses, marks):
    # Every clause is under the limit (8 words of <= 10 characters, a mark), so every cut
    # must fall between clauses.
    text = " ".join(" ".join(words) + mark for words, mark in zip(clauses, marks))
    chunks = split_text(text)
    _assert_valid(text, chunks)
    for chunk, following in zip(chunks, chunks[1:] + [None]):
        assert cut_at_boundary(chunk, following), (chunk, following)


def test_french_spaced_punctuation_stays_with_its_word():
    text = ("Un changement impactant non seulement pour la ville mais également pour toutes ses "
            "parties prenantes : partenaires privés, publics et institutionnels.")
    chunks = split_text(text)
    _assert_valid(text, chunks)
    assert not any(c[0] in ":;!?»" or c[-1] in "«" for c in chunks), chunks


def test_an_unavoidable_cut_inside_a_clause_falls_near_its_middle():
    text = ("Ces nouvelles gouvernances pourront mutualiser les avis de tous sur des éléments "
            "de la vie quotidienne.")                                   # 101 characters
    first, second = split_text(text)
    assert abs(len(first) - len(second)) < 20, (first, second)
    assert avoidable_mid_clause_cuts(text, [first, second]) == []


def test_avoidable_mid_clause_cuts_are_detected():
    text = "Le conseil a voté le budget, après un long débat sur les transports en commun."
    assert avoidable_mid_clause_cuts(text, ["Le conseil a voté le", "budget, après un long "
                                            "débat sur les transports en commun."]) != []
    assert avoidable_mid_clause_cuts(text, ["Le conseil a voté le budget,", "après un long "
                                            "débat sur les transports en commun."]) == []


def test_a_boundary_that_leaves_nothing_to_say_is_not_counted_as_avoidable():
    # Found by hypothesis: the cut before the final "(" cannot be used ("(" alone is never a
    # request), so the 21 characters must be cut between words, which is not avoidable.
    text = "00 000 000 000000 0 ("
    chunks = split_text(text, 20)
    _assert_valid(text, chunks, 20)
    assert avoidable_mid_clause_cuts(text, chunks, 20) == []
