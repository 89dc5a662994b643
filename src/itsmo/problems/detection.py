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
2. **Time pruning.** Incidents are sorted by block, then ``opened_at``. A block that
   never holds ``min_incidents`` incidents inside one ``window`` cannot produce a
   candidate and is dropped before any text work; so is an incident with no other
   incident of its block within ``window`` of it.
3. **Text vectors.** A pluggable similarity method (:mod:`itsmo.problems.similarity`;
   ``tfidf`` by default: words plus character n-grams, hashed) learns its statistics
   once (IDF, on up to ``FIT_SAMPLE`` distinct texts) and then turns the texts into
   unit vectors batch by batch (``BATCH_INCIDENTS`` incidents, whole blocks), so memory
   does not grow with the input. Inside a batch the columns are renumbered per block
   (no two blocks share a column) and the terms that a single incident of its block
   uses are dropped (they cannot make two incidents similar, only dilute the rest).
4. **Similarity graph.** Two incidents of a block are linked when they were opened at
   most ``window`` apart and the cosine of their vectors reaches the method's
   threshold. Thanks to the disjoint columns one sparse product covers all the blocks
   of a batch; products are taken by chunks of rows against the band of rows that can
   be their partners (same block, previous ``window``), so a busy CI costs
   ``n x incidents per window``, never ``n^2``.
5. **Clusters.** The connected components of that graph with at least
   ``min_incidents`` incidents **inside one window** (their densest ``window``-long
   stretch). Single links chain: a component whose *cohesion* (mean cosine over all
   its pairs, linked or not, computed from the sum of its vectors) is below
   ``min_cohesion`` is split again with a link threshold raised by ``SPLIT_STEP``,
   until its pieces are cohesive. The candidate lists all of the cluster's incidents,
   so a pattern that kept coming back for months is one candidate, not one per month.
   Optionally (``min_lift``) a cluster is cut down to its bursts.
6. **Evidence and signature.** For each candidate: incident keys oldest first, count,
   first and last occurrence, affected countries and business processes (union), the
   common CI, service and category (the block's, or the value at least half of the
   incidents share), the terms found in at least half of the texts, and a score
   (cohesion x log2(1 + count)). The ``signature`` hashes the block key and the three
   most shared terms: the same recurring pattern gets the same signature in the next
   run (more incidents, another ``--since``, another input order), which is what lets
   a dismissal be remembered. Two clusters of one run with the same signature are
   merged (unless ``merge=False``).

