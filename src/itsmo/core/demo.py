"""The demo organisation generator: a pipeline of named, ordered steps that apps extend.

Each app contributes its steps in ``itsmo/<app>/demo.py``, registered at import::

    from itsmo.core.demo import step

    @step("incidents", after=["accounts"])
    def load_incidents(ctx):
        desk = ctx.data["groups"]["sd-mexico"]
        ...

A step is a function ``(ctx) -> None``. It reads what earlier steps created from
``ctx.data`` and adds what it creates there for later steps. Steps write through their
app's services, never the ORM. ``ctx.random`` is seeded from the seed and the step's
name, so the same seed gives the same organisation, and adding a step to one app does
not shift the names another app generates.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import secrets
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction

SCALES = ("small", "medium", "large")
DEFAULT_SEED = 2024
DEFAULT_SCALE = "medium"
#: Where demo users' e-mail goes (RFC 2606 reserves ``.example``).
DEMO_DOMAIN = "saboresunidos.example"
COMPANY_NAME = "Sabores Unidos"


@dataclass
class DemoContext:
    """What a step gets: the seeded random generator, the scale and the shared data."""

    seed: int
    scale: str
    password: str
    random: random.Random = field(default_factory=random.Random)
    data: dict[str, Any] = field(default_factory=dict)
    #: ``(step name, seconds)`` for each step that ran.
    timings: list[tuple[str, float]] = field(default_factory=list)
    log: Callable[[str], None] = lambda message: None

    def pick(self, scale_values: dict[str, Any]) -> Any:
        """The value for the current scale from ``{"small": …, "medium": …, "large": …}``."""
        return scale_values[self.scale]


StepFunction = Callable[[DemoContext], None]


@dataclass(frozen=True)
class Step:
    name: str
    function: StepFunction
    after: tuple[str, ...] = ()


_steps: dict[str, Step] = {}
_logins: dict[str, str] = {}


def step(name: str, *, after: Iterable[str] = ()) -> Callable[[StepFunction], StepFunction]:
    """Register ``function`` as the demo step ``name``, run after the steps in ``after``."""

    def register(function: StepFunction) -> StepFunction:
        existing = _steps.get(name)
        if existing is not None and existing.function is not function:
            qualified = f"{function.__module__}.{function.__qualname__}"
            previous = f"{existing.function.__module__}.{existing.function.__qualname__}"
            if qualified != previous:  # re-importing the same module is harmless
                raise ValueError(f"demo step {name!r} is already registered by {previous}")
        _steps[name] = Step(name, function, tuple(after))
        return function

    return register


def add_login(username: str, purpose: str) -> None:
    """Announce a demo account (it has the demo password) in the summary and the banner."""
    _logins[username] = purpose


def logins() -> list[tuple[str, str]]:
    """The demo accounts, ``(username, what it is for)``, once :func:`discover` ran."""
    return list(_logins.items())


def discover() -> None:
    """Import ``itsmo.<app>.demo`` for every installed Itsmo app that has one."""
    for config in apps.get_app_configs():
        if not config.name.startswith("itsmo."):
            continue
        module = f"{config.name}.demo"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def ordered_steps(steps: dict[str, Step] | None = None) -> list[Step]:
    """Steps in dependency order; ties are broken by name so the order is stable."""
    steps = dict(_steps if steps is None else steps)
    for item in steps.values():
        missing = [name for name in item.after if name not in steps]
        if missing:
            raise ValueError(f"demo step {item.name!r} runs after unknown step(s) {missing}")
    done: list[Step] = []
    placed: set[str] = set()
    while len(done) < len(steps):
        ready = sorted(
            name
            for name, item in steps.items()
            if name not in placed and all(dep in placed for dep in item.after)
        )
        if not ready:
            cycle = sorted(set(steps) - placed)
            raise ValueError(f"demo steps have a dependency cycle among {cycle}")
        done.append(steps[ready[0]])
        placed.add(ready[0])
    return done


def with_dependencies(names: Iterable[str]) -> dict[str, Step]:
    """The named steps and every step they run after."""
    wanted: dict[str, Step] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        if name not in _steps:
            raise ValueError(f"unknown demo step {name!r}")
        wanted[name] = _steps[name]
        pending.extend(wanted[name].after)
    return wanted


def generate_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def run(
    *,
    seed: int = DEFAULT_SEED,
    scale: str = DEFAULT_SCALE,
    password: str,
    log: Callable[[str], None] = lambda message: None,
    only: Iterable[str] | None = None,
) -> DemoContext:
    """Run the registered steps in order, in one transaction, and return the context.

    ``only`` names the steps to run (with the steps they need); by default all of them.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    discover()
    selected = None if only is None else with_dependencies(only)
    ctx = DemoContext(seed=seed, scale=scale, password=password, log=log)
    with transaction.atomic():
        for item in ordered_steps(selected):
            ctx.random = random.Random(f"{seed}:{item.name}")
            started = time.perf_counter()
            item.function(ctx)
            elapsed = time.perf_counter() - started
            ctx.timings.append((item.name, elapsed))
            log(f"  {item.name:<20} {elapsed:6.2f}s")
    return ctx


def is_loaded() -> bool:
    """Whether the database already holds an organisation (regions or users)."""
    from itsmo.accounts.models import User
    from itsmo.organization.models import Region

    return Region.objects.exists() or User.objects.exists()


def password_file():
    from django.conf import settings

    return settings.VAR_DIR / "demo-password"


def read_password() -> str | None:
    """The demo password: ``ITSMO_DEMO_PASSWORD``, else the one saved in var/demo-password."""
    import os

    configured = os.environ.get("ITSMO_DEMO_PASSWORD", "").strip()
    if configured:
        return configured
    path = password_file()
    if path.exists():
        return path.read_text().strip() or None
    return None


def choose_password() -> str:
    """The password for the demo accounts; a new one is generated and saved the first time."""
    password = read_password()
    if password:
        return password
    password = generate_password()
    path = password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def reset_database(using: str = "default") -> None:
    """Drop every table and migrate again: an empty database like a fresh install.

    Not ``flush``: flushing also deletes the rows data migrations seed (CI classes…),
    which a fresh install has.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connections

    connection = connections[using]
    tables = connection.introspection.table_names(include_views=False)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if tables:
                cursor.execute(f"DROP TABLE IF EXISTS {', '.join(map(quote, tables))} CASCADE")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {quote(table)}")
            cursor.execute("PRAGMA foreign_keys = ON")
        else:
            raise RuntimeError(f"--reset supports PostgreSQL and SQLite, not {connection.vendor}")
    ContentType.objects.clear_cache()
    call_command("migrate", database=using, interactive=False, verbosity=0)
    ContentType.objects.clear_cache()
