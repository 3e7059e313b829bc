"""`siteguard edge --config site.yaml`: run the edge worker until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


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
    stop.wait()
    print("stopping: ending open hazards and flushing the outbox", file=sys.stderr)
    worker.stop()
    return 0
