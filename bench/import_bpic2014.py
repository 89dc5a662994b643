"""BPIC 2014 import (all four files: 690,545 rows) on PostgreSQL.

Drops and recreates the database ``itsmo_bench_bpic2014`` (a clean slate each run),
migrates it, then runs ``itsmo import bpic2014 DIR`` twice in a child process: the full
import, then a re-import of the same files (nothing changed: every record is skipped).
Prints, for each run, the wall time, rows/s and the child's peak RSS (``wait4``), and the
records in the database after each run (the re-import must not add any).
Targets: full import < 5 min, peak RSS < 1 GB, re-import < half of the import's time.

    .venv/bin/python bench/import_bpic2014.py [--dir PATH] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from import_servicenow import ROOT, recreate_database, run  # the same fresh database and child run

DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/itsmo_bench_bpic2014"
DEFAULT_DIR = ROOT.parent / "shared/data/bpic2014_rabobank"
ROWS = 30_275 + 46_606 + 147_004 + 466_660
TARGET_SECONDS = 300.0
TARGET_RSS_MB = 1024.0


def counts(url: str) -> dict[str, int]:
    import psycopg

    tables = {
        "incidents": "SELECT count(*) FROM incidents_incident",
        "journal entries": "SELECT count(*) FROM core_journalentry",
        "service-desk contacts": "SELECT count(*) FROM imports_servicedeskcontact",
        "changes": "SELECT count(*) FROM changes_change",
        "changed CIs": "SELECT count(*) FROM changes_changeci",
        "CIs": "SELECT count(*) FROM cmdb_ci",
    }
    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    recreate_database(DATABASE_URL)
    with tempfile.TemporaryDirectory() as var_dir:
        env = dict(
            os.environ,
            ITSMO_DATABASE_URL=DATABASE_URL,
            ITSMO_VAR_DIR=var_dir,
            DJANGO_SETTINGS_MODULE="itsmo.settings",
        )
        migrate_seconds, _, _ = run(["migrate", "--verbosity", "0"], env)
        print(f"migrate: {migrate_seconds:.1f} s")
        command = ["import", "bpic2014", str(options.dir), "--no-progress",
                   "--report", str(Path(var_dir) / "report.csv")]  # fmt: skip
        first, first_rss, out = run(command, env)
        print(out.strip())
        after_first = counts(DATABASE_URL)
        second, second_rss, out = run(command, env)
        print(out.strip())
        after_second = counts(DATABASE_URL)
    print()
    print("| run | wall (s) | rows/s | peak RSS (MB) | target |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| import | {first:.1f} | {ROWS / first:,.0f} | {first_rss:.0f} | "
        f"< {TARGET_SECONDS:.0f} s, < {TARGET_RSS_MB:.0f} MB: "
        f"{'ok' if first < TARGET_SECONDS and first_rss < TARGET_RSS_MB else 'MISSED'} |"
    )
    print(
        f"| re-import (unchanged) | {second:.1f} | {ROWS / second:,.0f} | {second_rss:.0f} | "
        f"< {first / 2:.1f} s: {'ok' if second < first / 2 else 'MISSED'} |"
    )
    print()
    for name, value in after_first.items():
        again = after_second[name]
        print(f"{name}: {value:,} after the import, {again:,} after the re-import")
    if after_first != after_second:
        sys.exit("the re-import changed the number of records")
    if not options.keep:
        recreate_database(DATABASE_URL)


if __name__ == "__main__":
    main()
