"""Camera streams: a reader thread per camera that always holds a fresh frame.

* RTSP (over TCP) or a video file, decoded by PyAV (edge/decoder.py; OpenCV's FFmpeg
  backend on request). A camera with a substream is analysed on the substream; its main
  stream is only opened for evidence (edge/main_stream.py).
* Decode only what is analysed: every frame is grabbed (demuxed and decoded: the decoder
  needs them), but only the frames the analysis will take are converted to BGR, about one
  per ``1/detect_fps``. A frame converted and then replaced before the analysis took it
  counts as dropped, so a slow detector never builds a backlog.
* Watchdog: a stream that errors, stalls (FFmpeg's 5 s socket timeout) or ends is reopened
  with exponential backoff; each online/offline change is reported through a callback.
* Credentials in URLs never reach a log line or a status message (`redact`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from siteguard.contract.camera import CameraState
from siteguard.contract.zones import Zone
from siteguard.edge.decoder import AvCapture, DecodeConfig
from siteguard.pipeline.tiling import MAX_GRID, TILES_HELP

log = logging.getLogger(__name__)
# FFmpeg options for every capture this process opens: RTSP over TCP, 5 s socket timeout.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp|stimeout;5000000")


def redact(url: str) -> str:
    """``rtsp://user:pass@host/x`` -> ``rtsp://***@host/x``; anything else unchanged."""
    return re.sub(r"(?<=://)[^/@\s]*@", "***@", url)


class MotionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    pixel_delta: int = Field(
        18, ge=1, le=255, description="Grey-level change that counts as motion"
    )
    min_changed: float = Field(0.002, ge=0, le=1, description="Share of pixels that must change")
    full_check_s: float = Field(5.0, gt=0, description="Detect at least this often, motion or not")


class CameraConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    url: SecretStr = Field(
        description="The main stream: rtsp://user:pass@host:554/path or a video file path"
    )
    substream_url: SecretStr | None = Field(
        None,
        description="A low-resolution substream of the same camera (e.g. 640x360): the "
        "analysis reads it, and the main stream is opened only for evidence at full "
        "resolution. Zones are normalised, so they apply to both",
    )
    decode: DecodeConfig = Field(default_factory=DecodeConfig)
    detect_fps: float = Field(2.0, gt=0, le=30, description="How often to run the detector")
    loop: bool = Field(False, description="Files: start again at the end (demos, soak tests)")
    realtime: bool = Field(True, description="Files: read at the clip's own frame rate")
    max_backoff_s: float = Field(30.0, gt=0)
    open_timeout_s: float = Field(
        10.0,
        gt=0,
        le=60,
        description="Give up opening the stream after this long (FFmpeg's own default is "
        "30 s). With decode.backend opencv, OpenCV opens one stream at a time per process, "
        "so a camera that answers slowly delays the other cameras' opens by up to this much",
    )
    zones: list[Zone] = Field(default_factory=list)
    reference_image: Path | None = Field(
        None, description="Commissioned reference view (`siteguard commission`) for protected zones"
    )
    motion: MotionConfig = Field(default_factory=MotionConfig)
    tiles: int = Field(1, ge=1, le=MAX_GRID, description=TILES_HELP.capitalize())

    @property
    def safe_url(self) -> str:
        return redact(self.url.get_secret_value())

    @property
    def analysed_url(self) -> SecretStr:
        """The stream the analysis reads: the substream when there is one."""
        return self.substream_url or self.url


STEADY_SESSION_S = 6.0  # a stream that ran this long and ended is reopened without an offline


@dataclass(frozen=True)
class Frame:
    image: npt.NDArray[np.uint8]
    index: int  # frames read from this camera since start
    t: float  # monotonic capture time
    wall: float  # time.time() at capture


