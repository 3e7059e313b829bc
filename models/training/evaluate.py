"""`siteguard evaluate`: measure a shipped ONNX model through the real pipeline.

Per-class AP50 and AP50-95 (COCO-style 101-point interpolation) and image-level no-helmet
precision/recall at the operating thresholds, on a split of a dataset built by
`siteguard dataset build`, overall and per source; and where the errors are: each labelled
box found, found under another class, or missed, for small and larger boxes. numpy only:
no torch needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import yaml

from siteguard.pipeline.detections import Detections, box_iou
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.rules import RuleConfig, evaluate
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.tiling import AnyDetector, with_tiles

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
SMALL_PX = 16  # a labelled box this small (side, in model-input pixels) counts as small
FOUND_SCORE = 0.05  # the error breakdown counts predictions from this score up


@dataclass
class ClassScore:
    name: str
    gt: int
    ap50: float
    ap50_95: float


@dataclass
class ImageLevel:
    threshold: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


@dataclass
class ErrorRow:
    """Labelled boxes of one class and size (over all sources, or of one source at any
    size), against the predictions of score >= FOUND_SCORE: found (same class, IoU >= 0.5),
    found only as another class (IoU >= 0.5), drawn differently (a same-class box covers
    the labelled box's centre but overlaps it less: another labelling convention or loose
    localisation, which AP50 counts as a miss), or missed."""

    name: str
    size: str  # "small" (side < SMALL_PX at model input), "larger", or "any"
    gt: int = 0
    found: int = 0
    as_other: int = 0
    missed: int = 0
    box_differs: int = 0
    source: str = "all"


@dataclass
class EvalResult:
    model: str
    split: str
    images: int
    classes: list[ClassScore]
    no_helmet: ImageLevel
    per_source: dict[str, list[ClassScore]] = field(default_factory=dict)
    errors: list[ErrorRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["no_helmet"].update(
            precision=round(self.no_helmet.precision, 4), recall=round(self.no_helmet.recall, 4)
        )
        return d

    def table(self) -> str:
        lines = [
            f"{self.model} on {self.split} ({self.images} images)",
            f"{'class':10} {'source':26} {'gt':>6} {'AP50':>7} {'AP50-95':>8}",
        ]
        for scope, rows in [("all", self.classes), *sorted(self.per_source.items())]:
            for c in rows:
                lines.append(f"{c.name:10} {scope:26} {c.gt:>6} {c.ap50:7.3f} {c.ap50_95:8.3f}")
        nh = self.no_helmet
        lines.append(
            f"image-level no-helmet at {nh.threshold}: precision {nh.precision:.3f} "
            f"recall {nh.recall:.3f} (tp {nh.tp}, fp {nh.fp}, fn {nh.fn}, tn {nh.tn})"
        )
        if self.errors:
            lines.append(
                f"labelled boxes at IoU 0.5, predictions scored >= {FOUND_SCORE} "
                f"(small: side < {SMALL_PX} px at model input):"
            )
            lines.append(
                f"{'class':10} {'source':26} {'size':8} {'gt':>6} {'found':>6} "
                f"{'other class':>12} {'box differs':>12} {'missed':>7}"
            )
            for e in self.errors:
                lines.append(
                    f"{e.name:10} {e.source:26} {e.size:8} {e.gt:>6} {e.found:>6} "
                    f"{e.as_other:>12} {e.box_differs:>12} {e.missed:>7}"
                )
        return "\n".join(lines)


@dataclass
class _Match:
    scores: list[float] = field(default_factory=list)
    tp: list[np.ndarray] = field(default_factory=list)  # (len(IOU_THRESHOLDS),) bool per pred
    gt: int = 0


def match_image(pred: np.ndarray, score: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Greedy matching, best score first: (P, T) bool, true positive per IoU threshold."""
    tp = np.zeros((len(pred), len(IOU_THRESHOLDS)), bool)
    if not len(pred) or not len(gt):
        return tp
    iou = box_iou(pred, gt)
    order = np.argsort(-score, kind="stable")
    for t, thr in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(gt), bool)
        for p in order:
            cand = np.where(taken, -1.0, iou[p])
            g = int(cand.argmax())
            if cand[g] >= thr:
                taken[g] = True
                tp[p, t] = True
    return tp


