"""Letterbox pre-processing (aspect-preserving resize + grey padding) and its inverse.

Matches ultralytics' `LetterBox(auto=False, center=True)` so exported models see the
input distribution they were trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114


@dataclass(frozen=True)
class LetterboxMeta:
    """How one source image was mapped into the model input."""

    scale: float
    pad_x: float  # left padding in model-input pixels
    pad_y: float  # top padding
    src_w: int
    src_h: int


def letterbox(
    image: npt.NDArray[np.uint8], size: tuple[int, int]
) -> tuple[npt.NDArray[np.uint8], LetterboxMeta]:
    """Resize ``image`` (H, W, 3) into ``size`` = (height, width) keeping its aspect ratio."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) BGR image, got shape {image.shape}")
    h, w = image.shape[:2]
    th, tw = size
    r = min(th / h, tw / w)
    nw, nh = round(w * r), round(h * r)
    dw, dh = (tw - nw) / 2, (th - nh) / 2
    if (nw, nh) != (w, h):
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    out = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    return out, LetterboxMeta(scale=r, pad_x=left, pad_y=top, src_w=w, src_h=h)


def to_blob(images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
    """Letterboxed BGR uint8 images -> (B, 3, H, W) RGB float32 in [0, 1], in one C++ call."""
    blob: npt.NDArray[np.float32] = cv2.dnn.blobFromImages(
        list(images), scalefactor=1 / 255.0, swapRB=True, crop=False
    )
    return blob


def preprocess(
    frames: Sequence[npt.NDArray[np.uint8]], size: tuple[int, int]
) -> tuple[npt.NDArray[np.float32], list[LetterboxMeta]]:
    boxed = [letterbox(f, size) for f in frames]
    return to_blob([b for b, _ in boxed]), [m for _, m in boxed]


def unletterbox(xyxy: npt.NDArray[np.float32], meta: LetterboxMeta) -> npt.NDArray[np.float32]:
    """Model-input xyxy boxes -> source-image pixels, clipped to the image."""
    out = xyxy.astype(np.float32, copy=True)
    out[:, [0, 2]] = (out[:, [0, 2]] - meta.pad_x) / meta.scale
    out[:, [1, 3]] = (out[:, [1, 3]] - meta.pad_y) / meta.scale
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, meta.src_w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, meta.src_h)
    return out


def reletterbox(xyxy: npt.NDArray[np.float32], meta: LetterboxMeta) -> npt.NDArray[np.float32]:
    """Source-image pixels -> model-input pixels (the forward map; used in tests and tools)."""
    out = xyxy.astype(np.float32, copy=True)
    out[:, [0, 2]] = out[:, [0, 2]] * meta.scale + meta.pad_x
    out[:, [1, 3]] = out[:, [1, 3]] * meta.scale + meta.pad_y
    return out
