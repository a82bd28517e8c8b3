"""classifier.vectorize.FastFeatures gives exactly the matrix scikit-learn's transform gives."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.corpus import load_corpus
from classifier.train import make_features
from classifier.vectorize import FastFeatures, char_wb_ngrams
from classifier.text import prepare

ODD_TEXTS = ["", "a", "  x   y  ", "ab", "I", "żółć gaz w kuchni", "نشم رائحة غاز", "mould mould mould",
             "a\tb\nc", "re: fw: STILL no heating!!!", "12345 67", "supercalifragilisticexpialidocious"]


@pytest.fixture(scope="module")
def fitted():
    texts = [prepare(e.subject, e.body) for e in load_corpus()[:400]]
    return make_features().fit(texts)


def test_the_matrix_is_the_one_scikit_learn_makes(fitted):
    texts = [prepare(e.subject, e.body) for e in load_corpus()[400:900]] + ODD_TEXTS
    expected = fitted.transform(texts).tocsr()
    fast = FastFeatures(fitted)
    for _ in range(2):  # the second time every word comes from the cache
        actual = fast.transform(texts)
        assert actual.shape == expected.shape
        assert actual.dtype == expected.dtype
        assert (actual != expected).nnz == 0


def test_a_batch_of_nothing_is_an_empty_matrix(fitted):
    assert FastFeatures(fitted).transform([]).shape[0] == 0


@pytest.mark.parametrize("word", ["a", "ab", "abc", "abcd", "mould", "supercalifragilistic"])
def test_character_ngrams_match_scikit_learn(fitted, word):
    _, char = fitted.transformer_list[1]
    assert char_wb_ngrams(word, *char.ngram_range) == char._char_wb_ngrams(word)


def test_the_cache_is_bounded(fitted, monkeypatch):
    monkeypatch.setattr("classifier.vectorize.CACHE_LIMIT", 5)
    fast = FastFeatures(fitted)
    fast.transform(["one two three four five six seven eight"])
    assert len(fast._columns) <= 5
    assert np.isfinite(fast.transform(["one two"]).data).all()
