"""Recurring-incident detection on the Rabobank BPIC 2014 incidents: CIs and changes.

    .venv/bin/python bench/problems_detect_bpic2014.py [--file PATH] [--quick]

Reads ``shared/data/bpic2014_rabobank/detail_incident.csv.gz`` directly with the csv
module (semicolons, Latin-1, trailing empty columns, fully empty rows skipped; no import
into Itsmo, no database). The file has no free text and no problem records: the "text"
of an incident is built from its categorical fields as tokens (CI type and subtype,
category, knowledge-article number, e.g. ``typeapplication subWebBasedApplication
catincident KM0000553``); the CI is ``CI Name (aff)``, the service its service component
(``Service Component WBS (aff)``), the category ``Category``. Every incident has a CI,
so the engine blocks on it; two settings leave the CI out to block on service component
+ category instead; ``Open Time`` (day-first,
local time) is the opening time. Several settings are tried (see ``SETTINGS``).

There is no ground truth; the candidates are measured against two signals of the file:

* CIs that concentrate incidents: of the top 20 / 50 CIs by incident count, how many
  have at least one candidate holding one of their incidents; and the share of the
  incidents in candidates that sit on those CIs (against that share among all
  incidents).
* Changes: the share of candidate incidents that carry a ``Related Change`` id (not
  ``#MULTIVALUE``) against that share among all incidents, with ``# Related Changes`` >= 1
  (ids or ``#MULTIVALUE``) in brackets, and how many candidates hold at least one
  incident related to a change.

Writes the table to stdout (Markdown).
"""

from __future__ import annotations

import csv
import gzip
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# The options, the settings' fields and the table of runs are those of the ServiceNow bench.
from problems_detect_servicenow import Setting as BaseSetting, arguments, print_runs

from itsmo.problems.detection import IncidentSample

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/bpic2014_rabobank/detail_incident.csv.gz"
)
FIELDS = {
    "ci": "CI Name (aff)",
    "type": "CI Type (aff)",
    "subtype": "CI Subtype (aff)",
    "service": "Service Component WBS (aff)",
    "category": "Category",
    "km": "KM number",
    "opened": "Open Time",
    "change": "Related Change",
    "changes": "# Related Changes",
}
TOKEN_PREFIX = {"type": "type", "subtype": "sub", "category": "cat", "km": "", "service": ""}
NO_ID = ("", "#MULTIVALUE", "#N/B")


def read_incidents(path: Path) -> dict[str, dict[str, str]]:
    """Incident ID -> the values of ``FIELDS`` (one row per incident in this file)."""
    incidents = {}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="latin-1") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            key = (row.get("Incident ID") or "").strip()
            if not key:
                continue  # the file has fully empty rows
            incidents[key] = {name: (row[column] or "").strip() for name, column in FIELDS.items()}
    return incidents


#: The ``exact`` method drops digits: the knowledge-article number is spelt in letters.
DIGITS = str.maketrans("0123456789", "abcdefghij")


def token(field: str, value: str) -> str | None:
    if not value or value == "#N/B":
        return None
    if field == "km":
        return "km" + value.removeprefix("KM").translate(DIGITS)
    return TOKEN_PREFIX[field] + value.replace(" ", "")


@dataclass(frozen=True)
class Setting(BaseSetting):
    use_ci: bool = True  # False: the block is service + category, the CI is not given


def samples(incidents: dict[str, dict[str, str]], setting: Setting) -> list[IncidentSample]:
    result = []
    for key, values in incidents.items():
        words = [token(f, values[f]) for f in setting.text]
        result.append(
            IncidentSample(
                key=key,
                opened_at=datetime.strptime(values["opened"], "%d/%m/%Y %H:%M:%S"),
                text=" ".join(w for w in words if w),
                service=token(setting.service, values[setting.service])
                if setting.service
                else None,
                ci=(values["ci"] or None) if setting.use_ci else None,
                category=token(setting.category, values[setting.category])
                if setting.category
                else None,
            )
        )
    return result


def has_change_id(values: dict[str, str]) -> bool:
    return values["change"] not in NO_ID


def has_change(values: dict[str, str]) -> bool:
    return values["changes"] not in ("", "0")


