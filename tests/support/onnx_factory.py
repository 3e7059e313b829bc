"""Builds tiny ONNX "detectors" for unit tests (no downloads, no torch).

The graph ignores the picture's content except for one thing: its output is a constant
prediction tensor plus 0 x mean(input), so onnxruntime really runs the input through the
graph while the test knows exactly which boxes come out (in model-input pixels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from siteguard.models.training.export import write_card
from siteguard.pipeline.decode import OutputKind
from siteguard.pipeline.model_card import InputSpec, ModelCard, Thresholds, sha256_file


def make_model(
    path: Path,
    prediction: np.ndarray,
    kind: OutputKind,
    classes: list[str],
    input_hw: tuple[int, int] = (64, 64),
    dynamic_batch: bool = False,
    thresholds: Thresholds | None = None,
) -> Path:
    """Write ``path`` (.onnx) and its card. ``prediction`` is one image's output
    ((4+nc, N) for raw, (max_det, 6) for end2end); the batch dimension is broadcast."""
    h, w = input_hw
    batch: int | str = "batch" if dynamic_batch else 1
    pred = prediction.astype(np.float32)[None]
    inp = helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, h, w])
    out_shape = [batch, *pred.shape[1:]]
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, out_shape)
    nodes = [
        helper.make_node(
            "ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=1
        ),  # (B,1,1,1)
        helper.make_node("Reshape", ["mean", "shape_b11"], ["mean_b"]),  # (B,1,1)
        helper.make_node("Mul", ["mean_b", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "pred"], ["output0"]),  # broadcast to (B, ...)
    ]
    inits = [
        numpy_helper.from_array(pred, "pred"),
        numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape_b11"),
        numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
    ]
    graph = helper.make_graph(nodes, "tiny_detector", [inp], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    card = ModelCard(
        name="tiny-test",
        version="0.0.1",
        file=path.name,
        sha256=sha256_file(path),
        classes=classes,
        input=InputSpec(height=h, width=w),
        output=kind,
        thresholds=thresholds or Thresholds(conf=0.25, iou=0.45, max_det=100),
    )
    write_card(card, path)
    return path


def raw_prediction(
    boxes_cxcywh: list[tuple[float, float, float, float]],
    class_scores: list[list[float]],
    pad_to: int = 8,
) -> np.ndarray:
    """(4+nc, N) raw output with the given anchors, padded with zero-score anchors."""
    nc = len(class_scores[0])
    n = max(pad_to, len(boxes_cxcywh))
    pred = np.zeros((4 + nc, n), np.float32)
    pred[:4, :] = 1.0  # padding anchors: 1x1 boxes at (1,1) with score 0
    for i, (box, scores) in enumerate(zip(boxes_cxcywh, class_scores, strict=True)):
        pred[:4, i] = box
        pred[4:, i] = scores
    return pred
