"""The real ServiceNow event log, a deterministic subset of it, and the reference figures.

:func:`reference_figures` reads the raw CSV with the standard library only (csv, gzip,
zoneinfo, statistics): it shares no code with ``itsmo.imports``. Definitions
(docs/importing.md): per incident, the events are ordered by ``sys_mod_count`` then file
order, and a column's value is the last one that is not ``?``; counts are over incidents
opened in the period, times over incidents resolved in it.
"""

from __future__ import annotations

import csv
import gzip
import io
import statistics
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

DATA = Path(__file__).resolve().parents[3] / "shared/data/uci_incidents/incident_event_log.csv.gz"
ZONE = "America/Sao_Paulo"
SUBSET_INCIDENTS = 1500


def require_data() -> Path:
    if not DATA.is_file():
        pytest.skip(f"{DATA} is not there")
    return DATA


def first_incidents(count: int) -> str:
    """The header and every row of the first ``count`` incidents of the real file."""
    out = io.StringIO()
    seen: list[str] = []
    with gzip.open(require_data(), "rt", newline="") as source:
        reader = csv.reader(source)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            if not seen or seen[-1] != row[0]:
                if len(seen) == count:
                    break
                seen.append(row[0])
            writer.writerow(row)
    return out.getvalue()


@pytest.fixture(scope="session")
def subset_text() -> str:
    return first_incidents(SUBSET_INCIDENTS)


@pytest.fixture
def subset_file(tmp_path, subset_text) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(subset_text, encoding="utf-8")
    return path


def _when(text: str, zone: ZoneInfo) -> datetime | None:
    if text == "?":
        return None
    # Converted to UTC: aware datetimes sharing one tzinfo subtract as wall-clock times.
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=zone).astimezone(UTC)


def reference_figures(source, start: datetime, end: datetime, zone_name: str = ZONE) -> dict:
    """The baseline figures straight from the raw rows (``source``: path or text)."""
    zone = ZoneInfo(zone_name)
    if isinstance(source, Path):
        opener = gzip.open if source.suffix == ".gz" else open
        handle = opener(source, "rt", newline="", encoding="utf-8")
    else:
        handle = io.StringIO(source)
    incidents: dict[str, list] = {}
    with handle:
        for position, row in enumerate(csv.DictReader(handle)):
            incidents.setdefault(row["number"], []).append(
                (int(row["sys_mod_count"]), position, row)
            )
    figures = {
        "distinct_incidents": 0,
        "resolved": 0,
        "by_priority": dict.fromkeys(range(1, 6), 0),
        "linked_to_problems": 0,
        "linked_to_changes": 0,
    }
    reassigned = reopened = 0
    hours = []
    for events in incidents.values():
        events.sort(key=lambda item: (item[0], item[1]))
        last: dict[str, str] = {}
        for _mod, _position, row in events:
            for column, value in row.items():
                if value != "?":
                    last[column] = value
        final = events[-1][2]
        opened = _when(last["opened_at"], zone)
        resolved = _when(last.get("resolved_at", "?"), zone)
        if resolved is not None and start <= resolved < end:
            figures["resolved"] += 1
            hours.append((resolved - opened).total_seconds() / 3600)
        if not start <= opened < end:
            continue
        figures["distinct_incidents"] += 1
        figures["by_priority"][int(last["priority"][0])] += 1
        reassigned += int(final["reassignment_count"]) >= 1
        reopened += int(final["reopen_count"]) >= 1
        figures["linked_to_problems"] += "problem_id" in last
        figures["linked_to_changes"] += "rfc" in last or "caused_by" in last
    total = figures["distinct_incidents"]
    figures["share_reassigned"] = reassigned / total if total else None
    figures["share_reopened"] = reopened / total if total else None
    figures["median_hours_to_resolve"] = statistics.median(hours) if hours else None
    figures["p90_hours_to_resolve"] = (
        statistics.quantiles(hours, n=10, method="inclusive")[8] if len(hours) > 1 else None
    )
    return figures
