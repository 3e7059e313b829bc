"""ONNX detector: frames in, `Detections` out (in source pixels, taxonomy class ids)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from siteguard.pipeline.decode import decode
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.letterbox import preprocess, unletterbox
from siteguard.pipeline.model_card import ModelCardError, load_card
from siteguard.pipeline.taxonomy import default_taxonomy

Provider = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class ModelRef:
    """What every event names about the model that produced it."""

    name: str
    version: str
    sha256: str


def select_providers(provider: Provider) -> list[str]:
    available = ort.get_available_providers()
    if provider == "cpu":
        return ["CPUExecutionProvider"]
    if provider == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise RuntimeError(
                "CUDA was asked for but this onnxruntime has no CUDAExecutionProvider "
                "(install onnxruntime-gpu)"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxDetector:
    """Runs a YOLO-family ONNX model described by its model card."""

    def __init__(
        self,
        model_path: Path,
        provider: Provider = "auto",
        threads: int | None = None,
        verify: bool = True,
    ) -> None:
        self.card, self.onnx_path = load_card(Path(model_path), verify=verify)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(self.onnx_path), sess_options=opts, providers=select_providers(provider)
        )
        inp = self.session.get_inputs()[0]
        self._input_name = inp.name
        self._fixed_batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self._check_input(inp.shape)
        tax = default_taxonomy()
        # model output index -> taxonomy id, and per-index operating threshold
        self._class_map = np.array([tax.id_of(c) for c in self.card.classes], np.int64)
        self._class_conf = np.array(
            [self.card.threshold_for(c) for c in self.card.classes], np.float32
        )
        self.model = ModelRef(self.card.name, self.card.version, self.card.sha256)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.card.input.height, self.card.input.width

    def _check_input(self, shape: Sequence[object]) -> None:
        h, w = shape[2], shape[3]
        if isinstance(h, int) and isinstance(w, int) and (h, w) != self.input_size:
            raise ModelCardError(
                f"{self.onnx_path}: input is {h}x{w} but the card says "
                f"{self.input_size[0]}x{self.input_size[1]}"
            )

    def warmup(self, runs: int = 2) -> None:
        """Run on grey frames so the first real frame does not pay for allocation."""
        frame = np.full((*self.input_size, 3), 114, np.uint8)
        for _ in range(runs):
            self.detect([frame])

    def run_raw(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The bare session call on a preprocessed (B, 3, H, W) blob."""
        if self._fixed_batch is None or self._fixed_batch == len(blob):
            out: npt.NDArray[np.float32] = self.session.run(None, {self._input_name: blob})[0]
            return out
        return np.concatenate(
            [
                self.session.run(None, {self._input_name: blob[i : i + 1]})[0]
                for i in range(len(blob))
            ]
        )

    def detect(
        self, frames: Sequence[npt.NDArray[np.uint8]], conf: float | None = None
    ) -> list[Detections]:
        """Detect on a batch of BGR frames.

        ``conf`` overrides the card's operating thresholds (one threshold for every class);
        by default each class uses its operating threshold from the card.
        """
        if not frames:
            return []
        blob, metas = preprocess(frames, self.input_size)
        output = self.run_raw(blob)
        floor = conf if conf is not None else float(self._class_conf.min())
        t = self.card.thresholds
        results = []
        for (xyxy, score, cls), meta in zip(
            decode(output, self.card.output, len(self.card.classes), floor, t.iou, t.max_det),
            metas,
            strict=True,
        ):
            if conf is None:
                keep = score >= self._class_conf[cls]
                xyxy, score, cls = xyxy[keep], score[keep], cls[keep]
            results.append(Detections(unletterbox(xyxy, meta), score, self._class_map[cls]))
        return results
