"""INT8 variant of a shipped model: onnxruntime static QDQ quantisation, calibrated on
real images through the same letterbox as inference. Needs onnxruntime (+ onnx), no torch."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from siteguard.models.training.export import write_card
from siteguard.pipeline.letterbox import preprocess
from siteguard.pipeline.model_card import load_card, sha256_file

FLOAT_STEM_BLOCKS = 1  # model.0: the first convolution, on the picture itself (CLI default)


class _Calibration:
    def __init__(self, input_name: str, images: Sequence[Path], size: tuple[int, int]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = (
            {input_name: preprocess([img], size)[0]}
            for img in (cv2.imread(str(p)) for p in images)
            if img is not None
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def float_head_nodes(model: Any) -> list[str]:
    """Nodes to keep in float: the detection head's final 1x1 convolutions (box and class
    logits), the DFL, and everything downstream of them (the decode). The raw output mixes
    pixel coordinates (0..640) and class probabilities (0..1) in one tensor: quantised with
    one scale, the scores collapse to zero. Found by weight names (``model.<head>.cv2/cv3
    .<i>.2`` and ``dfl``), which survive both ONNX exporters; node names do not."""
    inits = {i.name for i in model.graph.initializer}
    heads = [int(m.group(1)) for n in inits if (m := re.match(r"model\.(\d+)\.", n))]
    if not heads:
        return []
    prefix = rf"model\.{max(heads)}\."
    seed_pattern = re.compile(prefix + r"(cv[23]\.\d+\.2\.|dfl\.)")
    consumers: dict[str, list[Any]] = {}
    for node in model.graph.node:
        for t in node.input:
            consumers.setdefault(t, []).append(node)
    stack = [
        n for n in model.graph.node if any(seed_pattern.match(t) for t in n.input if t in inits)
    ]
    keep: dict[str, Any] = {}
    while stack:
        node = stack.pop()
        if node.name in keep:
            continue
        keep[node.name] = node
        for out in node.output:
            stack.extend(consumers.get(out, []))
    return list(keep)


def stem_nodes(model: Any, blocks: int) -> list[str]:
    """Nodes of the first ``blocks`` modules (``model.0`` .. ``model.<blocks-1>``): the stem
    that sees the picture at full resolution. With everything quantised the hard-hat class
    lost 7.7 AP50 points on val; with only ``model.0`` (one 3x3 convolution) in float it
    lost 0.2, for 1.4 % of INT8 speed (docs/models.md). A node belongs to the module of the
    last convolution before it in graph order (activations, splits and concatenations carry
    no weights of their own)."""
    inits = {i.name for i in model.graph.initializer}
    module, out = -1, []
    for node in model.graph.node:
        if node.op_type == "Conv":
            for t in node.input:
                if t in inits and (m := re.match(r"model\.(\d+)\.", t)):
                    module = int(m.group(1))
                    break
        if 0 <= module < blocks:
            out.append(node.name)
    return out


def quantize_int8(
    model_path: Path,
    calibration_images: Sequence[Path],
    out_path: Path | None = None,
    float_stem: int = FLOAT_STEM_BLOCKS,
) -> Path:
    """Write ``<stem>-int8.onnx`` with its card (precision int8); return its path. The
    detection head's outputs and the first ``float_stem`` modules stay in float."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    card, onnx_path = load_card(model_path)
    out_path = out_path or onnx_path.with_name(onnx_path.stem + "-int8.onnx")
    prepped = out_path.with_suffix(".prep.onnx")
    quant_pre_process(str(onnx_path), str(prepped), skip_symbolic_shape=True)
    import onnx

    proto = onnx.load(str(prepped))
    input_name = proto.graph.input[0].name
    keep_float = float_head_nodes(proto) + stem_nodes(proto, float_stem)
    try:
        quantize_static(
            str(prepped),
            str(out_path),
            _Calibration(input_name, calibration_images, (card.input.height, card.input.width)),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=keep_float,
        )
    finally:
        prepped.unlink(missing_ok=True)
    q = card.model_copy(
        update={
            "name": card.name + "-int8",
            "file": out_path.name,
            "sha256": sha256_file(out_path),
            "precision": "int8",
            "metrics": {},
            "notes": f"Static INT8 (QDQ, per-channel) of {onnx_path.name}, calibrated on "
            f"{len(calibration_images)} images; {_float_part(float_stem)} stay in float.",
        }
    )
    write_card(q, out_path)
    return out_path


def _float_part(float_stem: int) -> str:
    head = "the detection head's outputs"
    if float_stem <= 0:
        return head
    stem = "model.0" if float_stem == 1 else f"model.0 to model.{float_stem - 1}"
    return f"the stem ({stem}) and {head}"
