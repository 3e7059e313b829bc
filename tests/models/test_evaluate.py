"""AP maths and the evaluator, on a generated dataset and a test-built model."""

import json

import cv2
import numpy as np
import pytest
import yaml

from siteguard.cli import main
from siteguard.models.training.evaluate import (
    IOU_THRESHOLDS,
    average_precision,
    evaluate_model,
    match_image,
)
from siteguard.pipeline.decode import OutputKind
from tests.support.onnx_factory import make_model, raw_prediction


def test_perfect_predictions_score_ap_one():
    tp = [np.ones(len(IOU_THRESHOLDS), bool)] * 3
    np.testing.assert_allclose(average_precision([0.9, 0.8, 0.7], tp, 3), 1.0)


def test_a_false_positive_ranked_first_lowers_ap_and_missing_gt_caps_recall():
    hit, miss = np.ones(10, bool), np.zeros(10, bool)
    ap = average_precision([0.9, 0.8], [miss, hit], 1)[0]
    assert ap == pytest.approx(0.5, abs=0.01)
    ap = average_precision([0.9], [hit], 2)[0]  # recall stops at 0.5
    assert ap == pytest.approx(51 / 101, abs=1e-6)
    assert average_precision([], [], 4)[0] == 0.0


def test_matching_uses_each_ground_truth_once_and_respects_iou():
    gt = np.array([[0, 0, 10, 10]], np.float32)
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 5.8]], np.float32)
    tp = match_image(pred, np.array([0.9, 0.8, 0.95], np.float32), gt)
    # best score first: the 0.58-IoU box takes the gt at 0.5 and 0.55, the exact box after that
    assert tp[2, 0] and tp[2, 1] and not tp[2, 2]
    assert not tp[0, 0] and tp[0, 2] and tp[0, -1]
    assert not tp[1].any()


@pytest.fixture
def dataset(tmp_path):
    """6 images 64x64: 4 with a bare head at (16..24, 16..24), 2 with nothing."""
    root = tmp_path / "ds"
    for sub in ("images/test", "labels/test"):
        (root / sub).mkdir(parents=True)
    (root / "data.yaml").write_text(yaml.safe_dump({"names": {0: "hardhat", 1: "head"}}))
    for i in range(6):
        name = f"srcA__{i}" if i % 2 else f"srcB__{i}"
        cv2.imwrite(str(root / "images/test" / f"{name}.jpg"), np.zeros((64, 64, 3), np.uint8))
        (root / "labels/test" / f"{name}.txt").write_text(
            "1 0.3125 0.3125 0.125 0.125\n" if i < 4 else ""
        )
    return root


