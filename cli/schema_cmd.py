"""`siteguard schema`: print or write the hazard event JSON schema."""

from __future__ import annotations

import argparse
from pathlib import Path

from siteguard.contract.events import event_json_schema_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print (or write) the hazard event JSON schema (v1)")
    p.add_argument("--write", type=Path, default=None, help="write to this file instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = event_json_schema_text()
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text, end="")
    return 0
