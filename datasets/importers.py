"""Readers for the label formats users bring: YOLO txt, Pascal VOC XML, COCO JSON.

Each yields `Sample`s whose boxes are already mapped onto taxonomy names (dropped classes
removed) in normalised xyxy coordinates.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from siteguard.datasets.mapping import ClassMapping

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class DatasetFormatError(ValueError):
    """A label file that cannot be read; the message names the file."""


@dataclass
class Sample:
    source: str
    image: Path
    labels: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # norm. xyxy
    dropped: int = 0

    @property
    def group(self) -> str:
        """The source image this file came from (Roboflow's augmented copies share it)."""
        stem = self.image.stem
        if ".rf." in stem:
            stem = stem.split(".rf.")[0]
        return f"{self.source}/{stem.removesuffix('_jpg').removesuffix('_png')}"


def read_dataset(root: Path, mapping: ClassMapping) -> Iterator[Sample]:
    reader = {"yolo": read_yolo, "voc": read_voc, "coco": read_coco}[mapping.format]
    yield from reader(Path(root), mapping)


def _clip01(v: float) -> float:
    return min(1.0, max(0.0, v))


def read_yolo(root: Path, mapping: ClassMapping) -> Iterator[Sample]:
    data_yaml = root / "data.yaml"
    if not data_yaml.exists():
        raise DatasetFormatError(f"{root}: no data.yaml (expected a YOLO export)")
    names = yaml.safe_load(data_yaml.read_text("utf-8"))["names"]
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    for images in sorted(root.glob("*/images")):
        labels_dir = images.parent / "labels"
        for img in sorted(images.iterdir()):
            if img.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            s = Sample(source=mapping.source, image=img)
            lbl = labels_dir / (img.stem + ".txt")
            lines = lbl.read_text().splitlines() if lbl.exists() else []
            for n, line in enumerate(lines, 1):
                parts = line.split()
                if not parts:
                    continue
                try:
                    cls = int(parts[0])
                    cx, cy, w, h = (float(v) for v in parts[1:5])
                except (ValueError, IndexError) as exc:
                    raise DatasetFormatError(f"{lbl}:{n}: not 'class cx cy w h': {line!r}") from exc
                if len(parts) > 5:  # a polygon row (segmentation export): take its bbox
                    xs = [float(v) for v in parts[1::2]]
                    ys = [float(v) for v in parts[2::2]]
                    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
                    w, h = max(xs) - min(xs), max(ys) - min(ys)
                target = mapping.target(str(names[cls]))
                if target is None:
                    s.dropped += 1
                    continue
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                s.boxes.append(tuple(_clip01(v) for v in box))  # type: ignore[arg-type]
                s.labels.append(target)
            yield s


def read_voc(root: Path, mapping: ClassMapping) -> Iterator[Sample]:
    """Pascal VOC: Annotations/*.xml beside JPEGImages/ (as in SHWD / GDUT-HWD)."""
    ann_dir = root / "Annotations"
    img_dir = root / "JPEGImages"
    for xml_path in sorted(ann_dir.glob("*.xml")):
        try:
            tree = ET.parse(xml_path).getroot()
            size = tree.find("size")
            assert size is not None
            w = float(size.findtext("width") or 0)
            h = float(size.findtext("height") or 0)
            filename = tree.findtext("filename") or (xml_path.stem + ".jpg")
        except (ET.ParseError, AssertionError, ValueError) as exc:
            raise DatasetFormatError(f"{xml_path}: not a VOC annotation: {exc}") from exc
        if w <= 0 or h <= 0:
            raise DatasetFormatError(f"{xml_path}: image size missing")
        s = Sample(source=mapping.source, image=img_dir / filename)
        for obj in tree.iter("object"):
            target = mapping.target(obj.findtext("name", "").strip())
            bb = obj.find("bndbox")
            if target is None or bb is None:
                s.dropped += 1
                continue
            x1, y1, x2, y2 = (float(bb.findtext(k) or 0) for k in ("xmin", "ymin", "xmax", "ymax"))
            s.boxes.append((_clip01(x1 / w), _clip01(y1 / h), _clip01(x2 / w), _clip01(y2 / h)))
            s.labels.append(target)
        yield s


def read_coco(root: Path, mapping: ClassMapping) -> Iterator[Sample]:
    """COCO detection JSON: every *.json under root with images/annotations/categories."""
    for ann_file in sorted(root.rglob("*.json")):
        doc = json.loads(ann_file.read_text("utf-8"))
        if not {"images", "annotations", "categories"} <= set(doc):
            continue
        cats = {c["id"]: c["name"] for c in doc["categories"]}
        by_image: dict[int, Sample] = {}
        sizes: dict[int, tuple[float, float]] = {}
        for im in doc["images"]:
            by_image[im["id"]] = Sample(
                source=mapping.source, image=ann_file.parent / im["file_name"]
            )
            sizes[im["id"]] = (float(im["width"]), float(im["height"]))
        for a in doc["annotations"]:
            s = by_image[a["image_id"]]
            target = mapping.target(cats[a["category_id"]])
            if target is None:
                s.dropped += 1
                continue
            w, h = sizes[a["image_id"]]
            x, y, bw, bh = a["bbox"]
            s.boxes.append(
                (_clip01(x / w), _clip01(y / h), _clip01((x + bw) / w), _clip01((y + bh) / h))
            )
            s.labels.append(target)
        yield from by_image.values()
