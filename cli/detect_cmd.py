"""`siteguard detect`: run the detector and the single-image rules over images and videos."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

import cv2

from siteguard.models.registry import resolve_model
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.evidence import annotate
from siteguard.pipeline.labels import LABEL_LANGS
from siteguard.pipeline.model_card import ModelCardError
from siteguard.pipeline.privacy import PrivacyConfig, detect_with_candidates, small_faces
from siteguard.pipeline.rules import RuleConfig, Violation, evaluate
from siteguard.pipeline.sources import VideoFrame, count_frames, iter_frames
from siteguard.pipeline.tiling import MAX_GRID, TILES_HELP, with_tiles
from siteguard.progress import Progress


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "detect",
        help="detect hard hats, bare heads, people and vests in images, folders or videos",
        description="Run the ONNX detector and the no-helmet rule on each image or video frame. "
        "With --json, prints one JSON object per image/frame: source, width, height, "
        "detections [{label, score, box}] and violations [{type, level, box, reason}], boxes "
        "in source pixels. Exits 1 if any input could not be read (the others still run).",
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="image, folder of images, or video file"
    )
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="ONNX model (its .card.json beside it); default: the shipped default model",
    )
    p.add_argument(
        "--conf",
        type=float,
        default=None,
        help="score threshold for what is reported "
        "(default: the model card's operating thresholds)",
    )
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a summary")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write annotated images (and annotated videos) to this folder",
    )
    p.add_argument(
        "--every",
        type=int,
        default=1,
        metavar="N",
        help="video: detect on every Nth frame (default 1)",
    )
    add_tiles_argument(p, " (default 1)")
    p.add_argument("--no-blur", action="store_true", help="do not pixelate faces in written images")
    p.add_argument(
        "--labels",
        choices=LABEL_LANGS,
        default="zh",
        help="language of the box labels in written images (default zh: 人员, 安全帽...)",
    )
    p.add_argument(
        "--provider",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="onnxruntime provider (default: CUDA when present, else CPU)",
    )
    p.set_defaults(func=run)


def add_tiles_argument(p: argparse.ArgumentParser, note: str) -> None:
    """`--tiles N` as `detect` and `evaluate` take it."""
    p.add_argument(
        "--tiles",
        type=int,
        default=1,
        choices=range(1, MAX_GRID + 1),
        metavar="N",
        help=TILES_HELP + note,
    )


def frame_record(
    frame: VideoFrame, dets: Detections, violations: list[Violation]
) -> dict[str, object]:
    assert frame.image is not None
    h, w = frame.image.shape[:2]
    rec: dict[str, object] = {"source": frame.source, "width": w, "height": h}
    if frame.frame_id is not None:
        rec["frame"] = frame.frame_id
    rec["detections"] = dets.to_records()
    rec["violations"] = [
        {k: v for k, v in viol.to_record().items() if k != "score"} for viol in violations
    ]
    return rec


class AnnotatedWriter:
    """Writes annotated stills as JPEG and video frames into one MP4 per video."""

    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self._videos: dict[str, cv2.VideoWriter] = {}
        self._used: dict[str, str] = {}  # source -> output file name

    def _name(self, source: str, suffix: str) -> str:
        """The input's file name; ``name-2``, ``name-3``... when two inputs share one."""
        stem = Path(source).stem
        name, n = stem + suffix, 1
        while name in self._used.values() and self._used.get(source) != name:
            n += 1
            name = f"{stem}-{n}{suffix}"
        self._used[source] = name
        return name

    def write(self, frame: VideoFrame, image: cv2.typing.MatLike) -> None:
        if frame.frame_id is None:
            cv2.imwrite(str(self.out / self._name(frame.source, ".jpg")), image)
            return
        writer = self._videos.get(frame.source)
        if writer is None:
            h, w = image.shape[:2]
            path = self.out / self._name(frame.source, ".annotated.mp4")
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (w, h))
            self._videos[frame.source] = writer
        writer.write(image)

    def close(self) -> None:
        for w in self._videos.values():
            w.release()


def run(
    args: argparse.Namespace, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if args.conf is not None and not 0 <= args.conf <= 1:
        print("error: --conf must be between 0 and 1", file=stderr)
        return 2
    if args.every < 1:
        print("error: --every must be >= 1", file=stderr)
        return 2
    try:
        detector = with_tiles(
            OnnxDetector(resolve_model(args.model), provider=args.provider), args.tiles
        )
    except (ModelCardError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: cannot load the model: {exc}", file=stderr)
        return 2
    writer = AnnotatedWriter(args.out) if args.out else None
    rules = RuleConfig()
    progress = Progress(sum(count_frames(p) // args.every for p in args.paths), "detect")
    failures = 0
    totals: Counter[str] = Counter()
    frames_done = 0
    for path in args.paths:
        for frame in iter_frames(path, every=args.every):
            progress()
            if frame.image is None:
                failures += 1
                print(f"error: {frame.error}", file=stderr)
                continue
            if writer and not args.no_blur:  # faces seen below the thresholds are pixelated
                sighted = detect_with_candidates(detector, [frame.image], conf=args.conf)
                dets, candidates = sighted[0]
                if frame.frame_id is None:  # a picture, as stored evidence: small ones too
                    small = small_faces(detector, frame.image, PrivacyConfig().still_tiles)
                    candidates = Detections.concat([candidates, small])
            else:
                dets, candidates = detector.detect([frame.image], conf=args.conf)[0], None
            violations = evaluate(dets, rules)
            frames_done += 1
            if args.json:
                stdout.write(
                    json.dumps(frame_record(frame, dets, violations), ensure_ascii=False) + "\n"
                )
            else:
                totals.update(dets.labels())
                totals.update(v.type for v in violations)
                if frame.frame_id is None or violations:
                    stdout.write(_summary_line(frame, dets, violations) + "\n")
            if writer:
                picture = annotate(
                    frame.image,
                    dets,
                    violations,
                    blur_faces=not args.no_blur,
                    candidates=candidates,
                    lang=args.labels,
                    scene_blocks=PrivacyConfig().scene_blocks,
                )
                writer.write(frame, picture)
    progress.close()
    if writer:
        writer.close()
    if not args.json:
        found = ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "nothing"
        stdout.write(
            f"{frames_done} image(s)/frame(s) with {detector.card.name} "
            f"{detector.card.version}: {found}"
            + (f"; {failures} unreadable" if failures else "")
            + "\n"
        )
        if writer:
            stdout.write(f"annotated output in {args.out}\n")
    return 1 if failures else 0


def _summary_line(frame: VideoFrame, dets: Detections, violations: list[Violation]) -> str:
    where = frame.source + (f" @ frame {frame.frame_id}" if frame.frame_id is not None else "")
    counts = Counter(dets.labels())
    found = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no detections"
    line = f"{where}: {found}"
    if violations:
        line += f" | {len(violations)} violation(s): " + "; ".join(
            f"{v.type} [{v.level.value}] at {[round(c) for c in v.box]}" for v in violations
        )
    return line
