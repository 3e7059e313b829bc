"""Box labels on evidence pictures: Chinese by default from the shipped font (real glyphs,
not empty boxes), English on request, English with OpenCV and one log line when the font
is missing, and the label cache makes drawing cheap."""

import logging
import time

import cv2
import numpy as np
import pytest

from siteguard.cli import main
from siteguard.contract.hazards import CATALOGUE, HazardLevel
from siteguard.pipeline.decode import OutputKind
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.evidence import annotate
from siteguard.pipeline.labels import (
    _ABSENT,
    LabelPainter,
    _render,
    _tab,
    detection_text,
    label_characters,
    label_painter,
    shipped_font,
    violation_text,
)
from siteguard.pipeline.rules import evaluate
from siteguard.pipeline.taxonomy import default_taxonomy
from tests.support.onnx_factory import make_model, raw_prediction

TAX = default_taxonomy()


def scene():
    img = np.full((240, 320, 3), 90, np.uint8)
    d = Detections(
        xyxy=np.array([[40, 80, 100, 140], [200, 100, 240, 130], [30, 70, 110, 230]], np.float32),
        confidence=np.array([0.8, 0.9, 0.7], np.float32),
        class_id=np.array([TAX.id_of("head"), TAX.id_of("hardhat"), TAX.id_of("person")]),
    )
    return img, d


def test_texts_come_from_the_taxonomy_and_the_hazard_catalogue():
    assert detection_text("person", 0.912) == "人员 0.91"
    assert detection_text("hardhat", 0.5) == "安全帽 0.50"
    assert detection_text("head", 0.8) == "未戴安全帽头部 0.80"
    assert detection_text("vest", 0.8) == "反光背心 0.80"
    assert detection_text("head", 0.8, "en") == "head 0.80"
    assert violation_text("no_helmet", HazardLevel.GENERAL) == "未佩戴安全帽（一般）"
    assert violation_text("edge_unprotected", HazardLevel.MAJOR) == "临边、洞口防护缺失（重大）"
    assert violation_text("no_helmet", HazardLevel.GENERAL, "en") == "no hard hat (general)"


def test_the_shipped_font_draws_every_character_a_label_can_hold():
    """Each character's bitmap differs from the .notdef's: a hazard or class added with new
    characters fails here until scripts/label-font.py re-cuts the font."""
    painter = LabelPainter()
    assert painter.available and shipped_font().stat().st_size < 60_000  # a subset
    notdef = _render(str(shipped_font()), _ABSENT, 24)
    missing = [
        ch
        for ch in label_characters()
        if not ch.isspace() and np.array_equal(_render(str(shipped_font()), ch, 24), notdef)
    ]
    assert not missing, missing
    for kind in CATALOGUE.values():
        assert painter.covers(kind.name_zh)
    assert all(painter.covers(c.zh) for c in TAX.classes)
    assert not painter.covers("龘")  # a character outside the subset is known to be missing


