"""The ``itsmo`` command: Django management with Itsmo's settings and a curated help.

``itsmo SUBCOMMAND [args]`` runs the management command of that name; two-word
subcommands (``itsmo cmdb import``) map to ``cmdb_import``.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "demo": "migrate, load the demo organisation, serve the web UI and the worker",
    "serve": "run the production web server (gunicorn)",
    "worker": "run the background worker (tasks and periodic jobs)",
    "migrate": "create or upgrade the database schema",
    "loaddemo": "load the deterministic demo organisation",
    "createsuperuser": "create an administrator account",
    "check": "check the configuration and the database",
    "cmdb import": "import CIs and relationships from CSV or JSON (--dry-run, --partial)",
    "cmdb export": "export CIs (and relationships) to CSV",
    "mail ingest": "open or update incidents from an e-mail file or standard input",
    "search reindex": "rebuild the full-text search index",
    "problems detect": "propose problem candidates from recurring incidents (--since DATE)",
    "import servicenow-events": "import a ServiceNow incident event log (--dry-run, --partial)",
    "import bpic2014": "import the BPIC 2014 (Rabobank) exports of a folder (--dry-run, --partial)",
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: itsmo SUBCOMMAND [options]",
        "",
        "Itsmo: IT service management with a built-in Service Management Office.",
        "",
        "subcommands:",
        *(f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()),
        "",
        "Every subcommand has --help. Any other Django management command also works",
        "(itsmo showmigrations, itsmo shell, ...). Configuration: ITSMO_* environment",
        "variables, see docs/configuration.md.",
    ]
    return "\n".join(lines)


def resolve(argv: list[str]) -> list[str]:
    """Turn ``['cmdb', 'import', 'f.csv']`` into ``['cmdb_import', 'f.csv']`` when that exists."""
    from django.core.management import get_commands

    if len(argv) >= 2 and not argv[1].startswith("-"):
        joined = f"{argv[0]}_{argv[1]}".replace("-", "_")
        if joined in get_commands():
            return [joined, *argv[2:]]
    return argv


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return
    if argv[0] == "--version":
        from itsmo import __version__

        print(__version__)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsmo.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    execute_from_command_line(["itsmo", *resolve(argv)])


if __name__ == "__main__":
    main()