def average_precision(scores: list[float], tp: list[np.ndarray], n_gt: int) -> np.ndarray:
    """AP per IoU threshold, 101-point interpolated precision envelope (COCO)."""
    if n_gt == 0:
        return np.full(len(IOU_THRESHOLDS), np.nan)
    if not scores:
        return np.zeros(len(IOU_THRESHOLDS))
    order = np.argsort(-np.asarray(scores), kind="stable")
    hits = np.asarray(tp)[order]
    ctp = np.cumsum(hits, axis=0)
    cfp = np.cumsum(~hits, axis=0)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1)
    envelope = np.maximum.accumulate(precision[::-1], axis=0)[::-1]
    points = np.linspace(0, 1, 101)
    ap = np.zeros(len(IOU_THRESHOLDS))
    for t in range(len(IOU_THRESHOLDS)):
        idx = np.searchsorted(recall[:, t], points, side="left")
        vals = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1), t], 0.0)
        ap[t] = vals.mean()
    return ap


def read_labels(label_file: Path, names: list[str], w: int, h: int) -> Detections:
    rows = (
        [line.split() for line in label_file.read_text().splitlines() if line.strip()]
        if label_file.exists()
        else []
    )
    if not rows:
        return Detections.empty()
    a = np.array(rows, np.float32)
    cx, cy, bw, bh = a[:, 1] * w, a[:, 2] * h, a[:, 3] * w, a[:, 4] * h
    tax = default_taxonomy()
    cls = np.array([tax.id_of(names[int(c)]) for c in a[:, 0]], np.int64)
    xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    return Detections(xyxy, np.ones(len(a), np.float32), cls)


class Prediction(NamedTuple):
    source: str
    pred: Detections  # score >= 0.001
    gt: Detections
    scale: float  # model-input pixels per image pixel (letterbox)


