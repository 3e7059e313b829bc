"""Declarative class mappings: a source dataset's class names -> taxonomy names (or dropped)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from siteguard.pipeline.taxonomy import default_taxonomy


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

    @field_validator("classes")
    @classmethod
    def _targets_in_taxonomy(cls, v: dict[str, str | None]) -> dict[str, str | None]:
        known = set(default_taxonomy().names)
        bad = sorted({t for t in v.values() if t is not None and t not in known})
        if bad:
            raise ValueError(f"mapping targets not in the taxonomy: {bad}")
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
