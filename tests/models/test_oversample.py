"""A training stage's `oversample`: the weak sources listed more often, nothing else changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from siteguard.models.training.oversample import factor_of, oversampled_data
from siteguard.models.training.train_config import TrainConfig

NAMES = ["person", "hardhat", "head", "vest"]


def built(root: Path) -> Path:
    """The layout `siteguard dataset build` writes, with three training images."""
    for split in ("train", "val", "test"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    for stem, rows in {
        "css__a": ["1 0.5 0.5 0.1 0.1"],
        "hw__b": ["2 0.5 0.5 0.1 0.1", "1 0.2 0.2 0.1 0.1"],
        "hw__c": ["1 0.5 0.5 0.1 0.1"],
    }.items():
        (root / "images" / "train" / f"{stem}.jpg").write_bytes(b"jpeg")
        (root / "labels" / "train" / f"{stem}.txt").write_text("\n".join(rows) + "\n")
    data = {
        "path": str(root),
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": dict(enumerate(NAMES)),
    }
    (root / "data.yaml").write_text(yaml.safe_dump(data))
    return root / "data.yaml"


def test_factors_by_source_and_by_class() -> None:
    rules = {"css": 3, "hw/head": 2}
    assert factor_of("css", {"hardhat"}, rules) == 3
    assert factor_of("hw", {"head", "hardhat"}, rules) == 2
    assert factor_of("hw", {"hardhat"}, rules) == 1
    assert factor_of("hhw", {"head"}, rules) == 1
    assert factor_of("hw", {"head"}, {"hw": 4, "hw/head": 2}) == 4  # the largest counts


def test_the_list_repeats_images_and_keeps_val_and_test(tmp_path: Path) -> None:
    data_yaml = built(tmp_path / "ds")
    new_yaml, summary = oversampled_data(data_yaml, {"css": 3, "hw/head": 2}, tmp_path / "run")
    lines = (tmp_path / "run" / "train.txt").read_text().split()
    names = [Path(line).name for line in lines]
    assert names.count("css__a.jpg") == 3
    assert names.count("hw__b.jpg") == 2 and names.count("hw__c.jpg") == 1
    assert all(Path(line).is_file() for line in lines)
    new = yaml.safe_load(new_yaml.read_text())
    assert new["val"] == str((tmp_path / "ds" / "images" / "val").resolve())
    assert new["test"] == str((tmp_path / "ds" / "images" / "test").resolve())
    assert new["names"] == dict(enumerate(NAMES))
    assert "6 entries" in summary and "css 3" in summary and "hw 3" in summary


def test_unknown_sources_and_classes_are_refused(tmp_path: Path) -> None:
    data_yaml = built(tmp_path / "ds")
    with pytest.raises(ValueError, match="sources not in .*: cs"):
        oversampled_data(data_yaml, {"cs": 3}, tmp_path / "run")
    with pytest.raises(ValueError, match="classes not in"):
        oversampled_data(data_yaml, {"hw/helmet": 2}, tmp_path / "run")


def test_the_stage3_config_oversamples_the_two_weak_sources() -> None:
    config = TrainConfig.load(Path("models/training/configs/ppe-s-cpu-stage3.yaml"))
    assert config.oversample == {"construction-site-safety": 3, "helmet-workwear/head": 2}
    assert config.model.startswith("runs/recovered/")
