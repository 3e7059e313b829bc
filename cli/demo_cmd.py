"""`siteguard demo`: the whole edge path on the embedded default, on this machine.

Starts a local Mosquitto broker, a GStreamer RTSP server streaming the bundled sample clip
(or reads the clip directly when no RTSP server is installed, and says so), the edge worker
with the sample site configuration, and prints every hazard event as the broker delivers
it. Ctrl-C (or --duration) stops everything cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from siteguard.broker_cmd import API_USER, acl_block, edge_user, locked_config, set_user
from siteguard.demo.api import DemoApi
from siteguard.demo.ports import free_port, wait_port
from siteguard.demo.sample import sample_video_path
from siteguard.waiting import wait_until_set

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

REPO_SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run the edge path on the bundled sample clip: local broker, RTSP stream, edge "
        "worker, hazard events printed as they arrive",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--video", type=Path, default=None, help="another H.264 MP4 instead of the bundled clip"
    )
    p.add_argument(
        "--model", type=Path, default=None, help="another model (default: the shipped one)"
    )
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--no-rtsp", action="store_true", help="read the clip as a file, no RTSP server")
    p.add_argument("--data", type=Path, default=Path("out/demo"), help="outbox and evidence folder")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class LocalBroker:
    """The demo's locked broker: no anonymous clients; the edge may publish only under its
    site, the API (and the demo's event viewer) may only read."""

    port: int
    edge_user: str
    edge_password: str
    api_user: str
    api_password: str


@contextlib.contextmanager
def local_broker(workdir: Path, site_id: str) -> Iterator[LocalBroker]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        raise RuntimeError(
            "mosquitto is not installed: run scripts/system-deps.sh (the "
            "./scripts/siteguard wrapper does this for `demo`)"
        )
    port = free_port()
    broker = LocalBroker(
        port, edge_user(site_id), secrets.token_urlsafe(12), API_USER, secrets.token_urlsafe(12)
    )
    passwd, acl = workdir / "mosquitto.passwd", workdir / "mosquitto.acl"
    for user, password, site in (
        (broker.edge_user, broker.edge_password, site_id),
        (broker.api_user, broker.api_password, None),
    ):
        set_user(passwd, acl, user, password, acl_block(user, "siteguard", site))
    workdir.chmod(0o755)  # a broker started as root reads its files as the mosquitto user
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        locked_config(port, passwd, acl) + "persistence false\n"
        "max_inflight_messages 1000\n"  # the API stores and acknowledges in batches
    )
    # its own session: a Ctrl-C in the terminal reaches the demo only, which stops the edge
    # (flushing its outbox) before the broker
    proc = subprocess.Popen(
        [exe, "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if not wait_port(port):
            raise RuntimeError("the local mosquitto broker did not start")
        yield broker
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def rtsp_stream(video: Path) -> Iterator[str | None]:
    """rtsp://... for the clip, or None when no RTSP server can run here."""
    script = REPO_SCRIPTS / "rtsp_server.py"
    probe = (
        subprocess.run(
            ["/usr/bin/python3", "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
            capture_output=True,
        )
        if Path("/usr/bin/python3").exists() and script.exists()
        else None
    )
    if probe is None or probe.returncode != 0:
        yield None
        return
    port = free_port()
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(script), "--port", str(port), f"site={video}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # stopped by the demo, in order, not by the terminal's Ctrl-C
    )
    try:
        yield f"rtsp://127.0.0.1:{port}/site" if wait_port(port) else None
    finally:
        proc.terminate()
        proc.wait(10)


def print_events(broker: LocalBroker, stop: threading.Event) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from siteguard.contract.events import HazardEvent

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        if kind == "events":
            ev = HazardEvent.model_validate_json(msg.payload)
            where = f" zone {','.join(ev.zones)}" if ev.zones else ""
            print(
                f"  EVENT {ev.state.value:6} {ev.hazard_type.value} "
                f"[{ev.level.value}/{ev.level.zh}]"
                f"{where} seq {ev.seq} id {ev.event_id}: {ev.reason}",
                flush=True,
            )
            if ev.evidence_uri:
                print(f"        evidence: {ev.evidence_uri}", flush=True)
        elif kind == "status":
            st = json.loads(msg.payload)
            print(f"  camera {st['camera_id']} {st['state']}: {st['detail']}", flush=True)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="siteguard-demo-viewer")
    client.username_pw_set(broker.api_user, broker.api_password)  # a reader, like the API
    client.on_connect = lambda c, *_: c.subscribe("siteguard/#", qos=1)
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    stop.wait()
    client.loop_stop()
    client.disconnect()


def run(args: argparse.Namespace) -> int:
    import logging

    from siteguard.edge.config import EdgeConfig
    from siteguard.edge.worker import EdgeWorker

    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    video = (args.video or sample_video_path()).resolve()
    if not video.exists():
        print(f"error: {video} does not exist", file=sys.stderr)
        return 2
    sample = Path(__file__).resolve().parents[1] / "edge" / "sample" / "site.yaml"
    stop = threading.Event()
    with (
        tempfile.TemporaryDirectory() as tmp,
        local_broker(Path(tmp), EdgeConfig.load(sample).site_id) as broker,
        contextlib.ExitStack() as stack,
    ):
        url = None if args.no_rtsp else stack.enter_context(rtsp_stream(video))
        if url is None:
            print(
                f"no RTSP server available{' (--no-rtsp)' if args.no_rtsp else ''}: "
                f"reading {video.name} as a file",
                flush=True,
            )
        config = EdgeConfig.load(sample)
        camera = config.cameras[0].model_copy(update={"url": SecretStr(url or str(video))})
        config = config.model_copy(
            update={
                "cameras": [camera],
                "model": args.model or config.model,
                "mqtt": config.mqtt.model_copy(
                    update={
                        "port": broker.port,
                        "username": broker.edge_user,
                        "password": SecretStr(broker.edge_password),
                    }
                ),
                "outbox": args.data / "outbox.db",
                "evidence": config.evidence.model_copy(update={"dir": args.data / "evidence"}),
                "http": config.http.model_copy(update={"port": 0}),
            }
        )
        worker = EdgeWorker(config)
        api = DemoApi(
            args.data / "api", broker.port, config.site_id, broker.api_user, broker.api_password
        ).start()
        for cam_cfg in config.cameras:  # the console shows the cameras and their zones
            api.call(
                "admin",
                "PUT",
                f"/api/v1/projects/{config.site_id}/cameras/{cam_cfg.id}",
                json={
                    "name": cam_cfg.id,
                    "zones": [z.model_dump(mode="json") for z in cam_cfg.zones],
                },
            )
        viewer = threading.Thread(target=print_events, args=(broker, stop), daemon=True)
        viewer.start()
        worker.start()
        api.register_edge_box(worker.evidence.config.base_url)  # its real port, known now
        threading.Thread(target=api.follow_first_notice, args=(stop,), daemon=True).start()
        print(
            f"SiteGuard demo: camera {camera.id} <- {url or video}\n"
            f"  broker   mqtt://127.0.0.1:{broker.port} (locked; watch: mosquitto_sub -p "
            f"{broker.port} -u {broker.api_user} -P {broker.api_password} -t 'siteguard/#' -v)\n"
            f"  evidence http://127.0.0.1:{worker.http_port}/evidence/  health "
            f"http://127.0.0.1:{worker.http_port}/healthz\n"
            f"  model    {worker.detector.card.name} {worker.detector.card.version}\n"
            f"  API      {api.url}/docs (admin key {api.keys['admin']})\n"
            f"  console  {api.url}/console/  log in with a key:\n"
            + "".join(f"           {role:<10} {key}\n" for role, key in api.keys.items())
            + f"  platform {api.platform.url} (pushes -> {api.data / 'platform-messages.jsonl'})\n"
            "  the inspector issues a notice once the first hazards arrive\n"
            "  Ctrl-C to stop",
            flush=True,
        )
        # `kill`, `timeout`, systemd (SIGTERM) and a closed terminal (SIGHUP) stop the demo
        # like Ctrl-C does: the broker and the RTSP server run in sessions of their own, so
        # only this process can take them down
        ended = threading.Event()
        before = {s: signal.signal(s, lambda *_: ended.set()) for s in STOP_SIGNALS}
        try:
            with contextlib.suppress(KeyboardInterrupt):
                wait_until_set(ended, args.duration)
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)
        print("stopping...", flush=True)
        worker.stop()
        time.sleep(0.5)
        stop.set()
        viewer.join(5)
        time.sleep(1.0)  # the API ingests the last end events and pushes what is due
        api.stop()
        cam = worker.cameras[camera.id]
        print(
            f"done: {cam.detected} frames analysed, {cam.events} event messages, "
            f"{len(api.notices)} notice(s), {len(api.platform.received)} platform push(es); "
            f"evidence in {args.data / 'evidence'}",
            flush=True,
        )
    return 0
