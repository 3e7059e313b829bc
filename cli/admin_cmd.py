"""`siteguard api-key add` and `siteguard audit verify|export-anchor`: administration."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_db_argument(p: argparse.ArgumentParser) -> None:
    """--db, defaulting to $SITEGUARD_DATABASE_URL (set in the API containers), so that
    `docker compose exec api-1 siteguard api-key add ...` needs no URL."""
    env = os.environ.get("SITEGUARD_DATABASE_URL")
    p.add_argument(
        "--db",
        default=env,
        required=env is None,
        help="SQLAlchemy URL of the API database (default: $SITEGUARD_DATABASE_URL)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    k = sub.add_parser("api-key", help="manage API keys (roles and scopes)")
    ksub = k.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    add = ksub.add_parser("add", help="create a key; it is printed once, only its hash is stored")
    add_db_argument(add)
    add.add_argument("--name", required=True, help="who holds it (shown in history and audit)")
    add.add_argument(
        "--role",
        required=True,
        choices=["admin", "inspector", "contractor", "regulator", "insurer", "edge"],
    )
    add.add_argument("--sites", default="", help="contractor/edge: comma-separated site ids")
    add.add_argument("--jurisdiction", default="", help="regulator: its jurisdiction")
    add.add_argument("--insurer", default="", help="insurer/inspector: the insurer's name")
    add.set_defaults(func=run_key_add)

    a = sub.add_parser("audit", help="verify the hash-chained audit log")
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="detect altered, deleted or truncated audit records")
    add_db_argument(v)
    v.add_argument("--anchor", default=None, help="last hash recorded earlier (catches truncation)")
    v.set_defaults(func=run_verify)

    si = sub.add_parser("site", help="import a site's cameras and zones from its edge site.yaml")
    sisub = si.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    im = sisub.add_parser("import", help="register every camera of site.yaml, with its zones")
    add_db_argument(im)
    im.add_argument("--config", type=Path, required=True, help="the edge worker's site.yaml")
    im.set_defaults(func=run_site_import)

    ar = sub.add_parser("archive", help="export the prevention-service records (5-year retention)")
    arsub = ar.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    ex = arsub.add_parser("export", help="every record and the audit anchor, as gzip JSON lines")
    add_db_argument(ex)
    ex.add_argument("--out", type=Path, required=True, help="file to write (.jsonl.gz)")
    ex.add_argument("--until", default=None, help="only records before this date (YYYY-MM-DD)")
    ex.set_defaults(func=run_export)


def _sessions(url: str):  # type: ignore[no-untyped-def]
    from siteguard.api.store.db import create_schema, make_engine, make_sessions

    engine = make_engine(url)
    create_schema(engine)
    return make_sessions(engine)


def run_key_add(args: argparse.Namespace) -> int:
    from siteguard.api.access.keys import create_key

    sessions = _sessions(args.db)
    with sessions.begin() as s:
        key = create_key(
            s,
            args.name,
            args.role,
            [x for x in args.sites.split(",") if x],
            args.jurisdiction,
            args.insurer,
        )
    print(key)
    print(
        f"({args.role} key for {args.name}; store it now, it is not shown again)", file=sys.stderr
    )
    return 0


def run_site_import(args: argparse.Namespace) -> int:
    from siteguard.api.sites.cameras import CameraIn, save_camera
    from siteguard.edge.config import ConfigError, EdgeConfig

    try:
        config = EdgeConfig.load(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with _sessions(args.db).begin() as s:
        for cam in config.cameras:
            save_camera(
                s, config.site_id, cam.id, CameraIn(name=cam.id, zones=cam.zones), "site-import"
            )
    zones = sum(len(c.zones) for c in config.cameras)
    print(f"site {config.site_id}: {len(config.cameras)} camera(s), {zones} zone(s) imported")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from datetime import datetime

    from siteguard.api.records.archive import export_archive

    until = datetime.fromisoformat(args.until) if args.until else None
    with _sessions(args.db)() as s:
        result = export_archive(s, args.out, until)
    rows = ", ".join(f"{k} {v}" for k, v in result["rows"].items())
    print(
        f"archive {args.out}: {rows}; audit chain {'intact' if result['audit_ok'] else 'BROKEN'}, "
        f"anchor {result['audit_anchor']}"
    )
    return 0 if result["audit_ok"] else 1


def run_verify(args: argparse.Namespace) -> int:
    from siteguard.api.records.audit import verify

    with _sessions(args.db)() as s:
        result = verify(s, args.anchor)
    if result.ok:
        print(f"audit chain intact: {result.records} records, last hash {result.last_hash}")
        return 0
    print(f"audit chain BROKEN ({result.records} records):", file=sys.stderr)
    for p in result.problems:
        print(f"  - {p}", file=sys.stderr)
    return 1
