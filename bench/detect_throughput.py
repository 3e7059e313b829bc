"""Detection throughput on this machine, three ways, interleaved in one run on one model:

1. bare `InferenceSession.run` on pre-made input blobs (the ceiling);
2. the SiteGuard pipeline from JPEG bytes: decode + letterbox + run + decode/NMS + unletterbox;
3. ultralytics' own `YOLO(model.onnx).predict` from the same JPEG files (when installed).

Rounds alternate the three so machine noise hits all of them alike; the median round is
reported. Usage: python bench/detect_throughput.py [--model M] [--images DIR] [--n 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from siteguard.demo.sample import sample_video_path
from siteguard.models.registry import default_model_path
from siteguard.models.training import ultralytics_offline
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.letterbox import preprocess


def sample_images(folder: Path | None, n: int, tmp: Path) -> list[Path]:
    if folder:
        files = sorted(p for p in folder.rglob("*.jpg"))[:n]
        if files:
            return files
    cap = cv2.VideoCapture(str(sample_video_path()))
    out = []
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    for i in range(n):
        cap.set(cv2.CAP_PROP_POS_FRAMES, i * total // n)
        ok, frame = cap.read()
        if ok:
            p = tmp / f"f{i:03d}.jpg"
            cv2.imwrite(str(p), frame)
            out.append(p)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument(
        "--images",
        type=Path,
        default=None,
        help="folder of JPEGs (default: frames of the sample clip)",
    )
    ap.add_argument("--n", type=int, default=40, help="images per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--pt",
        type=Path,
        default=None,
        help="the model's ultralytics .pt: also time ultralytics predict on PyTorch",
    )
    ap.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="a second model (e.g. the INT8 variant): its pipeline runs interleaved too",
    )
    args = ap.parse_args()
    model = args.model or default_model_path()
    tmp = Path(tempfile.mkdtemp())
    images = sample_images(args.images, args.n, tmp)
    jpegs = [p.read_bytes() for p in images]
    det = OnnxDetector(model, provider="cpu")
    det.warmup()
    frames = [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR) for b in jpegs]
    blobs = [preprocess([f], det.input_size)[0] for f in frames]

    def bare() -> None:
        for b in blobs:
            det.run_raw(b)

    def pipeline() -> None:
        for b in jpegs:
            det.detect([cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)])

    runners = {"bare session.run": bare, "siteguard pipeline": pipeline}
    if args.compare:
        other = OnnxDetector(args.compare, provider="cpu")
        other.warmup()

        def pipeline_other() -> None:
            for b in jpegs:
                other.detect([cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)])

        runners[f"pipeline {other.card.precision} variant"] = pipeline_other
    try:
        ultralytics_offline()
        from ultralytics import YOLO

        yolo = YOLO(str(det.onnx_path), task="detect")
        paths = [str(p) for p in images]
        imgsz = det.input_size[0]
        conf = det.card.thresholds.conf
        yolo.predict(paths[0], imgsz=imgsz, conf=conf, verbose=False, device="cpu")

        def ultra() -> None:
            for p in paths:
                yolo.predict(p, imgsz=imgsz, conf=conf, verbose=False, device="cpu")

        runners["ultralytics predict"] = ultra  # the same ONNX file, through ultralytics
        if args.pt:
            torch_yolo = YOLO(str(args.pt), task="detect")
            torch_yolo.predict(paths[0], imgsz=imgsz, conf=conf, verbose=False, device="cpu")

            def ultra_torch() -> None:
                for p in paths:
                    torch_yolo.predict(p, imgsz=imgsz, conf=conf, verbose=False, device="cpu")

            runners["ultralytics .pt (torch)"] = ultra_torch
    except ImportError:
        print("ultralytics not installed: its column is skipped (run under the training env)")

    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(args.rounds):
        for name, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    fps = {k: len(images) / statistics.median(v) for k, v in times.items()}
    print(
        f"model {det.card.name} {det.card.version} ({det.card.precision}), input "
        f"{det.input_size[0]}x{det.input_size[1]}, {len(images)} images x {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    )
    for k, v in fps.items():
        print(f"  {k:22} {v:7.2f} img/s  ({1000 / v:6.1f} ms/img)")
    pipe = fps["siteguard pipeline"]
    for k in fps:
        if k.startswith("pipeline ") and k.endswith(" variant"):
            name = k.removeprefix("pipeline ")
            print(f"  {name} / model    {fps[k] / pipe:.3f}  (INT8 target >= 1.4)")
    print(f"  pipeline / bare        {pipe / fps['bare session.run']:.3f}  (target >= 0.85)")
    if "ultralytics .pt (torch)" in fps:
        ratio = pipe / fps["ultralytics .pt (torch)"]
        print(f"  pipeline / ultralytics .pt   {ratio:.3f}  (target >= 1.5)")
    if "ultralytics predict" in fps:
        ratio = pipe / fps["ultralytics predict"]
        print(
            f"  pipeline / ultralytics onnx  {ratio:.3f}  (the same ONNX file through ultralytics)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
