"""The ``itsmo`` command: its help, every subcommand's help, and ``itsmo demo`` end to end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from itsmo.cli import COMMANDS
from itsmo.core.management.commands import serve

ITSMO = str(Path(sys.executable).parent / "itsmo")


@pytest.fixture
def env(tmp_path):
    """A private var directory and the embedded SQLite database, whatever the test run uses."""
    variables = {
        **os.environ,
        "ITSMO_VAR_DIR": str(tmp_path),
        "ITSMO_DEMO_PASSWORD": "cli-test-password",
    }
    variables.pop("ITSMO_DATABASE_URL", None)
    return variables


def test_help_lists_every_subcommand(env):
    result = subprocess.run([ITSMO, "--help"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for name in ("demo", "serve", "worker", "migrate", "loaddemo", "createsuperuser", "check"):
        assert name in COMMANDS
        assert f"  {name}" in result.stdout


#: Words each of our own subcommands' help must mention.
EXPECTED_HELP = {
    "loaddemo": ["--seed", "--scale", "--reset"],
    "worker": ["--no-scheduler", "--batch", "periodic"],
    "serve": ["--workers", "--bind", "gunicorn"],
    "demo": ["--bind", "Ctrl-C"],
}


def test_every_subcommand_has_help(env):
    runs = {
        name: subprocess.Popen(
            [ITSMO, *name.split(), "--help"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in COMMANDS
    }
    for name, process in runs.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"itsmo {name} --help: {err}"
        assert "usage:" in out
        for text in EXPECTED_HELP.get(name, []):
            assert text in " ".join(out.split()), f"itsmo {name} --help lacks {text!r}"


def test_serve_defaults_to_a_capped_worker_count():
    assert 1 <= serve.default_workers() <= serve.MAX_DEFAULT_WORKERS
    argv = serve.gunicorn_argv(bind="127.0.0.1:9", workers=3, timeout=60, access_log=False)
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9"
    assert argv[argv.index("--workers") + 1] == "3"
    assert "itsmo.wsgi:application" in argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_loads_serves_and_stops_on_sigterm(env):
    port = free_port()
    process = subprocess.Popen(
        [ITSMO, "demo", "--scale", "small", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        output = "".join(lines)
        assert f"Itsmo is running at http://127.0.0.1:{port}/" in output
        assert "admin / cli-test-password" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, "".join(lines) + rest
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
