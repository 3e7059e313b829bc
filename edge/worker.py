"""The edge worker: every camera's stream -> detector -> tracker -> rules and zones ->
hazard lifecycle -> evidence -> durable outbox -> MQTT.

One reader thread and one analysis thread per camera; the detector is shared and runs one
frame at a time (on a 2-core box parallel sessions only fight over the cores).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from siteguard.contract.camera import CameraState, CameraStats, CameraStatus
from siteguard.contract.zones import Zone
from siteguard.edge.camera_runner import CameraRunner
from siteguard.edge.config import EdgeConfig
from siteguard.edge.evidence_store import EvidenceStore
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import Publisher
from siteguard.edge.quiet_http import QuietHandler
from siteguard.edge.zone_sync import ZoneSyncError, fetch_zones
from siteguard.pipeline.detector import OnnxDetector

log = logging.getLogger(__name__)


class EdgeWorker:
    def __init__(self, config: EdgeConfig, detector: OnnxDetector | None = None) -> None:
        from siteguard.models.registry import resolve_model

        self.config = config
        self.detector = detector or OnnxDetector(
            resolve_model(config.model),
            provider=config.provider,
            threads=config.threads,
        )
        self.detector_lock = threading.Lock()
        self.outbox = Outbox(config.outbox)
        self.publisher = Publisher(config.mqtt, config.site_id, self.outbox)
        self.evidence = EvidenceStore(config.evidence)
        self._sync_zones()
        self.cameras = {c.id: CameraRunner(c, self) for c in config.cameras}
        self.started_at = time.monotonic()
        self._stop = threading.Event()
        self._http: ThreadingHTTPServer | None = None
        self._stats_thread = threading.Thread(target=self._stats_loop, name="stats", daemon=True)
        self._zones_failing = False

    def _sync_zones(self) -> None:
        """At start, before the cameras run: the API's zones replace site.yaml's."""
        if not self.config.api.url:
            return
        try:
            zones = fetch_zones(self.config.api, self.config.site_id)
        except ZoneSyncError as exc:
            self._zones_failing = True
            log.warning("zones: keeping those in site.yaml (%s)", exc)
            return
        for cam in self.config.cameras:
            if cam.id in zones:
                cam.zones = zones[cam.id]
                log.info("camera %s: zones from the API: %s", cam.id, _zone_names(cam.zones))

    def refresh_zones(self) -> list[str]:
        """While running: apply zones changed in the API since the last look. Returns the
        ids of the cameras whose zones changed. An unreachable API is reported once per
        outage; the zones in use stay."""
        try:
            zones = fetch_zones(self.config.api, self.config.site_id)
        except ZoneSyncError as exc:
            if not self._zones_failing:
                log.warning("zones: cannot refresh, keeping the current ones (%s)", exc)
            self._zones_failing = True
            return []
        if self._zones_failing:
            log.info("zones: the API answers again")
        self._zones_failing = False
        changed = []
        for cam_id, new in zones.items():
            runner = self.cameras.get(cam_id)
            if runner is None or [z.model_dump() for z in new] == [
                z.model_dump() for z in runner.cfg.zones
            ]:
                continue
            try:
                runner.set_zones(new)
            except (OSError, ValueError) as exc:  # e.g. a reference view that cannot be read
                log.error("camera %s: zones from the API not applied: %s", cam_id, exc)
                continue
            changed.append(cam_id)
            log.info("camera %s: zones changed in the API: %s", cam_id, _zone_names(new))
        return changed

    def _zone_loop(self) -> None:
        while not self._stop.wait(self.config.api.refresh_s):
            try:
                self.refresh_zones()
            except Exception:  # the cameras must outlive any one failure here
                log.exception("zone refresh failed")

    def camera_state_changed(self, camera_id: str, state: CameraState, detail: str) -> None:
        status = CameraStatus(
            camera_id=camera_id, state=state.value, detail=detail, at=datetime.now(UTC)
        )
        self.publisher.send_status(camera_id, status.model_dump_json())

    def start(self) -> None:
        self.detector.warmup()
        self.publisher.start()
        self._http = ThreadingHTTPServer(
            (self.config.http.host, self.config.http.port), _handler(self)
        )
        if self.config.http.port == 0:  # an ephemeral port: evidence URIs must name the real one
            self.evidence.config.base_url = (
                f"http://{self.config.http.host}:{self.http_port}/evidence"
            )
        threading.Thread(target=self._http.serve_forever, name="http", daemon=True).start()
        for cam in self.cameras.values():
            cam.start()
        self._stats_thread.start()
        if self.config.api.url and self.config.api.refresh_s > 0:
            threading.Thread(target=self._zone_loop, name="zones", daemon=True).start()
        log.info(
            "edge worker for site %s: %d camera(s), model %s %s, http on port %d",
            self.config.site_id,
            len(self.cameras),
            self.detector.card.name,
            self.detector.card.version,
            self.http_port,
        )

    @property
    def http_port(self) -> int:
        return self._http.server_address[1] if self._http else 0

    def stop(self) -> None:
        self._stop.set()
        for cam in self.cameras.values():
            cam.stop()
        self.publisher.stop()
        if self._http:
            self._http.shutdown()
        self.outbox.close()

    def _stats_loop(self) -> None:
        while not self._stop.wait(self.config.stats_interval_s):
            try:
                for cam in self.cameras.values():
                    fps_in, fps_detected = cam.rates()
                    stats = CameraStats.model_validate(
                        dict(
                            cam.stats(),
                            fps_in=round(fps_in, 2),
                            fps_detected=round(fps_detected, 2),
                            outbox_depth=self.outbox.depth(),
                            interval_s=self.config.stats_interval_s,  # when the next one is due
                            at=datetime.now(UTC),
                        )
                    )
                    self.publisher.send_stats(cam.cfg.id, stats.model_dump_json())
                self.evidence.enforce_retention()
            except Exception:  # the heartbeat must outlive any one failure
                log.exception("stats heartbeat failed")

    def health(self) -> dict[str, Any]:
        box = self.outbox
        return {
            "site_id": self.config.site_id,
            # degraded: messages wait in memory because the disk refuses them, or some were
            # lost to a full memory backlog too
            "status": "degraded" if box.held or box.dropped else "ok",
            "mqtt_connected": self.publisher.connected.is_set(),
            "outbox_depth": box.depth(),
            "outbox_held_in_memory": box.held,
            "awaiting_confirmation": box.awaiting_confirmation(),
            "outbox_write_errors": box.write_errors,
            "messages_dropped": box.dropped,
            "evidence_failures": self.evidence.failures,
            "cameras": [c.stats() for c in self.cameras.values()],
        }

    def metrics_text(self) -> str:
        lines = [
            "# TYPE siteguard_outbox_depth gauge",
            f"siteguard_outbox_depth {self.outbox.depth()}",
            "# TYPE siteguard_mqtt_connected gauge",
            f"siteguard_mqtt_connected {int(self.publisher.connected.is_set())}",
            "# TYPE siteguard_evidence_failures_total counter",
            f"siteguard_evidence_failures_total {self.evidence.failures}",
            "# TYPE siteguard_outbox_held_in_memory gauge",
            f"siteguard_outbox_held_in_memory {self.outbox.held}",
            "# TYPE siteguard_outbox_write_errors_total counter",
            f"siteguard_outbox_write_errors_total {self.outbox.write_errors}",
            "# TYPE siteguard_events_awaiting_confirmation gauge",
            f"siteguard_events_awaiting_confirmation {self.outbox.awaiting_confirmation()}",
            "# TYPE siteguard_events_resent_total counter",
            f"siteguard_events_resent_total {self.publisher.resent}",
            "# TYPE siteguard_messages_dropped_total counter",
            f"siteguard_messages_dropped_total {self.outbox.dropped}",
        ]
        per_camera = {
            "frames_in": "counter",
            "frames_detected": "counter",
            "frames_dropped": "counter",
            "motion_skipped": "counter",
            "reconnects": "counter",
            "events": "counter",
            "inference_ms": "gauge",
            "open_hazards": "gauge",
        }
        stats = [c.stats() for c in self.cameras.values()]
        for key, kind in per_camera.items():
            name = f"siteguard_camera_{key}" + ("_total" if kind == "counter" else "")
            lines.append(f"# TYPE {name} {kind}")
            lines += [f'{name}{{camera="{s["camera_id"]}"}} {s[key]}' for s in stats]
        lines.append("# TYPE siteguard_camera_online gauge")
        lines += [
            f'siteguard_camera_online{{camera="{s["camera_id"]}"}} {int(s["state"] == "online")}'
            for s in stats
        ]
        return "\n".join(lines) + "\n"


LIVE_PREFIX = "/evidence/live/"  # under /evidence/: the API's allow-list of the box applies


def _handler(worker: EdgeWorker) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self.reply(200, worker.metrics_text().encode(), "text/plain; version=0.0.4")
            elif self.path == "/healthz":
                self.reply(200, json.dumps(worker.health()).encode(), "application/json")
            elif self.path.startswith(LIVE_PREFIX):
                self._live(self.path.removeprefix(LIVE_PREFIX))
            elif self.path.startswith("/evidence/"):
                path = worker.evidence.resolve(self.path.removeprefix("/evidence/"))
                if path is None:
                    self.reply(404, b'{"error": "no such evidence"}', "application/json")
                else:
                    kind = "image/jpeg" if path.suffix == ".jpg" else "video/mp4"
                    self.reply(200, path.read_bytes(), kind)
            else:
                self.reply(404, b'{"error": "not found"}', "application/json")

        def _live(self, name: str) -> None:
            """The camera's latest analysed frame (faces pixelated, no boxes drawn), made
            now and never stored: the API fetches it for the zone editor."""
            camera_id = name.removesuffix(".jpg") if name.endswith(".jpg") else ""
            runner = worker.cameras.get(camera_id)
            jpeg = runner.snapshot_jpeg() if runner is not None else None
            if jpeg is None:
                error = "no such camera" if runner is None else "no analysed frame yet"
                self.reply(404, json.dumps({"error": error}).encode(), "application/json")
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(jpeg)

    return Handler


def _zone_names(zones: list[Zone]) -> str:
    return ", ".join(z.id + (" (protected)" if z.protected else "") for z in zones) or "none"
