from __future__ import annotations

import pytest

from inference.tokens import TextUnits, TokenEstimator, base_units
from summarizer.chunking import Chunk, split_text
from summarizer_fakes import normalize


def fill_ratio(chunks: list[Chunk], budget_tokens: int, estimator: TokenEstimator) -> float:
    """Mean estimated fill of the budget across chunks (0..1)."""
    return sum(c.tokens(estimator) for c in chunks) / (len(chunks) * budget_tokens)


@pytest.mark.parametrize("budget", [200, 500, 795, 1500])
def test_chunks_fill_at_least_85_percent_of_the_budget_on_average_and_never_exceed_it(long_document, budget):
    estimator = TokenEstimator()
    chunks = split_text(long_document, budget, estimator)
    assert len(chunks) > 10
    assert max(estimator.count(c.text) for c in chunks) <= budget
    assert fill_ratio(chunks, budget, estimator) >= 0.85


def test_concatenated_chunks_equal_the_input_modulo_whitespace(long_document):
    chunks = split_text(long_document, 795, TokenEstimator())
    assert normalize(" ".join(c.text for c in chunks)) == normalize(long_document)
    assert all(c.text == long_document[c.start:c.end] for c in chunks)


def test_every_cut_lands_on_a_sentence_end_and_most_on_a_paragraph_end(long_document):
    chunks = split_text(long_document, 795, TokenEstimator())
    paragraph_cuts = 0
    for chunk in chunks[:-1]:
        assert chunk.text.rstrip()[-1] in ".!?", chunk.text[-80:]
        paragraph_cuts += long_document[chunk.end:chunk.end + 2] == "\n\n"
    assert paragraph_cuts / (len(chunks) - 1) >= 0.5


def test_given_paragraphs_that_fit_when_split_then_cuts_fall_between_paragraphs():
    para = " ".join(f"Sentence {i} is about the harbour." for i in range(10))
    text = "\n\n".join([para] * 6)
    estimator = TokenEstimator(margin=0)
    budget = estimator.count(para) * 2 + 5
    chunks = split_text(text, budget, estimator)
    assert [c.text for c in chunks] == [para + "\n\n" + para] * 3


def test_an_over_long_sentence_is_split_at_word_boundaries_within_budget():
    words = [f"item{i}" for i in range(3000)]
    text = "Intro sentence here. " + " ".join(words) + ". Outro sentence."
    estimator = TokenEstimator()
    chunks = split_text(text, 300, estimator)
    assert max(estimator.count(c.text) for c in chunks) <= 300
    assert normalize(" ".join(c.text for c in chunks)) == normalize(text)
    for chunk in chunks:
        assert text[chunk.start - 1:chunk.start].strip() == "" and text[chunk.end:chunk.end + 1].strip() == ""


def test_a_single_word_longer_than_the_budget_is_cut_by_characters_and_nothing_is_lost():
    blob = "QUJD" * 5000
    text = f"Attachment follows. {blob} End."
    estimator = TokenEstimator()
    chunks = split_text(text, 256, estimator)
    assert max(estimator.count(c.text) for c in chunks) <= 256
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("text", ["", "   \n\n  \n"])
def test_empty_text_gives_no_chunks(text):
    assert split_text(text, 100, TokenEstimator()) == []


def test_a_budget_too_small_for_any_text_is_refused():
    with pytest.raises(ValueError, match="too small"):
        split_text("hello world", 0, TokenEstimator())


def test_splitting_a_5mb_document_takes_well_under_the_api_budget(long_document):
    import time

    text = long_document * 13  # ~5 MB
    started = time.perf_counter()
    chunks = split_text(text, 795, TokenEstimator())
    assert time.perf_counter() - started < 3.0
    assert len(chunks) > 1000


def test_each_chunk_carries_its_own_base_units(long_document):
    estimator = TokenEstimator()
    for chunk in split_text(long_document, 795, estimator):
        assert chunk.units == base_units(chunk.text)


def test_counting_spans_in_place_agrees_with_counting_their_text():
    # ASCII and non-ASCII letters, long words, digits, punctuation, Unicode and ASCII control spaces.
    text = ("Naïve café\u00a0owners met 2024-05-01 in Zürich\u2003(again). Internationalization\x1cof "
            "the 漢字 register; https://example.org/a_very_long_path. \n\n Done!\u2029Next\tline.")
    counter = TextUnits(text)
    cuts = [0] + [i for i, ch in enumerate(text) if ch.isspace()] + [len(text)]
    for i, start in enumerate(cuts):
        for end in cuts[i:]:
            assert counter.units(start, end) == base_units(text[start:end]), (start, end)