class CameraReader:
    """Reads one stream on its own thread; `latest()` returns the newest unseen frame.

    ``take_every_s``: how often the consumer takes a frame (1/detect_fps): a grabbed frame
    is converted to BGR only when the consumer has taken the last one and is due for the
    next within a fifth of that period, or when the held one is two periods old."""

    def __init__(
        self,
        config: CameraConfig,
        on_state: Callable[[str, CameraState, str], None] | None = None,
        open_capture: Callable[[str], Any] | None = None,
        url: SecretStr | None = None,
        take_every_s: float | None = None,
    ) -> None:
        self.config = config
        self.url = url or config.analysed_url
        self.safe_url = redact(self.url.get_secret_value())
        self.take_every_s = take_every_s if take_every_s is not None else 1.0 / config.detect_fps
        self.state = CameraState.CONNECTING
        self.frames_read = 0  # grabbed (demuxed and decoded)
        self.frames_converted = 0  # of those, converted to BGR for the analysis
        self.frames_dropped = 0  # converted, then replaced before the analysis took them
        self.reconnects = 0
        self.codec = ""
        self.frame_size: tuple[int, int] | None = None
        self._on_state = on_state
        self._open = open_capture or self._capture
        self._converted_t = -1e9
        self._taken_t = -1e9
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._taken = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera-{config.id}", daemon=True)

    def _capture(self, url: str) -> Any:
        cfg = self.config
        if cfg.decode.backend == "pyav":
            return AvCapture(url, cfg.decode, cfg.open_timeout_s, rtsp=not self.is_file)
        timeout_ms = int(cfg.open_timeout_s * 1000)
        return cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def latest(self) -> Frame | None:
        """The newest frame not yet taken, or None."""
        with self._lock:
            if self._taken or self._latest is None:
                return None
            self._taken = True
            self._taken_t = time.monotonic()
            return self._latest

    def _set_state(self, state: CameraState, detail: str) -> None:
        if state is not self.state:
            self.state = state
            log.info("camera %s %s: %s", self.config.id, state.value, detail)
            if self._on_state:
                self._on_state(self.config.id, state, detail)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                if self._session():
                    backoff = 1.0
                    continue
            except Exception as exc:  # never let the reader thread die: report and retry
                log.exception("camera %s: reader failed", self.config.id)
                self._set_state(CameraState.OFFLINE, f"reader error: {type(exc).__name__}")
            self.reconnects += 1
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self.config.max_backoff_s)

    def _session(self) -> bool:
        """Open the stream and read it; True when a looping file should restart at once."""
        cap = self._open(self.url.get_secret_value())
        if not cap.isOpened():
            why = redact(getattr(cap, "error", ""))
            cap.release()
            if getattr(cap, "unsupported", False):
                self._set_state(CameraState.OFFLINE, f"unsupported stream {self.safe_url}: {why}")
                self.reconnects += 1
                self._stop.wait(self.config.max_backoff_s)  # retrying soon cannot help
                return False
            self._set_state(
                CameraState.OFFLINE, f"cannot open {self.safe_url}" + (f": {why}" if why else "")
            )
            return False
        self.codec = getattr(cap, "codec", "")
        began = time.monotonic()
        delivered = self._read(cap)
        cap.release()
        lasted = time.monotonic() - began
        if self._stop.is_set():
            return False
        if delivered and self.is_file and self.config.loop:
            return True
        if delivered and not self.is_file and lasted >= STEADY_SESSION_S:
            # a stream that had been delivering for a while and ended (a server looping its
            # clip, a brief network drop) is reopened at once; only if that fails is the
            # camera offline, so a hiccup does not flap the status. A stream that keeps
            # ending after a few seconds is reported offline like any failure.
            self.reconnects += 1
            return True
        self._set_state(CameraState.OFFLINE, f"stream {self.safe_url} stopped")
        return False

    @property
    def is_file(self) -> bool:
        return not self.safe_url.lower().startswith(("rtsp://", "rtsps://", "http"))

    def _read(self, cap: cv2.VideoCapture) -> bool:
        """Read until the stream fails or ends; True when it gave frames before that.

        A stalled RTSP stream makes ``read`` fail after FFmpeg's socket timeout, which
        ends this loop and lets the watchdog reconnect.
        """
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        pace = self.is_file and self.config.realtime
        got = 0
        began = time.monotonic()
        every = self.take_every_s
        stream_t0 = 0.0
        while not self._stop.is_set():
            if not cap.grab():
                return got > 0
            # the frame's place in the stream: its timestamp (PyAV), else its number
            stream_t = getattr(cap, "frame_time", None)
            stream_t = got / fps if stream_t is None else stream_t
            if got == 0:
                stream_t0 = stream_t
            got += 1
            self.frames_read += 1
            if got == 4 and self.config.decode.keyframes_only:
                self._check_keyframe_rate((stream_t - stream_t0) / 3)
            if pace:  # a file plays at its own rate, like a camera
                self._stop.wait(max(0.0, began + stream_t - stream_t0 - time.monotonic()))
            now = time.monotonic()
            due = self._taken and now - self._taken_t >= 0.8 * every
            if due or now - self._converted_t >= 2 * every:  # 2x: a consumer held up
                ok, image = cap.retrieve()
                if not ok or image is None:
                    return got > 1
                self._converted_t = now
                self.frames_converted += 1
                self._deliver(image, now)
        return False

    def _check_keyframe_rate(self, interval_s: float) -> None:
        if interval_s > 1.2 / self.config.detect_fps:
            log.warning(
                "camera %s: keyframes only gives a frame every %.1f s, but detect_fps %.1f "
                "asks for one every %.1f s: shorten the camera's keyframe interval (GOP) or "
                "turn keyframes_only off",
                self.config.id,
                interval_s,
                self.config.detect_fps,
                1 / self.config.detect_fps,
            )

    def _deliver(self, image: npt.NDArray[np.uint8], now: float) -> None:
        if self.state is not CameraState.ONLINE:
            codec = f" {self.codec}" if self.codec else ""
            self._set_state(
                CameraState.ONLINE, f"receiving {image.shape[1]}x{image.shape[0]}{codec}"
            )
        self.frame_size = (image.shape[1], image.shape[0])
        with self._lock:
            if not self._taken:
                self.frames_dropped += 1
            self._latest = Frame(image, self.frames_read - 1, now, time.time())
            self._taken = False


class MotionGate:
    """Skip detection on static scenes, with a periodic full check for still violators."""

    def __init__(self, config: MotionConfig) -> None:
        self.config = config
        self._ref: npt.NDArray[np.uint8] | None = None
        self._last_full = -1e9
        self.skipped = 0

    def should_detect(self, image: npt.NDArray[np.uint8], t: float) -> bool:
        small = cv2.cvtColor(
            cv2.resize(image, (96, 54), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        small = cv2.GaussianBlur(small, (3, 3), 0)
        cfg = self.config
        moved = True
        if self._ref is not None and self._ref.shape == small.shape:
            changed = np.count_nonzero(cv2.absdiff(small, self._ref) > cfg.pixel_delta)
            moved = changed / small.size >= cfg.min_changed
        due = t - self._last_full >= cfg.full_check_s
        if not cfg.enabled or moved or due:
            self._ref = small  # compare with the last frame that was analysed
            self._last_full = t
            return True
        self.skipped += 1
        return False
