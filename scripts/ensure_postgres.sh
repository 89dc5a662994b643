#!/usr/bin/env bash
# Make sure a PostgreSQL server answers at ITSMO_TEST_DATABASE_URL (default 127.0.0.1:5432).
# Order: already up -> start the machine's cluster -> start a private cluster under var/.
set -uo pipefail
url="${ITSMO_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
answers() { pg_isready -q -d "$url" 2>/dev/null; }

if ! command -v pg_isready >/dev/null; then
    if command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq postgresql) >/dev/null 2>&1 || true
    fi
fi
answers && exit 0

if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/ >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    done
    for _ in $(seq 20); do answers && exit 0; sleep 0.5; done
fi

# A private cluster, trust auth on 127.0.0.1:5432, owned by a non-root user when we are root.
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n "$bindir" ]] || exit 1
data="$PWD/var/pgdata"
mkdir -p "$data"
runas=()
if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres "$data" 2>/dev/null || true
    runas=(runuser -u postgres --)
fi
if [[ ! -f "$data/PG_VERSION" ]]; then
    "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null || exit 1
fi
"${runas[@]}" "$bindir/pg_ctl" -D "$data" -o "-h 127.0.0.1 -p 5432 -k /tmp" -l "$data/log" -w start >/dev/null || exit 1
"${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -U postgres test 2>/dev/null || true
answers
