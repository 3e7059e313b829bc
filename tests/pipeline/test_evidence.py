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


def test_a_person_whose_head_was_not_boxed_has_the_head_end_pixelated():
    """A face turned away or masked is often no 'head' for the model, but the person is
    seen: the top of a standing person (the middle of its width) is pixelated; a person
    whose head is boxed keeps its bare head or hat visible above the face."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)
    person = TAX.id_of("person")
    d = Detections(
        xyxy=np.array([[20, 20, 80, 220], [150, 20, 210, 220], [165, 22, 195, 50]], np.float32),
        confidence=np.array([0.9, 0.9, 0.8], np.float32),
        class_id=np.array([person, person, TAX.id_of("head")]),
    )
    regions = face_regions(d)
    assert len(regions) == 2  # the lone person's head end and the boxed head's face
    out = annotate(img, d, blur_faces=True)
    lone_head = (slice(25, 65), slice(30, 70))
    assert detail(out[lone_head]) < detail(img[lone_head]) / 3
    body = (slice(120, 200), slice(30, 70))
    assert detail(out[body]) > detail(img[body]) / 2  # only the head end
    boxed_top = (slice(24, 30), slice(170, 190))  # the top of the boxed bare head
    assert detail(out[boxed_top]) > detail(img[boxed_top]) / 2
    assert len(face_regions(d, persons=False)) == 1


def test_jpeg_encoding_round_trips():
    img, d = scene()
    data = encode_jpeg(annotate(img, d))
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == img.shape
