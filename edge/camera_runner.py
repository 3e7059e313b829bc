"""One camera's analysis: its stream's frames -> detector -> tracker -> rules and zones ->
hazard lifecycle -> evidence -> the worker's publisher. One reader thread and one analysis
thread per camera; the detector is the worker's, shared."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import cv2
import numpy as np

from siteguard.contract.camera import CameraState
from siteguard.contract.events import EventState, HazardEvent
from siteguard.contract.zones import Zone
from siteguard.edge.camera import CameraConfig, CameraReader, Frame, MotionGate
from siteguard.edge.config import EdgeConfig
from siteguard.edge.evidence_store import EvidenceStore
from siteguard.edge.lifecycle import HazardLifecycle
from siteguard.edge.main_stream import PICTURE_EVERY_S, ClipJob, MainStream, PictureJob
from siteguard.edge.publisher import Publisher
from siteguard.edge.rules import observations
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.evidence import annotate, encode_jpeg, scaled, scaled_detections
from siteguard.pipeline.privacy import detect_with_candidates, obscure_faces, small_faces
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

log = logging.getLogger(__name__)


class Worker(Protocol):
    """What a camera's analysis needs of the edge worker that runs it."""

    config: EdgeConfig
    detector: OnnxDetector
    detector_lock: threading.Lock
    evidence: EvidenceStore
    publisher: Publisher

    def camera_state_changed(self, camera_id: str, state: CameraState, detail: str) -> None: ...


