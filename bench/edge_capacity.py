"""How many cameras one edge box sustains at 2 fps detect, end-to-end latency from frame
capture to the event arriving at a real MQTT broker (p50/p95), and memory per camera.

Every camera plays the same clip (the shared CCTV clip when ../shared is there, else the
bundled sample) in real time, looping; the worker runs the real model. To time every
analysed frame, the lifecycle emits an update for each frame that carries a violation
(min_duration 0, update_interval 0.01 s); latency = broker receipt - frame capture time.
A count is "sustained" when every camera reaches >= 95% of the target rate and p95 <= 1 s.

    python bench/edge_capacity.py [--cams 1,2,4,6,8] [--seconds 20] [--model M]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from siteguard.contract.events import HazardEvent
from siteguard.demo.sample import sample_video_path
from siteguard.demo.services import Collector, Mosquitto
from siteguard.edge.config import EdgeConfig
from siteguard.edge.worker import EdgeWorker


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cams", default="1,2,4,6,8")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument(
        "--clip",
        type=Path,
        default=None,
        help="default: the bundled clip (bare heads: most analysed frames emit an event)",
    )
    args = ap.parse_args()
    clip = args.clip or sample_video_path()
    tmp = Path(tempfile.mkdtemp())
    broker = Mosquitto(tmp / "broker").start()
    print(f"clip {clip.name}, {args.seconds:.0f} s per run, target {args.fps} fps per camera")
    print(
        f"{'cams':>4} {'motion':>6} {'min fps':>8} {'mean fps':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'events':>6} {'skipped':>7} {'RSS MB':>6} sustained"
    )
    mem: dict[bool, list[tuple[int, float]]] = {}
    try:
        for motion in (False, True):
            for n in (int(c) for c in args.cams.split(",")):
                r = measure(n, args, clip, motion, broker.port, tmp)
                print(
                    f"{n:>4} {('on' if motion else 'off'):>6} {r['min']:8.2f} {r['mean']:8.2f} "
                    f"{r['p50']:7.0f} {r['p95']:7.0f} {r['events']:6d} {r['skipped']:7d} "
                    f"{r['mb']:6.1f} {'yes' if r['ok'] else 'no'}",
                    flush=True,
                )
    finally:
        broker.stop()
    pts = mem.get(False, [])
    if len(pts) >= 2:
        (n1, m1), (n2, m2) = pts[0], pts[-1]
        per_cam = (m2 - m1) / (n2 - n1)
        print(f"memory per camera (RSS growth from {n1} to {n2} cameras): {per_cam:.1f} MB")
    return 0


def measure(
    n: int, args: argparse.Namespace, clip: Path, motion: bool, port: int, tmp: Path
) -> dict:
    config = EdgeConfig.model_validate(
        {
            "site_id": "bench",
            "model": str(args.model) if args.model else None,
            "provider": "cpu",
            "cameras": [
                {
                    "id": f"cam-{i}",
                    "url": str(clip),
                    "detect_fps": args.fps,
                    "loop": True,
                    "motion": {"enabled": motion, "full_check_s": 5},
                }
                for i in range(n)
            ],
            "mqtt": {"port": port},
            "outbox": str(tmp / f"outbox-{n}-{motion}.db"),
            "evidence": {
                "dir": str(tmp / f"evidence-{n}-{motion}"),
                "clip_seconds": 0,
                "blur_faces": False,
            },
            "http": {"port": 0},
            "lifecycle": {
                "min_duration_s": 0,
                "min_frames": 1,
                "min_median_score": 0,
                "update_interval_s": 0.01,
                "end_grace_s": 10,
            },
            "stats_interval_s": 1000,
        }
    )
    arrivals: list[tuple[float, bytes]] = []
    sub = Collector(port, "siteguard/bench/+/events", client_id=f"bench-{n}-{motion}")
    sub.client.on_message = lambda _c, _u, m: arrivals.append((time.time(), m.payload))
    worker = EdgeWorker(config)
    worker.start()
    time.sleep(4)  # streams open, warm-up
    for cam in worker.cameras.values():
        cam.rates()
    arrivals.clear()
    # frames handled per second: analysed, or skipped by the motion gate on purpose
    skipped_before = {c.cfg.id: c.motion.skipped for c in worker.cameras.values()}
    time.sleep(args.seconds)
    rates = [
        cam.rates()[1] + (cam.motion.skipped - skipped_before[cam.cfg.id]) / args.seconds
        for cam in worker.cameras.values()
    ]
    mem = rss_mb()
    skipped = sum(c.motion.skipped for c in worker.cameras.values())
    got = list(arrivals)
    worker.stop()
    sub.close()
    lat = sorted(
        (t - HazardEvent.model_validate_json(p).frame_time.timestamp()) * 1000 for t, p in got
    )
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    return {
        "min": min(rates),
        "mean": statistics.mean(rates),
        "p50": p50,
        "p95": p95,
        "events": len(got),
        "skipped": skipped,
        "mb": mem,
        "ok": min(rates) >= 0.95 * args.fps and (p95 <= 1000 if lat else True),
    }


if __name__ == "__main__":
    raise SystemExit(main())
