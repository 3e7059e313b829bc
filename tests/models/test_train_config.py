"""The training config files: every shipped config validates, and a learning rate that
ultralytics would silently ignore is refused with the reason."""

import pytest
from pydantic import ValidationError

from siteguard.models.training.train_config import TrainConfig
from tests.support.paths import REPO

CONFIGS = sorted((REPO / "models" / "training" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    config = TrainConfig.load(path)
    assert config.name.startswith("siteguard-")


def test_lr0_without_a_named_optimizer_is_refused():
    with pytest.raises(ValidationError, match="optimizer: AdamW"):
        TrainConfig(name="x", model="yolov8n.yaml", lr0=0.001)
    assert TrainConfig(name="x", model="y.pt", optimizer="AdamW", lr0=0.001).lr0 == 0.001


def test_a_second_stage_has_its_own_run_folder():
    stage2 = TrainConfig.load(REPO / "models/training/configs/ppe-s-cpu-stage2.yaml")
    first = TrainConfig.load(REPO / "models/training/configs/ppe-s-cpu.yaml")
    assert stage2.name == first.name  # ships under the same name, as a new version
    assert stage2.run != first.name  # so its run does not overwrite the weights it starts from
    assert first.name in stage2.model


def test_pretrained_weights_resolve_inside_an_installed_package(tmp_path):
    config = TrainConfig(name="n", model="yolo11n.yaml", pretrained="siteguard:cli.py")
    assert config.resolve_model() == "yolo11n.yaml"
    resolved = config.resolve_pretrained()
    assert resolved is not None and resolved.endswith("cli.py")
    assert TrainConfig(name="n", model="yolo11n.yaml").resolve_pretrained() is None
    local = tmp_path / "w.pt"
    local.write_bytes(b"")
    assert TrainConfig(name="n", model="a.yaml", pretrained=str(local)).resolve_pretrained() == (
        str(local)
    )
    missing = TrainConfig(name="n", model="a.yaml", pretrained="no_such_pkg:w.pt")
    with pytest.raises(FileNotFoundError, match="pretrained 'no_such_pkg:w.pt'.*not installed"):
        missing.resolve_pretrained()
