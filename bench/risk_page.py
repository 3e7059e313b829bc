"""The insurer's risk page and JSON portfolio for 500 projects, on SQLite and PostgreSQL.

History: `siteguard.demo.history` writes a seed of a dozen projects through the real
ingest, notice and workflow code (careful, typical and risky profiles); the seed's rows
are then copied, ids remapped and times shifted a little per copy, into 500 projects of
one insurer (writing 500 projects through the real workflow would take ten minutes).

Timed, interleaved in one run per database:
- before: what the page computed per load until the change (the rolling portfolio, its
  previous period, six calendar months per project, a chart per project), without the
  old template;
- page cold / warm: ``GET /console/risk`` of a fresh app (empty cache), then again;
- JSON cold / warm: ``GET /api/v1/insurer/projects``.

    .venv/bin/python bench/risk_page.py [--projects 500] [--days 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, insert, select

from siteguard.api.access.keys import Principal, create_key, visible_projects
from siteguard.api.app import create_app
from siteguard.api.documents.charts import line_chart
from siteguard.api.risk.portfolio import month_labels, portfolio
from siteguard.api.risk.signals import Period, portfolio_risk
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.clock import now_naive
from siteguard.demo.history import INSURERS, generate
from siteguard.demo.services import Postgres

TABLES = ("projects", "cameras", "camera_uptime", "hazards", "notices", "notice_items")
TIMES = {
    "camera_uptime": ("start", "end"),
    "hazards": ("first_seen", "last_seen", "evidence_time"),
    "notices": ("issued_at",),
    "notice_items": ("deadline",),
    "notice_history": ("at",),
}


def app_for(url: str) -> Any:
    return create_app(ApiSettings(database_url=url, mqtt=MqttIngestSettings(enabled=False)))


def seed(path: Path, projects: int, days: int, now: datetime) -> Engine:
    app = app_for(f"sqlite:///{path}")
    generate(app.state.services.sessions, now - timedelta(days=days), days, projects, seed=11)
    return app.state.services.engine


def copy_history(src: Engine, dst: Engine, projects: int) -> None:
    """`projects` projects into `dst` from the seed's rows: copy k of seed project i is
    project k * n + i, shifted k * 37 minutes back, all under the first insurer."""
    meta = MetaData()
    meta.reflect(src, only=[*TABLES, "notice_history"])
    rows = {}
    with src.connect() as c:
        for name in (*TABLES, "notice_history"):
            rows[name] = [dict(r._mapping) for r in c.execute(select(meta.tables[name]))]
    n = len(rows["projects"])
    stride = {t: max((r["id"] for r in rows[t]), default=0) + 1 for t in rows}
    site_of = {p["site_id"]: p for p in rows["projects"]}
    copies = -(-projects // n)
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in rows}
    for k in range(copies):
        shift = timedelta(minutes=37 * k)
        keep = {p["site_id"] for p in rows["projects"] if k * n + p["id"] <= projects}

        def site(old: str, k: int = k) -> str:
            return f"p{k * n + site_of[old]['id']:03d}"

        for t, items in rows.items():
            for r in items:
                new = dict(r)
                if "id" in new:
                    new["id"] = r["id"] + k * stride[t]
                for col in TIMES.get(t, ()):
                    if new[col] is not None:
                        new[col] = new[col] - shift
                if t == "projects":
                    if r["site_id"] not in keep:
                        continue
                    new.update(
                        site_id=site(r["site_id"]),
                        name=f"{r['name']}-{k + 1}",
                        policy_no=f"AZX-2026-{new['id']:05d}",
                        permit_no=f"3401002026{new['id']:06d}",
                        insurer=INSURERS[0],
                    )
                elif "site_id" in new:
                    if r["site_id"] not in keep:
                        continue
                    new["site_id"] = site(r["site_id"])
                elif t == "notices":
                    new.update(
                        project_id=r["project_id"] + k * stride["projects"],
                        number=f"{r['number']}-{k}",
                    )
                elif t in ("notice_items", "notice_history"):
                    new["notice_id"] = r["notice_id"] + k * stride["notices"]
                    if t == "notice_items":
                        new["hazard_id"] = r["hazard_id"] + k * stride["hazards"]
                out[t].append(new)
    kept_projects = {p["id"] for p in out["projects"]}
    out["notices"] = [r for r in out["notices"] if r["project_id"] in kept_projects]
    kept_notices = {r["id"] for r in out["notices"]}
    for t in ("notice_items", "notice_history"):
        out[t] = [r for r in out[t] if r["notice_id"] in kept_notices]
    target = MetaData()
    target.reflect(dst, only=[*TABLES, "notice_history"])
    with dst.begin() as c:
        for t in (*TABLES, "notice_history"):
            for i in range(0, len(out[t]), 5000):
                c.execute(insert(target.tables[t]), out[t][i : i + 5000])
        if dst.dialect.name == "postgresql":
            for t in (*TABLES, "notice_history"):
                c.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"
                )
            c.exec_driver_sql("ANALYZE")


def before(app: Any, who: Principal) -> None:
    """What GET /console/risk computed per load before the change (no template)."""
    settings = app.state.services.settings
    now = now_naive()
    period = Period.rolling(now)
    with app.state.services.sessions() as s:
        portfolio(s, who, period, settings)
        projects = visible_projects(s, who)
        labels = month_labels(now, 6)

        def cfg_of(p: Any) -> Any:
            return settings.risk_for(p.risk_product)

        months = [portfolio_risk(s, projects, Period.month(m), cfg_of) for m in labels]
        for p in projects:
            cfg = cfg_of(p)
            points = [(m, month[p.id][0].factor) for m, month in zip(labels, months, strict=True)]
            line_chart(points, "", lo=1 - cfg.band, hi=1 + cfg.band, height=120)


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def fetch(client: TestClient, path: str) -> None:
    client.get(path).raise_for_status()


def console(app: Any, key: str) -> TestClient:
    c = TestClient(app)
    assert c.post("/console/login", data={"key": key}).status_code == 200
    return c


def measure(name: str, url: str, rounds: int) -> dict[str, list[float]]:
    base = app_for(url)
    with base.state.services.sessions.begin() as s:
        key = create_key(s, "bench-insurer", "insurer", insurer=INSURERS[0])
    who = Principal("bench-insurer", "insurer", insurer=INSURERS[0])
    figures: dict[str, list[float]] = {
        k: [] for k in ("before", "page cold", "page warm", "json cold", "json warm")
    }
    for _ in range(rounds):
        figures["before"].append(timed(lambda: before(base, who)))
        fresh = app_for(url)  # an empty in-process cache: what a restarted replica sees
        c = console(fresh, key)
        figures["page cold"].append(timed(partial(fetch, c, "/console/risk")))
        figures["page warm"].append(timed(partial(fetch, c, "/console/risk")))
        api = TestClient(app_for(url), headers={"Authorization": f"Bearer {key}"})
        for label in ("json cold", "json warm"):
            figures[label].append(timed(partial(fetch, api, "/api/v1/insurer/projects")))
    with base.state.services.sessions() as s:
        shown = len(visible_projects(s, who))
    print(f"\n{name}: {shown} projects, best of {rounds} rounds (median in brackets)")
    for label, xs in figures.items():
        print(f"  {label:<10} {min(xs) * 1000:8.0f} ms  ({statistics.median(xs) * 1000:6.0f} ms)")
    print(f"  before / page warm  {min(figures['before']) / min(figures['page warm']):6.1f} x")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=500)
    ap.add_argument("--seed-projects", type=int, default=12)
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    args = ap.parse_args()
    now = now_naive()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # as root, PostgreSQL runs as the postgres user
        t = time.perf_counter()
        src = seed(Path(tmp) / "seed.db", args.seed_projects, args.days, now)
        print(
            f"seed: {args.seed_projects} projects x {args.days} days in "
            f"{time.perf_counter() - t:.1f} s"
        )
        targets: list[tuple[str, str, Postgres | None]] = []
        if args.only in (None, "sqlite"):
            targets.append(("SQLite", f"sqlite:///{tmp}/bench.db", None))
        if args.only in (None, "postgresql"):
            pg = Postgres(Path(tmp) / "pg").start()
            targets.append(("PostgreSQL", pg.new_database(), pg))
        try:
            for name, url, _ in targets:
                t = time.perf_counter()
                copy_history(src, app_for(url).state.services.engine, args.projects)
                with app_for(url).state.services.engine.connect() as c:
                    n_h = c.exec_driver_sql("SELECT count(*) FROM hazards").scalar()
                    n_n = c.exec_driver_sql("SELECT count(*) FROM notices").scalar()
                print(
                    f"{name}: {n_h} hazards, {n_n} notices copied in "
                    f"{time.perf_counter() - t:.1f} s"
                )
                measure(name, url, args.rounds)
        finally:
            for _, _, server in targets:
                if server is not None:
                    server.stop()


if __name__ == "__main__":
    main()
