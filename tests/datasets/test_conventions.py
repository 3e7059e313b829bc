"""Box conventions: the measured box rules of the mappings, their use by `dataset build
--conventions`, and the measuring tool `siteguard dataset conventions`."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from siteguard.cli import main
from siteguard.datasets.build import SourceSpec, build
from siteguard.datasets.conventions import crop_tile, measure, person_of, write_sheets
from siteguard.datasets.mapping import BoxRule, ClassMapping, load_mapping


def rule(**kw) -> BoxRule:
    return BoxRule.model_validate(kw)


def test_keep_top_scales_the_height_by_target_over_measured():
    r = rule(measured_h_w=0.8, target_h_w=1.2, keep="top")
    assert r.height_factor == pytest.approx(1.5)
    x1, y1, x2, y2 = r.apply((0.2, 0.1, 0.4, 0.3))
    assert (x1, y1, x2) == pytest.approx((0.2, 0.1, 0.4))  # width and top edge stay
    assert y2 == pytest.approx(0.1 + 0.2 * 1.5)


def test_keep_bottom_centre_width_and_clipping():
    box = (0.2, 0.4, 0.4, 0.6)
    assert rule(scale_h=2, keep="bottom").apply(box) == pytest.approx((0.2, 0.2, 0.4, 0.6))
    assert rule(scale_h=2, keep="centre").apply(box) == pytest.approx((0.2, 0.3, 0.4, 0.7))
    assert rule(scale_h=1, scale_w=2).apply(box) == pytest.approx((0.1, 0.4, 0.5, 0.6))
    # a box near the bottom edge is clipped to the image, never past it
    assert rule(scale_h=3).apply((0.0, 0.8, 0.1, 0.9)) == pytest.approx((0.0, 0.8, 0.1, 1.0))


def test_a_rule_needs_exactly_one_way_to_give_its_height():
    for bad in ({}, {"measured_h_w": 0.8}, {"scale_h": 1.5, "measured_h_w": 0.8, "target_h_w": 1}):
        with pytest.raises(ValueError, match="either scale_h or both"):
            rule(**bad)
    with pytest.raises(ValueError, match="greater than 0"):
        rule(scale_h=0)
    with pytest.raises(ValueError, match="keep"):
        rule(scale_h=1.2, keep="middle")


def mapping(conventions=None) -> ClassMapping:
    return ClassMapping.model_validate(
        {
            "source": "toy",
            "format": "yolo",
            "licence": "CC0",
            "attribution": "test",
            "complete": ["person", "hardhat", "head"],
            "classes": {"helmet": "hardhat", "no_helmet": "head", "person": "person"},
            "conventions": conventions or {},
        }
    )


def test_rules_only_for_taxonomy_classes_and_unruled_classes_stay():
    with pytest.raises(ValueError, match="not in the taxonomy"):
        mapping({"helmet": {"scale_h": 1.5}})
    m = mapping({"hardhat": {"scale_h": 2.0}})
    assert m.redraw("head", (0.1, 0.1, 0.2, 0.2)) == (0.1, 0.1, 0.2, 0.2)
    assert m.redraw("hardhat", (0.1, 0.1, 0.2, 0.2)) == pytest.approx((0.1, 0.1, 0.2, 0.3))


def test_shipped_mappings_carry_the_measured_rules():
    css, hw, hhw = (
        load_mapping(n) for n in ("construction-site-safety", "helmet-workwear", "hard-hat-workers")
    )
    assert hhw.conventions == {}  # the reference convention: the whole head, crown to chin
    assert set(css.conventions) == {"hardhat", "head"}
    assert hw.conventions["hardhat"].height_factor == pytest.approx(1.20 / 0.77)
    assert "head" not in hw.conventions  # already drawn crown to chin
    for m in (css, hw):
        assert all(r.keep == "top" and r.height_factor > 1 for r in m.conventions.values())


def toy_source(root: Path) -> Path:
    """One 200x100 px image: a person, a helmet 20x10 px on it, a bare head 20x30 px."""
    (root / "train" / "images").mkdir(parents=True)
    (root / "train" / "labels").mkdir(parents=True)
    (root / "data.yaml").write_text(yaml.safe_dump({"names": ["helmet", "no_helmet", "person"]}))
    img = np.full((100, 200, 3), 90, np.uint8)
    cv2.rectangle(img, (40, 10), (60, 20), (0, 140, 255), -1)
    cv2.imwrite(str(root / "train" / "images" / "a.jpg"), img)
    rows = [
        "0 0.25 0.15 0.1 0.1",  # helmet x 40-60, y 10-20: 20 x 10 px, h/w 0.5
        "1 0.75 0.25 0.1 0.3",  # bare head x 140-160, y 10-40: 20 x 30 px, h/w 1.5
        "2 0.25 0.5 0.4 0.8",  # person x 10-90, y 10-90: 80 x 80 px
    ]
    (root / "train" / "labels" / "a.txt").write_text("\n".join(rows) + "\n")
    return root


def test_measure_gives_pixel_shapes_and_size_against_the_person(tmp_path):
    spec = SourceSpec(toy_source(tmp_path / "toy"), mapping({"hardhat": {"scale_h": 2.0}}))
    got = {s.label: s for s in measure([spec]).stats}
    assert got["hardhat"].h_w == pytest.approx((0.5, 0.5, 0.5))
    assert got["head"].h_w == pytest.approx((1.5, 1.5, 1.5))
    assert got["hardhat"].width_px[1] == pytest.approx(20)
    assert got["hardhat"].with_person == 1 and got["hardhat"].w_of_person[1] == pytest.approx(0.25)
    assert got["head"].with_person == 0  # no person box under it
    after = {s.label: s for s in measure([spec], redrawn=True).stats}
    assert after["hardhat"].h_w[1] == pytest.approx(1.0)  # 20 x 20 px after the rule
    assert after["head"].h_w[1] == pytest.approx(1.5)


def test_person_of_takes_the_smallest_person_holding_the_head():
    head = (0.4, 0.1, 0.5, 0.2)
    big, small = (0.0, 0.0, 1.0, 1.0), (0.3, 0.05, 0.6, 0.6)
    assert person_of(head, [big, small]) == pytest.approx(small)
    assert person_of(head, [(0.3, 0.5, 0.6, 1.0)]) is None  # the head is not in its upper half


def test_sheets_draw_labelled_and_redrawn_boxes(tmp_path):
    spec = SourceSpec(toy_source(tmp_path / "toy"), mapping({"hardhat": {"scale_h": 2.0}}))
    result = measure([spec], samples_per_class=5)
    sheets = write_sheets(result, tmp_path / "crops", columns=3, size=64)
    names = sorted(p.name for p in sheets)
    assert names == ["toy__hardhat.png", "toy__head.png", "toy__person.png"]
    hat = cv2.imread(str(tmp_path / "crops" / "toy__hardhat.png"))
    assert hat.shape == (64, 192, 3)  # one row of three tiles, two of them empty
    magenta = (hat[..., 0] > 200) & (hat[..., 1] < 60) & (hat[..., 2] > 200)
    green = (hat[..., 1] > 150) & (hat[..., 0] < 60) & (hat[..., 2] < 60)
    assert magenta.any() and green.any()
    head = cv2.imread(str(tmp_path / "crops" / "toy__head.png"))
    assert not ((head[..., 0] > 200) & (head[..., 1] < 60) & (head[..., 2] > 200)).any()


def test_crop_tile_pads_boxes_at_the_image_edge():
    from siteguard.datasets.conventions import SheetSample

    img = np.full((50, 50, 3), 255, np.uint8)
    s = SheetSample(Path("x.jpg"), (0.0, 0.0, 0.2, 0.2), (0.0, 0.0, 0.2, 0.4))
    tile = crop_tile(img, s, size=32)
    assert tile.shape == (32, 32, 3) and (tile == 0).all(axis=2).any()  # black padding


def test_build_applies_the_rules_only_with_conventions(tmp_path):
    spec = SourceSpec(toy_source(tmp_path / "toy"), mapping({"hardhat": {"scale_h": 2.0}}))

    def labels(out: Path) -> dict[int, list[float]]:
        rows = [r.split() for p in out.glob("labels/*/*.txt") for r in p.read_text().splitlines()]
        return {int(r[0]): [float(v) for v in r[1:]] for r in rows}

    base = tmp_path / "base"
    build([spec], base, val=0.0, test=0.0)
    conv = tmp_path / "conv"
    build([spec], conv, val=0.0, test=0.0, conventions=True)
    names = json.loads((base / "manifest.json").read_text())["classes"]
    hat = names.index("hardhat")
    assert labels(base)[hat] == pytest.approx([0.25, 0.15, 0.1, 0.1])  # the baseline as drawn
    assert labels(conv)[hat] == pytest.approx([0.25, 0.2, 0.1, 0.2])  # top kept, height x2
    assert labels(conv)[names.index("head")] == labels(base)[names.index("head")]
    m_base = json.loads((base / "manifest.json").read_text())
    m_conv = json.loads((conv / "manifest.json").read_text())
    assert m_base["conventions"] is None
    assert m_conv["conventions"]["toy"]["hardhat"]["height_factor"] == 2.0
    assert m_base["sha256"] != m_conv["sha256"]  # the model card's data hash tells them apart


def test_cli_conventions_prints_writes_json_and_sheets(tmp_path, capsys):
    src = toy_source(tmp_path / "toy")
    m = tmp_path / "toy.yaml"
    m.write_text(yaml.safe_dump(mapping({"hardhat": {"scale_h": 2.0}}).model_dump()))
    out = tmp_path / "figures.json"
    args = ["dataset", "conventions", f"{src}={m}", "--json", str(out)]
    assert main([*args, "--crops", str(tmp_path / "crops"), "--samples", "4"]) == 0
    text = capsys.readouterr().out
    assert "hardhat" in text and "0.50" in text and "wrote 3 sheets" in text
    assert {r["label"]: r["h_w"][1] for r in json.loads(out.read_text())}["head"] == 1.5
    assert main([*args, "--redrawn"]) == 0
    assert "after the box rules" in capsys.readouterr().out
    assert {r["label"]: r["h_w"][1] for r in json.loads(out.read_text())}["hardhat"] == 1.0
    assert main([*args, "--samples", "0"]) == 2
