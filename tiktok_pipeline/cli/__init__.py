"""The ``tiktok-pipeline`` command: thin argument parsing that calls the rooms of the package.

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its sub-command and sets ``handler`` (a function taking the parsed arguments and returning the
process exit code). Handlers let ConfigurationError (exit 2) and DatabaseUnavailable (exit 1)
propagate: :func:`main` reports them as one line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from tiktok_pipeline.cli.db import DatabaseUnavailable, report
from tiktok_pipeline.config import ConfigurationError

COMMAND_MODULES = (
    "tiktok_pipeline.cli.db",
    "tiktok_pipeline.cli.shops",
    "tiktok_pipeline.cli.call",
    "tiktok_pipeline.cli.sandbox",
    "tiktok_pipeline.cli.serve",
    "tiktok_pipeline.cli.webhooks",
    "tiktok_pipeline.cli.tokens",
    "tiktok_pipeline.cli.dev",
    "tiktok_pipeline.cli.backfill",
    "tiktok_pipeline.cli.buyers",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="tiktok-pipeline",
        description="TikTok Shop data in your warehouse with Dagster.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (non-zero when something failed)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Alembic narrates every migration step at INFO; the commands say what they did.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        return report(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
