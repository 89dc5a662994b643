"""Pluggable text-similarity methods for recurring-incident detection.

A *similarity method* turns incident texts into row vectors of unit length, so that the
dot product of two rows is their cosine similarity, and says which similarity makes two
incidents "the same symptom" (its default ``threshold``). The detection engine
(:mod:`itsmo.problems.detection`) only ever multiplies those rows inside a block of
incidents sharing a CI (or a service and category) and a time window; it never needs to
know how the vectors were made. That keeps the method swappable: a sentence-embedding
model, for instance, would be one more class returning a dense ``numpy`` array.

Methods are registered by name::

    @register_similarity("mine")
    class MySimilarity:
        threshold = 0.7
        def vectorize(self, texts): ...

and looked up with :func:`get_similarity`. Shipped:

``tfidf``
    TF-IDF of words (sublinear term frequency) blended with TF-IDF of character 3-5
    grams inside word boundaries (``char_wb``), both L2-normalised, then concatenated
    with weights so that ``cos = w * cos_words + (1 - w) * cos_chars``. Words catch the
    same vocabulary in another order; character grams catch typos, plurals, numbers
    glued to words ("srv01" / "srv02"). No model download: scikit-learn only.
``exact``
    Same normalised text (lower case, punctuation and digits dropped, spaces collapsed)
    or not: one-hot rows, cosine 1 or 0. A cheap baseline.
``categorical``
    Ignores the text: every incident of a block is similar to every other, so the
    clusters are just "same CI (or service + category), inside the time window". The
    cheapest baseline, and what a rule-based tool would do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from scipy import sparse


@runtime_checkable
class SimilarityMethod(Protocol):
    """What the detection engine needs from a similarity method."""

    name: str
    threshold: float

    def vectorize(self, texts: Sequence[str]) -> sparse.csr_matrix | np.ndarray:
        """One row per text, L2-normalised (or all-zero for an empty text)."""
        ...


SIMILARITY_METHODS: dict[str, Callable[..., SimilarityMethod]] = {}


def register_similarity(name: str) -> Callable[[type], type]:
    """Class decorator: make a similarity method available under ``name``."""

    def decorate(cls: type) -> type:
        cls.name = name
        SIMILARITY_METHODS[name] = cls
        return cls

    return decorate


def get_similarity(method: str | SimilarityMethod, **options) -> SimilarityMethod:
    """The method registered as ``method`` (built with ``options``), or ``method`` itself."""
    if not isinstance(method, str):
        return method
    try:
        factory = SIMILARITY_METHODS[method]
    except KeyError:
        known = ", ".join(sorted(SIMILARITY_METHODS))
        raise ValueError(f"unknown similarity method {method!r} (known: {known})") from None
    return factory(**options)


_NORMALISE = re.compile(r"[\W\d_]+")


def normalise_text(text: str) -> str:
    """Lower case, digits and punctuation dropped, single spaces."""
    return _NORMALISE.sub(" ", text.lower()).strip()


@register_similarity("tfidf")
class TfidfSimilarity:
    """Word TF-IDF blended with character n-gram TF-IDF (see the module docstring).

    ``word_weight`` is ``w`` in ``cos = w * cos_words + (1 - w) * cos_chars``. Terms seen
    in fewer than ``min_df`` texts are dropped (they cannot make two incidents similar
    anyway), which keeps the vocabulary small on noisy text.
    """

    name = "tfidf"

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        word_weight: float = 0.5,
        char_ngrams: tuple[int, int] = (3, 5),
        min_df: int = 2,
    ) -> None:
        if not 0.0 <= word_weight <= 1.0:
            raise ValueError("word_weight must be between 0 and 1")
        self.threshold = threshold
        self.word_weight = word_weight
        self.char_ngrams = char_ngrams
        self.min_df = min_df

    def vectorize(self, texts: Sequence[str]) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        parts = []
        min_df = self.min_df if len(texts) > 1 else 1
        if self.word_weight > 0:
            words = TfidfVectorizer(
                lowercase=True,
                token_pattern=r"(?u)\b\w+\b",
                sublinear_tf=True,
                min_df=min_df,
                dtype=np.float32,
            )
            parts.append(_fit(words, texts) * np.float32(np.sqrt(self.word_weight)))
        if self.word_weight < 1:
            chars = TfidfVectorizer(
                lowercase=True,
                analyzer="char_wb",
                ngram_range=self.char_ngrams,
                sublinear_tf=True,
                min_df=min_df,
                dtype=np.float32,
            )
            parts.append(_fit(chars, texts) * np.float32(np.sqrt(1.0 - self.word_weight)))
        matrix = sparse.hstack(parts, format="csr", dtype=np.float32)
        # Each part is unit length (or empty); renormalise so a text empty in one part
        # (e.g. only one-letter words) still compares on the other.
        return _normalise_rows(matrix)


def _fit(vectorizer, texts: Sequence[str]) -> sparse.csr_matrix:
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # empty vocabulary: nothing in common between any two texts
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)


def _normalise_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms).astype(np.float32) @ matrix)


@register_similarity("exact")
class ExactSimilarity:
    """Same normalised text or not (cosine 1 or 0)."""

    name = "exact"

    def __init__(self, *, threshold: float = 1.0) -> None:
        self.threshold = threshold

    def vectorize(self, texts: Sequence[str]) -> sparse.csr_matrix:
        ids: dict[str, int] = {}
        columns = np.fromiter(
            (ids.setdefault(normalise_text(text), len(ids)) for text in texts),
            dtype=np.int64,
            count=len(texts),
        )
        data = np.ones(len(texts), dtype=np.float32)
        rows = np.arange(len(texts) + 1, dtype=np.int64)
        return sparse.csr_matrix((data, columns, rows), shape=(len(texts), max(len(ids), 1)))


@register_similarity("categorical")
class CategoricalSimilarity:
    """Text ignored: every pair inside a block is similar (cosine 1)."""

    name = "categorical"

    def __init__(self, *, threshold: float = 1.0) -> None:
        self.threshold = threshold

    def vectorize(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.csr_matrix(np.ones((len(texts), 1), dtype=np.float32))
