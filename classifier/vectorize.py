"""The trained feature union's transform, made fast by looking up each word's character n-grams once.

The model's features are word n-grams and character n-grams inside word boundaries ("char_wb"), both
tf-idf weighted. scikit-learn builds every character n-gram of every word of every message in Python
and looks each one up: most of the time it takes to classify a message. A word's character n-grams
never depend on its neighbours, so ``FastFeatures`` keeps, per word, the vocabulary columns its n-grams
hit, and builds a message's counts from those. The result is the same matrix as
``union.transform(texts)`` (tests/classifier/test_vectorize.py holds it to that).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

CACHE_LIMIT = 500_000  # words; beyond this the cache starts again rather than grow without bound


class FastFeatures:
    """transform(texts) for a fitted FeatureUnion of a word TfidfVectorizer and a char_wb TfidfVectorizer."""

    def __init__(self, union: FeatureUnion) -> None:
        (_, self.word), (_, self.char) = union.transformer_list
        if self.char.analyzer != "char_wb" or union.transformer_weights:
            raise ValueError("FastFeatures needs (word, char_wb) vectorizers without transformer weights")
        self._preprocess = self.char.build_preprocessor()
        self._min_n, self._max_n = self.char.ngram_range
        self._vocabulary = self.char.vocabulary_
        self._width = len(self._vocabulary)
        self._columns: dict[str, tuple[int, ...]] = {}

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        if not texts:
            return sp.csr_matrix((0, len(self.word.vocabulary_) + self._width), dtype=self.char.dtype)
        return sp.hstack([self.word.transform(texts), self._char_tfidf(texts)], format="csr")

    def _char_tfidf(self, texts: list[str]) -> sp.csr_matrix:
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for word in self._preprocess(text).split():
                columns = self._columns.get(word)
                indices.extend(columns if columns is not None else self._learn(word))
            indptr.append(len(indices))
        counts = sp.csr_matrix((np.ones(len(indices), dtype=self.char.dtype), np.array(indices, dtype=np.int32),
                                np.array(indptr, dtype=np.int64)), shape=(len(texts), self._width))
        counts.sum_duplicates()
        return self._weigh(counts)

    def _learn(self, word: str) -> tuple[int, ...]:
        """The vocabulary columns of this word's character n-grams, remembered for next time."""
        if len(self._columns) >= CACHE_LIMIT:
            self._columns.clear()
        found = map(self._vocabulary.get, char_wb_ngrams(word, self._min_n, self._max_n))
        columns = self._columns[word] = tuple(c for c in found if c is not None)
        return columns

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """tf-idf exactly as the fitted vectorizer does it."""
        if self.char.sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        if self.char.use_idf:
            counts.data *= self.char.idf_[counts.indices]
        return normalize(counts, norm=self.char.norm, copy=False) if self.char.norm else counts


def char_wb_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """One word's character n-grams, padded with a space each side, as scikit-learn's char_wb makes them."""
    padded = f" {word} "
    grams = []
    for n in range(min_n, max_n + 1):
        if n >= len(padded):  # a short word counts once, whole
            grams.append(padded)
            break
        grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return grams
