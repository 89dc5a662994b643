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
from pathlib import Path

from import_servicenow import ROOT, import_twice  # the same fresh database, runs and table

DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/itsmo_bench_bpic2014"
DEFAULT_DIR = ROOT.parent / "shared/data/bpic2014_rabobank"
ROWS = 30_275 + 46_606 + 147_004 + 466_660
TARGET_SECONDS = 300.0
TARGET_RSS_MB = 1024.0


TABLES = {
    "incidents": "SELECT count(*) FROM incidents_incident",
    "journal entries": "SELECT count(*) FROM core_journalentry",
    "service-desk contacts": "SELECT count(*) FROM imports_servicedeskcontact",
    "changes": "SELECT count(*) FROM changes_change",
    "changed CIs": "SELECT count(*) FROM changes_changeci",
    "CIs": "SELECT count(*) FROM cmdb_ci",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    import_twice(
        ["bpic2014", str(options.dir)],
        database_url=DATABASE_URL,
        tables=TABLES,
        rows=ROWS,
        target_seconds=TARGET_SECONDS,
        target_rss_mb=TARGET_RSS_MB,
        keep=options.keep,
    )


if __name__ == "__main__":
    main()
