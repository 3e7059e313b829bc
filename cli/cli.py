"""The `siteguard` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from siteguard import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siteguard",
        description="SiteGuard: construction-site hazard detection and rectification. "
        "Run `siteguard COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"siteguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from siteguard import (
        admin_cmd,
        api_cmd,
        broker_cmd,
        dataset_cmd,
        demo_cmd,
        detect_cmd,
        edge_cmd,
        report_cmd,
        schema_cmd,
        train_cmd,
    )

    for module in (
        detect_cmd,
        demo_cmd,
        edge_cmd,
        api_cmd,
        admin_cmd,
        broker_cmd,
        report_cmd,
        dataset_cmd,
        train_cmd,
        schema_cmd,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
