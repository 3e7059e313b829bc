"""`siteguard report monthly` (the regulator's bulletin) and `siteguard history generate`
(a deterministic sample history to try the insurer and regulator views on)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from siteguard.admin_cmd import add_db_argument


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("report", help="reports from the API database")
    rsub = r.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    m = rsub.add_parser(
        "monthly",
        help="the monthly bulletin of one jurisdiction (JSON, HTML with charts, or PDF)",
        description="Hazards first seen in the month (false alarms apart), notices issued in "
        "the month and their state at its end, escalations, top-risk projects.",
    )
    add_db_argument(m)
    m.add_argument("--jurisdiction", required=True)
    m.add_argument("--month", required=True, help="YYYY-MM")
    m.add_argument("--format", choices=["json", "html", "pdf"], default=None)
    m.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the API's settings (api.yaml): the bulletin's issuing authority and 文号 per "
        "jurisdiction (bulletin.jurisdictions); SITEGUARD_* variables apply on top",
    )
    m.add_argument("--lang", choices=["zh", "en"], default="zh", help="HTML and PDF language")
    m.add_argument(
        "--out",
        type=Path,
        default=None,
        help="file to write (format from its suffix); default stdout",
    )
    m.set_defaults(func=run_monthly)

    h = sub.add_parser("history", help="sample data for trying the insurer and regulator views")
    hsub = h.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    g = hsub.add_parser(
        "generate",
        help="write a deterministic history of several projects (through the real ingest, "
        "notice and workflow code) into a database",
    )
    add_db_argument(g)
    g.add_argument("--start", default="2026-09-01", help="first day (YYYY-MM-DD)")
    g.add_argument("--days", type=int, default=61)
    g.add_argument("--projects", type=int, default=6)
    g.add_argument("--seed", type=int, default=7)
    g.set_defaults(func=run_generate)


def run_monthly(args: argparse.Namespace) -> int:
    from siteguard.api.bulletin.render import bulletin_html, bulletin_pdf
    from siteguard.api.bulletin.report import monthly_bulletin
    from siteguard.api.risk.signals import Period
    from siteguard.api.settings import ApiSettings

    try:
        Period.month(args.month)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fmt = args.format or (args.out.suffix.lstrip(".") if args.out else "json")
    if fmt not in ("json", "html", "pdf"):
        print(f"error: cannot tell the format from {args.out}; use --format", file=sys.stderr)
        return 2
    from siteguard.admin_cmd import _sessions
    from siteguard.api.settings import SettingsError

    try:
        settings = ApiSettings.load(args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with _sessions(args.db)() as s:
        b = monthly_bulletin(s, args.jurisdiction, args.month, settings)
    if not b["projects_registered"]:
        print(f"warning: no project is registered in {args.jurisdiction!r}", file=sys.stderr)
    data: bytes
    if fmt == "json":
        data = (json.dumps(b, ensure_ascii=False, indent=2) + "\n").encode()
    elif fmt == "html":
        data = bulletin_html(b, lang=args.lang).encode()
    else:
        data = bulletin_pdf(b, lang=args.lang)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
        print(
            f"{args.jurisdiction} {args.month}: {b['projects_watched']} projects watched, "
            f"{b['hazards']} hazards, {b['notices_issued']} notices -> {args.out}",
            file=sys.stderr,
        )
    else:
        sys.stdout.buffer.write(data)
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from siteguard.demo.history import generate

    start = datetime.strptime(args.start, "%Y-%m-%d")
    print(
        f"generating {args.days} days for {args.projects} projects (seed {args.seed})...",
        file=sys.stderr,
    )
    from siteguard.admin_cmd import _sessions

    summary = generate(_sessions(args.db), start, args.days, args.projects, args.seed)
    profiles = ", ".join(f"{k}: {v}" for k, v in summary.profiles.items())
    print(
        f"{len(summary.projects)} projects ({profiles}), "
        f"{summary.events} events, {summary.notices} notices -> {args.db}",
        file=sys.stderr,
    )
    return 0
