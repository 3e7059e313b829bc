"""`siteguard export`: ultralytics .pt -> ONNX + model card (training-side only)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from siteguard.models.training import ultralytics_offline
from siteguard.pipeline.decode import OutputKind
from siteguard.pipeline.model_card import (
    DataSource,
    InputSpec,
    ModelCard,
    Thresholds,
    card_path_for,
    sha256_file,
)


def write_card(card: ModelCard, onnx_path: Path) -> Path:
    path = card_path_for(onnx_path)
    path.write_text(card.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def data_sources(manifest: dict[str, Any] | None) -> list[DataSource]:
    if not manifest:
        return []
    return [
        DataSource(name=s["source"], licence=s["licence"], attribution=s["attribution"])
        for s in manifest.get("sources", [])
    ]


def export_onnx(
    weights: Path,
    out_dir: Path,
    name: str,
    version: str,
    imgsz: int,
    thresholds: Thresholds,
    manifest_path: Path | None = None,
    training: dict[str, Any] | None = None,
    opset: int = 19,
) -> Path:
    """Export ``weights`` to ``out_dir/<name>.onnx`` and write its card; return the ONNX path."""
    ultralytics_offline()
    import ultralytics
    from ultralytics import YOLO

    model = YOLO(str(weights))
    classes = [str(model.names[i]) for i in sorted(model.names)]
    exported = Path(
        model.export(
            format="onnx",
            imgsz=imgsz,
            opset=opset,
            simplify=True,
            dynamic=False,
            batch=1,
            half=False,
        )
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    shutil.move(str(exported), onnx_path)
    manifest = json.loads(manifest_path.read_text()) if manifest_path else None
    info = dict(training or {})
    info.update({"ultralytics_version": ultralytics.__version__, "weights": weights.name})
    if manifest:
        info.update({"data_manifest_sha256": manifest["sha256"], "split_seed": manifest["seed"]})
        if manifest.get("conventions"):  # boxes redrawn by `dataset build --conventions`
            info["box_conventions"] = manifest["conventions"]
    card = ModelCard(
        name=name,
        version=version,
        file=onnx_path.name,
        sha256=sha256_file(onnx_path),
        classes=classes,
        input=InputSpec(height=imgsz, width=imgsz),
        output=OutputKind.RAW,
        thresholds=thresholds,
        precision="fp32",
        data=data_sources(manifest),
        training=info,
    )
    write_card(card, onnx_path)
    return onnx_path