def evaluate(candidates, incidents: dict[str, dict[str, str]], top: dict[int, set]) -> dict:
    keys = [k for c in candidates for k in c.keys]
    covered = len(keys)
    figures = {"candidates": len(candidates), "incidents": covered}
    for n, cis in top.items():
        hit = {incidents[k]["ci"] for k in keys} & cis
        figures[f"top{n}_with"] = len(hit)
        on_top = sum(incidents[k]["ci"] in cis for k in keys)
        figures[f"top{n}_share"] = on_top / covered if covered else 0.0
    figures["change_id_share"] = (
        sum(has_change_id(incidents[k]) for k in keys) / covered if covered else 0.0
    )
    figures["change_share"] = (
        sum(has_change(incidents[k]) for k in keys) / covered if covered else 0.0
    )
    figures["with_change_id"] = sum(
        any(has_change_id(incidents[k]) for k in c.keys) for c in candidates
    )
    figures["with_change"] = sum(any(has_change(incidents[k]) for k in c.keys) for c in candidates)
    return figures


def setting(name, service, category, text, similarity, threshold, days, least, lift=None, ci=True):
    return Setting(
        name, service, category, text, similarity, threshold, days, least, lift, lift is None, ci
    )


ALL_TEXT = ("type", "subtype", "category", "km")
SERVICE = "service"
# Every incident has a CI, so the block is the CI (the engine's rule) unless ``ci=False``.
SETTINGS = [
    # Whole recurring patterns (merged across pauses), no burst filter.
    setting("CI", SERVICE, "category", (), "categorical", None, 3, 3),
    setting("CI / KM", SERVICE, "category", ("km",), "exact", None, 3, 3),
    setting("CI / all tokens", SERVICE, None, ALL_TEXT, "tfidf", 0.6, 3, 3),
    # Bursts only (min_lift), each burst its own candidate (merge=False).
    setting("CI", SERVICE, "category", (), "categorical", None, 1, 3, 5),
    setting("CI / KM", SERVICE, "category", ("km",), "exact", None, 1, 3, 5),
    setting("CI / all tokens", SERVICE, None, ALL_TEXT, "tfidf", 0.6, 1, 3, 5),
    # No CI given: the block is service component + category.
    setting("service+category / KM", SERVICE, "category", ("km",), "exact", None, 1, 3, 5, False),
    setting(
        "service+category / all tokens", SERVICE, "category", ALL_TEXT, "tfidf", 0.6, 1, 3, 5, False
    ),
]


def main() -> None:
    args = arguments(__doc__, DEFAULT_FILE)
    started = time.perf_counter()
    incidents = read_incidents(args.file)
    total = len(incidents)
    per_ci = Counter(v["ci"] for v in incidents.values() if v["ci"])
    top = {n: {ci for ci, _ in per_ci.most_common(n)} for n in (20, 50)}
    print(
        f"read {total:,} incidents on {len(per_ci):,} CIs in {time.perf_counter() - started:.1f} s"
    )
    for n, cis in top.items():
        on = sum(per_ci[ci] for ci in cis)
        print(f"top {n} CIs: {on:,} incidents ({on / total:.1%} of all)")
    with_id = sum(has_change_id(v) for v in incidents.values())
    with_any = sum(has_change(v) for v in incidents.values())
    print(
        f"related to a change: {with_id:,} with an id ({with_id / total:.2%}), "
        f"{with_any:,} counting #MULTIVALUE ({with_any / total:.2%})"
    )
    print()

    def cells(candidates) -> list[str]:
        m = evaluate(candidates, incidents, top)
        return [
            f"{m['top20_with']}/20",
            f"{m['top20_share']:.1%}",
            f"{m['top50_with']}/50",
            f"{m['top50_share']:.1%}",
            f"{m['change_id_share']:.2%} ({m['change_share']:.2%})",
            f"{m['with_change_id']:,} ({m['with_change']:,})",
        ]

    print_runs(
        SETTINGS[:2] if args.quick else SETTINGS,
        lambda item: samples(incidents, item),
        (
            "top-20 CIs with a candidate",
            "candidate incidents on top 20",
            "top-50 CIs with a candidate",
            "candidate incidents on top 50",
            "candidate incidents with a change id (any)",
            "candidates with a change id (any)",
        ),
        cells,
    )


if __name__ == "__main__":
    main()
