"""Fixtures for communications: sample messages, mail and tasks at once, real servers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.incidents.conftest import *  # noqa: F403  (incidents fixtures, mail_and_tasks)

SAMPLES = Path(__file__).parent / "samples"


def load_sample(name: str, **replacements: str) -> bytes:
    raw = (SAMPLES / name).read_bytes()
    for key, value in replacements.items():
        raw = raw.replace(f"{{{{{key}}}}}".encode(), value.encode())
    return raw


@pytest.fixture
def sample():
    return load_sample


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The users of these tests never log in with a password: hash it cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
