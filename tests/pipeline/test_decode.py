import numpy as np
import pytest

from siteguard.pipeline.decode import OutputKind, OutputLayoutError, decode, decode_raw, nms


def reference_nms(xyxy, score, cls, iou_thr):
    """Plain greedy per-class NMS, the textbook version, to check the fast one against."""
    from siteguard.pipeline.detections import box_iou

    keep = []
    order = list(np.argsort(-score, kind="stable"))
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [
            j for j in order if cls[j] != cls[i] or box_iou(xyxy[[i]], xyxy[[j]])[0, 0] <= iou_thr
        ]
    return sorted(keep, key=lambda k: -score[k])


def test_nms_suppresses_overlaps_within_a_class_only():
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    score = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    cls = np.array([0, 0, 1, 0])
    kept = nms(xyxy, score, cls, iou=0.5, max_det=10)
    assert kept.tolist() == [0, 2, 3]  # box 1 suppressed by 0; box 2 is another class


def test_nms_matches_the_textbook_greedy_algorithm_on_random_boxes():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = 60
        xy = rng.uniform(0, 100, (n, 2))
        wh = rng.uniform(5, 40, (n, 2))
        xyxy = np.concatenate([xy, xy + wh], 1).astype(np.float32)
        score = rng.uniform(0.1, 1, n).astype(np.float32)
        cls = rng.integers(0, 3, n)
        got = nms(xyxy, score, cls, 0.45, 1000).tolist()
        assert got == reference_nms(xyxy, score, cls, 0.45)


def test_nms_caps_at_max_det_keeping_the_best():
    xyxy = np.array([[i * 20, 0, i * 20 + 10, 10] for i in range(5)], np.float32)
    score = np.array([0.1, 0.5, 0.9, 0.3, 0.7], np.float32)
    assert nms(xyxy, score, np.zeros(5, np.int64), 0.5, 2).tolist() == [2, 4]


def test_raw_layout_threshold_argmax_and_box_conversion():
    pred = np.zeros((4 + 2, 3), np.float32)
    pred[:, 0] = [50, 40, 20, 10, 0.1, 0.8]  # class 1 wins
    pred[:, 1] = [10, 10, 4, 4, 0.2, 0.1]  # below threshold
    pred[:, 2] = [52, 41, 20, 10, 0.7, 0.0]  # other class, overlapping: survives class-aware NMS
    xyxy, score, cls = decode_raw(pred, conf=0.25, iou=0.5, max_det=10)
    assert cls.tolist() == [1, 0]
    np.testing.assert_allclose(xyxy[0], [40, 35, 60, 45])
    np.testing.assert_allclose(score, [0.8, 0.7])


def test_end2end_layout_filters_by_score_only():
    pred = np.array(
        [[0, 0, 10, 10, 0.9, 1], [0, 0, 10, 10, 0.8, 1], [5, 5, 6, 6, 0.1, 0]], np.float32
    )
    [(xyxy, _score, cls)] = decode(
        pred[None], OutputKind.END2END, 2, conf=0.25, iou=0.5, max_det=300
    )
    assert len(xyxy) == 2 and cls.tolist() == [1, 1]  # already-suppressed output is trusted


def test_wrong_layout_is_a_clear_error():
    with pytest.raises(OutputLayoutError, match=r"4\+3"):
        decode(np.zeros((1, 6, 10), np.float32), OutputKind.RAW, 3, 0.25, 0.5, 10)
    with pytest.raises(OutputLayoutError, match="max_det, 6"):
        decode(np.zeros((1, 10, 4), np.float32), OutputKind.END2END, 3, 0.25, 0.5, 10)
    with pytest.raises(OutputLayoutError, match="class ids"):
        decode(np.array([[[0, 0, 1, 1, 0.9, 7]]], np.float32), OutputKind.END2END, 3, 0.25, 0.5, 10)