The result is deterministic: it does not depend on the order of the input.
"""

from __future__ import annotations

import hashlib
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

from itsmo.problems.similarity import SimilarityMethod, get_similarity, normalise_rows

__all__ = ["Candidate", "IncidentSample", "find_candidates"]

#: Rows per similarity product when walking a busy block's time band.
CHUNK_ROWS = 1024
#: Incidents vectorised together (whole blocks), which bounds the memory of the vectors.
BATCH_INCIDENTS = 100_000
#: Distinct texts a similarity method learns its statistics (IDF) from.
FIT_SAMPLE = 20_000
#: How much the link threshold rises each time a loose cluster is split.
SPLIT_STEP = 0.05
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
    min_cohesion: float | None = None,
    min_lift: float | None = None,
    merge: bool = True,
    stats: dict | None = None,
) -> list[Candidate]:
    """Group recurring incidents into problem candidates (see the module docstring).

    ``incidents`` may be a generator: it is read once and only compact columns are kept.

    * ``window``: two incidents are linked only when opened at most this far apart, and
      a cluster must hold ``min_incidents`` incidents inside one such window.
    * ``similarity``: a registered method name (``tfidf``, ``exact``, ``categorical``)
      or a method object; ``threshold`` overrides its cosine threshold for a link.
    * ``min_cohesion``: the mean pairwise similarity a cluster needs (default: the
      threshold); a looser one is split by raising its link threshold.
    * ``min_lift``: when set, only the bursts of a cluster are proposed: windows holding
      at least ``min_lift`` times the incidents the cluster would have per window if it
      were spread evenly over the input's period (its central 98 % of incidents). Off
      by default: a pattern that recurs steadily all year is a candidate too.
    * ``merge``: clusters of one run with the same signature (the pattern paused for
      more than a window and came back) are one candidate. With ``merge=False`` each
      stays a candidate and its signature also hashes its first incident's key (stable
      as long as that incident is in the input).
    * ``stats``: a dict that receives counts and timings of the run.

    Candidates come back best score first (ties by signature).
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
    order, starts, positions = table.prune(window_s, min_incidents)
    timings["prune_s"] = time.perf_counter() - step

    step = time.perf_counter()
    fit = getattr(method, "fit", None)
    if fit is not None:
        fit(_fit_sample(table, order))
    timings["fit_s"] = time.perf_counter() - step

    vectorize_s = cluster_s = 0.0
    clusters: list[tuple[np.ndarray, float]] = []
    links = texts = 0
    times = table.times[order]
    blocks = table.block[order]
    period_s = _active_period(table.times, window_s)
    for first, last in _batches(starts):
        step = time.perf_counter()
        batch = slice(int(starts[first]), int(starts[last]))
        used, rows = np.unique(table.text[order[batch]], return_inverse=True)
        vectors = method.vectorize([table.texts[i] for i in used])[rows]
        texts += len(used)
        vectors = _separate_blocks(vectors, blocks[batch])
        vectorize_s += time.perf_counter() - step
        step = time.perf_counter()
        left, right, weight = _links(
            vectors, times[batch], positions[batch], blocks[batch], window_s, threshold
        )
        links += len(left)
        for members, cohesion in _clusters(
            vectors,
            times[batch],
            (left, right, weight),
            window_s=window_s,
            min_incidents=min_incidents,
            threshold=threshold,
            min_cohesion=threshold if min_cohesion is None else min_cohesion,
            min_lift=min_lift,
            period_s=period_s,
        ):
            clusters.append((order[batch][members], cohesion))
        cluster_s += time.perf_counter() - step
    timings["vectorize_s"] = vectorize_s
    timings["cluster_s"] = cluster_s

    step = time.perf_counter()
    candidates = _build(table, clusters, merge)
    timings["evidence_s"] = time.perf_counter() - step
    timings["total_s"] = time.perf_counter() - started
    if stats is not None:
        stats.update(
            incidents=len(table.keys),
            blocks=len(table.block_keys),
            kept_incidents=len(order),
            kept_blocks=len(starts) - 1,
            distinct_texts=texts,
            links=links,
            clusters=len(clusters),
            candidates=len(candidates),
            similarity=getattr(method, "name", type(method).__name__),
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

    def prune(self, window_s: float, min_incidents: int):
        """Incident indices worth comparing, sorted by block then time; the start of each
        kept block in that order (plus the end); and their sort keys (block, then whole
        seconds: blocks are further apart than any window)."""
        if not len(self.times):
            empty = np.empty(0, dtype=np.int64)
            return empty, np.zeros(1, dtype=np.int64), empty
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
        return order, starts, position[keep]


def _separate_blocks(vectors, blocks: np.ndarray):
    """Sparse rows of several blocks rewritten so that no two blocks share a column, with
    only the columns that at least two incidents of the block use, renormalised.

    Disjoint columns make one sparse product of a whole batch yield only pairs of the
    same block: the many small blocks cost one product, not one each. And a term that a
    single incident of its block has cannot make it similar to another one; left in, it
    would only dilute the terms they share (typos, reference numbers, names).
    Dense rows (a method returning an array) are returned as they are; their products
    are masked by block instead.
    """
    if not sparse.issparse(vectors):
        return np.asarray(vectors, dtype=np.float32)
    vectors = sparse.csr_matrix(vectors)
    size = vectors.shape[0]
    lengths = np.diff(vectors.indptr)
    rows = np.repeat(np.arange(size), lengths)
    _, first_block = np.unique(blocks, return_inverse=True)
    keys = first_block[rows].astype(np.int64) * vectors.shape[1] + vectors.indices
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    shared = counts[inverse] >= 2
    renumber = np.cumsum(counts >= 2) - 1
    compact = sparse.csr_matrix(
        (
            vectors.data[shared],
            renumber[inverse[shared]],
            np.concatenate(([0], np.cumsum(np.bincount(rows[shared], minlength=size)))),
        ),
        shape=(size, max(int(renumber[-1]) + 1 if len(renumber) else 0, 1)),
    )
    return normalise_rows(compact)


def _links(vectors, times, positions, blocks, window_s: float, threshold: float):
    """Pairs (later, earlier) of the same block opened at most ``window_s`` apart whose
    similarity reaches ``threshold``, with that similarity. Rows are sorted by block then
    time; each chunk of rows is multiplied by the band of rows that can be its partners
    (its own block's previous ``window``)."""
    lefts, rights, weights = [], [], []
    size = len(times)
    floor = threshold - 1e-6
    window = math.ceil(window_s)
    is_sparse = sparse.issparse(vectors)
    for chunk in range(0, size, CHUNK_ROWS):
        stop = min(chunk + CHUNK_ROWS, size)
        band = int(np.searchsorted(positions, positions[chunk] - window, side="left"))
        product = vectors[chunk:stop] @ vectors[band:stop].T
        if is_sparse:
            product = sparse.coo_matrix(product)
            left, right, weight = product.row, product.col, product.data
            keep = weight >= floor
            left, right, weight = left[keep], right[keep], weight[keep]
        else:
            left, right = np.nonzero(product >= floor)
            weight = product[left, right]
        left = left.astype(np.int64) + chunk
        right = right.astype(np.int64) + band
        keep = (right < left) & (times[left] - times[right] <= window_s)
        if not is_sparse:
            keep &= blocks[left] == blocks[right]
        lefts.append(left[keep])
        rights.append(right[keep])
        weights.append(np.asarray(weight[keep], dtype=np.float64))
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(weights)


def _clusters(
    vectors,
    times,
    links,
    *,
    window_s,
    min_incidents,
    threshold,
    min_cohesion,
    min_lift=None,
    period_s=0.0,
):
    """Yield (member positions, cohesion) for each cluster of a block.

    A cluster is a connected component of the links holding ``min_incidents`` incidents
    inside one window. When its cohesion (mean pairwise similarity of all its members,
    linked or not) is below ``min_cohesion`` it is a chain of different things, not one
    pattern: its links are filtered with a threshold raised by ``SPLIT_STEP`` and the
    pieces are examined again. With ``min_lift`` a cohesive cluster is then cut to its
    bursts (see :func:`_bursts`).
    """
    pending = [(links, threshold)]
    while pending:
        (left, right, weight), level = pending.pop()
        for members, piece in _components(left, right, weight, min_incidents):
            member_times = times[members]
            ahead = np.searchsorted(member_times, member_times + window_s, side="right")
            if (ahead - np.arange(len(members))).max() < min_incidents:
                continue  # no subset of it can be dense either
            cohesion = _cohesion(vectors[members])
            if cohesion >= min_cohesion - 1e-6 or level >= 1.0:
                if min_lift is None:
                    yield members, cohesion
                else:
                    for burst in _bursts(member_times, window_s, min_incidents, min_lift, period_s):
                        yield members[burst], cohesion
            else:
                raised = level + SPLIT_STEP
                keep = piece[2] >= raised - 1e-6
                pending.append(((piece[0][keep], piece[1][keep], piece[2][keep]), raised))


def _active_period(times: np.ndarray, window_s: float) -> float:
    """The span of the input that holds its central 98 % of incidents (at least one
    window): the period a steady pattern is spread over. Robust to a few stray old or
    late incidents, which would otherwise make everything look like a burst."""
    if len(times) < 2:
        return window_s
    low, high = np.percentile(times, [1, 99])
    return max(float(high - low), window_s)


def _bursts(times, window_s, min_incidents, min_lift, period_s):
    """Runs of a cluster's incidents (positions in ``times``, which is sorted) that lie in
    windows holding at least ``min_lift`` times the cluster's even share per window (and
    at least ``min_incidents``); runs are cut where two of them are more than a window
    apart."""
    count = len(times)
    need = max(min_incidents, min_lift * count * window_s / period_s)
    index = np.arange(count)
    ahead = np.searchsorted(times, times + window_s, side="right")
    dense = (ahead - index) >= need - 1e-9
    if not dense.any():
        return
    marks = np.zeros(count + 1, dtype=np.int64)
    np.add.at(marks, index[dense], 1)
    np.add.at(marks, ahead[dense], -1)
    chosen = np.flatnonzero(np.cumsum(marks)[:count] > 0)
    cuts = np.flatnonzero((np.diff(chosen) > 1) | (np.diff(times[chosen]) > window_s)) + 1
    for run in np.split(chosen, cuts):
        if len(run) >= min_incidents:
            yield run


def _components(left, right, weight, min_incidents):
    """Connected components with at least ``min_incidents`` members: (sorted member
    positions, their links as (left, right, weight))."""
    if len(left) < min_incidents - 1:
        return
    nodes = np.unique(np.concatenate((left, right)))
    left_node = np.searchsorted(nodes, left)
    right_node = np.searchsorted(nodes, right)
    graph = sparse.coo_matrix(
        (np.ones(len(left)), (left_node, right_node)), shape=(len(nodes), len(nodes))
    )
    count, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels, minlength=count)
    if sizes.max() < min_incidents:
        return
    node_order = np.argsort(labels, kind="stable")
    node_bounds = np.concatenate(([0], np.cumsum(sizes)))
    link_labels = labels[left_node]
    link_order = np.argsort(link_labels, kind="stable")
    link_bounds = np.concatenate(([0], np.cumsum(np.bincount(link_labels, minlength=count))))
    for label in np.flatnonzero(sizes >= min_incidents):
        members = nodes[node_order[node_bounds[label] : node_bounds[label + 1]]]
        chosen = link_order[link_bounds[label] : link_bounds[label + 1]]
        yield members, (left[chosen], right[chosen], weight[chosen])


