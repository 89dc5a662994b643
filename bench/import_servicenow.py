"""ServiceNow event log import (141,712 events, 24,918 incidents) on PostgreSQL.

Drops and recreates the database ``itsmo_bench_import`` (a clean slate each run), migrates
it, then runs ``itsmo import servicenow-events FILE`` twice in a child process: the full
import, then a re-import of the same file (nothing changed: every incident is skipped).
Prints, for each run, the wall time, rows/s and the child's peak RSS (``wait4``), and the
records in the database after each run (the re-import must not add any).
Targets: full import < 60 s, peak RSS < 500 MB, re-import < half of the import's time.

    .venv/bin/python bench/import_servicenow.py [--file PATH] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/itsmo_bench_import"
DEFAULT_FILE = ROOT.parent / "shared/data/uci_incidents/incident_event_log.csv.gz"
ROWS = 141_712
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 500.0


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(args: list[str], env: dict) -> tuple[float, float, str]:
    """Run ``itsmo ARGS``; return wall seconds, the child's peak RSS in MB and its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [str(ROOT / ".venv/bin/itsmo"), *args], env=env, stdout=out, stderr=sys.stderr
        )
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"itsmo {' '.join(args)} failed:\n{text}")
    return seconds, usage.ru_maxrss / 1024, text


TABLES = {
    "incidents": "SELECT count(*) FROM incidents_incident",
    "journal entries": "SELECT count(*) FROM core_journalentry",
    "SLA outcomes": "SELECT count(*) FROM slm_slaclock WHERE is_imported",
    "users": "SELECT count(*) FROM accounts_user",
    "problems": "SELECT count(*) FROM problems_problem",
    "changes": "SELECT count(*) FROM changes_change",
}


def counts(url: str, tables: dict[str, str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in tables.items()}


def import_twice(
    command: list[str], *, database_url: str, tables: dict[str, str], rows: int,
    target_seconds: float, target_rss_mb: float, keep: bool,
) -> None:  # fmt: skip
    """Migrate a fresh database, run ``itsmo import COMMAND`` twice (the second must change
    no count in ``tables``) and print the table of figures against the targets."""
    recreate_database(database_url)
    with tempfile.TemporaryDirectory() as var_dir:
        env = dict(
            os.environ,
            ITSMO_DATABASE_URL=database_url,
            ITSMO_VAR_DIR=var_dir,
            DJANGO_SETTINGS_MODULE="itsmo.settings",
        )
        migrate_seconds, _, _ = run(["migrate", "--verbosity", "0"], env)
        print(f"migrate: {migrate_seconds:.1f} s")
        command = ["import", *command, "--no-progress",
                   "--report", str(Path(var_dir) / "report.csv")]  # fmt: skip
        first, first_rss, out = run(command, env)
        print(out.strip())
        after_first = counts(database_url, tables)
        second, second_rss, out = run(command, env)
        print(out.strip())
        after_second = counts(database_url, tables)
    print()
    print("| run | wall (s) | rows/s | peak RSS (MB) | target |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| import | {first:.1f} | {rows / first:,.0f} | {first_rss:.0f} | "
        f"< {target_seconds:.0f} s, < {target_rss_mb:.0f} MB: "
        f"{'ok' if first < target_seconds and first_rss < target_rss_mb else 'MISSED'} |"
    )
    print(
        f"| re-import (unchanged) | {second:.1f} | {rows / second:,.0f} | {second_rss:.0f} | "
        f"< {first / 2:.1f} s: {'ok' if second < first / 2 else 'MISSED'} |"
    )
    print()
    for name, value in after_first.items():
        again = after_second[name]
        print(f"{name}: {value:,} after the import, {again:,} after the re-import")
    if after_first != after_second:
        sys.exit("the re-import changed the number of records")
    if not keep:
        recreate_database(database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    import_twice(
        ["servicenow-events", str(options.file)],
        database_url=DATABASE_URL,
        tables=TABLES,
        rows=ROWS,
        target_seconds=TARGET_SECONDS,
        target_rss_mb=TARGET_RSS_MB,
        keep=options.keep,
    )


if __name__ == "__main__":
    main()
