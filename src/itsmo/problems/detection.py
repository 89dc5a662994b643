"""Recurring-incident detection: incidents in, problem candidates out (no ORM).

The engine takes plain :class:`IncidentSample` values (whatever their source: the
incident table, an import file, a test) and returns :class:`Candidate` values: groups of
incidents that keep coming back, with the evidence an analyst needs to open a problem.

Method
------
1. **Blocking.** Every incident gets a categorical block key: its CI when it has one,
   otherwise its service and category together (either may be missing), otherwise a
   single "no key" block. Only incidents of the same block are ever compared, so the
   work grows with the size of the blocks, not with the square of the whole set.
2. **Time pruning.** Inside a block, incidents are sorted by ``opened_at``. A block that
   never holds ``min_incidents`` incidents inside one ``window`` cannot produce a
   candidate and is dropped before any text work; so is an incident with no other
   incident of its block within ``window`` of it.
3. **Text vectors.** The distinct texts of the remaining incidents are turned into unit
   vectors by a pluggable similarity method (:mod:`itsmo.problems.similarity`; ``tfidf``
   by default: words plus character n-grams), once for the whole run.
4. **Similarity graph.** Two incidents of a block are linked when they were opened at
   most ``window`` apart and the cosine of their vectors reaches the method's
   threshold. The products are computed in chunks of a time band (each incident against
   the incidents of the previous ``window``), so a busy CI costs ``n x incidents per
   window``, never ``n²``.
5. **Clusters.** The connected components of that graph are the recurring patterns. A
   component is proposed when it holds at least ``min_incidents`` incidents **inside one
   window** (its densest ``window``-long stretch); the candidate then lists all of the
   component's incidents, so a pattern that kept coming back for months is one
   candidate, not one per month.
6. **Evidence and signature.** For each candidate: incident keys oldest first, count,
   first and last occurrence, affected countries and business processes (union), the
   common CI, service and category (the block's, or the value at least half of the
   incidents share), the terms found in at least half of the texts, and a score
   (mean similarity of the links x log2(1 + count)). The ``signature`` hashes the block
   key and the three most shared terms: the same recurring pattern gets the same
   signature in the next run (more incidents, another ``--since``, another input order),
   which is what lets a dismissal be remembered. Two clusters of one run with the same
   signature (the pattern paused longer than ``window`` and came back) are merged.

The result is deterministic: it does not depend on the order of the input.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from itsmo.problems.similarity import SimilarityMethod, get_similarity

__all__ = ["Candidate", "IncidentSample", "find_candidates"]

#: Rows per similarity product when walking a busy block's time band.
CHUNK_ROWS = 1024
#: Terms hashed into the signature.
SIGNATURE_TERMS = 3
#: Terms reported on a candidate.
REPORTED_TERMS = 8

_TOKEN = re.compile(r"[^\W_][\w-]*")
_STOP_TEXT = """
    a about after again all also am an and any are as at be been before being but by can
    cannot could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most
    my no nor not now of off on once only or other our out over own same she should so
    some such than that the their them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your please hi hello thanks thank regards dear team issue problem
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True, slots=True)
class IncidentSample:
    """One incident as the engine sees it: plain values, no ORM."""

    key: Hashable  # incident primary key
    opened_at: datetime
    text: str  # short description + description
    service: Hashable | None = None
    ci: Hashable | None = None
    category: Hashable | None = None  # category/subcategory (or symptom) key
    country: Hashable | None = None
    business_processes: frozenset = frozenset()


@dataclass
class Candidate:
    """A proposed problem: incidents that keep coming back, with the evidence."""

    signature: str  # stable across runs for the same recurring pattern
    keys: list  # incident keys, oldest first
    count: int
    first_at: datetime
    last_at: datetime
    ci: Hashable | None
    service: Hashable | None
    category: Hashable | None
    countries: set = field(default_factory=set)
    business_processes: set = field(default_factory=set)
    terms: list[str] = field(default_factory=list)
    score: float = 0.0


