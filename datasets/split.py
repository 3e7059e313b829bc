"""Splits by source image with a fixed seed: a source image never straddles two splits."""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def split_of(group: str, seed: int, val: float = 0.10, test: float = 0.15) -> str:
    """Deterministic split for a source-image group.

    A hash of (seed, group) rather than a shuffle: adding images to a dataset never moves
    the existing ones between splits, so held-out images stay held out.
    """
    if not (val >= 0 and test >= 0 and val + test < 1):
        raise ValueError("val and test fractions must be >= 0 and sum to < 1")
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test:
        return "test"
    if u < test + val:
        return "val"
    return "train"