class CameraRunner:
    """One camera's analysis loop."""

    def __init__(self, cfg: CameraConfig, worker: Worker) -> None:
        self.cfg = cfg
        self.worker = worker
        self.reader = CameraReader(cfg, on_state=worker.camera_state_changed)
        self.main = (
            MainStream(cfg, worker.config.evidence.clip_seconds + 4.0, worker.evidence)
            if cfg.substream_url is not None
            else None
        )
        self._main_picture_t = -1e9
        self._clip_writer = ThreadPoolExecutor(1, thread_name_prefix=f"evid-clip-{cfg.id}")
        self._clip_lock = threading.Lock()
        self._clip_batch: list[str] | None = None  # starts the clip being written serves
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
        self.inference_cpu_s = 0.0  # this thread's CPU inside the detector (benchmarks)
        self.latency_ms: deque[float] = deque(maxlen=200)  # capture -> into the outbox
        self.frame_size = (1, 1)
        # the latest analysed frame, its boxes and privacy candidates
        self._last_view: tuple[Any, Any, Any] | None = None
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
        if self.main is not None:
            self.main.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.reader.stop()
        if self.main is not None:
            self.main.stop()
        self._clip_writer.shutdown(wait=True)  # clips being written are finished
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
        with w.detector_lock:
            t0, c0 = time.perf_counter(), time.thread_time()
            if w.config.evidence.blur_faces:  # people seen below the thresholds: pixelated
                sighted = detect_with_candidates(
                    self.detector, [frame.image], w.config.evidence.privacy.min_score
                )
                dets, candidates = sighted[0]
            else:
                dets, candidates = self.detector.detect([frame.image])[0], None
            self.inference_cpu_s += time.thread_time() - c0
        ms = (time.perf_counter() - t0) * 1000
        self.inference_ms = ms if not self.detected else 0.9 * self.inference_ms + 0.1 * ms
        self.detected += 1
        dets = self.tracker.update(dets, frame.t)
        violations = evaluate(dets, w.config.rules)
        h, wd = frame.image.shape[:2]
        self.frame_size = (wd, h)
        gone = self._protection_gone(frame.image, dets)
        obs = observations(dets, violations, self.cfg.zones, w.config.zone_rules, (wd, h), gone)
        # the clip's frame, its faces pixelated only if a clip is written (`_clip_images`)
        self.recent.append((self._clip_frame(frame.image), wd, dets, candidates))
        self._last_view = (frame.image, dets, candidates)
        wall = datetime.fromtimestamp(frame.wall, UTC)
        events = self.lifecycle.observe(obs, frame.t, wall, (wd, h))
        out = []
        for ev in events:
            if ev.state is not EventState.END:
                uri = self._evidence(ev, frame, dets, violations, candidates)
                ev = ev.model_copy(update={"evidence_uri": uri, "evidence_missing": uri is None})
            w.publisher.send_event(ev)
            self.latency_ms.append((time.monotonic() - frame.t) * 1000)
            self.events += 1
            out.append(ev)
        return out

    def _evidence(
        self, ev: HazardEvent, frame: Frame, dets: Any, violations: Any, candidates: Any = None
    ) -> str | None:
        """The event message's picture (and the start's clip): from the main stream when
        the camera has a substream and the main stream can give it, else from the analysed
        frame. Returns the picture's URI (None: not stored)."""
        store, cfg = self.worker.evidence, self.worker.config.evidence
        blur, lang = cfg.blur_faces, cfg.labels

        @functools.cache
        def seen() -> Any:
            """The privacy candidates with, once, what a search on tiles adds: the far
            people and heads the whole frame shrinks to a few pixels (stored pictures
            only). Done where the picture is made: on the main stream's evidence thread
            for a substream camera, else here."""
            if candidates is None or cfg.privacy.still_tiles < 2:
                return candidates
            small = small_faces(
                self.detector,
                frame.image,
                cfg.privacy.still_tiles,
                cfg.privacy.min_score,
                lock=self.worker.detector_lock,  # a tile at a time: others go between
            )
            return Detections.concat([candidates, small])

        def kept(image: Any) -> dict[str, Any]:
            return self._evidence_kept(image, ev.zones)

        def analysed() -> Any:  # the picture from the analysed frame itself
            return annotate(
                frame.image,
                dets,
                violations,
                blur,
                candidates=seen(),
                lang=lang,
                **kept(frame.image),
            )

        start = ev.state is EventState.START
        main, now = self.main, time.monotonic()
        if main is not None and (start or now - self._main_picture_t >= PICTURE_EVERY_S):
            h, w = frame.image.shape[:2]

            def render(image: Any, sx: float, sy: float) -> Any:
                faces = seen()
                faces = None if faces is None else scaled_detections(faces, sx, sy)
                d, v = scaled(dets, violations, sx, sy)
                return annotate(image, d, v, blur, candidates=faces, lang=lang, **kept(image))

            picture = PictureJob(
                ev.event_id,
                ev.seq,
                frame.t,
                (w, h),
                render,
                analysed,
            )
            if main.submit(picture):
                self._main_picture_t = now
                # a clip of the camera's own packets shows faces as they are: only when
                # privacy is off, or the site chose it (evidence.clip_from_main_stream);
                # otherwise, or when the main stream declines it, the analysed frames'
                if start and not (
                    (candidates is None or cfg.clip_from_main_stream)
                    and main.submit(self._main_clip(ev, frame))
                ):
                    self._write_clip(ev.event_id, ev.zones)
                return store.picture_uri(ev.event_id, ev.seq)
        uri = store.save_snapshot(ev.event_id, ev.seq, analysed())
        if start:
            self._write_clip(ev.event_id, ev.zones)
        return uri

    def _main_clip(self, ev: HazardEvent, frame: Frame) -> ClipJob:
        """The start's clip from the main stream's ring, the analysed frames its fallback."""
        recent = list(self.recent)
        return ClipJob(
            ev.event_id,
            frame.t,
            self.worker.config.evidence.clip_seconds,
            lambda: self._clip_images(recent, ev.zones),
            self.cfg.detect_fps,
        )

    def _write_clip(self, event_id: str, zone_ids: Sequence[str] = ()) -> None:
        """Encode the start's clip off the analysis thread (about a second at 1080p). One
        clip at a time per camera: a start while one waits or is being written (two
        hazards seen on one frame) gets a copy of it, as the frames before it are the same;
        an unbounded queue of 1080p frames would fill the memory."""
        with self._clip_lock:
            if self._clip_batch is not None:
                self._clip_batch.append(event_id)
                return
            batch = self._clip_batch = [event_id]
        self._clip_writer.submit(self._encode_clip, batch, list(self.recent), list(zone_ids))

    def _evidence_kept(self, image: Any, zone_ids: Sequence[str] = ()) -> dict[str, Any]:
        """`annotate`'s privacy arguments for a stored picture of ``image``'s size: the
        scene outside the evidence is coarsened (`PrivacyConfig.scene_blocks`), the zones
        the hazard is about (``zone_ids``: a missing guardrail's, the edge a worker stands
        at) kept sharp with the detections, as their polygons."""
        h, w = image.shape[:2]
        polygons = [
            np.array(z.polygon, np.float32) * np.array([w, h], np.float32)
            for z in self.cfg.zones
            if z.id in zone_ids
        ]
        return {
            "scene_blocks": self.worker.config.evidence.privacy.scene_blocks,
            "evidence_polygons": polygons,
        }

    def _clip_images(
        self, recent: list[tuple[Any, int, Any, Any]], zone_ids: Sequence[str] = ()
    ) -> list[Any]:
        """The ring's frames as the clip stores them: faces pixelated and the scene
        outside the evidence coarsened (clips are stored evidence too) when privacy
        candidates were kept. Done here, off the analysis thread and only for frames a
        clip is written from, not for every analysed frame."""
        out = []
        for image, width, dets, candidates in recent:
            if candidates is not None:
                s = image.shape[1] / width
                image = obscure_faces(
                    image.copy(),
                    scaled_detections(dets, s, s),
                    scaled_detections(candidates, s, s),
                    **self._evidence_kept(image, zone_ids),
                )
            out.append(image)
        return out

    def _encode_clip(self, batch: list[str], recent: list[Any], zone_ids: list[str]) -> None:
        store = self.worker.evidence
        frames = self._clip_images(recent, zone_ids)
        uri = store.save_clip(batch[0], frames, self.cfg.detect_fps)
        with self._clip_lock:
            others, self._clip_batch = batch[1:], None
        for event_id in others:
            if uri is not None:
                store.copy_clip(batch[0], event_id)

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

    def _clip_frame(self, image: Any) -> Any:
        """The frame as the clip keeps it: at most evidence.clip_max_width wide."""
        h, w = image.shape[:2]
        limit = self.worker.config.evidence.clip_max_width
        if w <= limit:
            return image
        size = (limit, max(2, round(h * limit / w)))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    def snapshot_jpeg(self) -> bytes | None:
        """The latest analysed frame as a JPEG, unannotated (faces pixelated when
        ``evidence.blur_faces``): the view zones are drawn on. None before the first frame."""
        view = self._last_view
        if view is None:
            return None
        image, dets, candidates = view
        evidence = self.worker.config.evidence
        if evidence.blur_faces:
            image = obscure_faces(image.copy(), dets, candidates)
        return encode_jpeg(image, evidence.jpeg_quality)

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
