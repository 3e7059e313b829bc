"""Trainable weights back from a shipped ONNX model, so a later stage can start from it.

A new checkout has the shipped ONNX files but not the ``runs/`` that made them (ignored,
and lost with the machine). ultralytics' export fuses each convolution with its batch norm,
so the ONNX file holds one weight and one bias per ``Conv`` block. We rebuild the
architecture (YOLOv8, its size told by the stem's width), copy every fused weight in, and
give each batch norm parameters that reproduce the fused convolution *exactly* in eval
mode while carrying real statistics for training: over a few calibration images, the
convolution's raw output has per-channel mean m and variance v; with running_mean = m,
running_var = v, gamma = sqrt(v + eps) and beta = bias + m,

    gamma * (y - m) / sqrt(v + eps) + beta = y + bias,

the fused layer's output. In training mode a batch's statistics are then close to the
running ones, so the first steps do not wreck the network (with mean 0 and variance 1 they
would: batch norm would renormalise every layer). `recover_checkpoint` checks the rebuilt
model against the ONNX file on the calibration images and refuses a mismatch.
Training-side code: imports torch and ultralytics.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from siteguard.models.training import ultralytics_offline

MAX_OUTPUT_DIFF = 1e-2  # largest |torch - onnx| allowed on the raw output (boxes in pixels)


def onnx_weights(onnx_path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The named initializers of an ultralytics ONNX export, and its metadata."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    meta = {p.key: p.value for p in model.metadata_props}
    return weights, meta


def architecture(onnx_path: Path, weights: dict[str, np.ndarray]) -> str:
    """The ultralytics yaml the export came from: YOLOv8 n/s/m/l/x by the stem's width."""
    stem = weights.get("model.0.conv.weight")
    if stem is None:
        raise ValueError(f"{onnx_path}: not an ultralytics YOLO export (no model.0.conv.weight)")
    width = {16: "n", 32: "s", 48: "m", 64: "l", 80: "x"}.get(int(stem.shape[0]))
    if width is None or "model.22.dfl.conv.weight" not in weights:
        raise ValueError(f"{onnx_path}: only YOLOv8 detection exports are supported")
    return f"yolov8{width}.yaml"


def _blob(paths: Sequence[Path], size: int) -> np.ndarray:
    """Images as the detector feeds them (`pipeline.letterbox.preprocess`)."""
    import cv2

    from siteguard.pipeline.letterbox import preprocess

    images = [cv2.imread(str(p)) for p in paths]
    if unreadable := [str(p) for p, image in zip(paths, images, strict=True) if image is None]:
        raise ValueError(f"not readable images: {', '.join(unreadable)}")
    return np.ascontiguousarray(preprocess(images, (size, size))[0])


def recover_checkpoint(
    onnx_path: Path, calib: Sequence[Path], out: Path, batch: int = 8
) -> dict[str, Any]:
    """Write an ultralytics checkpoint equal to ``onnx_path`` to ``out``; return a report
    (architecture, tensors copied, calibration images, largest output difference)."""
    ultralytics_offline()
    import onnxruntime as ort
    import torch
    from ultralytics import __version__
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    if not calib:
        raise ValueError("recovering batch-norm statistics needs calibration images")
    weights, meta = onnx_weights(onnx_path)
    arch = architecture(onnx_path, weights)
    names = ast.literal_eval(meta.get("names", "{}"))
    size = ast.literal_eval(meta.get("imgsz", "[640, 640]"))[0]
    model = DetectionModel(arch, nc=len(names), verbose=False).eval()
    model.names = names

    copied = 0
    convs: dict[str, Any] = {}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, Conv) and hasattr(module, "bn"):
                w, b = weights[f"{name}.conv.weight"], weights[f"{name}.conv.bias"]
                module.conv.weight.copy_(torch.from_numpy(np.array(w)))
                bn = module.bn
                bn.weight.fill_(1.0)
                bn.bias.copy_(torch.from_numpy(np.array(b)))
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
                convs[name] = module
                copied += 2
            elif (
                isinstance(module, torch.nn.Conv2d)
                and f"{name}.weight" in weights
                and not any(name.startswith(f"{c}.") for c in convs)
            ):  # the head's last convolutions and the DFL: plain, unfused
                module.weight.copy_(torch.from_numpy(np.array(weights[f"{name}.weight"])))
                if module.bias is not None and f"{name}.bias" in weights:
                    module.bias.copy_(torch.from_numpy(np.array(weights[f"{name}.bias"])))
                copied += 1 + (module.bias is not None)

    # the raw convolution outputs' per-channel statistics, in the fused (exact) network
    sums: dict[str, list[Any]] = {n: [0.0, 0.0, 0] for n in convs}

    def hook(name: str):  # type: ignore[no-untyped-def]
        def collect(_m: Any, _inp: Any, y: Any) -> None:
            s = sums[name]
            s[0] = s[0] + y.double().sum(dim=(0, 2, 3))
            s[1] = s[1] + (y.double() ** 2).sum(dim=(0, 2, 3))
            s[2] += y.shape[0] * y.shape[2] * y.shape[3]

        return collect

    handles = [m.conv.register_forward_hook(hook(n)) for n, m in convs.items()]
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    diff = 0.0
    references = []
    with torch.no_grad():
        for start in range(0, len(calib), batch):
            x = _blob(calib[start : start + batch], size)
            model(torch.from_numpy(x))
            references.append((x, [session.run(None, {input_name: xi[None]})[0] for xi in x]))
    for h in handles:
        h.remove()
    with torch.no_grad():
        for name, module in convs.items():
            total, squares, n = sums[name]
            mean_d = total / n
            mean, var = mean_d.float(), (squares / n - mean_d**2).clamp(min=0).float()
            bn = module.bn
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.add_(mean)
        for x, outs in references:
            ours = model(torch.from_numpy(x))[0].numpy()
            for i, theirs in enumerate(outs):
                diff = max(diff, float(np.abs(ours[i] - theirs[0]).max()))
    if diff > MAX_OUTPUT_DIFF:
        raise ValueError(
            f"{onnx_path}: the rebuilt {arch} differs from the ONNX model by {diff:.4f} "
            f"(allowed {MAX_OUTPUT_DIFF}): not the architecture this file was exported from"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": deepcopy(model).float(),
            "train_args": {"imgsz": size},
            "date": datetime.now().isoformat(),
            "version": __version__,
            "license": meta.get("license", "AGPL-3.0 (Ultralytics)"),
            "recovered_from": str(onnx_path),
        },
        out,
    )
    return {
        "architecture": arch,
        "classes": names,
        "imgsz": size,
        "tensors": copied,
        "calibration_images": len(calib),
        "max_output_diff": round(diff, 6),
    }
