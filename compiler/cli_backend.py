"""The command-line options that choose a backend, shared by every command
that talks to SWF and SQS (run, deploy, the daemons, status and the like)."""

from __future__ import annotations

import argparse
import os

from cpe.runtime.backends.select import BACKENDS, DEFAULT_DB, BackendChoice


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """--backend, --db and --domain, with their environment defaults."""
    group = parser.add_argument_group("backend")
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        default=os.environ.get("CPE_BACKEND", "local"),
        help="local: the embedded SQLite backend; aws: SWF and SQS through boto3 "
        "and the standard AWS environment (env CPE_BACKEND; default: local)",
    )
    group.add_argument(
        "--db",
        metavar="PATH",
        default=os.environ.get("CPE_DB", DEFAULT_DB),
        help=f"the embedded backend's database file (env CPE_DB; default: {DEFAULT_DB})",
    )
    group.add_argument(
        "--domain",
        metavar="NAME",
        default=os.environ.get("CPE_DOMAIN", "cpe-local"),
        help="the SWF domain (env CPE_DOMAIN; default: cpe-local)",
    )


# SWF's long poll, which the embedded backend's polls follow by default.
LONG_POLL = 60.0


def backend_choice(
    args: argparse.Namespace, poll_timeout: float = LONG_POLL
) -> BackendChoice:
    return BackendChoice(kind=args.backend, db=args.db, poll_timeout=poll_timeout)