def test_chinese_glyphs_are_drawn_on_the_picture():
    img, d = scene()
    violations = evaluate(d)
    zh = annotate(img, d, violations, blur_faces=False)
    en = annotate(img, d, violations, blur_faces=False, lang="en")
    hat_tab = (slice(70, 100), slice(200, 320))  # above the hard hat (y1 = 100)
    white_zh = (zh[hat_tab] > 200).all(axis=2)
    assert white_zh.sum() > 40  # text pixels on the tab
    assert (zh[hat_tab] != en[hat_tab]).any(axis=2).sum() > 40
    # the tab holds the glyphs of 安全帽, not the .notdef boxes of missing ones
    mask = _render(str(shipped_font()), "安全帽 0.90", 14)
    tofu = _render(str(shipped_font()), _ABSENT * 3 + " 0.90", 14)
    assert not np.array_equal(mask[:, : mask.shape[1] // 2], tofu[:, : mask.shape[1] // 2])
    # the violation's red tab sits above the bare head, in Chinese
    red = np.array([0, 0, 255], np.uint8)
    head_tab = zh[55:80, 40:200]
    assert (head_tab == red).all(axis=2).mean() > 0.3
    assert (head_tab > 200).all(axis=2).sum() > 40


def test_a_label_at_the_right_edge_is_kept_in_the_picture():
    img = np.full((120, 200, 3), 90, np.uint8)
    d = Detections(
        np.array([[185, 60, 199, 100]]), np.array([0.9]), np.array([TAX.id_of("person")])
    )
    out = annotate(img, d, blur_faces=False)
    tab = out[35:60]
    assert (tab > 200).all(axis=2)[:, 120:185].sum() > 20  # the text moved left to fit


def test_without_the_font_labels_are_english_and_one_log_line_says_why(tmp_path, caplog):
    img, d = scene()
    violations = evaluate(d)
    with caplog.at_level(logging.WARNING, logger="siteguard.pipeline.labels"):
        painter = LabelPainter(tmp_path / "no-such-font.ttf")
        asked_zh = annotate(img, d, violations, blur_faces=False, painter=painter)
        asked_en = annotate(img, d, violations, blur_faces=False, lang="en", painter=painter)
    assert not painter.available
    [record] = caplog.records  # one line, however many labels are drawn
    assert "no-such-font.ttf" in record.getMessage() and "English" in record.getMessage()
    np.testing.assert_array_equal(asked_zh, asked_en)  # English labels, drawn by OpenCV
    hat_tab = (slice(85, 100), slice(200, 260))
    assert (asked_zh[hat_tab] > 200).all(axis=2).sum() > 10  # the text is there
    chinese = annotate(img, d, violations, blur_faces=False)
    assert (chinese[hat_tab] != asked_zh[hat_tab]).any()


def test_rendered_labels_are_cached_and_drawing_is_cheap():
    """A label is composed once per text, size and colour, and a class name once per
    size: a new score costs only its digits."""
    img = np.full((1080, 1920, 3), 90, np.uint8)
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1700, (30, 2))
    boxes = np.hstack([xy, xy + 120]).astype(np.float32)
    d = Detections(boxes, rng.uniform(0.4, 0.99, 30), rng.integers(0, 4, 30))
    first = annotate(img, d, blur_faces=False)  # composes the labels once
    hits = _tab.cache_info().hits
    t0 = time.perf_counter()
    for _ in range(5):
        again = annotate(img, d, blur_faces=False)
    per_picture_ms = (time.perf_counter() - t0) / 5 * 1000
    assert _tab.cache_info().hits >= hits + 5 * 30
    np.testing.assert_array_equal(again, first)
    assert per_picture_ms < 100  # 30 labelled boxes on 1080p (the frame's copy included)
    words = _render.cache_info().currsize
    annotate(img, Detections(boxes[:1], [0.4242], [TAX.id_of("person")]), blur_faces=False)
    assert _render.cache_info().currsize == words + 2  # "0.42" and "人员 0.42"; 人员 is cached


def test_one_painter_per_font_is_shared():
    assert label_painter() is label_painter()


@pytest.fixture
def model(tmp_path):
    pred = raw_prediction(
        [(20, 36, 16, 40), (20, 20, 8, 8), (50, 20, 8, 8)],
        [[0.9, 0.0, 0.0], [0.0, 0.8, 0.0], [0.0, 0.0, 0.6]],
    )
    return make_model(
        tmp_path / "m" / "tiny.onnx", pred, OutputKind.RAW, ["person", "head", "hardhat"]
    )


def test_detect_writes_chinese_labels_and_english_on_request(capsys, model, tmp_path):
    image = tmp_path / "site.jpg"
    cv2.imwrite(str(image), np.full((256, 256, 3), 90, np.uint8))
    outs = {}
    for lang in ("zh", "en"):
        folder = tmp_path / lang
        assert (
            main(
                [
                    "detect",
                    "--model",
                    str(model),
                    "--out",
                    str(folder),
                    "--labels",
                    lang,
                    str(image),
                ]
            )
            == 0
        )
        outs[lang] = cv2.imread(str(folder / "site.jpg"))
    capsys.readouterr()
    assert (np.abs(outs["zh"].astype(int) - outs["en"].astype(int)).max(axis=2) > 60).sum() > 100
    with pytest.raises(SystemExit) as refused:
        main(["detect", "--model", str(model), "--labels", "fr", str(image)])
    assert refused.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err
