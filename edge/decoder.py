"""Decoding a camera stream with PyAV (FFmpeg): the camera readers' default backend.

Why not OpenCV's own capture (still selectable, ``decode.backend: opencv``):
* Decoder options per camera: OpenCV's FFmpeg backend passes no codec options, so the
  cheap ones (skip the deblocking loop filter, decode keyframes only) are out of reach.
* Opens are bounded and parallel: PyAV releases the GIL and takes an open/read timeout,
  where OpenCV's backend opens one stream at a time per process.
* Decode only what is analysed: `grab()` demuxes and decodes (a decoder needs every
  reference frame); the conversion to BGR, about 15-25 % of the cost at 1080p, happens
  only in `retrieve()` for the frames the analysis takes.
* A codec the build cannot decode is named (`UnsupportedCodec`), not a black camera.

`AvCapture` has the shape of ``cv2.VideoCapture`` (isOpened / grab / retrieve / read /
get(CAP_PROP_FPS) / release), so the reader treats both backends alike.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Literal

import av
import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)
CORRUPT_IN_A_ROW = 50  # undecodable packets in a row before the stream counts as broken
READ_TIMEOUT_S = 5.0  # no packet for this long: the stream is stalled (reconnect)


class DecodeConfig(BaseModel):
    """How a camera's stream is decoded. Cost and accuracy effect: docs/edge.md."""

    model_config = ConfigDict(extra="forbid")
    backend: Literal["pyav", "opencv"] = Field(
        "pyav", description="pyav (decoder options, bounded parallel opens) or opencv"
    )
    skip_loop_filter: bool = Field(
        False,
        description="Skip H.264/H.265 deblocking: about a fifth less decode CPU, slightly "
        "blockier frames (pyav only)",
    )
    keyframes_only: bool = Field(
        False,
        description="Decode keyframes only: a fraction of the decode CPU, but the analysis "
        "then sees one frame per GOP, so only for cameras whose keyframe interval is at "
        "most 1/detect_fps (pyav only)",
    )
    threads: int = Field(1, ge=1, le=8, description="Decoder threads per camera")


class UnsupportedCodec(RuntimeError):
    """The stream's codec has no decoder in this build."""


def decoder_available(codec_name: str) -> bool:
    try:
        av.codec.Codec(codec_name, "r")
    except Exception:
        return False
    return True


class AvCapture:
    """One stream opened with PyAV, shaped like ``cv2.VideoCapture``."""

    def __init__(self, url: str, decode: DecodeConfig, open_timeout_s: float, rtsp: bool) -> None:
        self.error = ""
        self.codec = ""
        self.corrupt_packets = 0
        self._frame: Any = None
        self._pending: deque[Any] = deque()
        self._container: Any = None
        options = {"rtsp_transport": "tcp"} if rtsp else {}
        try:
            self._container = av.open(
                url, options=options, timeout=(open_timeout_s, READ_TIMEOUT_S)
            )
            if not self._container.streams.video:
                raise ValueError("the stream has no video")
            self._stream = self._container.streams.video[0]
            self.codec = self._stream.codec_context.name
            if not decoder_available(self.codec):
                raise UnsupportedCodec(f"codec {self.codec!r} cannot be decoded by this build")
            ctx = self._stream.codec_context
            ctx.thread_count = decode.threads
            if decode.skip_loop_filter:
                ctx.options = {"skip_loop_filter": "all"}
            if decode.keyframes_only:
                ctx.skip_frame = "NONKEY"
            self._packets = self._container.demux(self._stream)
        except UnsupportedCodec as exc:
            self.error = str(exc)
            self.release()
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.error = _short(exc)
            self.release()

    @property
    def unsupported(self) -> bool:
        return "cannot be decoded" in self.error

    def isOpened(self) -> bool:  # the cv2.VideoCapture name
        return self._container is not None

    def get(self, prop: int) -> float:
        if self._container is None:
            return 0.0
        if prop == cv2.CAP_PROP_FPS:
            rate = self._stream.average_rate or self._stream.guessed_rate
            return float(rate) if rate else 0.0
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self._stream.codec_context.width)
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self._stream.codec_context.height)
        return 0.0

    def grab(self) -> bool:
        """Demux and decode the next frame (no colour conversion); False at the end."""
        if self._container is None:
            return False
        corrupt = 0
        while not self._pending:
            try:
                packet = next(self._packets)
            except StopIteration:
                return False
            except (av.error.FFmpegError, OSError) as exc:  # timeout, connection lost
                self.error = _short(exc)
                return False
            try:
                self._pending.extend(packet.decode())
            except av.error.InvalidDataError:
                # one damaged packet (packet loss, a camera glitch) is skipped, not fatal
                self.corrupt_packets += 1
                corrupt += 1
                if corrupt >= CORRUPT_IN_A_ROW:
                    self.error = f"{corrupt} undecodable packets in a row"
                    return False
            except av.error.FFmpegError as exc:
                self.error = _short(exc)
                return False
            if packet.size == 0 and not self._pending:  # the flush packet at the end
                return False
        self._frame = self._pending.popleft()
        return True

    @property
    def frame_time(self) -> float | None:
        """The grabbed frame's presentation time in seconds (None: not known)."""
        t = None if self._frame is None else self._frame.time
        return None if t is None else float(t)

    def retrieve(self) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        """The grabbed frame as BGR (the only colour conversion)."""
        if self._frame is None:
            return False, None
        image = self._frame.to_ndarray(format="bgr24")
        self._frame = None
        return True, image

    def read(self) -> tuple[bool, npt.NDArray[np.uint8] | None]:
        if not self.grab():
            return False, None
        return self.retrieve()

    def release(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # closing a broken stream must not raise
                log.debug("closing a stream failed", exc_info=True)
        self._container = None
        self._pending.clear()
        self._frame = None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
