"""Privacy in evidence: faces seen below the operating thresholds are pixelated too, what
is detected and reported does not change, the evidence (the top of a bare head) stays
clear, and every labelled face on the real fixture photos ends up pixelated."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from siteguard.models.registry import default_model_path
from siteguard.pipeline.decode import OutputKind
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.evidence import annotate
from siteguard.pipeline.privacy import (
    PrivacyConfig,
    detect_with_candidates,
    evidence_boxes,
    face_mask,
    obscure_faces,
    pixelate,
    pixelate_scene,
    scene_block,
    small_faces,
)
from siteguard.pipeline.rules import evaluate
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.tiling import TiledDetector
from tests.support.onnx_factory import make_model, raw_prediction

TAX = default_taxonomy()
PERSON, HEAD, HAT = (TAX.id_of(n) for n in ("person", "head", "hardhat"))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"


def detail(a):
    return float(np.abs(np.diff(a.astype(np.int16), axis=1)).mean())


def texture(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def faint_person_model(tmp_path):
    """64x64 input: a confident person with a bare head, and a second person the model
    sees at 0.12 only (below the card's 0.25 operating threshold)."""
    pred = raw_prediction(
        [(16, 36, 16, 48), (16, 16, 8, 8), (48, 36, 16, 48)],
        [[0.9, 0.0], [0.0, 0.8], [0.12, 0.0]],
    )
    return OnnxDetector(
        make_model(tmp_path / "faint.onnx", pred, OutputKind.RAW, ["person", "head"])
    )


def test_a_person_below_the_threshold_is_pixelated_but_not_reported(faint_person_model):
    frame = texture(128, 128)
    plain = faint_person_model.detect([frame])[0]
    [(reported, candidates)] = detect_with_candidates(faint_person_model, [frame])
    # what is detected and reported is exactly what the detector reports alone
    np.testing.assert_array_equal(reported.xyxy, plain.xyxy)
    np.testing.assert_array_equal(reported.confidence, plain.confidence)
    np.testing.assert_array_equal(reported.class_id, plain.class_id)
    assert len(plain) == 2 and 0.12 not in np.round(plain.confidence, 2)
    assert [v.to_record() for v in evaluate(reported)] == [v.to_record() for v in evaluate(plain)]
    assert sorted(np.round(candidates.confidence, 2)) == [0.12, 0.8, 0.9]
    faint_head = (slice(26, 44), slice(84, 108))  # the top of the faint person (x 80-112)
    shown = annotate(frame, plain, blur_faces=True)
    hidden = annotate(frame, reported, candidates=candidates, blur_faces=True)
    assert detail(shown[faint_head]) > detail(frame[faint_head]) / 2  # before: clear
    assert detail(hidden[faint_head]) < detail(frame[faint_head]) / 3
    legs = (slice(90, 118), slice(84, 108))
    assert detail(hidden[legs]) > detail(frame[legs]) / 2  # only its head end


def test_an_explicit_conf_is_what_is_reported(faint_person_model):
    frame = texture(128, 128)
    [(reported, _)] = detect_with_candidates(faint_person_model, [frame], conf=0.1)
    assert sorted(np.round(reported.confidence, 2)) == [0.12, 0.8, 0.9]
    [(reported, candidates)] = detect_with_candidates(faint_person_model, [frame], 0.5, conf=0.85)
    assert reported.confidence.tolist() == pytest.approx([0.9])
    assert sorted(candidates.confidence.tolist()) == pytest.approx([0.8, 0.9])


def test_a_face_is_covered_whichever_way_the_box_was_drawn():
    """A flat box (a shell, the top of a head) has the face under it; a tall one holds
    it: both are covered, with a margin at the sides, and the top stays clear."""
    shell = Detections(np.array([[100, 100, 160, 120]]), np.array([0.9]), np.array([HAT]))
    [[x1, y1, x2, y2]] = face_mask(shell).regions
    assert y1 == pytest.approx(108) and y2 >= 120 + 0.8 * 60 and x1 < 100 and x2 > 160
    head = Detections(np.array([[100, 100, 140, 150]]), np.array([0.9]), np.array([HEAD]))
    mask = face_mask(head)
    [[x1, y1, x2, y2]] = mask.regions
    assert y1 == pytest.approx(115) and y2 >= 150 and x1 < 100 and x2 > 140
    np.testing.assert_allclose(mask.keep, [[100, 100, 140, 115]])  # the hair: evidence


def test_the_top_of_a_reported_bare_head_stays_clear_under_other_regions():
    """At low scores the same head is often also a 'hard hat' and a person's top: their
    regions reach over the bare head's top, which is the violation's evidence."""
    img = texture(300, 300, 2)
    reported = Detections(np.array([[120, 60, 170, 120]]), np.array([0.8]), np.array([HEAD]))
    candidates = Detections(  # a 'hard hat' on it and a person whose top reaches its hair
        np.array([[118, 50, 172, 110], [115, 55, 175, 165]]),
        np.array([0.1, 0.05]),
        np.array([HAT, PERSON]),
    )
    out = obscure_faces(img.copy(), reported, candidates)
    hair = (slice(61, 77), slice(121, 169))
    np.testing.assert_array_equal(out[hair], img[hair])
    face = (slice(85, 118), slice(122, 168))
    assert detail(out[face]) < detail(img[face]) / 3


def test_blocks_grow_with_the_region():
    """A big face gets as few blocks as a small one: at most 8 along its longer side."""
    img = texture(400, 400, 3)
    out = pixelate(img.copy(), np.array([[0, 0, 320, 320]], np.float32))
    row = out[100, :320].astype(int)
    changes = int((np.abs(np.diff(row, axis=0)).sum(axis=1) > 0).sum())
    assert changes <= 8
    small = pixelate(img.copy(), np.array([[0, 0, 32, 32]], np.float32))
    assert len(np.unique(small[:32, :32].reshape(-1, 3), axis=0)) <= 16  # 8 px blocks


class TileSpy:
    """A detector that sees one small head in the middle of every crop it is given, and a
    vest (not a face class), and records the crops and the score asked for."""

    def __init__(self):
        self.crops, self.confs = [], []

    def detect(self, frames, conf=None):
        self.confs.append(conf)
        out = []
        for f in frames:
            self.crops.append(f.shape[:2])
            h, w = f.shape[:2]
            out.append(
                Detections(
                    np.array([[w / 2 - 3, h / 2 - 3, w / 2 + 3, h / 2 + 3], [0, 0, 10, 10]]),
                    np.array([0.04, 0.9]),
                    np.array([HEAD, TAX.id_of("vest")]),
                )
            )
        return out


def test_small_faces_come_from_tiles_only_in_frame_pixels():
    spy = TileSpy()
    found = small_faces(spy, texture(300, 400), 2, min_score=0.03)
    # four tiles, not the whole frame again; at the privacy score, not the operating one
    assert len(spy.crops) == 4 and all(h < 300 and w < 400 for h, w in spy.crops)
    assert spy.confs == [0.03] * 4  # a tile at a time (a shared detector's lock between)
    assert set(found.class_id.tolist()) == {HEAD}  # a vest is no face
    centres = sorted(((x1 + x2) / 2, (y1 + y2) / 2) for x1, y1, x2, y2 in found.xyxy)
    # each tile's centre, shifted back into the frame: the tiles of a 2x2 grid, 25 % overlap
    np.testing.assert_allclose(centres, [(114, 86), (114, 214), (286, 86), (286, 214)], atol=1)
    assert len(small_faces(spy, texture(300, 400), 1)) == 0  # 1 = off: no inference
    assert len(spy.crops) == 4


class CloseUpSpy(TileSpy):
    """Sees, on each tile, a head as large as the whole frame's model would see well."""

    def detect(self, frames, conf=None):
        return [
            Detections(np.array([[10, 10, 110, 110]]), np.array([0.05]), np.array([HEAD]))
            for _ in frames
        ]


def test_tiles_add_only_heads_too_small_for_the_whole_frame():
    """A 100 px head in a 400 px frame is 104 px at a 416 px model's input: the whole
    frame's inference is the one to judge it; a tile's close-up of it is not added (low
    scores on close-ups would pixelate the scene)."""
    assert len(small_faces(CloseUpSpy(), texture(300, 400), 2)) == 0


def test_a_tiled_detectors_own_model_looks_at_the_tiles():
    spy = TileSpy()
    small_faces(TiledDetector(spy, 2), texture(300, 400), 3)
    assert len(spy.crops) == 9  # the tiles only: no whole frame, no tiles of tiles


def test_tiles_find_faces_the_whole_frame_misses_on_a_far_view(shipped):
    """A real site photo shrunk to a far view inside a 1920 x 1080 frame: the shipped model
    sees fewer people and heads there on the whole frame than on 3 x 3 tiles."""
    photo = cv2.imread(str(FIXTURES / "hhw-000011.jpg"))
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    small = cv2.resize(photo, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    frame[600 : 600 + h, 900 : 900 + w] = small
    [(_reported, whole)] = detect_with_candidates(shipped, [frame])
    tiles = small_faces(shipped, frame, PrivacyConfig().still_tiles)
    heads = [TAX.id_of("head"), TAX.id_of("hardhat")]
    assert np.isin(tiles.class_id, heads).sum() > np.isin(whole.class_id, heads).sum()


def test_the_privacy_threshold_is_validated():
    assert PrivacyConfig().min_score == pytest.approx(0.02)
    assert PrivacyConfig().still_tiles == 3
    with pytest.raises(ValidationError):
        PrivacyConfig(still_tiles=5)
    with pytest.raises(ValidationError):
        PrivacyConfig(min_score=1.5)
    with pytest.raises(ValidationError):
        PrivacyConfig(unknown=1)


# the fixture photos' label files: source class ids of bare heads and hard hats
FACE_LABELS = {"hhw": (0, 1), "css": (0, 2)}


def labelled_faces(image_path, w, h):
    """Each labelled head's face, placed by the box convention (bench/privacy.py): in
    the lower 55 % of a box at least as tall as wide, else the band under it."""
    for line in image_path.with_suffix(".txt").read_text().splitlines():
        k, cx, cy, bw, bh = map(float, line.split())
        if int(k) not in FACE_LABELS[image_path.name[:3]]:
            continue
        x1, y1, x2, y2 = (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h
        if y2 - y1 >= x2 - x1:
            yield x1, y1 + 0.45 * (y2 - y1), x2, y2
        else:
            yield x1, y2, x2, y2 + 0.8 * (x2 - x1)


def share_pixelated(face, mask, w, h):
    pixelated = np.zeros((h, w), bool)
    for rows, value in ((mask.regions, True), (mask.keep, False)):
        for x1, y1, x2, y2 in np.clip(np.round(rows), 0, [w, h, w, h]).astype(int):
            pixelated[y1:y2, x1:x2] = value
    x1, y1, x2, y2 = np.clip(np.round(face), 0, [w, h, w, h]).astype(int)
    return 1.0 if x2 <= x1 or y2 <= y1 else float(pixelated[y1:y2, x1:x2].mean())


@pytest.fixture(scope="module")
def shipped():
    return OnnxDetector(default_model_path(), provider="cpu")


def test_every_labelled_face_on_the_fixture_photos_is_pixelated(shipped):
    """The shipped model and rule on six held-out site photos (35 labelled heads): each
    face is at least half pixelated, and what is reported is what detect() reports."""
    faces = 0
    for path in sorted(FIXTURES.glob("*.jpg")):
        image = cv2.imread(str(path))
        h, w = image.shape[:2]
        [(reported, candidates)] = detect_with_candidates(shipped, [image])
        plain = shipped.detect([image])[0]
        np.testing.assert_array_equal(reported.xyxy, plain.xyxy)
        np.testing.assert_array_equal(reported.class_id, plain.class_id)
        mask = face_mask(reported, candidates)
        for face in labelled_faces(path, w, h):
            faces += 1
            assert share_pixelated(face, mask, w, h) >= 0.5, (path.name, face)
    assert faces == 35


def test_tiled_detection_reports_the_same_with_candidates(shipped):
    image = cv2.imread(str(FIXTURES / "hhw-000011.jpg"))
    tiled = TiledDetector(shipped, 2)
    [(reported, candidates)] = detect_with_candidates(tiled, [image])
    plain = tiled.detect([image])[0]
    np.testing.assert_array_equal(reported.xyxy, plain.xyxy)
    np.testing.assert_array_equal(reported.confidence, plain.confidence)
    assert len(candidates) > len(plain.of_class("person", "head", "hardhat"))


def test_the_scene_block_follows_the_pictures_longer_side():
    assert scene_block((1080, 1920, 3), 320) == 6
    assert scene_block((480, 640, 3), 320) == 2
    assert scene_block((2560, 1440, 3), 320) == 8  # a portrait 4 MP picture
    assert scene_block((1080, 1920, 3), 0) == 0  # off


def test_the_scene_is_coarsened_around_the_evidence_only():
    """Outside the kept boxes every block is one colour; inside them nothing changed, and
    a block of 1 px (a picture smaller than the block count) leaves it as it was."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    keep = np.array([[40, 20, 80, 60]], np.float32)
    out = pixelate_scene(image.copy(), 8, keep)
    assert np.array_equal(out[20:60, 40:80], image[20:60, 40:80])
    corner = out[64:72, 96:104]  # a whole block far from the kept box
    assert len(np.unique(corner.reshape(-1, 3), axis=0)) == 1
    assert not np.array_equal(corner, image[64:72, 96:104])
    assert np.array_equal(pixelate_scene(image.copy(), 1, keep), image)


def test_evidence_keeps_a_margin_of_the_shorter_side_and_the_extra_boxes_as_given():
    person = default_taxonomy().id_of("person")
    dets = Detections(np.array([[100, 100, 150, 200]]), np.array([0.9]), np.array([person]))
    violation = np.array([[0, 0, 10, 10]], np.float32)
    kept = evidence_boxes(dets, violation)
    assert kept.tolist() == [[90, 90, 160, 210], [0, 0, 10, 10]]  # 0.2 x 50 px all round


def test_a_kept_polygon_stays_sharp_with_its_outline_and_the_rest_is_coarsened():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)
    triangle = np.array([[20, 20], [180, 20], [180, 180]], np.float32)
    out = pixelate_scene(image.copy(), 4, np.zeros((0, 4), np.float32), [triangle])
    assert np.array_equal(out[25:40, 150:175], image[25:40, 150:175])  # inside
    assert np.array_equal(out[20:24, 100:104], image[20:24, 100:104])  # its edge, grown
    assert not np.array_equal(out[150:180, 20:50], image[150:180, 20:50])  # outside


@pytest.mark.parametrize("channels", [None, 1, 4])
def test_grey_and_bgra_pictures_are_annotated_in_colour(channels):
    """A grey (or BGRA) picture from a caller gets the same evidence as a colour one."""
    person = default_taxonomy().id_of("person")
    dets = Detections(np.array([[20, 10, 60, 90]]), np.array([0.9]), np.array([person]))
    shape = (100, 120) if channels is None else (100, 120, channels)
    image = np.random.default_rng(6).integers(0, 255, shape, dtype=np.uint8)
    out = annotate(image, dets, scene_blocks=40)
    assert out.shape == (100, 120, 3)
    assert (out[10:12, 20:60] == (200, 160, 40)).all(axis=-1).any()  # the person's box
