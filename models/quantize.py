"""INT8 variant of a shipped model: onnxruntime static QDQ quantisation, calibrated on
real images through the same letterbox as inference. Needs onnxruntime (+ onnx), no torch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from siteguard.models.export import write_card
from siteguard.pipeline.letterbox import preprocess
from siteguard.pipeline.model_card import load_card, sha256_file


class _Calibration:
    def __init__(self, input_name: str, images: Sequence[Path], size: tuple[int, int]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = (
            {input_name: preprocess([img], size)[0]}
            for img in (cv2.imread(str(p)) for p in images)
            if img is not None
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def quantize_int8(
    model_path: Path, calibration_images: Sequence[Path], out_path: Path | None = None
) -> Path:
    """Write ``<stem>-int8.onnx`` with its card (precision int8); return its path."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    card, onnx_path = load_card(model_path)
    out_path = out_path or onnx_path.with_name(onnx_path.stem + "-int8.onnx")
    prepped = out_path.with_suffix(".prep.onnx")
    quant_pre_process(str(onnx_path), str(prepped), skip_symbolic_shape=True)
    import onnx

    input_name = onnx.load(str(prepped)).graph.input[0].name
    # The detection head's last layers (box/class convs and the decode) stay float: INT8
    # there costs most of the accuracy for little speed.
    head = [
        n.name
        for n in onnx.load(str(prepped)).graph.node
        if "/model.2" in n.name and ("/cv2." in n.name or "/cv3." in n.name or "/dfl" in n.name)
    ]
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
            nodes_to_exclude=head,
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
            f"{len(calibration_images)} images.",
        }
    )
    write_card(q, out_path)
    return out_path
