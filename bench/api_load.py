"""Ingest under load: simulated cameras publish hazard events through a real Mosquitto into
several `siteguard api` processes (one MQTT 5 shared subscription) on one PostgreSQL.

Reports sustained events/s (stored events over the time from the first publish to the
last store), latency from publish to stored (p50/p95: the publisher stamps frame_time,
PostgreSQL's row has received_at), and checks nothing was lost or duplicated. Each
event is a separate hazard start (the heaviest path: a new hazard row, an audit record).

    python bench/api_load.py [--cameras 50] [--events 40] [--replicas 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, text

from siteguard.api.store.db import create_schema, make_engine
from siteguard.broker_cmd import API_USER
from siteguard.demo.ports import free_port, wait_port
from siteguard.demo.services import Mosquitto, Postgres

ROOT = Path(__file__).resolve().parents[1]

GOLDEN = json.loads((ROOT / "tests" / "golden" / "hazard_event_v1_start.json").read_text())


def publisher(
    login: dict[str, Any], cams: range, events: int, run: str, sent: list[int], rate: float = 0.0
) -> None:
    """Publish events for `cams`; `rate` > 0 paces this publisher (events/s), else flat out."""
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"sim-{run}-{cams.start}", protocol=mqtt.MQTTv5
    )
    c.max_inflight_messages_set(200)
    c.username_pw_set(login["username"], login["password"])
    c.connect("127.0.0.1", login["port"])
    c.loop_start()
    infos = []
    t0 = time.monotonic()
    for i in range(events):
        for cam in cams:
            t = datetime.now(UTC)
            doc = dict(
                GOLDEN,
                event_id=f"evt_{run}_{cam:04d}_{i:06d}",
                site_id=f"load-{cam % 10}",
                camera_id=f"cam-{cam}",
                started_at=(t - timedelta(seconds=1)).isoformat(),
                frame_time=t.isoformat(),
            )
            infos.append(
                c.publish(f"siteguard/load-{cam % 10}/cam-{cam}/events", json.dumps(doc), qos=1)
            )
            if rate > 0:
                ahead = t0 + len(infos) / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
    for info in infos:
        info.wait_for_publish(60)
    sent.append(len(infos))
    c.loop_stop()
    c.disconnect()


def run_once(
    pg: Postgres, replicas: int, cameras: int, events: int, tmp: Path, rate: float = 0.0
) -> dict[str, float]:
    url = pg.new_database()
    create_schema(make_engine(url))
    # a fresh broker per run: an earlier run's consumers keep persistent sessions in the
    # shared-subscription group, and the broker would keep sending them their share
    # locked, as the product ships: the API processes log in as the API (environment, no
    # password on the command line), the simulated cameras with a full-access login
    broker = Mosquitto(
        tmp / f"broker-{replicas}-{rate:.0f}",
        superuser=("bench", secrets.token_urlsafe(18)),
        users={API_USER: (secrets.token_urlsafe(18), None)},
    ).start()
    api_login = broker.login_as(API_USER)
    procs = []
    for r in range(replicas):
        port = free_port()
        log = open(tmp / f"api-{replicas}-{r}.log", "wb")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "siteguard",
                    "api",
                    "--db",
                    url,
                    "--mqtt-port",
                    str(broker.port),
                    "--port",
                    str(port),
                    "--replica",
                    f"{replicas}-{r}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(
                    os.environ,
                    PYTHONUNBUFFERED="1",
                    SITEGUARD_MQTT_USERNAME=api_login["username"],
                    SITEGUARD_MQTT_PASSWORD=api_login["password"],
                ),
            )
        )
        assert wait_port(port, 30)
    time.sleep(1.5)
    total = cameras * events
    engine = create_engine(url)
    sent: list[int] = []
    start = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.monotonic()
    threads = [
        threading.Thread(
            target=publisher,
            args=(broker.login, range(k, cameras, 4), events, f"r{replicas}", sent, rate / 4),
        )
        for k in range(4)
    ]
    for t in threads:
        t.start()
    stored = 0
    while time.monotonic() - t0 < 300:
        with engine.connect() as c:
            stored = c.execute(text("SELECT count(*) FROM events")).scalar() or 0
        if stored >= total:
            break
        time.sleep(0.25)
    for t in threads:
        t.join()
    with engine.connect() as c:
        rows = c.execute(text("SELECT frame_time, received_at FROM events")).all()
        distinct = c.execute(text("SELECT count(DISTINCT event_id) FROM events")).scalar()
        dead = c.execute(text("SELECT count(*) FROM dead_letters")).scalar()
    for p in procs:
        p.terminate()
        p.wait(10)
    broker.stop()
    engine.dispose()
    last = max(r[1] for r in rows)
    lat = sorted((r[1] - r[0]).total_seconds() * 1000 for r in rows)
    return {
        "replicas": replicas,
        "events": total,
        "stored": len(rows),
        "distinct": distinct or 0,
        "dead": dead or 0,
        "per_s": len(rows) / max((last - start).total_seconds(), 1e-6),
        "p50": statistics.median(lat),
        "p95": lat[int(len(lat) * 0.95) - 1],
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cameras", type=int, default=50)
    ap.add_argument("--events", type=int, default=40, help="events per camera")
    ap.add_argument("--replicas", default="1,2")
    ap.add_argument(
        "--rates",
        default="0,300",
        help="offered events/s per run (0 = as fast as the publishers can): flat out gives "
        "the sustained throughput, a paced rate below it the latency without a backlog",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="siteguard-load-"))
    os.chmod(tmp, 0o755)
    print("starting PostgreSQL...", file=sys.stderr)
    pg = Postgres(tmp / "pg").start()
    print(
        f"{args.cameras} cameras x {args.events} events, each a new hazard; target >= 500 events/s"
    )
    head = (
        "offered",
        "replicas",
        "events",
        "stored",
        "dup",
        "lost",
        "events/s",
        "p50 ms",
        "p95 ms",
        "vs 500/s",
    )
    widths = (8, 8, 7, 7, 4, 5, 9, 8, 8, 8)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    try:
        runs = [(float(r), int(n)) for r in args.rates.split(",") for n in args.replicas.split(",")]
        for rate, n in runs:
            r = run_once(pg, n, args.cameras, args.events, tmp, rate)
            dup = r["stored"] - r["distinct"]
            lost = r["events"] - r["distinct"]
            offered = "max" if rate == 0 else f"{rate:.0f}/s"
            cells = (
                offered,
                n,
                r["events"],
                r["stored"],
                dup,
                lost,
                r["per_s"],
                r["p50"],
                r["p95"],
            )
            line = " ".join(
                f"{c:>{w}}" if isinstance(c, str) else f"{c:>{w}.0f}"
                for c, w in zip(cells, widths, strict=False)
            )
            print(f"{line} {r['per_s'] / 500:>8.2f}", flush=True)
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