def test_evaluate_end_to_end_on_a_generated_split(tmp_path, dataset, capsys):
    pred = raw_prediction([(20, 20, 8, 8)], [[0.0, 0.9]])  # the model always sees that head
    model = make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["hardhat", "head"])
    r = evaluate_model(model, dataset, "test")
    [head] = r.classes
    assert head.name == "head" and head.gt == 4
    # 6 equal scores rank in file-name order: srcA__1 TP, srcA__3 TP, srcA__5 FP, srcB__0 TP,
    # srcB__2 TP, srcB__4 FP -> precision envelope 1 up to recall 0.5, then 0.8
    assert head.ap50 == pytest.approx((51 * 1 + 50 * 0.8) / 101, abs=1e-3)
    assert r.no_helmet.tp == 4 and r.no_helmet.fp == 2 and r.no_helmet.fn == 0
    assert r.no_helmet.recall == 1.0 and r.no_helmet.precision == pytest.approx(4 / 6)
    assert set(r.per_source) == {"srcA", "srcB"}
    errors, src_a, src_b = r.errors  # the 8 px heads of 64 px images are small; all found
    assert (errors.name, errors.size, errors.gt, errors.found, errors.missed) == (
        "head",
        "small",
        4,
        4,
        0,
    )
    assert (src_a.source, src_a.gt, src_b.source, src_b.gt) == ("srcA", 2, "srcB", 2)
    out = tmp_path / "r.json"
    assert (
        main(["evaluate", str(model), "--data", str(dataset), "--json", str(out), "--write-card"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "image-level no-helmet" in printed and "other class" in printed
    assert json.loads(out.read_text())["no_helmet"]["recall"] == 1.0
    from siteguard.pipeline.model_card import load_card

    card, _ = load_card(model)  # the card took the metrics; the ONNX file is unchanged
    assert card.metrics["test"]["classes"][0]["name"] == "head"


def test_calibrate_picks_the_lowest_precise_head_threshold_on_val(tmp_path, dataset, capsys):
    import shutil

    from siteguard.pipeline.model_card import load_card

    shutil.move(dataset / "images" / "test", dataset / "images" / "val")
    shutil.move(dataset / "labels" / "test", dataset / "labels" / "val")
    # two bare-head boxes: a true one (0.9, matches the labelled head on 4 of 6 images)
    # and the model "sees" it on every image; precision is 4/6 at any threshold <= 0.9
    pred = raw_prediction([(20, 20, 8, 8)], [[0.0, 0.9]])
    model = make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["hardhat", "head"])
    assert main(["calibrate", str(model), "--data", str(dataset), "--min-precision", "0.9"]) == 1
    assert "card unchanged" in capsys.readouterr().out
    assert main(["calibrate", str(model), "--data", str(dataset), "--min-precision", "0.6"]) == 0
    card, _ = load_card(model)  # still verifies: the ONNX file is untouched
    assert card.thresholds.per_class["head"] == 0.05
    assert card.training["head_threshold_calibration"]["split"] == "val"


def test_the_error_breakdown_tells_confusions_boxes_drawn_differently_and_misses_by_size():
    from siteguard.models.training.evaluate import ErrorRow, Prediction, error_breakdown
    from siteguard.pipeline.detections import Detections
    from siteguard.pipeline.taxonomy import default_taxonomy

    tax = default_taxonomy()
    head, hat = tax.id_of("head"), tax.id_of("hardhat")

    def boxes(rows):
        a = np.array([r[:4] for r in rows], np.float32).reshape(-1, 4)
        return Detections(
            a, np.array([r[4] for r in rows], np.float32), np.array([r[5] for r in rows])
        )

    gt = boxes(
        [
            (0, 0, 10, 10, 1, head),  # found as a head
            (20, 0, 30, 10, 1, head),  # found only as a hardhat: a confusion
            (40, 0, 50, 10, 1, head),  # seen at 0.01 only: missed
            (60, 0, 80, 20, 1, head),  # a head box over it, drawn larger: IoU 0.38
            (0, 40, 40, 80, 1, hat),  # found
        ]
    )
    pred = boxes(
        [
            (0, 0, 10, 10, 0.9, head),
            (20, 0, 30, 10, 0.6, hat),
            (40, 0, 50, 10, 0.01, head),
            (58, 2, 82, 40, 0.8, head),
            (1, 41, 40, 80, 0.7, hat),
        ]
    )
    # at scale 1 the 10 px heads are small (< 16 px at model input), the 40 px hat is not
    rows = error_breakdown([Prediction("s", pred, gt, 1.0)], [hat, head])
    assert rows == [
        ErrorRow("hardhat", "larger", gt=1, found=1),
        ErrorRow("head", "small", gt=3, found=1, as_other=1, missed=1),
        ErrorRow("head", "larger", gt=1, box_differs=1),
        ErrorRow("hardhat", "any", gt=1, found=1, source="s"),
        ErrorRow("head", "any", gt=4, found=1, as_other=1, missed=1, box_differs=1, source="s"),
    ]
    # shown twice as large at the model's input, the heads are no longer small
    rows = error_breakdown([Prediction("s", pred, gt, 2.0)], [head])
    assert rows[0] == ErrorRow("head", "larger", gt=4, found=1, as_other=1, missed=1, box_differs=1)
