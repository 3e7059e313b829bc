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
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

from siteguard.edge.camera import CameraConfig, CameraReader, CameraState, MotionGate
from siteguard.edge.config import EdgeConfig
from siteguard.edge.evidence_store import EvidenceStore
from siteguard.edge.lifecycle import HazardLifecycle
from siteguard.edge.observations import observations
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import Publisher
from siteguard.edge.zone_sync import ZoneSyncError, fetch_zones
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.events import EventState, HazardEvent
from siteguard.pipeline.evidence import annotate
from siteguard.pipeline.protection import (
    PROTECTION_CLASSES,
    ProtectionCheckConfig,
    ProtectionReference,
    protection_seen,
)
from siteguard.pipeline.rules import evaluate
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.tiling import with_tiles
from siteguard.pipeline.tracker import IouTracker
from siteguard.pipeline.zones import Zone
from siteguard.quiet_http import QuietHandler

log = logging.getLogger(__name__)


class CameraRunner:
    """One camera's analysis loop."""

    def __init__(self, cfg: CameraConfig, worker: EdgeWorker) -> None:
        self.cfg = cfg
        self.worker = worker
        self.reader = CameraReader(cfg, on_state=worker.camera_state_changed)
        self.tracker = IouTracker(worker.config.tracker)
        self.lifecycle = HazardLifecycle(
            worker.config.site_id, cfg.id, worker.detector.model, worker.config.lifecycle
        )
        self.motion = MotionGate(cfg.motion)
        self.detector = with_tiles(worker.detector, cfg.tiles)
        self.protection = self._load_references(cfg, worker.config.protection)
        self._detects_protection = any(
            c in PROTECTION_CLASSES for c in worker.detector.card.classes
        )
        if worker.config.protection.mode != "reference" and not self._detects_protection:
            raise ValueError(
                f"protection.mode is {worker.config.protection.mode!r} but the model "
                f"{worker.detector.card.name} has no guardrail/safety_net classes"
            )
        clip_len = max(1, int(worker.config.evidence.clip_seconds * cfg.detect_fps))
        self.recent: deque[Any] = deque(maxlen=clip_len)
        self.detected = 0
        self.events = 0
        self.inference_ms = 0.0
        self.latency_ms: deque[float] = deque(maxlen=200)  # capture -> into the outbox
        self.frame_size = (1, 1)
        self._rate_mark = (time.monotonic(), 0, 0)
        tax = default_taxonomy()
        self._occluder_ids = [tax.id_of(n) for n in ("person", "hardhat", "head", "vest")]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"analyse-{cfg.id}", daemon=True)

    @staticmethod
    def _load_references(
        cfg: CameraConfig, check: ProtectionCheckConfig
    ) -> dict[str, ProtectionReference]:
        protected = [z for z in cfg.zones if z.protected]
        if not protected or cfg.reference_image is None:
            if protected and check.mode != "detector":
                log.warning(
                    "camera %s: protected zones but no reference_image: protection "
                    "integrity is not checked (run `siteguard commission`)",
                    cfg.id,
                )
            return {}
        image = cv2.imread(str(cfg.reference_image))
        if image is None:
            raise FileNotFoundError(
                f"camera {cfg.id}: reference image {cfg.reference_image} is missing or unreadable"
            )
        return {z.id: ProtectionReference(image, z.polygon, check) for z in protected}

    def set_zones(self, zones: list[Zone]) -> None:
        """New zones (drawn in the console) while the camera runs: from the next frame on.
        Protected zones are checked against the commissioned reference view."""
        self.protection = self._load_references(
            self.cfg.model_copy(update={"zones": zones}), self.worker.config.protection
        )
        self.cfg.zones = zones

    def start(self) -> None:
        self.reader.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.reader.stop()
        now = time.time()
        for ev in self.lifecycle.close_all(
            time.monotonic(), datetime.fromtimestamp(now, UTC), (1, 1)
        ):
            self.worker.publisher.send_event(ev.model_copy(update={"frame_width": ev.frame_width}))

    def _run(self) -> None:
        period = 1.0 / self.cfg.detect_fps
        next_due = time.monotonic()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # one bad frame must not stop the camera
                log.exception("camera %s: analysis failed on a frame", self.cfg.id)
            next_due = max(next_due + period, time.monotonic())
            self._stop.wait(max(0.0, next_due - time.monotonic()))

    def step(self) -> list[HazardEvent]:
        frame = self.reader.latest()
        if frame is None or not self.motion.should_detect(frame.image, frame.t):
            return []
        w = self.worker
        t0 = time.perf_counter()
        with w.detector_lock:
            dets = self.detector.detect([frame.image])[0]
        ms = (time.perf_counter() - t0) * 1000
        self.inference_ms = ms if not self.detected else 0.9 * self.inference_ms + 0.1 * ms
        self.detected += 1
        dets = self.tracker.update(dets, frame.t)
        violations = evaluate(dets, w.config.rules)
        h, wd = frame.image.shape[:2]
        self.frame_size = (wd, h)
        gone = self._protection_gone(frame.image, dets)
        obs = observations(dets, violations, self.cfg.zones, w.config.zone_rules, (wd, h), gone)
        self.recent.append(frame.image)
        wall = datetime.fromtimestamp(frame.wall, UTC)
        events = self.lifecycle.observe(obs, frame.t, wall, (wd, h))
        out = []
        for ev in events:
            if ev.state is not EventState.END:
                img = annotate(
                    frame.image, dets, violations, blur_faces=w.config.evidence.blur_faces
                )
                uri = w.evidence.save_snapshot(ev.event_id, ev.seq, img)
                if ev.state is EventState.START:
                    w.evidence.save_clip(ev.event_id, list(self.recent), self.cfg.detect_fps)
                ev = ev.model_copy(update={"evidence_uri": uri, "evidence_missing": uri is None})
            w.publisher.send_event(ev)
            self.latency_ms.append((time.monotonic() - frame.t) * 1000)
            self.events += 1
            out.append(ev)
        return out

    def _protection_gone(self, image: Any, dets: Any) -> dict[str, float]:
        """Protected zones whose protection is missing now: zone id -> integrity score.

        By ``protection.mode``: the commissioned reference view, a protection detector
        (a model with guardrail/safety_net classes), or both agreeing."""
        check = self.worker.config.protection
        h, w = image.shape[:2]
        occluders = dets.xyxy[np.isin(dets.class_id, self._occluder_ids)]
        out = {}
        near = None  # the live edge map, shared by every zone of this camera
        for zone in (z for z in self.cfg.zones if z.protected):
            ref = self.protection.get(zone.id)
            if ref is not None and near is None:
                near = ref.live_structure(image)
            score = ref.score(image, occluders, near) if ref is not None else None
            by_reference = None if score is None else score < check.min_score
            by_detector = (
                (not protection_seen(dets, zone.polygon, w, h))
                if self._detects_protection
                else None
            )
            verdicts = [v for v in (by_reference, by_detector) if v is not None]
            gone = {"reference": by_reference, "detector": by_detector}.get(
                check.mode,
                bool(verdicts) and all(verdicts),  # both: missing when all agree
            )
            if gone:
                out[zone.id] = score if score is not None else 0.0
        return out

    def rates(self) -> tuple[float, float]:
        """Frames per second read and analysed since the previous call."""
        now = time.monotonic()
        t, read, done = self._rate_mark
        self._rate_mark = (now, self.reader.frames_read, self.detected)
        dt = max(now - t, 1e-9)
        return (self.reader.frames_read - read) / dt, (self.detected - done) / dt

    def stats(self) -> dict[str, Any]:
        r = self.reader
        lat = sorted(self.latency_ms)
        return {
            "camera_id": self.cfg.id,
            "state": r.state.value,
            "frames_in": r.frames_read,
            "frames_detected": self.detected,
            "frames_dropped": r.frames_dropped,
            "motion_skipped": self.motion.skipped,
            "reconnects": r.reconnects,
            "inference_ms": round(self.inference_ms, 1),
            "events": self.events,
            "open_hazards": self.lifecycle.open_hazards,
            "latency_p50_ms": round(lat[len(lat) // 2], 1) if lat else None,
            "latency_p95_ms": round(lat[int(len(lat) * 0.95)], 1) if lat else None,
        }


class EdgeWorker:
    def __init__(self, config: EdgeConfig, detector: OnnxDetector | None = None) -> None:
        from siteguard.defaults import resolve_model

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
        payload = {
            "camera_id": camera_id,
            "state": state.value,
            "detail": detail,
            "at": datetime.now(UTC).isoformat(),
        }
        self.publisher.send_status(camera_id, json.dumps(payload, ensure_ascii=False))

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
                    stats = dict(
                        cam.stats(),
                        fps_in=round(fps_in, 2),
                        fps_detected=round(fps_detected, 2),
                        outbox_depth=self.outbox.depth(),
                        at=datetime.now(UTC).isoformat(),
                    )
                    self.publisher.send_stats(cam.cfg.id, json.dumps(stats))
                self.evidence.enforce_retention()
            except Exception:  # the heartbeat must outlive any one failure
                log.exception("stats heartbeat failed")

    def health(self) -> dict[str, Any]:
        return {
            "site_id": self.config.site_id,
            "mqtt_connected": self.publisher.connected.is_set(),
            "outbox_depth": self.outbox.depth(),
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


def _handler(worker: EdgeWorker) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self.reply(200, worker.metrics_text().encode(), "text/plain; version=0.0.4")
            elif self.path == "/healthz":
                self.reply(200, json.dumps(worker.health()).encode(), "application/json")
            elif self.path.startswith("/evidence/"):
                path = worker.evidence.resolve(self.path.removeprefix("/evidence/"))
                if path is None:
                    self.reply(404, b'{"error": "no such evidence"}', "application/json")
                else:
                    kind = "image/jpeg" if path.suffix == ".jpg" else "video/mp4"
                    self.reply(200, path.read_bytes(), kind)
            else:
                self.reply(404, b'{"error": "not found"}', "application/json")

    return Handler


def _zone_names(zones: list[Zone]) -> str:
    return ", ".join(z.id + (" (protected)" if z.protected else "") for z in zones) or "none"
