"""`siteguard edge --config site.yaml`: run the edge worker until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from siteguard.waiting import wait_until_set


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "edge",
        help="run the edge worker: cameras -> detection, zones and rules -> MQTT hazard events",
        description="Watches every camera in the site config, publishes hazard events "
        "(start/update/end), camera status and stats over MQTT through a durable outbox, and "
        "serves evidence, /metrics and /healthz over HTTP. Stops cleanly on Ctrl-C or SIGTERM "
        "(open hazards get their end event).",
    )
    p.add_argument("--config", type=Path, required=True, help="site configuration (YAML)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)

    c = sub.add_parser(
        "commission",
        help="capture a camera's reference view for protection-integrity checks",
        description="Grabs a frame from the camera (with the protection in place and the view "
        "clear) and stores it where the camera's reference_image points (or --out). Protected "
        "zones are then compared with this view on every analysed frame.",
    )
    c.add_argument("--config", type=Path, required=True, help="site configuration (YAML)")
    c.add_argument("--camera", required=True, help="camera id")
    c.add_argument(
        "--out", type=Path, default=None, help="where to write (default: reference_image)"
    )
    c.add_argument("--skip", type=int, default=10, help="frames to skip first (default 10)")
    c.set_defaults(func=run_commission)


def run_commission(args: argparse.Namespace) -> int:
    import cv2

    from siteguard.edge.config import ConfigError, EdgeConfig
    from siteguard.pipeline.protection import ProtectionReference

    try:
        config = EdgeConfig.load(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cams = {c.id: c for c in config.cameras}
    cam = cams.get(args.camera)
    if cam is None:
        print(f"error: no camera {args.camera!r} (cameras: {', '.join(cams)})", file=sys.stderr)
        return 2
    out = args.out or cam.reference_image
    if out is None:
        print(
            f"error: camera {cam.id} has no reference_image in the config: pass --out",
            file=sys.stderr,
        )
        return 2
    cap = cv2.VideoCapture(cam.url.get_secret_value(), cv2.CAP_FFMPEG)
    frame = None
    for _ in range(args.skip + 1):
        ok, img = cap.read()
        if not ok:
            break
        frame = img
    cap.release()
    if frame is None:
        print(f"error: no frame from {cam.safe_url}", file=sys.stderr)
        return 1
    for zone in (z for z in cam.zones if z.protected):
        try:
            ProtectionReference(frame, zone.polygon, config.protection)
        except ValueError as exc:
            print(f"error: zone {zone.id}: {exc}", file=sys.stderr)
            return 1
    if config.evidence.blur_faces:
        frame = _faces_pixelated(frame, config)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), frame)
    print(f"reference view of {cam.id} ({frame.shape[1]}x{frame.shape[0]}) written to {out}")
    return 0


def _faces_pixelated(frame: Any, config: Any) -> Any:
    """The reference view as it is kept on the box: faces pixelated like stored evidence
    (people, heads and hard hats down to the privacy score; the protection's structure is
    compared outside the people anyway). Says so when people are in the view, which a
    reference should show clear of them."""
    from siteguard.models.registry import resolve_model
    from siteguard.pipeline.detector import OnnxDetector
    from siteguard.pipeline.privacy import detect_with_candidates, obscure_faces
    from siteguard.pipeline.taxonomy import default_taxonomy

    detector = OnnxDetector(
        resolve_model(config.model), provider=config.provider, threads=config.threads
    )
    [(dets, candidates)] = detect_with_candidates(
        detector, [frame], config.evidence.privacy.min_score
    )
    people = int((dets.class_id == default_taxonomy().id_of("person")).sum())
    if people:
        print(
            f"warning: {people} person(s) in the view: their faces are pixelated in the "
            "reference; commission again when the protection is in view without people",
            file=sys.stderr,
        )
    return obscure_faces(frame.copy(), dets, candidates)


def run(args: argparse.Namespace) -> int:
    from siteguard.edge.config import ConfigError, EdgeConfig
    from siteguard.edge.worker import EdgeWorker
    from siteguard.pipeline.model_card import ModelCardError

    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = EdgeConfig.load(args.config)
        worker = EdgeWorker(config)
    except (ConfigError, ModelCardError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    print(
        f"edge worker running for site {config.site_id}: {len(config.cameras)} camera(s); "
        f"MQTT {config.mqtt.host}:{config.mqtt.port}; http://{config.http.host}:{worker.http_port}"
        "/healthz; Ctrl-C to stop",
        file=sys.stderr,
    )
    wait_until_set(stop)
    print("stopping: ending open hazards and flushing the outbox", file=sys.stderr)
    worker.stop()
    return 0
