"""`siteguard api-key add|list|revoke`, `site import`, `audit verify`, `archive export`:
administration."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any


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
    expiry = add.add_mutually_exclusive_group()
    expiry.add_argument(
        "--expires-days", type=int, default=None, metavar="N", help="refused N days from now"
    )
    expiry.add_argument(
        "--expires",
        default=None,
        metavar="YYYY-MM-DD",
        help="refused from the start of this day (China time)",
    )
    add.set_defaults(func=run_key_add)
    ls = ksub.add_parser("list", help="every key: name, role, scope, created, expires, revoked")
    add_db_argument(ls)
    ls.set_defaults(func=run_key_list)
    rv = ksub.add_parser("revoke", help="refuse a key from now on (its console sessions too)")
    add_db_argument(rv)
    rv.add_argument("key", metavar="NAME_OR_ID", help="the key's id, or every key of this name")
    rv.set_defaults(func=run_key_revoke)

    a = sub.add_parser("audit", help="verify the hash-chained audit log")
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="detect altered, deleted or truncated audit records")
    add_db_argument(v)
    v.add_argument(
        "--anchor", default=None, help="an anchor recorded earlier (<id>:<hash>, or a hash)"
    )
    v.add_argument(
        "--anchors",
        type=Path,
        default=None,
        help="the API's audit-anchors.jsonl (or the platform's copy): every anchor checked",
    )
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


def _expiry(args: argparse.Namespace) -> datetime | None:
    """--expires-days N / --expires YYYY-MM-DD as a UTC time (None: no expiry)."""
    from siteguard.api.store.clock import CHINA

    if args.expires_days is not None:
        if args.expires_days < 1:
            raise ValueError("--expires-days must be at least 1")
        return datetime.now(UTC) + timedelta(days=args.expires_days)
    if args.expires is not None:
        try:
            day = date.fromisoformat(args.expires)
        except ValueError:
            raise ValueError(f"--expires {args.expires!r} is not a date (YYYY-MM-DD)") from None
        return datetime.combine(day, time(), CHINA).astimezone(UTC)
    return None


def run_key_add(args: argparse.Namespace) -> int:
    from siteguard.api.access.keys import create_key
    from siteguard.api.store.clock import iso

    try:
        expires = _expiry(args)
        sessions = _sessions(args.db)
        with sessions.begin() as s:
            key = create_key(
                s,
                args.name,
                args.role,
                [x for x in args.sites.split(",") if x],
                args.jurisdiction,
                args.insurer,
                expires,
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(key)
    until = f", expires {iso(expires)}" if expires else ""
    print(
        f"({args.role} key for {args.name}{until}; store it now, it is not shown again)",
        file=sys.stderr,
    )
    return 0


def _scope(row: Any) -> str:
    if row.role in ("contractor", "edge"):
        return f"sites={row.site_ids}"
    if row.role == "regulator":
        return f"jurisdiction={row.jurisdiction}"
    if row.role in ("insurer", "inspector"):
        return f"insurer={row.insurer}"
    return "all"


def run_key_list(args: argparse.Namespace) -> int:
    """One line per key (tab-separated, with a header); never the key, nor its hash."""
    from siteguard.api.access.keys import list_keys
    from siteguard.api.store.clock import iso_or_none

    with _sessions(args.db)() as s:
        rows = list_keys(s)
    print("id\tname\trole\tscope\tcreated\texpires\trevoked")
    for r in rows:
        times = (iso_or_none(t) or "-" for t in (r.created_at, r.expires_at, r.revoked_at))
        print("\t".join([str(r.id), r.name, r.role, _scope(r), *times]))
    return 0


def run_key_revoke(args: argparse.Namespace) -> int:
    from siteguard.api.access.keys import revoke_keys
    from siteguard.api.errors import NotFound
    from siteguard.api.store.clock import iso

    try:
        with _sessions(args.db).begin() as s:
            rows = revoke_keys(s, args.key)
            done = [(r.id, r.name, r.role, iso(r.revoked_at)) for r in rows if r.revoked_at]
    except NotFound as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    for key_id, name, role, at in done:
        print(f"revoked key {key_id} ({role} {name}) at {at}")
    return 0


def run_site_import(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from siteguard.api.sites.cameras import CameraIn, save_camera
    from siteguard.api.sites.projects import ProjectIn, project_json, save_project
    from siteguard.api.store.tables import ProjectRow
    from siteguard.edge.config import ConfigError, EdgeConfig

    try:
        config = EdgeConfig.load(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    box = config.evidence.base_url.rstrip("/") + "/"  # where the API may fetch evidence
    with _sessions(args.db).begin() as s:
        for cam in config.cameras:
            save_camera(
                s, config.site_id, cam.id, CameraIn(name=cam.id, zones=cam.zones), "site-import"
            )
        project = s.scalar(select(ProjectRow).where(ProjectRow.site_id == config.site_id))
        if project is not None:
            fields = {k: v for k, v in project_json(project).items() if k != "site_id"}
            body = ProjectIn.model_validate(fields | {"evidence_base_url": box})
            save_project(s, config.site_id, body, "site-import", [project.risk_product])
    zones = sum(len(c.zones) for c in config.cameras)
    print(f"site {config.site_id}: {len(config.cameras)} camera(s), {zones} zone(s) imported")
    if project is None:
        print(
            f"no project {config.site_id} yet: register it (PUT /api/v1/projects/"
            f"{config.site_id}) with evidence_base_url {box}, or import again afterwards"
        )
    else:
        print(f"evidence of {config.site_id} is fetched from its edge box at {box}")
    return 0


def run_export(args: argparse.Namespace) -> int:
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
    from siteguard.api.records.anchors import read_anchor_file
    from siteguard.api.records.audit import anchor_of, verify
    from siteguard.api.records.consistency import table_problems

    anchors, unreadable = read_anchor_file(args.anchors) if args.anchors else ([], [])
    with _sessions(args.db)() as s:
        result = verify(s, args.anchor, anchors)
        tables = table_problems(s)
    problems = result.problems + unreadable + tables
    if not problems:
        print(
            f"audit chain intact: {result.records} records, {len(anchors)} anchor(s) held, "
            f"notices and hazards agree with it; anchor {anchor_of(result)}, "
            f"last hash {result.last_hash}"
        )
        return 0
    print(f"audit chain BROKEN ({result.records} records):", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    return 1
