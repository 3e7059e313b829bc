"""Camera-like test and bench streams made from a clip with PyAV: a fixed size, rate and
GOP, H.264 or H.265, no B-frames (as IP cameras stream), yuv420p, the index first.

    python -m siteguard.demo.streams SRC DST --size 1920x1080 --codec h264 --gop 50

Frames are scaled to cover the size and centre-cropped (no stretching, no bars), resampled
to the rate (repeated or dropped by timestamp), and the source is looped when
``--seconds`` asks for more than it holds. ``scripts/rtsp_server.py`` serves the result
(H.264 or H.265 by the file's own sample entry).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
import numpy.typing as npt

from siteguard.progress import Progress

Codec = Literal["h264", "h265"]
# codec -> (encoder, MP4 sample entry: hvc1 is what Apple players and qtdemux expect)
ENCODERS: dict[str, tuple[str, str]] = {"h264": ("libx264", "avc1"), "h265": ("libx265", "hvc1")}
DEFAULT_CRF = {"h264": 23, "h265": 28}  # each encoder's own default quality


class StreamError(Exception):
    """The source cannot be read or the stream cannot be written (a clear message)."""


@dataclass(frozen=True)
class StreamInfo:
    path: Path
    width: int
    height: int
    fps: int
    codec: str
    frames: int
    seconds: float
    bytes: int


def parse_size(text: str) -> tuple[int, int]:
    """``1920x1080`` -> (1920, 1080): both even (yuv420p), at least 16."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise ValueError(f"size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    width, height = int(w), int(h)
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"size {text!r}: width and height must be even and at least 16")
    return width, height