def find_candidates(
    incidents: Iterable[IncidentSample],
    *,
    window: timedelta = timedelta(days=30),
    min_incidents: int = 3,
    similarity: str | SimilarityMethod = "tfidf",
    threshold: float | None = None,
    stats: dict | None = None,
) -> list[Candidate]:
    """Group recurring incidents into problem candidates (see the module docstring).

    ``similarity`` names a registered method (``tfidf``, ``exact``, ``categorical``) or is
    a method object; ``threshold`` overrides its default cosine threshold. ``incidents``
    may be a generator: it is read once and only compact arrays are kept. When ``stats``
    is a dict it receives counts and timings of the run. Candidates come back best score
    first (ties by signature).
    """
    if min_incidents < 2:
        raise ValueError("min_incidents must be at least 2")
    if window <= timedelta(0):
        raise ValueError("window must be positive")
    method = get_similarity(similarity)
    threshold = method.threshold if threshold is None else float(threshold)
    window_s = window.total_seconds()
    timings: dict[str, float] = {}
    started = time.perf_counter()

    table = _Table.read(incidents)
    timings["read_s"] = time.perf_counter() - started

    step = time.perf_counter()
    order, starts = table.prune(window_s, min_incidents)
    timings["prune_s"] = time.perf_counter() - step

    step = time.perf_counter()
    text_ids = table.text[order]
    used, row_of_text = np.unique(text_ids, return_inverse=True)
    used_texts = [table.texts[i] for i in used]
    # Vectorise in sorted text order so the vocabulary never depends on input order.
    alphabetical = sorted(range(len(used_texts)), key=used_texts.__getitem__)
    rank = np.empty(len(alphabetical), dtype=np.int64)
    rank[alphabetical] = np.arange(len(alphabetical))
    vectors = (
        method.vectorize([used_texts[i] for i in alphabetical])
        if used_texts
        else sparse.csr_matrix((0, 1), dtype=np.float32)
    )
    rows = rank[row_of_text]  # vector row of each pruned incident
    timings["vectorize_s"] = time.perf_counter() - step

    step = time.perf_counter()
    clusters: list[tuple[np.ndarray, float, int]] = []
    links = 0
    times = table.times[order]
    for begin, end in itertools.pairwise(starts.tolist()):
        block_times = times[begin:end]
        block_vectors = vectors[rows[begin:end]]
        left, right, weight = _links(block_vectors, block_times, window_s, threshold)
        links += len(left)
        for members, weight_sum, link_count in _components(
            left, right, weight, block_times, window_s, min_incidents
        ):
            clusters.append((order[begin + members], weight_sum, link_count))
    timings["cluster_s"] = time.perf_counter() - step

    step = time.perf_counter()
    candidates = _build(table, clusters, window_s)
    timings["evidence_s"] = time.perf_counter() - step
    timings["total_s"] = time.perf_counter() - started
    if stats is not None:
        stats.update(
            incidents=len(table.keys),
            blocks=len(table.block_keys),
            kept_incidents=len(order),
            kept_blocks=len(starts) - 1,
            distinct_texts=len(used_texts),
            features=vectors.shape[1],
            links=links,
            clusters=len(clusters),
            candidates=len(candidates),
            similarity=method.name,
            threshold=threshold,
            **timings,
        )
    return candidates


