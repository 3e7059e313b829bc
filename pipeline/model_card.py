"""The model card/manifest that travels next to every ONNX file.

Everything the pipeline needs to run a model (input size, class names in output order,
output layout, thresholds) comes from here, and the ONNX file is verified against the
card's sha256 before it is loaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from siteguard.pipeline.decode import OutputKind
from siteguard.pipeline.taxonomy import default_taxonomy

CARD_SUFFIX = ".card.json"


class ModelCardError(ValueError):
    """A card that is missing, malformed, does not match its ONNX file, or the taxonomy."""


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    height: int = Field(gt=0, description="Model input height in pixels")
    width: int = Field(gt=0, description="Model input width in pixels")
    layout: Literal["NCHW"] = "NCHW"
    color: Literal["RGB"] = "RGB"
    letterbox: bool = True


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conf: float = Field(0.25, ge=0, le=1, description="Operating score threshold")
    iou: float = Field(0.45, ge=0, le=1, description="NMS IoU threshold")
    max_det: int = Field(300, gt=0)
    per_class: dict[str, float] = Field(
        default_factory=dict, description="Operating thresholds that differ from conf, by class"
    )


class DataSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    licence: str
    attribution: str


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    card_version: Literal[1] = 1
    name: str
    version: str
    file: str = Field(description="ONNX file name, relative to the card")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    classes: list[str] = Field(min_length=1, description="Taxonomy names in output order")
    input: InputSpec
    output: OutputKind
    thresholds: Thresholds = Field(default_factory=Thresholds)
    precision: Literal["fp32", "fp16", "int8"] = "fp32"
    data: list[DataSource] = Field(default_factory=list)
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("classes")
    @classmethod
    def _in_taxonomy(cls, v: list[str]) -> list[str]:
        known = default_taxonomy().names
        unknown = [c for c in v if c not in known]
        if unknown:
            raise ValueError(
                f"classes {unknown} are not in the SiteGuard taxonomy ({', '.join(known)}); "
                "map the model's classes onto the taxonomy before shipping it"
            )
        return v

    def threshold_for(self, class_name: str) -> float:
        return self.thresholds.per_class.get(class_name, self.thresholds.conf)


def card_path_for(model_path: Path) -> Path:
    """`x.onnx` -> `x.card.json`; a card path is returned as it is."""
    p = Path(model_path)
    if p.name.endswith(CARD_SUFFIX):
        return p
    return p.with_name(p.stem + CARD_SUFFIX)


def load_card(path: Path, verify: bool = True) -> tuple[ModelCard, Path]:
    """Read the card for a model (given the .onnx or the card) -> (card, onnx path)."""
    card_file = card_path_for(Path(path))
    if not card_file.exists():
        raise ModelCardError(
            f"{path}: no model card at {card_file}; every model needs one "
            "(written by `siteguard export`)"
        )
    try:
        card = ModelCard.model_validate_json(card_file.read_text("utf-8"))
    except ValidationError as exc:
        raise ModelCardError(f"{card_file}: invalid model card:\n{exc}") from exc
    onnx_path = card_file.parent / card.file
    if not onnx_path.exists():
        raise ModelCardError(f"{card_file}: model file {onnx_path} not found")
    if verify:
        actual = sha256_file(onnx_path)
        if actual != card.sha256:
            raise ModelCardError(
                f"{onnx_path}: sha256 {actual[:12]}... does not match its card "
                f"({card.sha256[:12]}...); the file was changed or the card is stale"
            )
    return card, onnx_path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
