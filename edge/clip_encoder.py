"""Evidence clips a browser plays: H.264 (libx264, yuv420p) in MP4 with the index first.

OpenCV's ``mp4v`` writer makes MPEG-4 Part 2, which Chromium, Firefox and Safari refuse.
H.264 High profile in yuv420p with the ``moov`` atom ahead of the media (``+faststart``)
plays in every browser as soon as the index arrives, without HTTP range requests.

Settings, for a few seconds of analysed frames at the detect rate (2 fps by default):

* ``crf`` 23 (x264's default): the annotated JPEG is the sharp still; the clip shows what
  happened. At 2 fps almost every frame is new content, so lower CRFs mostly add bytes.
* ``preset`` veryfast: the edge box's two cores belong to the detector; a 16-frame 1080p
  clip encodes in well under a second and is about 10 % larger than with ``medium``.
* no B-frames, a keyframe every 2 s: presentation order is decode order (plain timestamps,
  every player's happy path) and a browser can seek in a clip that is only 16 frames long.
* odd widths/heights are padded to even (yuv420p needs it) by repeating the last row or
  column, so no evidence pixel is cropped away.

The file is written under a hidden temporary name beside the target and renamed at the
end, so a half-written clip is never served.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace

log = logging.getLogger(__name__)

CRF = 23
PRESET = "veryfast"
KEYFRAME_INTERVAL_S = 2.0
BT709 = 1  # the ITU-T H.273 code of BT.709 for matrix, primaries and transfer


class ClipEncodeError(OSError):
    """The clip could not be encoded or written (an OSError: storage-like trouble)."""


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size a yuv420p frame of ``width`` x ``height`` is padded to."""
    return width + width % 2, height + height % 2


def _bgr_even(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A 3-channel BGR frame with even sides (the last row/column repeated if odd)."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    h, w = image.shape[:2]
    if w % 2 or h % 2:
        image = cv2.copyMakeBorder(image, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(image, dtype=np.uint8)


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the exact rational rate the stream is tagged with (29.97002997 -> 30000/1001)."""
    if not fps > 0:
        raise ValueError(f"frame rate must be positive, not {fps!r}")
    return Fraction(fps).limit_denominator(1001)


def write_h264(
    path: Path,
    frames: Sequence[npt.NDArray[np.uint8]],
    fps: float,
    *,
    crf: int = CRF,
    preset: str = PRESET,
) -> None:
    """Write ``frames`` (BGR uint8, the first frame's size; frames of another size are left
    out) as an H.264 MP4 at ``path``, atomically. Raises ValueError for no frames or a
    non-positive rate, ClipEncodeError (an OSError) when encoding or writing fails."""
    if not frames:
        raise ValueError("no frames to write")
    rate = frame_rate(fps)
    h, w = frames[0].shape[:2]
    width, height = even_size(w, h)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    skipped = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream(
                "libx264",
                rate=rate,
                # one thread: clips are written off the analysis thread, and x264's default
                # of 1.5 threads per core would take the detector's cores in bursts
                options={"crf": str(crf), "preset": preset, "threads": "1"},
            )
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            stream.codec_tag = "avc1"
            ctx = stream.codec_context
            ctx.time_base = 1 / rate
            ctx.gop_size = max(1, round(float(rate) * KEYFRAME_INTERVAL_S))
            ctx.max_b_frames = 0
            # BT.709, limited range, converted so and tagged so (players assume nothing)
            ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709
            ctx.color_range = ColorRange.MPEG.value
            pts = 0
            for image in frames:
                if image.shape[:2] != (h, w):
                    skipped += 1
                    continue
                frame = av.VideoFrame.from_ndarray(_bgr_even(image), format="bgr24")
                frame = frame.reformat(
                    format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range="MPEG"
                )
                frame.pts, frame.time_base, frame.duration = pts, ctx.time_base, 1
                pts += 1
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        tmp.replace(path)
    except av.FFmpegError as exc:
        raise ClipEncodeError(f"clip not encoded: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    if skipped:
        log.info("clip %s: %d frames of another size than %dx%d left out", path, skipped, w, h)