class _Table:
    """The input as compact columns: numpy arrays for what is computed on, lists for
    the evidence values (shared references, so cheap)."""

    def __init__(self) -> None:
        self.keys: list = []
        self.opened: list[datetime] = []
        self.cis: list = []
        self.services: list = []
        self.categories: list = []
        self.countries: list = []
        self.processes: list = []
        self.block_keys: list[tuple] = []
        self.texts: list[str] = []
        self.times = np.empty(0)
        self.block = np.empty(0, dtype=np.int64)
        self.text = np.empty(0, dtype=np.int64)

    @classmethod
    def read(cls, incidents: Iterable[IncidentSample]) -> _Table:
        table = cls()
        block_ids: dict[tuple, int] = {}
        text_ids: dict[str, int] = {}
        seconds: list[float] = []
        blocks: list[int] = []
        texts: list[int] = []
        for sample in incidents:
            opened = sample.opened_at
            if opened.tzinfo is None:
                opened_s = opened.replace(tzinfo=UTC).timestamp()
            else:
                opened_s = opened.timestamp()
            if sample.ci is not None:
                block_key = ("ci", sample.ci)
            elif sample.service is not None or sample.category is not None:
                block_key = ("service", sample.service, sample.category)
            else:
                block_key = ("none",)
            block = block_ids.get(block_key)
            if block is None:
                block = block_ids[block_key] = len(table.block_keys)
                table.block_keys.append(block_key)
            text = sample.text or ""
            text_id = text_ids.get(text)
            if text_id is None:
                text_id = text_ids[text] = len(table.texts)
                table.texts.append(text)
            table.keys.append(sample.key)
            table.opened.append(sample.opened_at)
            table.cis.append(sample.ci)
            table.services.append(sample.service)
            table.categories.append(sample.category)
            table.countries.append(sample.country)
            table.processes.append(sample.business_processes)
            seconds.append(opened_s)
            blocks.append(block)
            texts.append(text_id)
        table.times = np.asarray(seconds, dtype=np.float64)
        table.block = np.asarray(blocks, dtype=np.int64)
        table.text = np.asarray(texts, dtype=np.int64)
        return table

    def prune(self, window_s: float, min_incidents: int) -> tuple[np.ndarray, np.ndarray]:
        """Incident indices worth comparing, sorted by block then time, and the start of
        each kept block in that order (plus the end)."""
        if not len(self.times):
            return np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
        order = np.lexsort((self.times, self.block))
        # One sortable integer per incident: block, then whole seconds since the start;
        # the stride keeps blocks further apart than any window.
        origin = self.times.min()
        offset = np.floor(self.times[order] - origin).astype(np.int64)
        window = math.ceil(window_s)
        stride = int(offset.max()) + 2 * window + 2
        position = self.block[order] * stride + offset
        index = np.arange(len(order))
        ahead = np.searchsorted(position, position + window, side="right") - index
        behind = index - np.searchsorted(position, position - window, side="left")
        dense = ahead >= min_incidents
        block = self.block[order]
        dense_blocks = np.zeros(len(self.block_keys), dtype=bool)
        dense_blocks[block[dense]] = True
        keep = dense_blocks[block] & ((ahead > 1) | (behind > 0))
        order = order[keep]
        block = block[keep]
        starts = np.flatnonzero(np.diff(block)) + 1
        starts = np.concatenate(([0], starts, [len(order)])).astype(np.int64)
        return order, starts


