"""A camera's main stream, kept for evidence while the analysis reads its substream.

The convention of NVRs (Frigate's ``detect`` / ``record`` roles): detection on the cheap
low-resolution substream, evidence from the full-resolution main stream. The main stream is
open all the time but **demuxed, not decoded** (measured: 0.8 % of a core for a 1080p25
4.6 Mbit/s stream, against about a quarter of a core to decode it): the last
``keep_s`` seconds of compressed packets are kept in a ring that always starts at a
keyframe. Only evidence decodes:

* a picture for an event: the packets from the keyframe before the analysed frame's
  capture time up to the main-stream frame nearest that time are decoded (on average half
  a GOP), and the analysis' boxes are scaled onto it;
* the start's clip: the ring's packets for the ``clip_seconds`` before the start are
  copied into an MP4 as they are (H.264: no decoding, no encoding, full frame rate) or,
  for H.265 (which Chromium does not play), decoded at a few frames a second and encoded
  as H.264.

Evidence work runs on this stream's own thread, so the event is published at once; the
picture's file appears there a moment later (the API fetches evidence when someone looks).
When the main stream is down, or the evidence queue is full, the caller falls back to the
substream picture: evidence is never lost for want of the main stream.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from siteguard.edge.camera import CameraConfig, redact
from siteguard.edge.clip_encoder import write_h264
from siteguard.edge.decoder import READ_TIMEOUT_S
from siteguard.edge.evidence_store import EvidenceStore

log = logging.getLogger(__name__)
Image = npt.NDArray[np.uint8]
PICTURE_EVERY_S = 5.0  # a hazard's later pictures from the main stream at most this often
PICTURE_WAIT_S = 1.0  # how long a picture waits for the main stream to reach its time
CLIP_FPS_REENCODED = 5.0  # H.265 main streams: the clip's rate when it is re-encoded
QUEUE_MAX = 4  # evidence jobs waiting; beyond, the caller uses the substream picture


@dataclass(frozen=True)
class _Packet:
    t: float  # monotonic arrival time
    pts: int
    dts: int
    key: bool
    data: bytes


@dataclass(frozen=True)
class PictureJob:
    event_id: str
    seq: int
    t: float  # the analysed frame's capture time (monotonic)
    analysed_size: tuple[int, int]  # the substream frame's (width, height): boxes scale from it
    render: Callable[[Image, float, float], Image]  # (main image, sx, sy) -> annotated
    fallback: Callable[[], Image]  # the substream picture, when the main stream fails


@dataclass(frozen=True)
class ClipJob:
    event_id: str
    t: float
    seconds: float
    fallback: Callable[[], list[Image]]
    fallback_fps: float


class MainStream:
    """Keeps one main stream's recent packets and turns them into evidence on request."""

    def __init__(self, camera: CameraConfig, keep_s: float, store: EvidenceStore) -> None:
        self.camera = camera
        self.keep_s = max(keep_s, 2.0)
        self.store = store
        self.safe_url = camera.safe_url
        self.online = False
        self.detail = "not opened yet"
        self.codec = ""
        self.size: tuple[int, int] | None = None
        self.pictures = 0  # evidence pictures made from the main stream
        self.clips = 0
        self.fallbacks = 0  # jobs that ended with the substream's evidence
        self.decoded_frames = 0
        self.picture_cpu_s = 0.0  # CPU spent on pictures and clips (benchmarks)
        self.clip_cpu_s = 0.0
        self._ring: deque[_Packet] = deque()
        self._template: Any = None  # the current session's video stream (codec parameters)
        self._retired: list[Any] = []  # ended sessions' containers, closed between jobs
        self._decoder: list[Any] | None = None  # [gop id, last pts decoded, context, frame]
        self._lock = threading.Lock()
        self._jobs: queue.Queue[PictureJob | ClipJob] = queue.Queue(QUEUE_MAX)
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._run, name=f"main-{camera.id}", daemon=True)
        self._worker = threading.Thread(target=self._work, name=f"evid-{camera.id}", daemon=True)

    def start(self) -> None:
        self._reader.start()
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._reader.join(timeout=10)
        self._worker.join(timeout=10)
        if not self._worker.is_alive():
            self._close_retired()

    # -- the stream ---------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self._session()
            except Exception as exc:  # never let the thread die: report and retry
                log.exception("camera %s: main stream failed", self.camera.id)
                self.detail = f"reader error: {type(exc).__name__}"
            self._set_online(False, self.detail)
            if time.monotonic() - began > 6:
                backoff = 1.0
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self.camera.max_backoff_s)

    def _session(self) -> None:
        url = self.camera.url.get_secret_value()
        rtsp = url.lower().startswith(("rtsp://", "rtsps://"))
        try:
            container = av.open(
                url,
                options={"rtsp_transport": "tcp"} if rtsp else {},
                timeout=(self.camera.open_timeout_s, READ_TIMEOUT_S),
            )
        except (av.error.FFmpegError, OSError) as exc:
            self.detail = f"cannot open {self.safe_url}: {redact(str(exc))[:200]}"
            return
        try:
            if not container.streams.video:
                self.detail = f"{self.safe_url} has no video"
                return
            stream = container.streams.video[0]
            ctx = stream.codec_context
            with self._lock:
                self._ring.clear()
                self._template = stream
                self.codec = ctx.name
                self.size = (ctx.width, ctx.height)
            self._pump(container, stream, pace=not rtsp)
        finally:
            self._retire(container)

    def _retire(self, container: Any) -> None:
        """A session's container outlives the session until no evidence job can still be
        using its stream (freeing it under a job crashes FFmpeg): the evidence thread
        closes it between jobs."""
        with self._lock:
            self._ring.clear()
            self._template = None
            self._retired.append(container)

    def _close_retired(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, []
        if retired:
            self._decoder = None  # it decoded an ended session's packets
        for container in retired:
            try:
                container.close()
            except Exception:  # closing a broken stream must not raise
                log.debug("closing a main stream failed", exc_info=True)

    def _pump(self, container: Any, stream: Any, pace: bool) -> None:
        tb = float(stream.time_base)
        started = time.monotonic()
        first_pts: int | None = None
        for packet in container.demux(stream):
            if self._stop.is_set():
                return
            if packet.size == 0:  # the end of a file
                self.detail = f"stream {self.safe_url} ended"
                return
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None:
                continue  # a packet without a time cannot be placed (RTSP's very first)
            if first_pts is None:
                first_pts = pts
            if pace:  # a file plays at its own rate, like a camera
                self._stop.wait(max(0.0, started + (pts - first_pts) * tb - time.monotonic()))
            now = time.monotonic()
            item = _Packet(
                now,
                pts,
                packet.dts if packet.dts is not None else pts,
                bool(packet.is_keyframe),
                bytes(packet),
            )
            with self._lock:
                if not self._ring and not item.key:
                    continue  # the ring always starts at a keyframe
                self._ring.append(item)
                self._trim(now)
            if not self.online:
                self._set_online(
                    True,
                    f"receiving {self.size[0]}x{self.size[1]} {self.codec}"
                    if self.size
                    else "receiving",
                )
        self.detail = f"stream {self.safe_url} stopped"

    def _trim(self, now: float) -> None:
        """Drop whole GOPs older than keep_s, so the ring still starts at a keyframe."""
        ring = self._ring
        while True:
            second_key = next((i for i, p in enumerate(ring) if p.key and i > 0), None)
            if second_key is None or ring[second_key].t > now - self.keep_s:
                return
            for _ in range(second_key):
                ring.popleft()

    def _set_online(self, online: bool, detail: str) -> None:
        if online != self.online:
            self.online = online
            log.info(
                "camera %s main stream %s: %s",
                self.camera.id,
                "online" if online else "offline",
                detail,
            )
        self.detail = detail

    # -- evidence -----------------------------------------------------------------------

    def submit(self, job: PictureJob | ClipJob) -> bool:
        """Queue evidence work; False (do it from the substream now) when the main stream
        is down or the queue is full."""
        if not self.online:
            return False
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            return False
        return True

    def _work(self) -> None:
        while not self._stop.is_set():
            self._close_retired()
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            c0 = time.thread_time()
            try:
                done = self._picture(job) if isinstance(job, PictureJob) else self._clip(job)
            except Exception:
                log.exception("camera %s: evidence from the main stream failed", self.camera.id)
                done = False
            spent = time.thread_time() - c0
            if isinstance(job, PictureJob):
                self.picture_cpu_s += spent
            else:
                self.clip_cpu_s += spent
            if not done:
                self.fallbacks += 1
                if isinstance(job, PictureJob):
                    self.store.save_snapshot(job.event_id, job.seq, job.fallback())
                else:
                    self.store.save_clip(job.event_id, job.fallback(), job.fallback_fps)

    def _snapshot_ring(self, until: float, wait_s: float) -> tuple[list[_Packet], Any]:
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                ring, template = list(self._ring), self._template
            if (ring and ring[-1].t >= until) or time.monotonic() >= deadline:
                return ring, template
            if self._stop.wait(0.02):
                return ring, template

    def _picture(self, job: PictureJob) -> bool:
        ring, template = self._snapshot_ring(job.t, PICTURE_WAIT_S)
        if not ring or template is None or ring[0].t > job.t + 0.5:
            return False
        target = min(range(len(ring)), key=lambda i: abs(ring[i].t - job.t))
        start = max(i for i in range(target + 1) if ring[i].key)
        image = self._decode(template, ring[start : target + 1])
        if image is None:
            return False
        sub_w, sub_h = job.analysed_size
        sx, sy = image.shape[1] / sub_w, image.shape[0] / sub_h
        self.store.save_snapshot(job.event_id, job.seq, job.render(image, sx, sy))
        self.pictures += 1
        return True

    def _decode(self, template: Any, packets: list[_Packet]) -> Image | None:
        """The last frame of ``packets`` (which start at a keyframe). The decoder is kept
        between pictures: a later picture in the same GOP (an update, a second hazard seen
        on the same frame) decodes only the packets after the previous one's."""
        gop = (id(template), packets[0].pts)
        last_pts = packets[-1].pts
        state = self._decoder
        if state is None or state[0] != gop or state[1] > last_pts:
            ctx = av.CodecContext.create(template.codec_context.name, "r")
            ctx.extradata = template.codec_context.extradata
            ctx.thread_count = 1
            state = self._decoder = [gop, -(2**62), ctx, None]
        _, done_pts, ctx, frame = state
        for p in packets:
            if p.pts <= done_pts:
                continue
            for decoded in ctx.decode(self._packet(p, template)):
                frame = decoded
                self.decoded_frames += 1
        if frame is None or (frame.pts is not None and frame.pts < last_pts):
            # the decoder holds frames back (reordering): flush for this one, start afresh next
            for decoded in ctx.decode(None):
                frame = decoded
                self.decoded_frames += 1
            self._decoder = None
        else:
            state[1], state[3] = last_pts, frame
        return None if frame is None else frame.to_ndarray(format="bgr24")

    @staticmethod
    def _packet(p: _Packet, template: Any, base: int = 0) -> Any:
        out = av.Packet(p.data)
        out.pts, out.dts = p.pts - base, p.dts - base
        out.time_base = template.time_base
        out.is_keyframe = p.key
        return out

    def _clip(self, job: ClipJob) -> bool:
        ring, template = self._snapshot_ring(job.t, PICTURE_WAIT_S)
        if not ring or template is None:
            return False
        keys = [i for i, p in enumerate(ring) if p.key and p.t <= job.t - job.seconds]
        start = keys[-1] if keys else 0
        packets = [p for p in ring[start:] if p.t <= job.t]
        if len(packets) < 2:
            return False
        path = self.store.clip_path(job.event_id)
        if template.codec_context.name == "h264":
            self._remux(path, template, packets)
        else:
            self._reencode(path, template, packets)
        self.clips += 1
        return True

    def _remux(self, path: Any, template: Any, packets: list[_Packet]) -> None:
        """The packets as they came, in an MP4 with its index first (browser-playable)."""
        tmp = path.with_name(f".{path.name}.main.tmp")
        base = packets[0].dts
        out = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            stream = out.add_stream_from_template(template)
            last_dts = None
            for p in packets:
                if last_dts is not None and p.dts - base <= last_dts:
                    continue  # a repeated or out-of-order time would stop the muxer
                packet = self._packet(p, template, base)
                packet.stream = stream
                out.mux(packet)
                last_dts = p.dts - base
        finally:
            out.close()
        tmp.replace(path)

    def _reencode(self, path: Any, template: Any, packets: list[_Packet]) -> None:
        """A codec browsers do not play (H.265): decoded, sampled, encoded as H.264."""
        ctx = av.CodecContext.create(template.codec_context.name, "r")
        ctx.extradata = template.codec_context.extradata
        ctx.thread_count = 1
        frames: list[Image] = []
        step = 1.0 / CLIP_FPS_REENCODED
        next_t = -1e9
        for p in [*packets, None]:
            for frame in ctx.decode(self._packet(p, template) if p else None):
                self.decoded_frames += 1
                t = float(frame.pts * template.time_base) if frame.pts is not None else next_t
                if t >= next_t:
                    frames.append(frame.to_ndarray(format="bgr24"))
                    next_t = t + step
        if not frames:
            raise OSError("no frame of the main stream decodes")
        write_h264(path, frames, CLIP_FPS_REENCODED)
