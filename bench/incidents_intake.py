"""Intake: POST /api/v1/incidents against a real gunicorn server (PostgreSQL).

Drops and recreates the database ``itsmo_bench_intake`` (a clean slate each run), migrates
it, loads the demo organisation (scale small, ``accounts`` and ``catalog`` steps) and SLA
definitions P1-P5 through the services (so every incident gets its clocks), issues an API
token for an agent, then starts ``itsmo serve --workers 2`` on a free port and drives
``POST /api/v1/incidents`` from ``--threads`` client threads over keep-alive
``http.client`` connections for ``--requests`` requests. Prints incidents/s, p50/p95/p99,
errors (any non-201) and the server processes' peak RSS (VmHWM). Target: >= 400
incidents/s with p99 < 50 ms.

    .venv/bin/python bench/incidents_intake.py [--requests 4000] [--threads 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from import_servicenow import recreate_database  # drop and create a bench database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/itsmo_bench_intake"
TARGET_RATE = 400.0
TARGET_P99_MS = 50.0
SLA_TARGETS = {
    1: (15, 4 * 60),
    2: (30, 8 * 60),
    3: (60, 24 * 60),
    4: (4 * 60, 40 * 60),
    5: (8 * 60, 80 * 60),
}
WORDS = [
    "printer",
    "laptop",
    "network",
    "vpn",
    "email",
    "outlook",
    "teams",
    "sap",
    "invoice",
    "order",
    "delivery",
    "handheld",
    "scanner",
    "label",
    "warehouse",
    "router",
    "switch",
    "wifi",
    "password",
    "account",
    "locked",
    "screen",
    "slow",
    "error",
    "timeout",
    "crash",
    "freeze",
    "update",
    "install",
    "license",
    "backup",
    "disk",
    "server",
    "database",
    "report",
]


def setup(var_dir: str) -> dict:
    """Migrate, load reference data, issue a token; return what the clients need."""
    os.environ["ITSMO_DATABASE_URL"] = DATABASE_URL
    os.environ["ITSMO_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsmo.settings")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from itsmo.accounts import services as accounts
    from itsmo.accounts.models import Role, User
    from itsmo.catalog.models import Service
    from itsmo.core import demo
    from itsmo.slm import services as slm

    demo.run(scale="small", password=demo.generate_password(), only=["catalog"])
    for priority, (response, resolution) in SLA_TARGETS.items():
        slm.create_definition(
            name=f"Bench P{priority}",
            priority=priority,
            response_target_minutes=response,
            resolution_target_minutes=resolution,
        )
    agent = User.objects.filter(role_grants__role=Role.AGENT, is_active=True).order_by("pk").first()
    callers = list(
        User.objects.filter(role_grants__role=Role.END_USER, is_active=True)
        .order_by("pk")
        .values_list("username", flat=True)
    )
    services = list(Service.objects.order_by("pk").values_list("code", flat=True))
    _, secret = accounts.issue_token(agent, "intake bench")
    print(
        f"reference data in {time.perf_counter() - started:.1f}s: {len(callers)} callers, "
        f"{len(services)} services, 5 SLA definitions; agent {agent.username}",
        flush=True,
    )
    from django.db import connections

    connections.close_all()
    return {"token": secret, "callers": callers, "services": services}


def machine_costs(url: str, rounds: int = 2000) -> str:
    """What this machine charges for the things a request is made of, so that runs on
    different machines can be compared: a prepared ``SELECT 1`` round trip to PostgreSQL
    (wall and client CPU) and a fixed pure-Python loop."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        for _ in range(100):
            cursor.execute("SELECT 1", prepare=True)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            cursor.execute("SELECT 1", prepare=True)
            cursor.fetchone()
        wall = (time.perf_counter() - wall) / rounds * 1e6
        cpu = (time.process_time() - cpu) / rounds * 1e6
    loop = time.process_time()
    total = 0
    for n in range(5_000_000):
        total += n
    loop = time.process_time() - loop
    return (
        f"machine: PostgreSQL round trip {wall:.0f} us wall, {cpu:.0f} us client CPU; "
        f"5M-iteration Python loop {loop:.2f} s CPU"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server not healthy in time")


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(child) for child in task.read_text().split())
    return pids


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each of these processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def cpu_since(before: dict[int, float], pids: list[int]) -> float:
    """CPU these processes used since ``before`` (a process started since counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in cpu_seconds(pids).items())


def postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().startswith("postgres"):
                    found.append(int(entry.name))
    return found


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": 1000 * ordered[-1]}


def client(port: int, ctx: dict, jobs: list[int], lock: threading.Lock, out: dict) -> None:
    rng = random.Random(jobs[0] if jobs else 0)
    headers = {
        "Authorization": f"Bearer {ctx['token']}",
        "Content-Type": "application/json",
        "Host": "localhost",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], []
    for n in jobs:
        body = json.dumps(
            {
                "short_description": f"bench {n}: " + " ".join(rng.sample(WORDS, 4)),
                "description": " ".join(rng.choices(WORDS, k=30)),
                "caller": rng.choice(ctx["callers"]),
                "impact": rng.randint(1, 3),
                "urgency": rng.randint(1, 3),
                "service": rng.choice(ctx["services"]) if ctx["services"] else None,
                "channel": "api",
            }
        )
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/incidents", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            status, payload = 0, repr(error).encode()
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - started)
        if status != 201:
            errors.append((status, payload[:300].decode(errors="replace")))
    conn.close()
    with lock:
        out["latencies"].extend(latencies)
        out["errors"].extend(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="itsmo-bench-intake-")
    recreate_database(DATABASE_URL)
    ctx = setup(var_dir)
    port = free_port()
    env = dict(os.environ, ITSMO_DATABASE_URL=DATABASE_URL, ITSMO_VAR_DIR=var_dir)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/itsmo"),
            "serve",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(var_dir) / "server.log", "wb"),  # noqa: SIM115
    )
    try:
        wait_healthy(port, server)
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
        print(machine_costs(DATABASE_URL), flush=True)
        print(
            f"== intake: {args.requests:,} POST /api/v1/incidents from {args.threads} threads "
            f"(keep-alive) to itsmo serve --workers {args.workers} on :{port} "
            f"(itsmo_bench_intake)",
            flush=True,
        )
        out: dict = {"latencies": [], "errors": []}
        lock = threading.Lock()
        threads = [
            threading.Thread(
                target=client,
                args=(port, ctx, list(range(t, args.requests, args.threads)), lock, out),
            )
            for t in range(args.threads)
        ]
        peak = 0.0
        cpu_before = (
            cpu_seconds(process_tree(server.pid)),
            cpu_seconds(postgres_pids()),
            time.process_time(),
        )
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            peak = max(peak, sum(vm_hwm_mb(pid) for pid in process_tree(server.pid)))
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        pids = process_tree(server.pid)
        cpu_used = (
            cpu_since(cpu_before[0], pids),
            cpu_since(cpu_before[1], postgres_pids()),
            time.process_time() - cpu_before[2],
        )
        per_process = {pid: vm_hwm_mb(pid) for pid in pids}
        load = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    latencies, errors = out["latencies"], out["errors"]
    created = len(latencies) - len(errors)
    rate = created / elapsed
    p = percentiles(latencies)
    for status, detail in errors[:10]:
        print(f"error {status}: {detail}")
    print(
        f"{created:,} incidents created in {elapsed:.1f}s: {rate:,.0f} incidents/s; "
        f"latency p50 {p['p50']:.1f} ms p95 {p['p95']:.1f} ms p99 {p['p99']:.1f} ms "
        f"max {p['max']:.1f} ms; errors {len(errors)}"
    )
    hwm = ", ".join(f"{pid}: {mb:.0f} MB" for pid, mb in per_process.items())
    print(f"server peak RSS (VmHWM) {max(peak, sum(per_process.values())):.0f} MB total ({hwm})")
    if created:
        server_cpu, pg_cpu, client_cpu = (1000 * seconds / created for seconds in cpu_used)
        busy = sum(cpu_used) / (elapsed * (os.cpu_count() or 1))
        print(
            f"CPU per incident: server {server_cpu:.2f} ms, PostgreSQL {pg_cpu:.2f} ms, "
            f"client {client_cpu:.2f} ms; the cores were {100 * busy:.0f} % busy"
        )
    print(
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(client, server and PostgreSQL share the machine)"
    )
    met = rate >= TARGET_RATE and p["p99"] < TARGET_P99_MS and not errors
    print(
        f"target >= {TARGET_RATE:.0f} incidents/s with p99 < {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