def _links(
    vectors, times: np.ndarray, window_s: float, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (later, earlier) of a time-sorted block opened at most ``window_s`` apart
    whose similarity reaches ``threshold``, with that similarity."""
    lefts, rights, weights = [], [], []
    size = len(times)
    floor = threshold - 1e-6
    for chunk in range(0, size, CHUNK_ROWS):
        stop = min(chunk + CHUNK_ROWS, size)
        band = int(np.searchsorted(times, times[chunk] - window_s, side="left"))
        product = vectors[chunk:stop] @ vectors[band:stop].T
        if sparse.issparse(product):
            product = product.tocoo()
            left, right, weight = product.row, product.col, product.data
        else:
            left, right = np.nonzero(product >= floor)
            weight = product[left, right]
        left = left.astype(np.int64) + chunk
        right = right.astype(np.int64) + band
        keep = (weight >= floor) & (right < left) & (times[left] - times[right] <= window_s)
        lefts.append(left[keep])
        rights.append(right[keep])
        weights.append(np.asarray(weight[keep], dtype=np.float64))
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(weights)


def _components(left, right, weight, times, window_s, min_incidents):
    """Yield (member positions, sum of link weights, link count) for each connected
    component holding ``min_incidents`` incidents inside one window."""
    size = len(times)
    if len(left) < min_incidents - 1:
        return
    graph = sparse.coo_matrix((np.ones(len(left)), (left, right)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    if sizes.max() < min_incidents:
        return
    link_labels = labels[left]
    weight_sums = np.bincount(link_labels, weights=weight, minlength=len(sizes))
    link_counts = np.bincount(link_labels, minlength=len(sizes))
    by_label = np.argsort(labels, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    for label in np.flatnonzero(sizes >= min_incidents):
        members = by_label[bounds[label] : bounds[label + 1]]  # ascending, so time order
        member_times = times[members]
        ahead = np.searchsorted(member_times, member_times + window_s, side="right")
        if (ahead - np.arange(len(members))).max() >= min_incidents:
            yield members, float(weight_sums[label]), int(link_counts[label])


def _build(table: _Table, clusters, window_s: float) -> list[Candidate]:
    by_signature: dict[str, list] = {}
    for members, weight_sum, link_count in clusters:
        terms = _terms([table.texts[table.text[i]] for i in members])
        block_key = table.block_keys[table.block[members[0]]]
        signature = _signature(block_key, terms)
        entry = by_signature.setdefault(signature, [block_key, [], 0.0, 0])
        entry[1].append(members)
        entry[2] += weight_sum
        entry[3] += link_count
    candidates = []
    for signature, (block_key, parts, weight_sum, link_count) in by_signature.items():
        members = np.concatenate(parts) if len(parts) > 1 else parts[0]
        members = sorted(members.tolist(), key=lambda i: (table.times[i], repr(table.keys[i])))
        count = len(members)
        if block_key[0] == "ci":
            ci, service, category = block_key[1], None, None
        elif block_key[0] == "service":
            ci, service, category = None, block_key[1], block_key[2]
        else:
            ci = service = category = None
        ci = ci if ci is not None else _shared(table.cis, members)
        service = service if service is not None else _shared(table.services, members)
        category = category if category is not None else _shared(table.categories, members)
        processes: set = set()
        for i in members:
            processes.update(table.processes[i])
        cohesion = weight_sum / link_count if link_count else 1.0
        candidates.append(
            Candidate(
                signature=signature,
                keys=[table.keys[i] for i in members],
                count=count,
                first_at=table.opened[members[0]],
                last_at=table.opened[members[-1]],
                ci=ci,
                service=service,
                category=category,
                countries={table.countries[i] for i in members} - {None},
                business_processes=processes,
                terms=_terms([table.texts[table.text[i]] for i in members])[:REPORTED_TERMS],
                score=round(cohesion * math.log2(1 + count), 4),
            )
        )
    candidates.sort(key=lambda candidate: (-candidate.score, candidate.signature))
    return candidates


def _terms(texts: list[str]) -> list[str]:
    """Words found in at least half of the texts, most shared first, then alphabetical.
    Words need a letter and three characters; stop words are left out."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            {
                token
                for token in _TOKEN.findall(text.lower())
                if len(token) >= 3 and token not in _STOP_WORDS and not token.isdigit()
            }
        )
    half = len(texts) / 2
    shared = [(term, n) for term, n in counts.items() if n >= half]
    shared.sort(key=lambda item: (-item[1], item[0]))
    return [term for term, _ in shared]


def _signature(block_key: tuple, terms: list[str]) -> str:
    """32 hex characters: the block key and the most shared terms, hashed."""
    text_key = " ".join(sorted(terms[:SIGNATURE_TERMS]))
    material = f"{block_key!r}|{text_key}".encode()
    return hashlib.blake2b(material, digest_size=16).hexdigest()


def _shared(values: list, members: list[int]) -> Hashable | None:
    """The value at least half of the members share (None counts as no value)."""
    counts = Counter(values[i] for i in members if values[i] is not None)
    if not counts:
        return None
    value, n = min(counts.items(), key=lambda item: (-item[1], repr(item[0])))
    return value if n * 2 >= len(members) else None
