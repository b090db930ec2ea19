"""Terms and names: tokenisation, folding, weighting, name extraction."""

from __future__ import annotations

import math

from bot.stories.terms import MAX_IDF, article_terms, idf, normalise_word, salient_names


def test_normalise_word_folds_case_possessives_plurals_and_diacritics() -> None:
    assert normalise_word("Soldiers") == "soldier"
    assert normalise_word("soldier") == "soldier"
    assert normalise_word("Turkey's") == "turkey"
    assert normalise_word("Syria’s") == "syria"
    assert normalise_word("casualties") == "casualty"
    assert normalise_word("crashes") == "crash"
    assert normalise_word("Çavuşoğlu") == normalise_word("Cavusoglu") == "cavusoglu"
    # words that only look plural are kept
    for word in ("crisis", "Damascus", "press", "gas", "bus"):
        assert normalise_word(word) == word.lower()


def test_article_terms_is_a_unit_vector_without_stopwords_dates_or_junk() -> None:
    vec = article_terms(
        "Soldiers killed",
        "On Thursday the soldiers said %MINIFYHTMLc0c4facb3a84% that 22 soldier deaths "
        "in Idlib were reported.",
    )
    assert math.isclose(math.hypot(*vec.values()), 1.0)
    assert "soldier" in vec and "idlib" in vec
    for gone in ("the", "thursday", "said", "on", "in", "22", "minifyhtmlc0c4facb3a84"):
        assert gone not in vec
    assert not any(any(c.isdigit() for c in t) for t in vec)


def test_rare_words_and_title_words_weigh_more() -> None:
    vec = article_terms("", "Soldiers were killed in Idlib. Officials spoke.")
    assert vec["idlib"] > vec["soldier"] > vec["killed"]
    titled = article_terms("Idlib strike", "Soldiers were killed in Idlib in a strike.")
    plain = article_terms("", "Soldiers were killed in Idlib in a strike.")
    assert titled["strike"] > plain["strike"]


def test_idf_of_unknown_words_is_maximal() -> None:
    assert idf("saraqeb") == MAX_IDF
    assert idf("the") < 0.5
    assert 0 < idf("soldier") < idf("idlib") < MAX_IDF


def test_empty_text_gives_empty_vector() -> None:
    assert article_terms("", "") == {}
    assert article_terms("", "the and of, 2020!") == {}


def test_salient_names_skips_sentence_starts_roles_and_common_words() -> None:
    text = (
        "Turkey retaliated after an air strike in Idlib. Governor Rahmi Dogan of Hatay "
        "said soldiers died near Saraqeb. The governor of Turkey's Hatay province said "
        'more. "We will respond," said Fahrettin Altun. Saraqeb fell on Thursday.'
    )
    names = salient_names(text)
    for name in ("idlib", "rahmi", "dogan", "hatay", "saraqeb", "turkey", "fahrettin", "altun"):
        assert name in names
    for not_name in ("the", "governor", "we", "thursday", "said"):
        assert not_name not in names
    # most frequent first
    assert names.index("hatay") < names.index("rahmi")


def test_salient_names_of_title_case_headlines_keep_only_rare_words() -> None:
    names = salient_names("Syria: NATO Holds Talks After Idlib Strikes\n\nThe council met.")
    assert "idlib" in names
    assert "nato" in names  # acronyms are names
    for word in ("hold", "talk", "after", "strike", "council"):
        assert word not in names


def test_salient_names_split_hyphenated_forms() -> None:
    names = salient_names("Fighters of the Russia-backed forces of Bashar al-Assad advanced.")
    assert {"russia", "bashar", "assad"} <= set(names)
    assert "backed" not in names and "al" not in names
