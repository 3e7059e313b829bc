"""Build one YOLO training set from several sources: mapped classes, split by source image,
optional person pseudo-labels, and a manifest naming exactly what a model saw."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from siteguard.datasets.importers import Sample, read_dataset
from siteguard.datasets.mapping import ClassMapping
from siteguard.datasets.split import SPLITS, split_of
from siteguard.pipeline.detections import box_iou
from siteguard.pipeline.taxonomy import default_taxonomy

PseudoBoxes = dict[str, list[tuple[float, float, float, float]]]  # image path -> norm. xyxy


@dataclass
class SourceSpec:
    root: Path
    mapping: ClassMapping


@dataclass
class BuildReport:
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # split,src,class
    images: Counter[tuple[str, str]] = field(default_factory=Counter)  # split, source
    dropped: Counter[str] = field(default_factory=Counter)
    pseudo_added: Counter[str] = field(default_factory=Counter)
    manifest_sha256: str = ""
    warnings: list[str] = field(default_factory=list)

    def table(self) -> str:
        classes = sorted({c for _, _, c in self.counts})
        sources = sorted({s for _, s in self.images})
        head = f"{'split':6} {'source':26} {'images':>7} " + " ".join(f"{c:>8}" for c in classes)
        rows = [head, "-" * len(head)]
        for split in SPLITS:
            for src in sources:
                n = self.images[(split, src)]
                if not n:
                    continue
                cells = " ".join(f"{self.counts[(split, src, c)]:>8}" for c in classes)
                rows.append(f"{split:6} {src:26} {n:>7} {cells}")
        return "\n".join(rows)


def training_classes(specs: Iterable[SourceSpec]) -> list[str]:
    """Taxonomy classes any source maps onto, in taxonomy order (YOLO ids follow this)."""
    used = {t for s in specs for t in s.mapping.classes.values() if t}
    return [n for n in default_taxonomy().names if n in used]


def merge_pseudo(
    sample: Sample, pseudo: list[tuple[float, float, float, float]], iou: float = 0.5
) -> int:
    """Add pseudo person boxes that no labelled person box already covers; return how many."""
    if not pseudo:
        return 0
    have = np.array(
        [b for b, lab in zip(sample.boxes, sample.labels, strict=True) if lab == "person"],
        np.float32,
    ).reshape(-1, 4)
    cand = np.array(pseudo, np.float32).reshape(-1, 4)
    keep = np.ones(len(cand), bool) if not len(have) else box_iou(cand, have).max(axis=1) < iou
    for b in cand[keep]:
        sample.boxes.append(tuple(float(v) for v in b))  # type: ignore[arg-type]
        sample.labels.append("person")
    return int(keep.sum())


def build(
    specs: list[SourceSpec],
    out: Path,
    seed: int = 0,
    val: float = 0.10,
    test: float = 0.15,
    max_side: int | None = None,
    pseudo_person: PseudoBoxes | None = None,
    progress: Callable[[int], None] | None = None,
    conventions: bool = False,
) -> BuildReport:
    """Write ``out/{images,labels}/{train,val,test}``, ``data.yaml`` and ``manifest.json``.

    Images are symlinked, or re-encoded to at most ``max_side`` pixels when given (smaller
    transfers to a GPU machine). Sources whose mapping does not list ``person`` as complete
    get the pseudo person boxes (when given) so unlabelled people are not taught as
    background. ``conventions`` redraws boxes by each mapping's measured box rules (one box
    convention per class across sources); the rules used are recorded in the manifest.
    """
    names = training_classes(specs)
    report = BuildReport()
    manifest: list[dict[str, str]] = []
    for split in SPLITS:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    for spec in specs:
        person_complete = "person" in spec.mapping.complete
        if not person_complete and pseudo_person is None and "person" in names:
            report.warnings.append(
                f"{spec.mapping.source}: person is not labelled exhaustively and no pseudo "
                "labels were given: its unlabelled people will be learnt as background"
            )
        for sample in read_dataset(spec.root, spec.mapping):
            split = split_of(sample.group, seed, val, test)
            if not person_complete and pseudo_person is not None:
                added = merge_pseudo(sample, pseudo_person.get(str(sample.image), []))
                report.pseudo_added[spec.mapping.source] += added
            stem = f"{spec.mapping.source}__{sample.image.stem}"
            dst = out / "images" / split / (stem + ".jpg")
            _place_image(sample.image, dst, max_side)
            lines = []
            for label, box in zip(sample.labels, sample.boxes, strict=True):
                x1, y1, x2, y2 = spec.mapping.redraw(label, box) if conventions else box
                if x2 - x1 <= 0 or y2 - y1 <= 0:
                    continue
                lines.append(
                    f"{names.index(label)} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} "
                    f"{x2 - x1:.6f} {y2 - y1:.6f}"
                )
                report.counts[(split, spec.mapping.source, label)] += 1
            label_text = "\n".join(lines) + ("\n" if lines else "")
            (out / "labels" / split / (stem + ".txt")).write_text(label_text)
            report.images[(split, spec.mapping.source)] += 1
            report.dropped[spec.mapping.source] += sample.dropped
            manifest.append(
                {
                    "split": split,
                    "file": f"{split}/{stem}.jpg",
                    "origin": f"{spec.mapping.source}/{sample.image.name}",
                    "image_sha256": _sha256(sample.image),
                    "labels_sha256": hashlib.sha256(label_text.encode()).hexdigest(),
                }
            )
            if progress:
                progress(1)
    manifest.sort(key=lambda r: r["file"])
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    report.manifest_sha256 = digest
    sources = [
        {
            "source": s.mapping.source,
            "licence": s.mapping.licence,
            "attribution": s.mapping.attribution,
        }
        for s in specs
    ]
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "seed": seed,
                "val": val,
                "test": test,
                "classes": names,
                "sources": sources,
                "conventions": _conventions_record(specs) if conventions else None,
                "sha256": digest,
                "files": manifest,
            },
            indent=1,
        )
    )
    data = {
        "path": str(out.resolve()),
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": dict(enumerate(names)),
    }
    (out / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return report


def _conventions_record(specs: list[SourceSpec]) -> dict[str, dict[str, dict[str, Any]]]:
    """source -> class -> the box rule applied (what `--conventions` changed)."""
    return {
        s.mapping.source: {
            label: {
                **rule.model_dump(exclude={"note"}, exclude_none=True),
                "height_factor": round(rule.height_factor, 4),
            }
            for label, rule in sorted(s.mapping.conventions.items())
        }
        for s in specs
    }


def _place_image(src: Path, dst: Path, max_side: int | None) -> None:
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if max_side is None:
        dst.symlink_to(src.resolve())
        return
    img = cv2.imread(str(src))
    if img is None:
        raise ValueError(f"{src}: not a readable image")
    h, w = img.shape[:2]
    s = max_side / max(h, w)
    if s < 1:
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(dst), img, [cv2.IMWRITE_JPEG_QUALITY, 90])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
