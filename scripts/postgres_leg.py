"""Run the test suite against PostgreSQL when one answers at ITSMO_TEST_DATABASE_URL.

Without a server the leg is skipped with a message, and the tests marked ``slow`` (which
the SQLite leg leaves to this one) run on SQLite instead; with ITSMO_REQUIRE_POSTGRES=1
(set by .ci/run) a missing server fails the run. On success it writes var/postgres-leg.ok so
that CI can prove the leg ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

url = os.environ.get("ITSMO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
required = os.environ.get("ITSMO_REQUIRE_POSTGRES") == "1"
marker = Path("var/postgres-leg.ok")
marker.unlink(missing_ok=True)

try:
    psycopg.connect(url, connect_timeout=5).close()
except psycopg.Error as error:
    message = f"PostgreSQL at {url} is not reachable ({error.__class__.__name__}: {error})"
    if required:
        sys.exit(f"FAIL: {message}; the PostgreSQL leg is required")
    # The SQLite leg leaves the slow whole-file imports to this one: run them there instead.
    print(f"SKIP PostgreSQL leg: {message}; running the slow tests on SQLite")
    slow = subprocess.run(
        [*sys.argv[1:], "-m", "slow"], env={**os.environ, "ITSMO_DATABASE_URL": ""}
    )
    sys.exit(0 if slow.returncode in (0, 5) else slow.returncode)  # 5: nothing collected

print(f"== PostgreSQL leg against {url}")
result = subprocess.Popen([*sys.argv[1:]], env={**os.environ, "ITSMO_DATABASE_URL": url})
result.wait()
# The run names its test databases after its process id (settings.py; pytest-xdist workers
# add _gw0, _gw1...); a connection a test left open can stop pytest-django from dropping
# one, so make sure they go.
with psycopg.connect(url, autocommit=True) as connection:
    names = connection.execute(
        "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
        [f"test_itsmo_{result.pid}", f"test_itsmo_{result.pid}\\_gw%"],
    ).fetchall()
    for (name,) in names:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
if result.returncode == 0:
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(url + "\n")
sys.exit(result.returncode)
