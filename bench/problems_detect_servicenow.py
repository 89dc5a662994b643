"""Recurring-incident detection against the human problem links of a real ServiceNow log.

    .venv/bin/python bench/problems_detect_servicenow.py [--file PATH] [--quick]

Reads ``shared/data/uci_incidents/incident_event_log.csv.gz`` directly with the csv
module (no import into Itsmo, no database), one row per audit event, and keeps for each
incident the last known value of every field (events ordered by ``sys_mod_count``, then
file order; a ``?`` never overwrites a known value). The file has no free text: the
"text" of an incident is built from its categorical fields as tokens
(``cat53 sub127 sym470 grp54 loc108``), and the block key from some of them; several
encodings are tried (see ``SETTINGS``).

Ground truth: the problems (``problem_id`` not ``?``) linked to two or more incidents.

* Pair level: a predicted pair is two incidents in the same candidate, a true pair two
  incidents linked to the same problem. Precision = true predicted pairs / predicted
  pairs; recall = true predicted pairs / true pairs.
* Problem level: a problem is found when one candidate holds at least two of its
  incidents (recall = found / 35). A candidate is *pure* when more than half of its
  incidents belong to one problem (precision = pure / candidates), and a *hit* when it
  holds at least two incidents of one problem (a looser precision).

Every incident that no human linked to a problem counts as a false positive, although
many such groups are probably real recurrences that nobody turned into a problem: the
precision figures are a lower bound. Writes the table to stdout (Markdown).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from itsmo.problems.detection import IncidentSample, find_candidates

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/uci_incidents/incident_event_log.csv.gz"
)
FIELDS = (
    "opened_at",
    "category",
    "subcategory",
    "u_symptom",
    "cmdb_ci",
    "location",
    "assignment_group",
    "caller_id",
    "problem_id",
    "closed_code",
)
TOKEN_PREFIX = {
    "category": "cat",
    "subcategory": "sub",
    "u_symptom": "sym",
    "location": "loc",
    "assignment_group": "grp",
    "cmdb_ci": "ci",
    "caller_id": "caller",
    "closed_code": "close",
}


def read_incidents(path: Path) -> dict[str, dict[str, str]]:
    """number -> last known value of each field of ``FIELDS``."""
    latest: dict[str, tuple[int, int, dict[str, str]]] = {}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle)):
            number = row["number"]
            try:
                version = int(row["sys_mod_count"])
            except ValueError:
                version = -1
            known = latest.get(number)
            if known is None:
                latest[number] = (version, line, {f: row[f] for f in FIELDS})
                continue
            older, newer = (known[2], row) if version >= known[0] else (row, known[2])
            merged = {f: newer[f] if newer[f] != "?" else older[f] for f in FIELDS}
            latest[number] = (max(version, known[0]), line, merged)
    return {number: values for number, (_, _, values) in latest.items()}


def token(field: str, value: str) -> str | None:
    if value == "?" or not value:
        return None
    return TOKEN_PREFIX[field] + value.split()[-1]


@dataclass(frozen=True)
class Setting:
    """One way of running the engine (a row of the table); shared with the BPIC 2014 bench."""

    name: str
    service: str | None  # field used as the service part of the block key
    category: str | None  # field used as the category part of the block key
    text: tuple[str, ...]  # fields whose tokens make the text
    similarity: str
    threshold: float | None
    window_days: float
    min_incidents: int
    min_lift: float | None = None
    merge: bool = True


def samples(incidents: dict[str, dict[str, str]], setting: Setting) -> list[IncidentSample]:
    result = []
    for number, values in incidents.items():
        opened_at = datetime.strptime(values["opened_at"], "%d/%m/%Y %H:%M")
        words = [token(f, values[f]) for f in setting.text]
        result.append(
            IncidentSample(
                key=number,
                opened_at=opened_at,
                text=" ".join(w for w in words if w),
                service=token(setting.service, values[setting.service])
                if setting.service
                else None,
                ci=token("cmdb_ci", values["cmdb_ci"]),
                category=token(setting.category, values[setting.category])
                if setting.category
                else None,
                country=values["location"],
            )
        )
    return result


def evaluate(candidates, truth: dict[str, str]) -> dict[str, float]:
    """Pair- and problem-level precision and recall (see the module docstring)."""
    sizes = Counter(truth.values())
    true_pairs = sum(n * (n - 1) // 2 for n in sizes.values())
    predicted_pairs = correct_pairs = pure = hits = covered = 0
    found: set[str] = set()
    for candidate in candidates:
        n = len(candidate.keys)
        covered += n
        predicted_pairs += n * (n - 1) // 2
        problems = Counter(truth[k] for k in candidate.keys if k in truth)
        correct_pairs += sum(k * (k - 1) // 2 for k in problems.values())
        if problems:
            _, most = problems.most_common(1)[0]
            if most * 2 > n:
                pure += 1
            if most >= 2:
                hits += 1
        found.update(p for p, k in problems.items() if k >= 2)
    count = len(candidates)
    return {
        "candidates": count,
        "incidents": covered,
        "pair_precision": correct_pairs / predicted_pairs if predicted_pairs else 0.0,
        "pair_recall": correct_pairs / true_pairs if true_pairs else 0.0,
        "problem_recall": len(found) / len(sizes) if sizes else 0.0,
        "pure_precision": pure / count if count else 0.0,
        "hit_precision": hits / count if count else 0.0,
        "found": len(found),
    }


ALL_TEXT = ("category", "subcategory", "u_symptom", "assignment_group", "location")
GROUP = "assignment_group"


def setting(name, service, category, text, similarity, threshold, days, least, lift=None):
    return Setting(
        name, service, category, text, similarity, threshold, days, least, lift, lift is None
    )


SUB_SYM = ("subcategory", "u_symptom")
SETTINGS = [
    # Whole recurring patterns (merged across pauses), no burst filter.
    setting("group+category", GROUP, "category", (), "categorical", None, 3, 3),
    setting("group+category / sub+sym", GROUP, "category", SUB_SYM, "exact", None, 3, 3),
    setting("group / all tokens", GROUP, None, ALL_TEXT, "tfidf", 0.6, 3, 3),
    setting("group / all tokens", GROUP, None, ALL_TEXT, "tfidf", 0.6, 30, 3),
    setting("category / all tokens", None, "category", ALL_TEXT, "tfidf", 0.6, 3, 3),
    # Bursts only (min_lift), each burst its own candidate (merge=False).
    setting("group+category", GROUP, "category", (), "categorical", None, 1, 3, 5),
    setting("group", GROUP, None, (), "categorical", None, 1, 3, 5),
    setting("group", GROUP, None, (), "categorical", None, 2, 3, 20),
    setting("category+subcategory", "category", "subcategory", (), "categorical", None, 1, 3, 5),
    setting("group+category / sub+sym", GROUP, "category", SUB_SYM, "exact", None, 1, 3, 5),
    setting("group / all tokens", GROUP, None, ALL_TEXT, "tfidf", 0.6, 1, 3, 5),
    setting("group / all tokens", GROUP, None, ALL_TEXT, "tfidf", 0.8, 1, 3, 5),
]


def arguments(doc: str, default_file: Path) -> argparse.Namespace:
    """``--file`` and ``--quick``: the options of this bench and of the BPIC 2014 one."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--file", type=Path, default=default_file)
    parser.add_argument("--quick", action="store_true", help="only the first two settings")
    return parser.parse_args()


