"""Declarative class mappings: a source dataset's class names -> taxonomy names (or dropped),
and the measured box rules that redraw a source's boxes to the project's box conventions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siteguard.pipeline.taxonomy import default_taxonomy

Box = tuple[float, float, float, float]  # normalised xyxy


class BoxRule(BaseModel):
    """Redraw one class's boxes of one source to the chosen convention (docs/models.md).

    The height is scaled by ``scale_h``, or by ``target_h_w / measured_h_w`` (medians of box
    height over width in pixels, measured with ``siteguard dataset conventions``): the
    source's median box shape becomes the convention's and each box keeps its own deviation
    from it. A source stretched to a fixed size (its h/w distorted) gives ``scale_h``
    directly. ``keep`` names the edge that stays where it was drawn; the width is scaled by
    ``scale_w`` about the box's centre. Boxes are clipped to the image.
    """

    model_config = ConfigDict(extra="forbid")

    measured_h_w: float | None = Field(None, gt=0, description="this source's median h/w")
    target_h_w: float | None = Field(None, gt=0, description="the convention's median h/w")
    scale_h: float | None = Field(None, gt=0, description="height factor, given directly")
    keep: Literal["top", "centre", "bottom"] = Field(
        "top", description="the edge that stays: top (a head's crown), centre or bottom"
    )
    scale_w: float = Field(1.0, gt=0, description="width factor about the centre")
    note: str = Field("", description="what was measured and seen on the sample crops")

    @model_validator(mode="after")
    def _one_height_rule(self) -> BoxRule:
        pair = self.measured_h_w is not None and self.target_h_w is not None
        half = (self.measured_h_w is None) != (self.target_h_w is None)
        if half or pair == (self.scale_h is not None):
            raise ValueError("a box rule needs either scale_h or both measured_h_w and target_h_w")
        return self

    @property
    def height_factor(self) -> float:
        if self.scale_h is not None:
            return self.scale_h
        assert self.measured_h_w is not None and self.target_h_w is not None
        return self.target_h_w / self.measured_h_w

    def apply(self, box: Box) -> Box:
        x1, y1, x2, y2 = box
        cx, w, h = (x1 + x2) / 2, (x2 - x1) * self.scale_w, (y2 - y1) * self.height_factor
        if self.keep == "top":
            top = y1
        elif self.keep == "bottom":
            top = y2 - h
        else:
            top = (y1 + y2) / 2 - h / 2
        return (_clip01(cx - w / 2), _clip01(top), _clip01(cx + w / 2), _clip01(top + h))


def _clip01(v: float) -> float:
    return min(1.0, max(0.0, v))


class ClassMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="Short name of the source dataset")
    format: str = Field(description="yolo, voc or coco")
    licence: str
    attribution: str
    complete: list[str] = Field(
        description="Taxonomy classes labelled exhaustively in this source. Other taxonomy "
        "classes may appear unlabelled (the partial-label problem)."
    )
    classes: dict[str, str | None] = Field(description="source class -> taxonomy class or null")
    conventions: dict[str, BoxRule] = Field(
        default_factory=dict,
        description="taxonomy class -> the measured box rule that redraws this source's "
        "boxes to the project's convention; applied only by `dataset build --conventions`",
    )

    @field_validator("classes")
    @classmethod
    def _targets_in_taxonomy(cls, v: dict[str, str | None]) -> dict[str, str | None]:
        known = set(default_taxonomy().names)
        bad = sorted({t for t in v.values() if t is not None and t not in known})
        if bad:
            raise ValueError(f"mapping targets not in the taxonomy: {bad}")
        return v

    @field_validator("conventions")
    @classmethod
    def _rules_for_taxonomy_classes(cls, v: dict[str, BoxRule]) -> dict[str, BoxRule]:
        bad = sorted(set(v) - set(default_taxonomy().names))
        if bad:
            raise ValueError(f"box rules for classes not in the taxonomy: {bad}")
        return v

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        if v not in {"yolo", "voc", "coco"}:
            raise ValueError(f"format must be yolo, voc or coco, not {v!r}")
        return v

    def target(self, source_class: str) -> str | None:
        if source_class not in self.classes:
            raise KeyError(
                f"{self.source}: class {source_class!r} has no entry in the mapping "
                f"(map it to a taxonomy class or to null)"
            )
        return self.classes[source_class]

    def redraw(self, label: str, box: Box) -> Box:
        """``box`` redrawn by this source's rule for ``label`` (unchanged without one)."""
        rule = self.conventions.get(label)
        return rule.apply(box) if rule else box


def load_mapping(name_or_path: str | Path) -> ClassMapping:
    """A shipped mapping by source name, or a mapping file by path."""
    p = Path(name_or_path)
    if p.suffix in {".yaml", ".yml"} and p.exists():
        text = p.read_text("utf-8")
    else:
        res = resources.files("siteguard.datasets").joinpath(f"mappings/{name_or_path}.yaml")
        if not res.is_file():
            raise FileNotFoundError(f"no class mapping named {name_or_path!r}")
        text = res.read_text("utf-8")
    return ClassMapping.model_validate(yaml.safe_load(text))


def shipped_mappings() -> list[str]:
    folder = resources.files("siteguard.datasets").joinpath("mappings")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )
