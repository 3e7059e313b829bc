"""How many cameras one edge box sustains at 2 fps detect, end-to-end latency from frame
capture to the event arriving at a real MQTT broker (p50/p95), memory per camera, and the
CPU per camera split into decode, detection and the rest.

Two ways to feed the cameras:

* files (default): every camera plays the same clip (the bundled sample, or ``--clip``) in
  real time, looping;
* ``--rtsp sub,main,h265``: a real GStreamer RTSP server (scripts/rtsp_server.py) streams
  what site cameras send, made from the bundled clip by siteguard.demo.streams (cached in
  bench/.streams/):
    sub   detect on a 640x360 H.264 substream, evidence from a 1920x1080 H.264 main stream
    main  a 1920x1080 25 fps H.264 main stream only (GOP 50), analysed directly
    h265  a 2560x1440 25 fps H.265 main stream only (GOP 50)

The worker runs the real model. To time every analysed frame, the lifecycle emits an update
for each frame that carries a violation (min_duration 0, update_interval 0.01 s); latency =
broker receipt - frame capture time. A count is "sustained" when every camera reaches
>= 95% of the target rate and p95 <= 1 s. CPU comes from /proc per thread over the measured
window: decode = the camera reader threads; demux = the main streams' threads (sub mode);
evid = the evidence threads (pictures and clips: decoding from the ring, encoding);
detection = the detector calls plus onnxruntime's pool threads, rest = everything else in
the worker (rules, tracking, motion gate, MQTT, outbox).

    python bench/edge_capacity.py [--cams 1,2,4,6,8] [--seconds 20] [--model M]
    python bench/edge_capacity.py --rtsp sub,main,h265 --cams 2,4,8 --model M
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from siteguard.contract.events import HazardEvent
from siteguard.demo.sample import sample_video_path
from siteguard.demo.services import Collector, Mosquitto, RtspServer
from siteguard.demo.streams import cached_camera_clip
from siteguard.edge.config import EdgeConfig
from siteguard.edge.worker import EdgeWorker

STREAMS = Path(__file__).resolve().parent / ".streams"
TICK = os.sysconf("SC_CLK_TCK")
BROKER_LOGIN: dict[str, str] = {}  # the locked broker's login (username, password), set in main
# mode -> (main stream size, codec, substream size or None)
LAYOUTS: dict[str, tuple[tuple[int, int], str, tuple[int, int] | None]] = {
    "sub": ((1920, 1080), "h264", (640, 360)),
    "main": ((1920, 1080), "h264", None),
    "h265": ((2560, 1440), "h265", None),
}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_of(stat_path: str) -> float:
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread group of this process: camera/main/evid/analyse/other/native."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for task in os.listdir("/proc/self/task"):
        try:
            cpu = _cpu_of(f"/proc/self/task/{task}/stat")
        except OSError:
            continue  # the thread ended
        name = names.get(int(task))
        group = "native" if name is None else name.split("-", 1)[0]
        if group not in ("camera", "main", "evid", "analyse"):
            group = "native" if name is None else "other"
        out[group] = out.get(group, 0.0) + cpu
    return out


def process_cpu(pid: int) -> float:
    try:
        return _cpu_of(f"/proc/{pid}/stat")
    except OSError:
        return 0.0


PRIVACY_COLUMN = {"off": "clear", "faces": "faces", "on": "pix"}


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
    ap.add_argument(
        "--persist",
        type=float,
        default=0.0,
        help="seconds a violation must persist before a hazard starts (default 0: every "
        "new track starts a hazard, about one a second per camera on the bundled clip, "
        "each with a main-stream picture and clip; the product's default is 2)",
    )
    ap.add_argument("--rtsp", default="", help="comma list of sub, main, h265 (see above)")
    ap.add_argument("--motion", default="off,on", help="motion gating: off, on or off,on")
    ap.add_argument(
        "--privacy",
        default="on",
        help="faces pixelated in stored pictures and clips (evidence.blur_faces, the "
        "product's default, with the scene outside the evidence coarsened): on; off; "
        "faces (pixelated faces, no scene pass: privacy.scene_blocks 0); or a comma "
        "list such as off,faces,on (side by side)",
    )
    ap.add_argument(
        "--still-tiles",
        type=int,
        default=1,
        help="evidence.privacy.still_tiles (default 1 = off here: the bench's hazards "
        "update on every analysed frame, each storing a picture, so tiles would cost "
        "their 9 inferences on every frame, which no site sees; bench/privacy.py measures "
        "their cost per stored picture)",
    )
    ap.add_argument(
        "--decode",
        default="",
        help="decoder options for every camera, e.g. "
        "skip_loop_filter (comma list of DecodeConfig flags)",
    )
    args = ap.parse_args()
    unknown = set(args.privacy.split(",")) - set(PRIVACY_COLUMN)
    if unknown:
        ap.error(f"--privacy: unknown {', '.join(sorted(unknown))} (off, faces, on)")
    clip = args.clip or sample_video_path()
    modes = [m for m in args.rtsp.split(",") if m] or ["file"]
    for m in modes:
        if m != "file" and m not in LAYOUTS:
            ap.error(f"--rtsp {m!r}: expected sub, main or h265")
    tmp = Path(tempfile.mkdtemp())
    # locked, as the product ships: the bench logs in (a full-access login, random password)
    broker = Mosquitto(tmp / "broker", superuser=("bench", secrets.token_urlsafe(18))).start()
    BROKER_LOGIN.update(username=broker.username, password=broker.password)
    print(
        f"clip {clip.name}, {args.seconds:.0f} s per run, target {args.fps} fps per camera,"
        f" {os.cpu_count()} CPUs, model {args.model or 'default'},"
        f" hazards start after {args.persist:g} s"
    )
    try:
        for mode in modes:
            run_mode(mode, args, clip, broker.port, tmp)
    finally:
        broker.stop()
    return 0


def run_mode(mode: str, args: argparse.Namespace, clip: Path, port: int, tmp: Path) -> None:
    server = None
    if mode != "file":
        main_size, codec, sub_size = LAYOUTS[mode]
        length = args.seconds + 8  # warm-up and margin: each session plays the file once
        main = cached_camera_clip(clip, STREAMS, main_size, codec, 50, length)  # type: ignore[arg-type]
        mounts = {"main": main}
        if sub_size:
            mounts["sub"] = cached_camera_clip(clip, STREAMS, sub_size, "h264", 50, length)
        server = RtspServer(mounts).start()
        what = f"{main_size[0]}x{main_size[1]} {codec}" + (
            f" main + {sub_size[0]}x{sub_size[1]} h264 substream (detect)" if sub_size else ""
        )
        print(f"\n== rtsp {mode}: {what}, 25 fps, GOP 50")
    else:
        print("\n== files")
    print(
        f"{'cams':>4} {'motion':>6} {'faces':>5} {'min fps':>7} {'p50 ms':>6} {'p95 ms':>6} "
        f"{'events':>6} {'RSS MB':>6} {'decode':>6} {'demux':>5} {'evid':>5} {'detect':>6} "
        f"{'rest':>5} "
        f"{'server':>6} sustained   (CPU: % of one core per camera)"
    )
    mem: list[tuple[int, float, dict[str, float]]] = []
    try:
        settings = [
            (motion, privacy)
            for motion in (m == "on" for m in args.motion.split(","))
            for privacy in args.privacy.split(",")
        ]
        first_privacy = args.privacy.split(",")[0]
        for motion, privacy in settings:
            for n in (int(c) for c in args.cams.split(",")):
                r = measure(n, args, mode, clip, motion, port, tmp, server, privacy)
                c = r["cpu"]
                print(
                    f"{n:>4} {('on' if motion else 'off'):>6} "
                    f"{PRIVACY_COLUMN[privacy]:>5} {r['min']:7.2f} "
                    f"{r['p50']:6.0f} {r['p95']:6.0f} {r['events']:6d} {r['mb']:6.1f} "
                    f"{c['decode']:6.1f} {c['demux']:5.1f} {c['evid']:5.1f} {c['detect']:6.1f} "
                    f"{c['rest']:5.1f} "
                    f"{c['server']:6.1f} {'yes' if r['ok'] else 'no'}",
                    flush=True,
                )
                if not motion and privacy == first_privacy:
                    mem.append((n, r["mb"], c | {"per_frame_ms": r["per_frame_ms"]}))
    finally:
        if server is not None:
            server.kill()
    if len(mem) >= 2:
        (n1, m1, _), (n2, m2, _) = mem[0], mem[-1]
        print(
            f"memory per camera (RSS growth from {n1} to {n2} cameras): "
            f"{(m2 - m1) / (n2 - n1):.1f} MB"
        )
    if mem:
        explain_limit(mem[0][2], args.fps)


def explain_limit(c: dict[str, float], fps: float) -> None:
    """What stands between the measured count and the machine: per-camera costs measured
    at the lowest count, and the count two cores would carry at those costs."""
    cores = os.cpu_count() or 1
    per_cam = c["decode"] + c["demux"] + c["evid"] + c["detect"] + c["rest"]
    print(
        f"per camera at the lowest count: decode {c['decode']:.1f} % + main-stream demux "
        f"{c['demux']:.1f} % + evidence {c['evid']:.1f} % + detection {c['detect']:.1f} % "
        f"({c['per_frame_ms']:.0f} ms CPU "
        f"per analysed frame at {fps} fps) + rest {c['rest']:.1f} % = {per_cam:.1f} % of a core"
    )
    if per_cam > 0:
        print(
            f"-> {cores} cores at 100 % would carry {cores * 100 / per_cam:.1f} cameras "
            f"(the RTSP server's own CPU not counted: on site it is the cameras')"
        )


def camera_entries(
    n: int, args: argparse.Namespace, mode: str, clip: Path, motion: bool, server: Any
) -> list[dict[str, Any]]:
    decode = {flag: True for flag in args.decode.split(",") if flag}
    out = []
    for i in range(n):
        cam: dict[str, Any] = {
            "id": f"cam-{i}",
            "detect_fps": args.fps,
            "motion": {"enabled": motion, "full_check_s": 5},
            "decode": decode,
        }
        if mode == "file":
            cam |= {"url": str(clip), "loop": True}
        else:
            cam["url"] = server.url("main")
            if LAYOUTS[mode][2]:
                cam["substream_url"] = server.url("sub")
        out.append(cam)
    return out


def measure(
    n: int,
    args: argparse.Namespace,
    mode: str,
    clip: Path,
    motion: bool,
    port: int,
    tmp: Path,
    server: Any,
    privacy: str = "on",
) -> dict[str, Any]:
    tag = f"{mode}-{n}-{motion}-{privacy}"
    config = EdgeConfig.model_validate(
        {
            "site_id": "bench",
            "model": str(args.model) if args.model else None,
            "provider": "cpu",
            "cameras": camera_entries(n, args, mode, clip, motion, server),
            "mqtt": {"port": port, **BROKER_LOGIN},
            "outbox": str(tmp / f"outbox-{tag}.db"),
            "evidence": {
                "dir": str(tmp / f"evidence-{tag}"),
                "clip_seconds": 0 if mode == "file" else 8,
                "blur_faces": privacy != "off",
                "privacy": {
                    "still_tiles": args.still_tiles,
                    **({"scene_blocks": 0} if privacy == "faces" else {}),
                },
            },
            "http": {"port": 0},
            "lifecycle": {
                "min_duration_s": args.persist,
                "min_frames": 1 if args.persist == 0 else 2,
                "min_median_score": 0,
                "update_interval_s": 0.01,
                "end_grace_s": 10,
            },
            "stats_interval_s": 1000,
        }
    )
    arrivals: list[tuple[float, bytes]] = []
    sub = Collector(port, "siteguard/bench/+/events", client_id=f"bench-{tag}", **BROKER_LOGIN)
    sub.client.on_message = lambda _c, _u, m: arrivals.append((time.time(), m.payload))
    worker = EdgeWorker(config)
    worker.start()
    time.sleep(5)  # streams open, warm-up
    for cam in worker.cameras.values():
        cam.rates()
    arrivals.clear()
    # frames handled per second: analysed, or skipped by the motion gate on purpose
    skipped_before = {c.cfg.id: c.motion.skipped for c in worker.cameras.values()}
    infer_before = sum(c.inference_cpu_s for c in worker.cameras.values())
    detected_before = sum(c.detected for c in worker.cameras.values())
    cpu_before, server_before = thread_cpu(), process_cpu(server.proc.pid) if server else 0.0
    wall0 = time.monotonic()
    time.sleep(args.seconds)
    wall = time.monotonic() - wall0
    cpu_after, server_after = thread_cpu(), process_cpu(server.proc.pid) if server else 0.0
    infer = sum(c.inference_cpu_s for c in worker.cameras.values()) - infer_before
    detected = sum(c.detected for c in worker.cameras.values()) - detected_before
    rates = [
        cam.rates()[1] + (cam.motion.skipped - skipped_before[cam.cfg.id]) / args.seconds
        for cam in worker.cameras.values()
    ]
    mem = rss_mb()
    got = list(arrivals)
    worker.stop()
    sub.close()
    d = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}

    def pct(seconds: float) -> float:  # % of one core, per camera
        return 100 * seconds / wall / n

    detect = infer + d.get("native", 0.0)
    cpu = {
        "decode": pct(d.get("camera", 0.0)),
        "demux": pct(d.get("main", 0.0)),
        "evid": pct(d.get("evid", 0.0)),
        "detect": pct(detect),
        "rest": pct(d.get("analyse", 0.0) - infer + d.get("other", 0.0)),
        "server": pct(server_after - server_before),
    }
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
        "mb": mem,
        "cpu": cpu,
        "per_frame_ms": 1000 * detect / max(detected, 1),
        "ok": min(rates) >= 0.95 * args.fps and (p95 <= 1000 if lat else True),
    }


if __name__ == "__main__":
    raise SystemExit(main())