#: The first columns of every detection table: the setting and what the engine found.
RUN_COLUMNS = (
    "block / text",
    "method",
    "threshold",
    "window",
    "min",
    "lift",
    "merge",
    "candidates",
    "incidents in them",
)


def print_runs(
    settings: list[Setting],
    samples_for: Callable[[Setting], list[IncidentSample]],
    columns: tuple[str, ...],
    cells_for: Callable[[list], list[str]],
) -> None:
    """Run the engine once per setting and print a Markdown table, a row per setting: the
    setting, its candidates and the incidents in them, the bench's own figures (``columns``,
    ``cells_for(candidates)``) and the time (building the samples and finding the
    candidates, not evaluating them). Also the table of ``problems_detect_bpic2014.py``."""
    header = (*RUN_COLUMNS, *columns, "time")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for setting in settings:
        started = time.perf_counter()
        stats: dict = {}
        candidates = find_candidates(
            samples_for(setting),
            window=timedelta(days=setting.window_days),
            min_incidents=setting.min_incidents,
            similarity=setting.similarity,
            threshold=setting.threshold,
            min_lift=setting.min_lift,
            merge=setting.merge,
            stats=stats,
        )
        elapsed = time.perf_counter() - started
        cells = [
            setting.name,
            setting.similarity,
            f"{stats['threshold']:g}",
            f"{setting.window_days:g} d",
            f"{setting.min_incidents}",
            f"{setting.min_lift or '-'}",
            "yes" if setting.merge else "no",
            f"{len(candidates):,}",
            f"{sum(len(c.keys) for c in candidates):,}",
            *cells_for(candidates),
            f"{elapsed:.1f} s",
        ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    args = arguments(__doc__, DEFAULT_FILE)
    started = time.perf_counter()
    incidents = read_incidents(args.file)
    linked = Counter(v["problem_id"] for v in incidents.values() if v["problem_id"] != "?")
    truth = {
        number: values["problem_id"]
        for number, values in incidents.items()
        if linked.get(values["problem_id"], 0) >= 2
    }
    problems = len(set(truth.values()))
    print(
        f"read {len(incidents):,} incidents in {time.perf_counter() - started:.1f} s; "
        f"{sum(linked.values())} linked to {len(linked)} problems; ground truth: "
        f"{problems} problems with >= 2 incidents, {len(truth)} incidents, "
        f"{sum(n * (n - 1) // 2 for n in Counter(truth.values()).values()):,} pairs"
    )
    pairs = len(incidents) * (len(incidents) - 1) // 2
    chance = sum(n * (n - 1) // 2 for n in Counter(truth.values()).values()) / pairs
    print(f"pair precision of a random grouping (chance level): {chance:.5%}")
    print()

    def cells(candidates) -> list[str]:
        m = evaluate(candidates, truth)
        return [
            f"{m['pair_precision']:.3%}",
            f"{m['pair_recall']:.1%}",
            f"{m['found']}/{problems}",
            f"{m['problem_recall']:.1%}",
            f"{m['pure_precision']:.2%}",
            f"{m['hit_precision']:.2%}",
        ]

    print_runs(
        SETTINGS[:2] if args.quick else SETTINGS,
        lambda setting: samples(incidents, setting),
        ("pair P", "pair R", "problems found", "problem R", "pure P", "hit P"),
        cells,
    )


if __name__ == "__main__":
    main()
