"""Recurring-incident detection engine: pure values in, candidates out (no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from itsmo.problems.detection import Candidate, IncidentSample, find_candidates
from itsmo.problems.similarity import SIMILARITY_METHODS, get_similarity, register_similarity

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def printer_jams(count=4, *, every=timedelta(days=3), ci="CI-PRN-7", first_key=1):
    """The same printer failing again and again, in slightly different words."""
    wording = [
        "Printer PRN-7 paper jam on the second floor",
        "paper jam again on printer PRN-7, second floor",
        "Printer PRN-7: paper jam (floor 2)",
        "second floor printer PRN-7 has a paper jam",
    ]
    return [
        IncidentSample(
            key=first_key + n,
            opened_at=START + n * every,
            text=wording[n % len(wording)],
            ci=ci,
            service="printing",
            category="hardware/printer",
            country=["MX", "BR"][n % 2],
            business_processes=frozenset({"sales"} if n % 2 else {"shipping"}),
        )
        for n in range(count)
    ]


def vpn_drops(count=4, *, ci="CI-PRN-7", first_key=100):
    wording = [
        "VPN drops every hour when working from home",
        "VPN connection drops every hour from home",
        "vpn keeps dropping, every hour, home office",
        "home office: VPN drops each hour",
    ]
    return [
        IncidentSample(
            key=first_key + n,
            opened_at=START + timedelta(days=2 * n, hours=5),
            text=wording[n % len(wording)],
            ci=ci,
            country="CO",
        )
        for n in range(count)
    ]


def test_recurring_text_on_one_ci_inside_the_window_is_one_candidate_with_its_evidence():
    incidents = printer_jams(4)

    candidates = find_candidates(incidents)

    assert len(candidates) == 1
    candidate = candidates[0]
    assert isinstance(candidate, Candidate)
    assert candidate.keys == [1, 2, 3, 4]
    assert candidate.count == 4
    assert candidate.first_at == START
    assert candidate.last_at == START + timedelta(days=9)
    assert candidate.ci == "CI-PRN-7"
    assert candidate.service == "printing"
    assert candidate.category == "hardware/printer"
    assert candidate.countries == {"MX", "BR"}
    assert candidate.business_processes == {"sales", "shipping"}
    assert {"printer", "paper", "jam"} <= set(candidate.terms)
    assert candidate.score > 0
    assert len(candidate.signature) == 32


def test_the_same_incidents_spread_beyond_the_window_give_no_candidate():
    incidents = printer_jams(4, every=timedelta(days=31))

    assert find_candidates(incidents, window=timedelta(days=30)) == []


def test_a_pattern_needs_min_incidents_inside_one_window_not_just_linked():
    # Days 0, 20, 40: each linked to the next within 30 days, but no 30-day stretch
    # holds three of them.
    incidents = printer_jams(3, every=timedelta(days=20))

    assert find_candidates(incidents, window=timedelta(days=30)) == []
    assert len(find_candidates(incidents, window=timedelta(days=40))) == 1


def test_a_pattern_that_keeps_coming_back_stays_one_candidate():
    incidents = printer_jams(12, every=timedelta(days=10))

    candidates = find_candidates(incidents, window=timedelta(days=30))

    assert [c.count for c in candidates] == [12]


def test_different_texts_on_the_same_ci_are_separate_candidates():
    incidents = printer_jams(4) + vpn_drops(4)

    candidates = find_candidates(incidents)

    assert sorted(sorted(c.keys) for c in candidates) == [[1, 2, 3, 4], [100, 101, 102, 103]]
    assert len({c.signature for c in candidates}) == 2


def test_unrelated_texts_on_the_same_ci_give_no_candidate():
    texts = [
        "Printer PRN-7 paper jam",
        "VPN drops every hour",
        "Outlook cannot open the shared calendar",
        "Badge reader at door 3 refuses every badge",
        "Payroll report shows last month",
    ]
    incidents = [
        IncidentSample(key=n, opened_at=START + timedelta(days=n), text=text, ci="CI-1")
        for n, text in enumerate(texts)
    ]

    assert find_candidates(incidents) == []


def test_the_same_text_on_different_cis_is_not_grouped():
    incidents = [
        IncidentSample(
            key=n, opened_at=START + timedelta(days=n), text="disk full on /var", ci=f"srv{n}"
        )
        for n in range(5)
    ]

    assert find_candidates(incidents) == []


def test_without_ci_incidents_block_on_service_and_category():
    incidents = [
        IncidentSample(
            key=n,
            opened_at=START + timedelta(days=n),
            text="order entry screen freezes when saving",
            service="sales-order-entry",
            category="application/freeze" if n < 4 else "access/password",
        )
        for n in range(6)
    ]

    candidates = find_candidates(incidents)

    assert len(candidates) == 1
    assert candidates[0].keys == [0, 1, 2, 3]
    assert candidates[0].ci is None
    assert candidates[0].service == "sales-order-entry"
    assert candidates[0].category == "application/freeze"


@pytest.mark.parametrize(("min_incidents", "expected"), [(2, 1), (3, 1), (4, 1), (5, 0)])
def test_min_incidents_is_respected(min_incidents, expected):
    candidates = find_candidates(printer_jams(4), min_incidents=min_incidents)

    assert len(candidates) == expected
    assert all(c.count >= min_incidents for c in candidates)


def test_min_incidents_below_two_is_refused():
    with pytest.raises(ValueError, match="min_incidents"):
        find_candidates(printer_jams(4), min_incidents=1)


def test_signature_is_stable_across_runs_and_input_order():
    incidents = printer_jams(6) + vpn_drops(5)
    first = find_candidates(incidents)

    shuffled = list(incidents)
    random.Random(7).shuffle(shuffled)
    again = find_candidates(iter(shuffled))

    assert [(c.signature, c.keys, c.score) for c in again] == [
        (c.signature, c.keys, c.score) for c in first
    ]


def test_signature_survives_more_incidents_and_a_later_start():
    first = find_candidates(printer_jams(4))
    later = find_candidates(printer_jams(8)[2:])

    assert [c.signature for c in later] == [c.signature for c in first]


def test_signature_differs_between_cis():
    one = find_candidates(printer_jams(4, ci="CI-A"))
    other = find_candidates(printer_jams(4, ci="CI-B"))

    assert one[0].signature != other[0].signature


def test_keys_are_oldest_first_and_naive_datetimes_are_accepted():
    incidents = [
        IncidentSample(
            key=f"INC{n}", opened_at=datetime(2026, 1, 10 - n, 9), text="mail stuck", ci="mx"
        )
        for n in range(3)
    ]

    [candidate] = find_candidates(incidents)

    assert candidate.keys == ["INC2", "INC1", "INC0"]
    assert candidate.first_at == datetime(2026, 1, 8, 9)


def test_exact_method_needs_the_same_normalised_text():
    incidents = printer_jams(4) + [
        IncidentSample(key=50 + n, opened_at=START + timedelta(days=n), text=text, ci="CI-X")
        for n, text in enumerate(["Disk FULL!", "disk full", "disk  full 2"])
    ]

    candidates = find_candidates(incidents, similarity="exact")

    assert [c.keys for c in candidates] == [[50, 51, 52]]


def test_categorical_method_groups_a_block_inside_the_window_whatever_the_text():
    incidents = printer_jams(4) + vpn_drops(4)

    candidates = find_candidates(incidents, similarity="categorical")

    assert len(candidates) == 1
    assert candidates[0].count == 8


def test_unknown_method_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="categorical, exact, tfidf"):
        find_candidates(printer_jams(4), similarity="nope")


def test_a_registered_method_is_used_by_name():
    @register_similarity("first-letter")
    class FirstLetter:
        threshold = 1.0

        def vectorize(self, texts):
            letters = sorted({t[:1].lower() for t in texts})
            matrix = np.zeros((len(texts), len(letters)), dtype=np.float32)
            for row, text in enumerate(texts):
                matrix[row, letters.index(text[:1].lower())] = 1.0
            return matrix  # dense rows work too

    try:
        incidents = printer_jams(4) + vpn_drops(4)
        candidates = find_candidates(incidents, similarity="first-letter")
        assert get_similarity("first-letter").name == "first-letter"
    finally:
        del SIMILARITY_METHODS["first-letter"]

    # Printer texts start with "p" three times and "s" once; VPN texts with "v" three
    # times and "h" once.
    assert sorted(c.keys for c in candidates) == [[1, 2, 3], [100, 101, 102]]


def test_threshold_can_be_overridden():
    incidents = printer_jams(4)

    assert find_candidates(incidents, threshold=0.99) == []


def test_stats_report_the_run():
    stats: dict = {}

    find_candidates(printer_jams(4) + vpn_drops(4), stats=stats)

    assert stats["incidents"] == 8
    assert stats["candidates"] == 2
    assert stats["total_s"] >= 0


def test_no_incidents_no_candidates():
    assert find_candidates([]) == []


def steady_and_burst():
    """A printer that jams every other day all year, and six times in two days in May."""
    steady = [
        IncidentSample(
            key=n, opened_at=START + timedelta(days=2 * n), text="printer PRN-7 paper jam", ci="A"
        )
        for n in range(183)
    ]
    burst = [
        IncidentSample(
            key=1000 + n,
            opened_at=datetime(2026, 5, 20, 9, tzinfo=UTC) + timedelta(hours=8 * n),
            text="printer PRN-7 paper jam",
            ci="A",
        )
        for n in range(6)
    ]
    return steady + burst


def test_a_steady_pattern_is_one_candidate_without_min_lift():
    candidates = find_candidates(steady_and_burst(), window=timedelta(days=3))

    assert [c.count for c in candidates] == [189]


def test_min_lift_keeps_only_the_burst():
    candidates = find_candidates(steady_and_burst(), window=timedelta(days=3), min_lift=3)

    assert len(candidates) == 1
    assert {1000, 1001, 1002, 1003, 1004, 1005} <= set(candidates[0].keys)
    assert candidates[0].count <= 9


def test_a_chain_of_different_texts_is_split_into_its_patterns():
    # Each text shares words with the next, so single links chain them all; the two
    # ends have nothing in common.
    texts = (
        ["outlook crashes opening attachments"] * 4
        + ["outlook crashes opening calendar invites"] * 4
        + ["teams calendar invites missing for the sales team"] * 4
    )
    incidents = [
        IncidentSample(key=n, opened_at=START + timedelta(hours=n), text=text, ci="mail")
        for n, text in enumerate(texts)
    ]

    chained = find_candidates(incidents, threshold=0.25, min_cohesion=0.0)
    split = find_candidates(incidents, threshold=0.25, min_cohesion=0.8)

    assert [c.count for c in chained] == [12]
    assert sorted(c.keys for c in split) == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
    ]


def test_a_pattern_that_pauses_and_comes_back_is_merged_unless_asked_not_to():
    spring = printer_jams(4)
    autumn = printer_jams(4, first_key=50)
    autumn = [
        IncidentSample(
            key=s.key,
            opened_at=s.opened_at + timedelta(days=200),
            text=s.text,
            ci=s.ci,
        )
        for s in autumn
    ]

    merged = find_candidates(spring + autumn)
    apart = find_candidates(spring + autumn, merge=False)

    assert [c.count for c in merged] == [8]
    assert sorted(c.keys for c in apart) == [[1, 2, 3, 4], [50, 51, 52, 53]]
    assert len({c.signature for c in apart}) == 2


def test_character_ngrams_match_scikit_learns_char_wb_counts():
    from sklearn.feature_extraction.text import HashingVectorizer

    from itsmo.problems.similarity import char_ngram_counts

    texts = ["Printer PRN-7 paper JAM", "vpn  drops\tevery hour", "", "disk full on srv01"]
    ours = char_ngram_counts(texts)
    theirs = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), alternate_sign=False, norm=None
    ).transform(texts)

    assert ours.shape == (4, 2**20)
    assert np.asarray(ours.sum(axis=1)).ravel().tolist() == (
        np.asarray(theirs.sum(axis=1)).ravel().tolist()
    )
    assert (char_ngram_counts(["paper jam"]) != char_ngram_counts(["paper jam"])).nnz == 0


def test_a_method_object_without_a_name_or_fit_can_be_passed_directly():
    class Constant:
        threshold = 1.0

        def vectorize(self, texts):
            return np.ones((len(texts), 1), dtype=np.float32)

    stats: dict = {}
    candidates = find_candidates(printer_jams(4), similarity=Constant(), stats=stats)

    assert [c.count for c in candidates] == [4]
    assert stats["similarity"] == "Constant"


def mixed_workload():
    """Patterns on several CIs and services, with unrelated noise around them."""
    rng = random.Random(3)
    noise_words = [
        "printer",
        "vpn",
        "outlook",
        "disk",
        "badge",
        "payroll",
        "scanner",
        "laptop",
        "wifi",
        "sap",
    ]
    incidents = printer_jams(6) + vpn_drops(5) + printer_jams(5, ci="CI-B", first_key=300)
    for n in range(400):
        words = rng.sample(noise_words, 3)
        incidents.append(
            IncidentSample(
                key=1000 + n,
                opened_at=START + timedelta(hours=rng.randrange(24 * 90)),
                text=" ".join(words) + f" ref {rng.randrange(10**6)}",
                ci=rng.choice(["CI-PRN-7", "CI-B", "CI-C", None]),
                service=rng.choice(["printing", "network"]),
                category="misc",
            )
        )
    return incidents


def test_chunks_batches_and_text_chunks_do_not_change_the_result(monkeypatch):
    from itsmo.problems import detection, similarity

    incidents = mixed_workload()
    expected = [(c.signature, c.keys, c.score) for c in find_candidates(incidents)]

    monkeypatch.setattr(detection, "CHUNK_ROWS", 7)
    monkeypatch.setattr(detection, "BATCH_INCIDENTS", 10)
    monkeypatch.setattr(similarity, "CHAR_CHUNK", 3)
    again = [(c.signature, c.keys, c.score) for c in find_candidates(incidents)]

    assert expected
    assert again == expected