def _cohesion(vectors) -> float:
    """Mean cosine over all pairs of rows: (|sum of rows|^2 - n) / (n (n - 1)) for unit
    rows, computed without the n x n products."""
    size = vectors.shape[0]
    if size < 2:
        return 1.0
    if sparse.issparse(vectors):
        # Column sums over the used columns only (a sparse product would allocate
        # arrays as wide as the batch's columns for every cluster).
        _, column = np.unique(vectors.indices, return_inverse=True)
        total = np.bincount(column, weights=vectors.data.astype(np.float64))
        squared = float(total @ total)
        norms = float(np.count_nonzero(np.diff(vectors.indptr)))  # unit rows, or empty
    else:
        total = np.asarray(vectors, dtype=np.float64).sum(axis=0)
        squared = float(total @ total)
        norms = float(np.square(vectors).sum())
    return (squared - norms) / (size * (size - 1))


def _batches(starts: np.ndarray):
    """Consecutive runs of blocks of about ``BATCH_INCIDENTS`` incidents (a busy block
    alone may be more): (first block, block after the last)."""
    first = 0
    blocks = len(starts) - 1
    while first < blocks:
        last = int(np.searchsorted(starts, starts[first] + BATCH_INCIDENTS, side="right")) - 1
        last = min(max(last, first + 1), blocks)
        yield first, last
        first = last