def predict_split(
    detector: AnyDetector,
    dataset: Path,
    split: str,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """The prediction and the ground truth for each image of a split."""
    data = yaml.safe_load((dataset / "data.yaml").read_text("utf-8"))
    names = data["names"]
    names = [names[k] for k in sorted(names)] if isinstance(names, dict) else list(names)
    images = sorted((dataset / "images" / split).glob("*.jpg"))[:limit]
    if not images:
        raise FileNotFoundError(f"{dataset}: no images in split {split!r}")
    out = []
    for path in images:
        img = cv2.imread(str(path))
        if img is None:
            raise ValueError(f"{path}: unreadable image in the evaluation split")
        label_file = dataset / "labels" / split / (path.stem + ".txt")
        gt = read_labels(label_file, names, img.shape[1], img.shape[0])
        pred = detector.detect([img], conf=0.001)[0]
        scale = min(s / d for s, d in zip(detector.input_size, img.shape[:2], strict=True))
        out.append(Prediction(path.stem.split("__")[0], pred, gt, scale))
        if progress:
            progress(1)
    return out


def _image_level(nh: ImageLevel, pred: Detections, gt: Detections, conf: dict[int, float]) -> None:
    """Count one image: does the rule fire at these thresholds, and is there a bare head?"""
    keep = pred.confidence >= np.array([conf.get(int(c), 1.0) for c in pred.class_id])
    has_violation = bool(evaluate(pred[keep], RuleConfig()))
    has_head = bool((gt.class_id == default_taxonomy().id_of("head")).any())
    nh.tp += has_violation and has_head
    nh.fp += has_violation and not has_head
    nh.fn += has_head and not has_violation
    nh.tn += not has_head and not has_violation


def operating_conf(detector: AnyDetector) -> dict[int, float]:
    tax = default_taxonomy()
    return {tax.id_of(c): detector.card.threshold_for(c) for c in detector.card.classes}


def no_helmet_sweep(
    detector: AnyDetector,
    predictions: list[Prediction],
    thresholds: np.ndarray | None = None,
) -> list[tuple[float, ImageLevel]]:
    """Image-level no-helmet precision/recall over a range of bare-head thresholds."""
    head_id = default_taxonomy().id_of("head")
    grid = thresholds if thresholds is not None else np.round(np.arange(0.05, 0.96, 0.05), 2)
    rows = []
    for t in grid:
        conf = {**operating_conf(detector), head_id: float(t)}
        nh = ImageLevel(f"head >= {t:.2f}", 0, 0, 0, 0)
        for p in predictions:
            _image_level(nh, p.pred, p.gt, conf)
        rows.append((float(t), nh))
    return rows


def evaluate_model(
    model_path: Path,
    dataset: Path,
    split: str = "test",
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    provider: str = "auto",
    tiles: int = 1,
) -> EvalResult:
    detector = with_tiles(OnnxDetector(model_path, provider=provider), tiles)  # type: ignore[arg-type]
    predictions = predict_split(detector, dataset, split, limit, progress)
    tax = default_taxonomy()
    present = {int(c) for p in predictions for c in p.gt.class_id}
    eval_ids = [tax.id_of(n) for n in detector.card.classes if tax.id_of(n) in present]
    matches: dict[tuple[str, int], _Match] = defaultdict(_Match)
    nh = ImageLevel("operating thresholds", 0, 0, 0, 0)
    op_conf = operating_conf(detector)
    for source, pred, gt, _ in predictions:
        for cid in eval_ids:
            p, g = pred[pred.class_id == cid], gt[gt.class_id == cid]
            tp = match_image(p.xyxy, p.confidence, g.xyxy)
            for scope in ("all", source):
                m = matches[(scope, cid)]
                m.scores.extend(p.confidence.tolist())
                m.tp.extend(tp)
                m.gt += len(g)
        _image_level(nh, pred, gt, op_conf)

    def scores(scope: str) -> list[ClassScore]:
        out = []
        for cid in eval_ids:
            m = matches[(scope, cid)]
            if m.gt == 0:
                continue
            ap = average_precision(m.scores, m.tp, m.gt)
            out.append(
                ClassScore(
                    tax.name_of(cid), m.gt, round(float(ap[0]), 4), round(float(ap.mean()), 4)
                )
            )
        return out

    sources = sorted({s for s, _ in matches} - {"all"})
    return EvalResult(
        model=f"{detector.card.name} {detector.card.version}"
        + (f" with {tiles}x{tiles} tiles" if tiles > 1 else ""),
        split=split,
        images=len(predictions),
        classes=scores("all"),
        no_helmet=nh,
        per_source={s: scores(s) for s in sources},
        errors=error_breakdown(predictions, eval_ids),
    )


def error_breakdown(predictions: list[Prediction], class_ids: list[int]) -> list[ErrorRow]:
    """Where the misses are (see `ErrorRow`): over all sources by size, then per source.
    A confusion is what a crop classifier could fix, a box drawn differently is a labelling
    question, a miss is a detector problem."""
    tax = default_taxonomy()
    rows: dict[tuple[str, int, str], ErrorRow] = {}

    def row(source: str, cid: int, size: str) -> ErrorRow:
        return rows.setdefault((source, cid, size), ErrorRow(tax.name_of(cid), size, source=source))

    for p in predictions:
        pred = p.pred[p.pred.confidence >= FOUND_SCORE]
        for cid in class_ids:
            gt = p.gt[p.gt.class_id == cid]
            if not len(gt):
                continue
            iou = box_iou(gt.xyxy, pred.xyxy) if len(pred) else np.zeros((len(gt), 0))
            same = pred.class_id == cid
            centre = (gt.xyxy[:, :2] + gt.xyxy[:, 2:]) / 2
            covers = (
                (pred.xyxy[None, :, :2] <= centre[:, None])
                & (centre[:, None] <= pred.xyxy[None, :, 2:])
            ).all(axis=2)
            wh = (gt.xyxy[:, 2:] - gt.xyxy[:, :2]) * p.scale
            for i, side in enumerate(np.sqrt(wh[:, 0] * wh[:, 1])):
                if (iou[i][same] >= 0.5).any():
                    outcome = "found"
                elif (iou[i] >= 0.5).any():
                    outcome = "as_other"
                elif (covers[i] & same).any():
                    outcome = "box_differs"
                else:
                    outcome = "missed"
                size = "small" if side < SMALL_PX else "larger"
                for r in (row("all", cid, size), row(p.source, cid, "any")):
                    r.gt += 1
                    setattr(r, outcome, getattr(r, outcome) + 1)
    order = {"small": 0, "larger": 1, "any": 2}
    return sorted(
        rows.values(),
        key=lambda r: (
            r.source != "all",
            r.source,
            class_ids.index(tax.id_of(r.name)),
            order[r.size],
        ),
    )
