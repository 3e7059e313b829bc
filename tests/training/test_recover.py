"""`siteguard recover`: the shipped ONNX model back as trainable weights (issue 19).

The rebuilt network must be the shipped model, not an approximation: in eval mode its raw
output matches the ONNX file's, and its batch norms hold the data's statistics, so that in
training mode on the same images (batch statistics instead of running ones) it computes the
same features. With batch norms of mean 0 and variance 1, training mode renormalises every
layer and the features change completely; the test shows that contrast too.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch
from onnx import TensorProto, helper

from siteguard.cli import main
from siteguard.models.training.recover import _blob, recover_checkpoint
from tests.support.paths import FIXTURES, REPO

pytestmark = pytest.mark.slow

SHIPPED = REPO / "models" / "siteguard-ppe-s416.onnx"
IMAGES = sorted((FIXTURES / "images").glob("*.jpg"))


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("recover") / "0.2.0.pt"
    return out, recover_checkpoint(SHIPPED, IMAGES, out)


def test_the_recovered_weights_compute_what_the_shipped_model_computes(recovered) -> None:
    out, report = recovered
    assert report["architecture"] == "yolov8s.yaml"
    assert report["classes"] == {0: "person", 1: "hardhat", 2: "head", 3: "vest"}
    assert report["imgsz"] == 416
    assert report["max_output_diff"] < 1e-2  # pixels and scores, across every anchor
    ckpt = torch.load(out, weights_only=False)
    model = ckpt["model"].float()
    assert ckpt["license"].startswith("AGPL-3.0")  # the export's stamp travels on

    x = torch.from_numpy(_blob(IMAGES, 416))
    with torch.no_grad():
        features = model.eval()(x)[1]
        trained = model.train()(x)  # batch statistics over exactly the calibration images
    for ours, theirs in zip(trained, features, strict=True):
        assert torch.allclose(ours, theirs, atol=1e-2, rtol=1e-3)

    with torch.no_grad():  # the naive way: gamma 1, beta the fused bias, mean 0, variance 1
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.bias.sub_(bn.running_mean)
            bn.weight.fill_(1.0)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
        naive = model.train()(x)
    assert max(float((a - b).abs().max()) for a, b in zip(naive, features, strict=True)) > 1.0


def test_the_command_writes_a_checkpoint_ultralytics_loads(tmp_path: Path, capsys) -> None:
    from ultralytics import YOLO

    out = tmp_path / "r.pt"
    assert (
        main(["recover", str(SHIPPED), "--calib", str(FIXTURES / "images"), "--out", str(out)]) == 0
    )
    assert "largest output difference" in capsys.readouterr().out
    result = YOLO(str(out)).predict(str(IMAGES[0]), imgsz=416, conf=0.35, verbose=False)[0]
    assert result.names[2] == "head" and len(result.boxes) > 0


def test_a_file_that_is_no_yolo_export_is_refused(tmp_path: Path, capsys) -> None:
    w = helper.make_tensor("w", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [w],
    )
    bad = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph), str(bad))
    out = tmp_path / "r.pt"
    code = main(["recover", str(bad), "--calib", str(FIXTURES / "images"), "--out", str(out)])
    assert code == 1 and not out.exists()
    assert "not an ultralytics YOLO export" in capsys.readouterr().out
    assert (
        main(["recover", str(tmp_path / "none.onnx"), "--calib", str(tmp_path), "--out", str(out)])
        == 2
    )