def _fit_sample(table: _Table, order: np.ndarray) -> list[str]:
    """The distinct texts of the kept incidents, or every k-th of them in alphabetical
    order when there are more than ``FIT_SAMPLE`` (deterministic, whatever the input
    order)."""
    texts = sorted(table.texts[i] for i in np.unique(table.text[order]))
    if len(texts) > FIT_SAMPLE:
        texts = texts[:: math.ceil(len(texts) / FIT_SAMPLE)]
    return texts


def _build(table: _Table, clusters, merge: bool) -> list[Candidate]:
    by_signature: dict[str, list] = {}
    terms_of: dict[str, list[str]] = {}
    for members, cohesion in clusters:
        terms = _terms([table.texts[table.text[i]] for i in members])
        block_key = table.block_keys[table.block[members[0]]]
        if merge:
            signature = _signature(block_key, terms)
        else:
            first = min(members.tolist(), key=lambda i: (table.times[i], repr(table.keys[i])))
            signature = _signature(block_key, terms, first=table.keys[first])
        terms_of.setdefault(signature, terms)
        entry = by_signature.setdefault(signature, [block_key, [], 0.0])
        entry[1].append(members)
        entry[2] += cohesion * len(members)
    candidates = []
    for signature, (block_key, parts, cohesion_sum) in by_signature.items():
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
        cohesion = cohesion_sum / count
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
                terms=(
                    terms_of[signature]
                    if len(parts) == 1
                    else _terms([table.texts[table.text[i]] for i in members])
                )[:REPORTED_TERMS],
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


def _signature(block_key: tuple, terms: list[str], first: Hashable | None = None) -> str:
    """32 hex characters: the block key and the most shared terms (and, when recurrences
    are not merged, the first incident's key), hashed."""
    text_key = " ".join(sorted(terms[:SIGNATURE_TERMS]))
    material = f"{block_key!r}|{text_key}"
    if first is not None:
        material += f"|{first!r}"
    material = material.encode()
    return hashlib.blake2b(material, digest_size=16).hexdigest()


def _shared(values: list, members: list[int]) -> Hashable | None:
    """The value at least half of the members share (None counts as no value)."""
    counts = Counter(values[i] for i in members if values[i] is not None)
    if not counts:
        return None
    value, n = min(counts.items(), key=lambda item: (-item[1], repr(item[0])))
    return value if n * 2 >= len(members) else None
