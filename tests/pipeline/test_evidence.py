import cv2
import numpy as np

from siteguard.pipeline.detections import Detections
from siteguard.pipeline.evidence import VIOLATION_COLOUR, annotate, encode_jpeg, face_regions
from siteguard.pipeline.rules import evaluate
from siteguard.pipeline.taxonomy import default_taxonomy

TAX = default_taxonomy()


def scene():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)  # texture that blurring destroys
    d = Detections(
        xyxy=np.array([[100, 40, 160, 100], [200, 40, 240, 70]], np.float32),
        confidence=np.array([0.8, 0.9], np.float32),
        class_id=np.array([TAX.id_of("head"), TAX.id_of("hardhat")]),
    )
    return img, d


def detail(a):
    return float(np.abs(np.diff(a.astype(np.int16), axis=1)).mean())


def test_faces_are_pixelated_and_the_top_of_a_bare_head_stays_visible():
    img, d = scene()
    out = annotate(img, d, evaluate(d), blur_faces=True)
    face = (slice(62, 98), slice(103, 157))  # lower part of the bare head, inside the box lines
    assert detail(out[face]) < detail(img[face]) / 3
    hair = (slice(44, 55), slice(110, 150))
    assert detail(out[hair]) > detail(img[hair]) / 2
    under_hat = (slice(60, 85), slice(203, 237))
    assert detail(out[under_hat]) < detail(img[under_hat]) / 3
    assert img is not out and detail(img[face]) > 50  # the input is not modified


def test_no_blur_keeps_pixels_and_violations_are_drawn_in_red():
    img, d = scene()
    out = annotate(img, d, evaluate(d), blur_faces=False)
    np.testing.assert_array_equal(out[120:190, 10:90], img[120:190, 10:90])  # untouched area
    edge = out[40:100, 100]  # the violation's left edge
    assert (edge == VIOLATION_COLOUR).all(axis=1).mean() > 0.5


def test_face_regions_cover_heads_and_below_hardhats():
    _, d = scene()
    regions = face_regions(d)
    assert regions.shape == (2, 4)
    assert regions[1, 3] > d.xyxy[1, 3]  # extends below the hat


def test_jpeg_encoding_round_trips():
    img, d = scene()
    data = encode_jpeg(annotate(img, d))
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == img.shape
