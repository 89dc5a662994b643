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
    glued to words ("srv01" / "srv02"). Terms are hashed (no vocabulary in memory, batch
    by batch); the IDF is learnt once per run. No model download: scikit-learn only.
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


# A method may also define ``fit(texts)``: the engine calls it once per run, before any
# ``vectorize``, with the run's distinct texts (or a deterministic sample of them), to
# learn corpus statistics such as inverse document frequencies. ``vectorize`` is then
# called batch by batch.


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

    Terms are hashed (words with scikit-learn's ``HashingVectorizer``, character n-grams
    with :func:`char_ngram_counts`; 2**20 columns per part), so there is no vocabulary
    to hold and texts can be vectorised in batches; the inverse document frequencies
    are learnt by :meth:`fit` on the run's texts (or a sample of them).
    ``word_weight`` is ``w`` in ``cos = w * cos_words + (1 - w) * cos_chars``.
    """

    name = "tfidf"

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        word_weight: float = 0.5,
        char_ngrams: tuple[int, int] = (3, 5),
        features: int = 2**20,
    ) -> None:
        if not 0.0 <= word_weight <= 1.0:
            raise ValueError("word_weight must be between 0 and 1")
        if features < 2 or features & (features - 1):
            raise ValueError("features must be a power of two")
        self.threshold = threshold
        self.word_weight = word_weight
        self.char_ngrams = char_ngrams
        self.features = features
        self._idf: list[np.ndarray] | None = None

    def _hashers(self):
        """(texts -> sparse term counts, weight) for the word and the character part."""
        hashers = []
        if self.word_weight > 0:
            from sklearn.feature_extraction.text import HashingVectorizer

            words = HashingVectorizer(
                lowercase=True,
                token_pattern=r"(?u)\b\w+\b",
                alternate_sign=False,
                norm=None,
                n_features=self.features,
                dtype=np.float32,
            )
            hashers.append((words.transform, self.word_weight))
        if self.word_weight < 1:
            low, high = self.char_ngrams

            def chars(texts):
                return char_ngram_counts(texts, low=low, high=high, features=self.features)

            hashers.append((chars, 1.0 - self.word_weight))
        return hashers

    def fit(self, texts: Sequence[str]) -> TfidfSimilarity:
        """Learn the inverse document frequencies (smoothed, as scikit-learn's)."""
        self._idf = []
        documents = len(texts)
        for hasher, _ in self._hashers():
            if not documents:
                self._idf.append(np.ones(self.features, dtype=np.float32))
                continue
            counts = hasher(texts)
            frequency = np.bincount(counts.indices, minlength=self.features)
            idf = np.log((1.0 + documents) / (1.0 + frequency)) + 1.0
            self._idf.append(idf.astype(np.float32))
        return self

    def vectorize(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self._idf is None:
            self.fit(texts)
        if not len(texts):
            return sparse.csr_matrix((0, 1), dtype=np.float32)
        parts = []
        for (hasher, weight), idf in zip(self._hashers(), self._idf, strict=True):
            counts = sparse.csr_matrix(hasher(texts))
            counts.data = (np.log(counts.data) + 1.0) * idf[counts.indices]  # sublinear tf
            parts.append(normalise_rows(counts) * np.float32(np.sqrt(weight)))
        # Each part is unit length (or empty); renormalise so a text empty in one part
        # (e.g. only one-letter words) still compares on the other.
        return normalise_rows(sparse.hstack(parts, format="csr", dtype=np.float32))


_PRIME = np.uint64(1099511628211)  # FNV-1a 64-bit prime, used as the polynomial base
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads the polynomial hash
#: Texts hashed together by :func:`char_ngram_counts` (bounds its temporary arrays).
CHAR_CHUNK = 20_000


def char_ngram_counts(
    texts: Sequence[str], *, low: int = 3, high: int = 5, features: int = 2**20
) -> sparse.csr_matrix:
    """Counts of the character n-grams of each text, hashed into ``features`` columns.

    Lower case; every word is padded with one space on both sides and n-grams never
    span two words (the ``char_wb`` analyzer of scikit-learn, except that a word
    shorter than ``n - 2`` gives no ``n``-gram). Computed with NumPy over many texts at
    once (``CHAR_CHUNK`` at a time, which bounds the memory): a polynomial hash of the
    code points, then Fibonacci hashing into the columns. About twice as fast as
    scikit-learn's Python analyzer, and deterministic (no per-process string hash).
    """
    if len(texts) <= CHAR_CHUNK:
        return _char_ngram_counts(texts, low, high, features)
    return sparse.vstack(
        [
            _char_ngram_counts(texts[start : start + CHAR_CHUNK], low, high, features)
            for start in range(0, len(texts), CHAR_CHUNK)
        ],
        format="csr",
    )


def _char_ngram_counts(texts, low, high, features) -> sparse.csr_matrix:
    bits = features.bit_length() - 1
    documents = [" " + "  ".join(text.lower().split()) + " " for text in texts]
    lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
    codes = np.frombuffer("".join(documents).encode("utf-32-le"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    owner = np.repeat(np.arange(len(documents), dtype=np.int32), lengths)
    space = codes == 32
    rows, columns = [], []
    with np.errstate(over="ignore"):  # the hash wraps around 2**64 on purpose
        for n in range(low, high + 1):
            size = len(codes) - n + 1
            if size <= 0:
                continue
            hashed = codes[:size].copy()
            inner_space = np.zeros(size, dtype=bool)
            for k in range(1, n):
                hashed = hashed * _PRIME + codes[k : k + size]
                if k < n - 1:
                    inner_space |= space[k : k + size]
            # A space inside the n-gram means it spans two words (or two texts).
            keep = ~inner_space
            rows.append(owner[:size][keep])
            columns.append(((hashed[keep] * _MIX) >> np.uint64(64 - bits)).astype(np.int32))
    if rows:
        row, column = np.concatenate(rows), np.concatenate(columns)
    else:
        row = column = np.empty(0, dtype=np.int32)
    counts = sparse.csr_matrix(
        (np.ones(len(row), dtype=np.float32), (row, column)), shape=(len(documents), features)
    )
    counts.sum_duplicates()
    return counts


def normalise_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
    norms[norms == 0] = 1.0
    matrix.data /= np.repeat(norms, lengths).astype(np.float32)
    return matrix


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