def cover(image: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """Scale to cover width x height keeping the aspect ratio, then centre-crop."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (sw, sh), interpolation=interp)
    x, y = (sw - width) // 2, (sh - height) // 2
    return np.ascontiguousarray(scaled[y : y + height, x : x + width])


def _source_frames(src: Path) -> Iterator[tuple[float, npt.NDArray[np.uint8]]]:
    """(seconds from the start, BGR frame) of the source's video, in order."""
    try:
        container = av.open(str(src))
    except (av.FFmpegError, OSError) as exc:
        raise StreamError(f"{src}: cannot be opened as a video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise StreamError(f"{src}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first: float | None = None
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else 0.0
                first = t if first is None else first
                yield t - first, np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
        except av.FFmpegError as exc:
            raise StreamError(f"{src}: decoding failed: {exc}") from exc


def source_seconds(src: Path) -> float:
    """The source's duration (container, else stream, else by decoding)."""
    try:
        with av.open(str(src)) as c:
            if c.duration:
                return c.duration / av.time_base
            s = c.streams.video[0] if c.streams.video else None
            if s is not None and s.duration and s.time_base:
                return float(s.duration * s.time_base)
    except (av.FFmpegError, OSError) as exc:
        raise StreamError(f"{src}: cannot be opened as a video: {exc}") from exc
    return max((t for t, _ in _source_frames(src)), default=0.0)


def _resampled(src: Path, fps: int, total: int, loop_s: float) -> Iterator[npt.NDArray[np.uint8]]:
    """``total`` frames at ``fps``: at each output time the latest source frame at or before
    it (repeats when the source is slower, drops when faster), the source looped."""
    n, offset = 0, 0.0
    while n < total:
        held: npt.NDArray[np.uint8] | None = None
        got = False
        for t, image in _source_frames(src):
            got = True
            while n < total and n / fps < offset + t:
                if held is not None:  # the previous source frame is the one on screen
                    yield held
                    n += 1
                else:
                    break
            held = image
            if n >= total:
                return
        if not got:
            raise StreamError(f"{src}: no frame decodes")
        while n < total and n / fps < offset + loop_s and held is not None:
            yield held
            n += 1
        offset += loop_s


def _encoder_options(codec: str, gop: int, crf: int, preset: str) -> dict[str, str]:
    fixed_gop = f"keyint={gop}:min-keyint={gop}:scenecut=0"
    if codec == "h264":
        return {"crf": str(crf), "preset": preset, "x264-params": f"{fixed_gop}:bframes=0"}
    return {
        "crf": str(crf),
        "preset": preset,
        "x265-params": f"{fixed_gop}:bframes=0:open-gop=0:repeat-headers=1:log-level=error",
    }


def make_camera_clip(
    src: Path,
    dst: Path,
    size: tuple[int, int],
    fps: int = 25,
    codec: Codec = "h264",
    gop: int = 50,
    seconds: float | None = None,
    crf: int | None = None,
    preset: str = "veryfast",
    progress: Callable[[int], None] | None = None,
) -> StreamInfo:
    """Write a camera-like MP4 of ``src`` at ``dst`` (see the module docstring): ``seconds``
    defaults to the source's length (longer: the source loops). Raises ValueError for bad
    settings, StreamError for an unreadable source or an unwritable stream."""
    if codec not in ENCODERS:
        raise ValueError(f"codec {codec!r}: expected one of {', '.join(ENCODERS)}")
    width, height = size
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise ValueError(f"size {width}x{height}: width and height must be even and >= 16")
    if not 1 <= fps <= 120 or not 1 <= gop <= 1000:
        raise ValueError(f"fps {fps} (1..120) or gop {gop} (1..1000) out of range")
    if not src.is_file():
        raise StreamError(f"{src}: no such file")
    loop_s = source_seconds(src)
    if loop_s <= 0:
        raise StreamError(f"{src}: has no duration")
    total = max(1, round((seconds if seconds is not None else loop_s) * fps))
    encoder, tag = ENCODERS[codec]
    options = _encoder_options(codec, gop, DEFAULT_CRF[codec] if crf is None else crf, preset)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    written = 0
    try:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream: Any = out.add_stream(encoder, rate=Fraction(fps), options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_tag = tag
            stream.codec_context.gop_size = gop
            stream.codec_context.max_b_frames = 0
            stream.codec_context.time_base = Fraction(1, fps)
            for image in _resampled(src, fps, total, loop_s):
                frame = av.VideoFrame.from_ndarray(cover(image, width, height), format="bgr24")
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base, frame.duration = written, Fraction(1, fps), 1
                out.mux(stream.encode(frame))
                written += 1
                if progress:
                    progress(1)
            out.mux(stream.encode(None))
        tmp.replace(dst)
    except av.FFmpegError as exc:
        raise StreamError(f"{dst}: the {codec} stream could not be written: {exc}") from exc
    except OSError as exc:
        raise StreamError(f"{dst}: cannot be written: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return StreamInfo(dst, width, height, fps, codec, written, written / fps, dst.stat().st_size)


def cached_camera_clip(
    src: Path, folder: Path, size: tuple[int, int], codec: Codec, gop: int, seconds: float
) -> Path:
    """`make_camera_clip` once per (source, size, codec, GOP, length), kept in `folder`
    (the benchmarks' bench/.streams/)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{src.stem}-{size[0]}x{size[1]}-{codec}-gop{gop}-{seconds:.0f}s.mp4"
    if not path.exists():
        print(f"making {path.name} (once; cached in {folder})", flush=True)
        make_camera_clip(src, path, size, codec=codec, gop=gop, seconds=seconds)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m siteguard.demo.streams",
        description="Make a camera-like MP4 (fixed GOP, no B-frames, yuv420p, faststart) "
        "from a clip, for RTSP tests and benchmarks.",
    )
    ap.add_argument("src", type=Path, help="source video (e.g. cli/data/sample-site.mp4)")
    ap.add_argument("dst", type=Path, help="MP4 to write")
    ap.add_argument("--size", required=True, help="WIDTHxHEIGHT, e.g. 1920x1080 or 640x360")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--codec", choices=sorted(ENCODERS), default="h264")
    ap.add_argument("--gop", type=int, default=50, help="keyframe interval in frames")
    ap.add_argument("--seconds", type=float, help="length (default: the source's; loops)")
    ap.add_argument("--crf", type=int, help="quality (default: 23 for h264, 28 for h265)")
    ap.add_argument("--preset", default="veryfast", help="x264/x265 preset")
    args = ap.parse_args(argv)
    try:
        size = parse_size(args.size)
        seconds = args.seconds
        if seconds is not None and seconds <= 0:
            raise ValueError("--seconds must be positive")
        total = round((seconds or source_seconds(args.src)) * args.fps) if args.src.is_file() else 0
        bar = Progress(total, f"{args.dst.name}", min_total=1)
        try:
            info = make_camera_clip(
                args.src,
                args.dst,
                size,
                fps=args.fps,
                codec=args.codec,
                gop=args.gop,
                seconds=seconds,
                crf=args.crf,
                preset=args.preset,
                progress=bar,
            )
        finally:
            bar.close()
    except (ValueError, StreamError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {info.path}: {info.width}x{info.height} {info.codec} {info.fps} fps, "
        f"GOP {args.gop}, {info.frames} frames, {info.seconds:.1f} s, "
        f"{info.bytes / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
