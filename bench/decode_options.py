"""The per-camera decoder options (`cameras[].decode`), measured side by side in one run:
decode CPU per frame and per camera at 25 fps, and their effect on what the detector finds.

For each camera-like stream (made from the bundled clip by siteguard.demo.streams, cached
in bench/.streams/): every frame is decoded through the edge's own AvCapture with the
option, single-threaded, and the frames at the analysed rate (2 fps) are converted and
run through the detector. Accuracy effect = agreement with the default decode on the same
frames: the share of default detections matched by class at IoU >= 0.5 (recall) and of
the option's detections matched back (precision). ``keyframes_only`` is measured on a
GOP-12 stream (a keyframe every 0.48 s: the most a 2 fps analysis allows); it decodes only
keyframes, so its frames are compared with the default decode's nearest frames.

    python bench/decode_options.py [--model M] [--seconds 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from siteguard.demo.sample import sample_video_path
from siteguard.demo.streams import cached_camera_clip
from siteguard.edge.decoder import AvCapture, DecodeConfig
from siteguard.pipeline.detections import Detections, box_iou
from siteguard.pipeline.detector import OnnxDetector

STREAMS = Path(__file__).resolve().parent / ".streams"
OPTIONS = {
    "default": DecodeConfig(),
    "skip_loop_filter": DecodeConfig(skip_loop_filter=True),
    "keyframes_only": DecodeConfig(keyframes_only=True),
}


def decode(path: Path, option: DecodeConfig, every: int) -> tuple[float, int, dict[int, Any]]:
    """CPU ms per decoded frame, frames decoded, {frame index: BGR} for every ``every``-th
    frame by presentation index (keyframes_only: the keyframes it gives)."""
    cap = AvCapture(str(path), option, 10, rtsp=False)
    assert cap.isOpened(), cap.error
    fps = cap.get(3 + 2)  # CAP_PROP_FPS
    frames: dict[int, Any] = {}
    n = 0
    c0 = time.process_time()
    conv = 0.0
    while cap.grab():
        idx = round((cap.frame_time or 0.0) * fps)
        if option.keyframes_only or idx % every == 0:
            t = time.process_time()
            _, img = cap.retrieve()
            conv += time.process_time() - t
            frames[idx] = img
        n += 1
    cpu = time.process_time() - c0 - conv  # conversion is the same for every option
    cap.release()
    return 1000 * cpu / max(n, 1), n, frames


def agreement(a: Detections, b: Detections) -> tuple[int, int, int]:
    """(matched, len(a), len(b)) greedy by IoU >= 0.5 within each class."""
    matched = 0
    for cls in set(a.class_id.tolist()) | set(b.class_id.tolist()):
        aa, bb = a.xyxy[a.class_id == cls], b.xyxy[b.class_id == cls]
        if not len(aa) or not len(bb):
            continue
        iou = box_iou(aa, bb)
        while iou.size and iou.max() >= 0.5:
            i, j = np.unravel_index(iou.argmax(), iou.shape)
            matched += 1
            iou[i, :] = 0
            iou[:, j] = 0
    return matched, len(a), len(b)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    det = OnnxDetector(args.model or default_model(), provider="cpu")
    print(f"model {det.card.name}, 1 decoder thread, frames compared at 2 fps")
    print(
        f"{'stream':<22} {'option':<17} {'ms/frame':>8} {'% core @25fps':>13} "
        f"{'vs default':>10} {'recall':>6} {'precision':>9} {'dets':>5}"
    )
    cases = [
        ((1920, 1080), "h264", 50),
        ((2560, 1440), "h265", 50),
        ((1920, 1080), "h264", 12),
    ]
    for size, codec, gop in cases:
        path = cached_camera_clip(sample_video_path(), STREAMS, size, codec, gop, args.seconds)  # type: ignore[arg-type]
        name = f"{size[0]}x{size[1]} {codec} gop{gop}"
        base_ms, _, base_frames = decode(path, OPTIONS["default"], 12)
        base_dets = {i: det.detect([f])[0] for i, f in base_frames.items()}
        names = ["default", "skip_loop_filter"] + (["keyframes_only"] if gop <= 12 else [])
        for opt in names:
            if opt == "default":
                ms, dets = base_ms, base_dets
            else:
                ms, _, frames = decode(path, OPTIONS[opt], 12)
                dets = {i: det.detect([f])[0] for i, f in frames.items()}
                if opt == "keyframes_only":  # the default decode of the same frames
                    ref = {i: det.detect([f])[0] for i, f in decode_at(path, dets).items()}
                else:
                    ref = base_dets
            if opt == "default":
                rec = prec = 1.0
                total = sum(len(d) for d in dets.values())
            else:
                m = la = lb = 0
                for i, d in dets.items():
                    if i in ref:
                        mm, a, b = agreement(ref[i], d)
                        m, la, lb = m + mm, la + a, lb + b
                rec, prec, total = m / max(la, 1), m / max(lb, 1), lb
            # a keyframes-only decoder decodes 25/gop frames a second, not 25
            per_s = (25 / gop if opt == "keyframes_only" else 25) * ms
            print(
                f"{name:<22} {opt:<17} {ms:8.2f} {per_s / 10:13.1f} "
                f"{per_s / (25 * base_ms):10.2f} {rec:6.3f} {prec:9.3f} {total:5d}",
                flush=True,
            )
    return 0


def decode_at(path: Path, wanted: dict[int, Any]) -> dict[int, Any]:
    """The default decode's frames at the given indices."""
    cap = AvCapture(str(path), DecodeConfig(), 10, rtsp=False)
    fps = cap.get(5)
    out: dict[int, Any] = {}
    while cap.grab():
        idx = round((cap.frame_time or 0.0) * fps)
        if idx in wanted:
            out[idx] = cap.retrieve()[1]
    cap.release()
    return out


def default_model() -> Path:
    from siteguard.models.registry import default_model_path

    return default_model_path()


if __name__ == "__main__":
    raise SystemExit(main())
