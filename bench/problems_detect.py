"""Recurring-incident detection over 1,000,000 synthetic incidents (12 months), in memory.

    .venv/bin/python bench/problems_detect.py [--incidents 1000000] [--patterns 300]
        [--similarity tfidf] [--window-days 30] [--min-incidents 3] [--seed 5]

No database: the samples are generated straight into :class:`IncidentSample` values and
handed to :func:`itsmo.problems.detection.find_candidates`, which is what the periodic
job does after loading them.

* Organisation: ~50,000 CIs in 12 classes (printers, laptops, servers, network, …), each
  CI in one of 40 services; 16 countries; 8 business processes (each service supports
  one or two); 30 categories.
* Background incidents: a CI drawn with a Zipf-like skew (a few CIs take thousands of
  incidents a year, most take a handful); one incident in five has no CI and carries its
  service and category instead; opened uniformly over 12 months, in working hours more
  than at night. Text: an object of the CI's class, a symptom and a context from small
  vocabularies ("outlook crashes when opening attachments since this morning"), with
  noise (a user or site reference, a typo, a word dropped) on most of them.
* Planted recurring patterns (``--patterns``): one CI (or service + category), one
  distinctive failure ("scanner … error E4172 after the firmware update"), 4-15
  incidents reworded each time, all inside 25 days, or (one in five) 6-12 incidents
  every 5-20 days over up to 6 months. Recall = share of the planted patterns of which
  one candidate holds at least half of the incidents.

Prints generation time, the detection's wall time and phases, throughput, peak RSS
(``resource.getrusage``), the number of candidates and the recall. Targets at 1M:
under 5 minutes and under 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from itsmo.problems.detection import IncidentSample, find_candidates

CI_CLASSES = {
    "printer": ["printer", "label printer", "plotter", "toner", "print queue"],
    "laptop": ["laptop", "docking station", "keyboard", "screen", "battery"],
    "desktop": ["desktop", "monitor", "mouse", "windows profile", "usb port"],
    "mail": ["outlook", "mailbox", "shared calendar", "distribution list", "mail client"],
    "network": ["wifi", "vpn", "switch port", "network drive", "internet access"],
    "server": ["file server", "disk space", "backup job", "scheduled task", "web server"],
    "erp": ["sap order entry", "invoice posting", "goods receipt", "sap login", "price list"],
    "warehouse": ["handheld scanner", "forklift terminal", "pick list", "label run", "dock door"],
    "phone": ["desk phone", "headset", "mobile phone", "voicemail", "call queue"],
    "database": ["database", "nightly report", "data warehouse load", "query", "replica"],
    "access": ["password", "account", "badge reader", "mfa token", "shared folder"],
    "retail": ["pos terminal", "card reader", "receipt printer", "cash drawer", "price tag"],
}
SYMPTOMS = [
    "not working",
    "very slow",
    "crashes on start",
    "freezes after a few minutes",
    "shows error 500",
    "cannot connect",
    "times out",
    "keeps disconnecting",
    "gives wrong results",
    "is locked",
    "does not respond",
    "reports access denied",
    "is missing",
    "stopped syncing",
    "prints blank pages",
    "fails to start",
    "is unavailable",
    "shows an empty screen",
    "rejects the login",
    "duplicates entries",
]
CONTEXTS = [
    "since this morning",
    "after the update",
    "for all users",
    "at the warehouse",
    "in the meeting room",
    "when opening attachments",
    "during month end",
    "on the second floor",
    "for the night shift",
    "after a restart",
    "when working from home",
    "at the front desk",
    "",
    "",
    "",
]
DETAILS = [
    "error code E{n}",
    "after the firmware update {n}",
    "with exception 0x{n}",
    "after patch KB{n}",
    "when batch job J{n} runs",
    "on release {n}",
    "with message ORA-{n}",
    "when the queue passes {n} items",
]
REWORDINGS = [
    "{object} {symptom} {detail}",
    "{detail}: {object} {symptom}",
    "again {object} {symptom} {detail}",
    "{object} {symptom}, {detail}",
    "user reports {object} {symptom} {detail}",
]
COUNTRIES = [
    "MX",
    "GT",
    "CR",
    "PA",
    "CO",
    "EC",
    "PE",
    "BR",
    "AR",
    "CL",
    "UY",
    "PY",
    "BO",
    "VE",
    "DO",
    "HN",
]
PROCESSES = [
    "sales",
    "production",
    "logistics",
    "shipping",
    "finance",
    "purchasing",
    "hr",
    "maintenance",
]
START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 86400


def typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 4:
        return word
    at = int(rng.integers(1, len(word) - 1))
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def noisy(text: str, rng: np.random.Generator) -> str:
    """Reference numbers, typos and dropped words, as people type them."""
    roll = rng.random()
    if roll < 0.35:
        text = f"{text} - user u{rng.integers(10_000, 99_999)}"
    elif roll < 0.55:
        text = f"{text} (site {rng.integers(1, 400)})"
    elif roll < 0.70:
        words = text.split()
        at = int(rng.integers(len(words)))
        words[at] = typo(words[at], rng)
        text = " ".join(words)
    elif roll < 0.80:
        words = text.split()
        if len(words) > 3:
            del words[int(rng.integers(len(words)))]
        text = " ".join(words)
    return text


def organisation(cis: int, rng: np.random.Generator):
    classes = list(CI_CLASSES)
    ci_class = rng.integers(len(classes), size=cis)
    ci_service = rng.integers(40, size=cis)
    ci_country = rng.integers(len(COUNTRIES), size=cis)
    service_processes = [
        frozenset(PROCESSES[p] for p in rng.choice(len(PROCESSES), size=rng.integers(1, 3)))
        for _ in range(40)
    ]
    # Zipf-like skew: weight of the k-th CI ~ 1 / k^0.8, in a shuffled order.
    weights = 1.0 / np.arange(1, cis + 1) ** 0.8
    weights = weights[rng.permutation(cis)]
    return classes, ci_class, ci_service, ci_country, service_processes, weights / weights.sum()


def generate(total: int, patterns: int, cis: int, seed: int):
    """Return (samples, planted) where planted is a list of key lists."""
    rng = np.random.default_rng(seed)
    classes, ci_class, ci_service, ci_country, service_processes, weights = organisation(cis, rng)
    samples: list[IncidentSample] = []
    planted: list[list[int]] = []

    def sample(key, seconds, text, ci, service, category, country):
        return IncidentSample(
            key=key,
            opened_at=START + timedelta(seconds=int(seconds)),
            text=text,
            service=f"SVC{service:02d}",
            ci=None if ci is None else f"CI{ci:06d}",
            category=f"CAT{category:02d}",
            country=COUNTRIES[country],
            business_processes=service_processes[service],
        )

    # Planted patterns first (keys 0..), then the background.
    key = 0
    for _ in range(patterns):
        ci = int(rng.choice(cis, p=weights)) if rng.random() < 0.8 else None
        service = int(ci_service[ci]) if ci is not None else int(rng.integers(40))
        category = int(rng.integers(30))
        country = int(ci_country[ci]) if ci is not None else int(rng.integers(len(COUNTRIES)))
        objects = CI_CLASSES[classes[ci_class[ci]]] if ci is not None else CI_CLASSES["erp"]
        obj = objects[int(rng.integers(len(objects)))]
        symptom = SYMPTOMS[int(rng.integers(len(SYMPTOMS)))]
        detail = DETAILS[int(rng.integers(len(DETAILS)))].format(n=rng.integers(1000, 9999))
        if rng.random() < 0.8:
            count = int(rng.integers(4, 16))
            span = 25 * 86400
        else:
            count = int(rng.integers(6, 13))
            span = count * int(rng.integers(5, 21)) * 86400
        begin = rng.uniform(0, YEAR_SECONDS - span)
        offsets = np.sort(rng.uniform(0, span, size=count))
        keys = []
        for offset in offsets:
            wording = REWORDINGS[int(rng.integers(len(REWORDINGS)))]
            text = noisy(wording.format(object=obj, symptom=symptom, detail=detail), rng)
            samples.append(sample(key, begin + offset, text, ci, service, category, country))
            keys.append(key)
            key += 1
        planted.append(keys)

    background = total - key
    chunk = 100_000
    for first in range(0, background, chunk):
        size = min(chunk, background - first)
        ci = rng.choice(cis, size=size, p=weights)
        has_ci = rng.random(size) >= 0.2
        day = rng.integers(0, 365, size=size)
        hour = np.where(rng.random(size) < 0.85, rng.uniform(8, 18, size), rng.uniform(0, 24, size))
        seconds = day * 86400 + hour * 3600
        category = rng.integers(30, size=size)
        symptom = rng.integers(len(SYMPTOMS), size=size)
        context = rng.integers(len(CONTEXTS), size=size)
        pick = rng.integers(5, size=size)
        service_any = rng.integers(40, size=size)
        country_any = rng.integers(len(COUNTRIES), size=size)
        for n in range(size):
            c = int(ci[n])
            objects = CI_CLASSES[classes[ci_class[c]]]
            text = f"{objects[pick[n]]} {SYMPTOMS[symptom[n]]} {CONTEXTS[context[n]]}".strip()
            text = noisy(text, rng)
            if has_ci[n]:
                samples.append(
                    sample(
                        key,
                        seconds[n],
                        text,
                        c,
                        int(ci_service[c]),
                        int(category[n]),
                        int(ci_country[c]),
                    )
                )
            else:
                samples.append(
                    sample(
                        key,
                        seconds[n],
                        text,
                        None,
                        int(service_any[n]),
                        int(category[n]),
                        int(country_any[n]),
                    )
                )
            key += 1
    return samples, planted


def recall(candidates, planted) -> float:
    where: dict[int, int] = {}
    for index, candidate in enumerate(candidates):
        for key in candidate.keys:
            where[key] = index
    found = 0
    for keys in planted:
        hits = Counter(where[key] for key in keys if key in where)
        if hits and hits.most_common(1)[0][1] * 2 >= len(keys):
            found += 1
    return found / len(planted) if planted else 1.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--patterns", type=int, default=300)
    parser.add_argument("--cis", type=int, default=50_000)
    parser.add_argument("--similarity", default="tfidf")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--window-days", type=int, default=30)
    parser.add_argument("--min-incidents", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    samples, planted = generate(args.incidents, args.patterns, args.cis, args.seed)
    generated = time.perf_counter() - started
    rss_generated = peak_rss_mb()
    print(
        f"generated {len(samples):,} incidents ({len(planted)} planted patterns, "
        f"{sum(map(len, planted)):,} planted incidents) in {generated:.1f} s, "
        f"peak RSS {rss_generated:,.0f} MB"
    )

    stats: dict = {}
    cpu = time.process_time()
    started = time.perf_counter()
    candidates = find_candidates(
        samples,
        window=timedelta(days=args.window_days),
        min_incidents=args.min_incidents,
        similarity=args.similarity,
        threshold=args.threshold,
        stats=stats,
    )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rss = peak_rss_mb()

    phases = ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in stats.items() if k.endswith("_s"))
    print(
        f"detection: {stats['similarity']} threshold {stats['threshold']}, "
        f"window {args.window_days} d, min {args.min_incidents} incidents"
    )
    print(f"  phases: {phases}")
    print(
        f"  kept {stats['kept_incidents']:,} incidents in {stats['kept_blocks']:,} of "
        f"{stats['blocks']:,} blocks; {stats['distinct_texts']:,} distinct texts; "
        f"{stats['links']:,} links; {stats['clusters']:,} clusters"
    )
    sizes = sorted((c.count for c in candidates), reverse=True)
    print(
        f"  candidates: {len(candidates):,} (largest {sizes[:5]}, "
        f"median {sizes[len(sizes) // 2] if sizes else 0})"
    )
    print(f"  recall of planted patterns: {recall(candidates, planted):.1%}")
    print(
        f"wall {wall:.1f} s (cpu {cpu:.1f} s), {len(samples) / wall:,.0f} incidents/s, "
        f"peak RSS {rss:,.0f} MB (after generation {rss_generated:,.0f} MB)"
    )
    ok = wall < 300 and rss < 4096
    print(f"target < 300 s and < 4096 MB: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
