"""Import 100,000 CIs from a generated CSV through the real importer (PostgreSQL).

Writes a CSV of ``--rows`` CIs (servers, VMs, network devices, handhelds, end-user
devices with their attributes, spread over the bench sites) to a temporary file, then runs
``itsmo.cmdb.importer.import_file`` on it as the system actor: identity lookups, validation,
numbering, CI rows and one journal entry per CI, exactly as ``itsmo cmdb import`` does.
It then re-imports the same file (everything unchanged: the idempotent path). Prints time,
rows/s and peak RSS of each pass. Target: < 60 s for 100,000 CIs.

Both passes run inside one outer transaction that is rolled back at the end, so the bench
database (shared with bench/cmdb_impact.py) is left as it was; the importer's own
transaction is then a savepoint, and only the final COMMIT is not measured.

    .venv/bin/python bench/cmdb_import.py [--rows 100000] [--batch-size 2000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cmdb_generate

TARGET_SECONDS = 60.0
HEADER = [
    "class",
    "name",
    "serial",
    "asset_tag",
    "status",
    "environment",
    "country",
    "site",
    "owner_group",
    "discovery_source",
    "last_seen_at",
    "description",
    "attr.cpu_count",
    "attr.memory_gb",
    "attr.ip_address",
    "attr.device_type",
    "attr.hypervisor",
    "attr.model",
    "attr.route",
]


def write_csv(path: Path, rows: int, seed: int) -> None:
    from itsmo.organization.models import Site

    rng = random.Random(seed)
    sites = list(Site.objects.exclude(kind="data_centre").values_list("code", flat=True))
    data_centres = list(Site.objects.filter(kind="data_centre").values_list("code", flat=True))
    tag = f"{int(time.time()):x}"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            kind = n % 10
            seen = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z"
            base = [
                "",
                f"imp-{tag}-{n:07d}",
                "",
                f"AT{n:08d}",
                "in_operation",
                "production",
                "",
                "",
                "",
                "bench-import",
                seen,
                "",
            ]
            attributes = [""] * 7
            if kind in (0, 1):
                base[0], base[2], base[7] = "server", f"IMP-{tag}-{n:08d}", rng.choice(data_centres)
                attributes[:3] = [str(rng.choice([16, 32, 64])), "256", f"10.{n % 250}.0.1"]
            elif kind in (2, 3):
                base[0], base[7] = "virtual_machine", rng.choice(data_centres)
                attributes[0], attributes[4] = "4", "vmware"
            elif kind == 4:
                base[0], base[2], base[7] = (
                    "network_device",
                    f"IMPNET-{tag}-{n:08d}",
                    rng.choice(sites),
                )
                attributes[3] = rng.choice(["switch", "access_point", "router"])
            elif kind in (5, 6, 7):
                base[0], base[2], base[7] = "handheld", f"IMPHH-{tag}-{n:08d}", rng.choice(sites)
                attributes[5], attributes[6] = "TC52", f"R{n % 400:03d}"
            else:
                base[0], base[2], base[7] = (
                    "end_user_device",
                    f"IMPPC-{tag}-{n:08d}",
                    rng.choice(sites),
                )
                attributes[3] = "laptop"
            writer.writerow(base + attributes)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=3)
    options = parser.parse_args()
    cmdb_generate.setup_django()
    from django.db import connection, transaction

    from itsmo.cmdb import importer

    if connection.vendor != "postgresql":
        raise SystemExit("this bench runs on PostgreSQL (ITSMO_DATABASE_URL)")
    cmdb_generate.reference_data()
    cis, _ = cmdb_generate.counts()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cis.csv"
        write_csv(path, options.rows, options.seed)
        size = os.path.getsize(path) / 1024 / 1024
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"== CMDB import: {options.rows:,} CIs from a {size:.1f} MB CSV into a CMDB of "
            f"{cis:,} CIs ({connection.settings_dict['NAME']})",
            flush=True,
        )
        rss_before = peak_rss_mb()
        try:
            with transaction.atomic():
                for label in ("first import (creates)", "re-import (unchanged)"):
                    started = time.monotonic()
                    cpu_started = time.process_time()
                    with path.open("rb") as stream:
                        report = importer.import_file(
                            stream, filename=path.name, batch_size=options.batch_size
                        )
                    elapsed = time.monotonic() - started
                    cpu = time.process_time() - cpu_started
                    if report.errors:
                        raise SystemExit(f"unexpected errors: {report.errors[:5]}")
                    print(
                        f"{label}: {elapsed:.1f} s (importer CPU {cpu:.1f} s), "
                        f"{options.rows / elapsed:,.0f} rows/s; "
                        f"created {report.created:,}, updated {report.updated:,}, "
                        f"unchanged {report.unchanged:,}; peak RSS {peak_rss_mb():.0f} MB "
                        f"(before: {rss_before:.0f} MB)",
                        flush=True,
                    )
                    if label.startswith("first"):
                        first = elapsed
                raise _Rollback
        except _Rollback:
            pass
    verdict = "met" if first < TARGET_SECONDS else "NOT met"
    print(
        f"target < {TARGET_SECONDS:.0f} s for {options.rows:,} CIs: {verdict} "
        f"({first:.1f} s); rolled back, the bench database is unchanged"
    )


if __name__ == "__main__":
    main()
