import json

import numpy as np
import pytest

from siteguard.pipeline.decode import OutputKind
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.model_card import ModelCardError, Thresholds, card_path_for, load_card
from siteguard.pipeline.taxonomy import default_taxonomy
from tests.support.onnx_factory import make_model, raw_prediction

CLASSES = ["hardhat", "head", "person"]  # model order differs from taxonomy order on purpose


@pytest.fixture
def raw_model(tmp_path):
    pred = raw_prediction(
        [(32, 16, 8, 8), (10, 40, 6, 6), (32, 32, 20, 40)],
        [[0.9, 0.0, 0.0], [0.0, 0.6, 0.0], [0.0, 0.0, 0.3]],
    )
    return make_model(tmp_path / "raw.onnx", pred, OutputKind.RAW, CLASSES)


def test_boxes_come_back_in_source_pixels_with_taxonomy_ids(raw_model):
    det = OnnxDetector(raw_model)
    frame = np.zeros((32, 64, 3), np.uint8)  # 64x64 input: scale 1, 16 px top padding
    [d] = det.detect([frame])
    tax = default_taxonomy()
    assert d.labels() == ["hardhat", "head", "person"]
    assert d.class_id.tolist() == [tax.id_of("hardhat"), tax.id_of("head"), tax.id_of("person")]
    np.testing.assert_allclose(d.xyxy[0], [28, 0, 36, 4])  # y: 12..20 in input -> -4..4 -> clipped
    np.testing.assert_allclose(d.xyxy[1], [7, 21, 13, 27])
    np.testing.assert_allclose(d.xyxy[2], [22, 0, 42, 32])


def test_scaled_frames_scale_the_boxes(raw_model):
    det = OnnxDetector(raw_model)
    [d] = det.detect([np.zeros((64 * 3, 64 * 3, 3), np.uint8)])  # scale 1/3, no padding
    np.testing.assert_allclose(d.xyxy[1], [21, 111, 39, 129], atol=1e-4)


def test_conf_override_and_per_class_operating_thresholds(tmp_path):
    pred = raw_prediction([(10, 10, 4, 4), (40, 40, 4, 4)], [[0.5, 0.0], [0.0, 0.3]])
    th = Thresholds(conf=0.4, per_class={"head": 0.2})
    path = make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["hardhat", "head"], thresholds=th)
    det = OnnxDetector(path)
    frame = np.zeros((64, 64, 3), np.uint8)
    assert det.detect([frame])[0].labels() == ["hardhat", "head"]  # head passes its own 0.2
    assert det.detect([frame], conf=0.45)[0].labels() == ["hardhat"]
    assert det.detect([frame], conf=0.1)[0].labels() == ["hardhat", "head"]


@pytest.mark.parametrize("dynamic", [False, True])
def test_batches_give_one_result_per_frame(tmp_path, dynamic):
    pred = raw_prediction([(32, 32, 10, 10)], [[0.9]])
    path = make_model(tmp_path / "b.onnx", pred, OutputKind.RAW, ["head"], dynamic_batch=dynamic)
    det = OnnxDetector(path)
    frames = [
        np.zeros((64, 64, 3), np.uint8),
        np.zeros((128, 64, 3), np.uint8),
        np.zeros((64, 128, 3), np.uint8),
    ]
    out = det.detect(frames)
    assert [len(d) for d in out] == [1, 1, 1]
    np.testing.assert_allclose(out[1].xyxy[0], [22, 54, 42, 74])  # scale 0.5, pad x 16
    assert det.detect([]) == []


def test_end2end_layout(tmp_path):
    pred = np.zeros((10, 6), np.float32)
    pred[0] = [8, 8, 24, 24, 0.8, 1]
    pred[1] = [30, 30, 40, 40, 0.1, 0]
    path = make_model(tmp_path / "e.onnx", pred, OutputKind.END2END, ["hardhat", "head"])
    det = OnnxDetector(path)
    det.warmup()
    [d] = det.detect([np.zeros((64, 64, 3), np.uint8)])
    assert d.labels() == ["head"]
    np.testing.assert_allclose(d.xyxy[0], [8, 8, 24, 24])


def test_tampered_model_is_refused(raw_model):
    data = bytearray(raw_model.read_bytes())
    data[-1] ^= 0xFF
    raw_model.write_bytes(bytes(data))
    with pytest.raises(ModelCardError, match="sha256"):
        OnnxDetector(raw_model)


def test_missing_card_is_refused(raw_model):
    card_path_for(raw_model).unlink()
    with pytest.raises(ModelCardError, match="no model card"):
        OnnxDetector(raw_model)


def test_classes_outside_the_taxonomy_are_refused(raw_model):
    card = card_path_for(raw_model)
    doc = json.loads(card.read_text())
    doc["classes"] = ["With Helmet", "Without Helmet", "person"]
    card.write_text(json.dumps(doc))
    with pytest.raises(ModelCardError, match="not in the SiteGuard taxonomy"):
        load_card(raw_model)


def test_card_input_size_must_match_the_model(raw_model):
    card = card_path_for(raw_model)
    doc = json.loads(card.read_text())
    doc["input"]["height"] = 640
    card.write_text(json.dumps(doc))
    with pytest.raises(ModelCardError, match="input is 64x64"):
        OnnxDetector(raw_model)


def test_output_layout_mismatch_is_reported(raw_model):
    card = card_path_for(raw_model)
    doc = json.loads(card.read_text())
    doc["classes"] = ["hardhat", "head"]  # output has 3 class rows
    card.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"4\+2"):
        OnnxDetector(raw_model).detect([np.zeros((64, 64, 3), np.uint8)])
