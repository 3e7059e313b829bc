"""The canonical class taxonomy shared by datasets, training, model cards and rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml


class TaxonomyError(ValueError):
    """A class name that the taxonomy does not know, or a malformed taxonomy file."""


@dataclass(frozen=True)
class TaxonomyClass:
    id: int
    name: str
    zh: str
    description: str


@dataclass(frozen=True)
class Taxonomy:
    version: int
    classes: tuple[TaxonomyClass, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    def id_of(self, name: str) -> int:
        for c in self.classes:
            if c.name == name:
                return c.id
        raise TaxonomyError(
            f"class {name!r} is not in the SiteGuard taxonomy (known: {', '.join(self.names)})"
        )

    def name_of(self, class_id: int) -> str:
        for c in self.classes:
            if c.id == class_id:
                return c.name
        raise TaxonomyError(f"class id {class_id} is not in the SiteGuard taxonomy")

    def __len__(self) -> int:
        return len(self.classes)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a taxonomy file; without a path, the one shipped with the package."""
    if path is None:
        return default_taxonomy()
    return _parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")), str(path))


@cache
def default_taxonomy() -> Taxonomy:
    text = resources.files("siteguard.pipeline").joinpath("taxonomy.yaml").read_text("utf-8")
    return _parse(yaml.safe_load(text), "taxonomy.yaml")


def _parse(doc: object, where: str) -> Taxonomy:
    if not isinstance(doc, dict) or not isinstance(doc.get("classes"), list):
        raise TaxonomyError(f"{where}: expected a mapping with a 'classes' list")
    classes = []
    for i, entry in enumerate(doc["classes"]):
        try:
            classes.append(
                TaxonomyClass(
                    id=int(entry["id"]),
                    name=str(entry["name"]),
                    zh=str(entry.get("zh", "")),
                    description=str(entry.get("description", "")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TaxonomyError(f"{where}: class #{i} is malformed: {exc}") from exc
    ids = [c.id for c in classes]
    names = [c.name for c in classes]
    if ids != list(range(len(ids))):
        raise TaxonomyError(f"{where}: class ids must be 0..n-1 in order, got {ids}")
    if len(set(names)) != len(names):
        raise TaxonomyError(f"{where}: duplicate class names in {names}")
    return Taxonomy(version=int(doc.get("version", 1)), classes=tuple(classes))
